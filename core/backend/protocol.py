"""The Backend protocol every implementation (local, remote, cockpit, fake) satisfies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from core.backend.inputs import (
    RunFilter,
    RunQuery,
    SchedulePatch,
    ScheduleSpec,
    TemplatePatch,
    TemplateSpec,
)
from core.backend.views import (
    AttemptView,
    AuditView,
    ChangeBatch,
    DeleteReport,
    FireTimeView,
    JobTypeView,
    LogPage,
    OccurrenceView,
    OwnerHealthView,
    RunPage,
    RunView,
    ScheduleView,
    TemplateRevisionView,
    TemplateView,
    WorkerView,
)

Ref = int | str
"""A template or schedule by id (int, or a string of digits) or by name."""


class Capabilities(BaseModel):
    """What a backend can do; the UI hides or greys what is missing."""

    model_config = ConfigDict(frozen=True)

    name: str
    writable: bool = True
    template_revisions: bool = True
    schedule_preview: bool = True
    occurrence_ledger: bool = True
    run_delete: bool = True
    log_streaming: bool = False
    run_cancel: bool = False
    run_retry: bool = False
    pause: bool = False
    workers: bool = False
    #: resize, pause, resume and drain the workers shown (the owner's own pool, Celery's)
    worker_control: bool = False
    celery_admin: bool = False
    audit: bool = True


class Backend(Protocol):
    """Async interface between interfaces (TUI, CLI, API) and a jobdeck or Cockpit-NG core."""

    @property
    def capabilities(self) -> Capabilities: ...

    async def close(self) -> None: ...

    # job types
    async def job_types(self) -> list[JobTypeView]: ...

    # templates
    async def list_templates(
        self, *, job_type: str | None = None, tag: str | None = None, search: str | None = None
    ) -> list[TemplateView]: ...

    async def get_template(self, ref: Ref) -> TemplateView: ...

    async def create_template(self, spec: TemplateSpec) -> TemplateView: ...

    async def update_template(self, ref: Ref, patch: TemplatePatch) -> TemplateView: ...

    async def delete_template(self, ref: Ref, *, force: bool = False) -> DeleteReport: ...

    async def copy_template(self, ref: Ref, new_name: str) -> TemplateView: ...

    async def template_revisions(self, ref: Ref) -> list[TemplateRevisionView]: ...

    # schedules
    async def list_schedules(
        self, *, template: Ref | None = None, is_active: bool | None = None
    ) -> list[ScheduleView]: ...

    async def get_schedule(self, ref: Ref) -> ScheduleView: ...

    async def create_schedule(self, spec: ScheduleSpec) -> ScheduleView: ...

    async def update_schedule(self, ref: Ref, patch: SchedulePatch) -> ScheduleView: ...

    async def delete_schedule(self, ref: Ref) -> DeleteReport: ...

    async def set_schedule_active(self, ref: Ref, active: bool) -> ScheduleView: ...

    async def preview_schedule(
        self, ref: Ref, n: int = 10, *, viewer_zone: str | None = None
    ) -> list[FireTimeView]: ...

    async def preview_timing(
        self, spec: ScheduleSpec, n: int = 10, *, viewer_zone: str | None = None
    ) -> list[FireTimeView]: ...

    # runs
    async def list_runs(self, query: RunQuery) -> RunPage: ...

    async def get_run(self, run_id: int) -> RunView: ...

    async def run_counts(self, query: RunQuery | None = None) -> dict[str, int]: ...

    async def delete_run(self, run_id: int) -> None: ...

    async def cleanup_runs(self, older_than_days: int) -> int: ...

    async def clear_runs(self, run_filter: RunFilter) -> int: ...

    async def run_template(
        self,
        ref: Ref,
        *,
        parameters: dict[str, Any] | None = None,
        triggered_by: str = "manual",
        force: bool = False,
    ) -> RunView: ...

    async def run_schedule(self, ref: Ref, *, force: bool = False) -> RunView:
        """Run a schedule now: its template with its overrides, ``triggered_by="manual"``.

        The run names the schedule but never consumes or shifts an occurrence; it obeys the
        schedule's overlap policy and the template's pause unless forced (SCHEDULING.md 13).
        """
        ...

    async def cancel_run(self, run_id: int, *, reason: str | None = None) -> RunView: ...

    async def retry_run(self, run_id: int) -> RunView: ...

    async def run_attempts(self, run_id: int) -> list[AttemptView]: ...

    async def run_logs(self, run_id: int, *, after_seq: int = 0, limit: int = 1000) -> LogPage: ...

    # ledger and workers
    async def list_occurrences(
        self, *, schedule: Ref | None = None, limit: int = 200
    ) -> list[OccurrenceView]: ...

    async def list_workers(self) -> list[WorkerView]: ...

    async def resize_worker(self, name: str, slots: int) -> WorkerView: ...

    async def pause_worker(self, name: str) -> WorkerView:
        """Claim nothing new until resumed; running runs continue."""
        ...

    async def resume_worker(self, name: str) -> WorkerView:
        """Claim again after a pause or a drain."""
        ...

    async def drain_worker(self, name: str) -> WorkerView:
        """Finish what runs, take nothing new."""
        ...

    # audit
    async def audit_log(self, *, limit: int = 100) -> list[AuditView]: ...

    # live updates
    async def changes(self, after: int | None = None, *, limit: int = 500) -> ChangeBatch:
        """What changed after ``after`` (None: nothing yet, just the cursor of "now")."""
        ...

    async def wait_for_changes(self, after: int | None, seconds: float) -> None:
        """Return when changes after ``after`` may be there: pushed ones as they arrive (the
        remote backend's event stream), otherwise after ``seconds`` (poll again)."""
        ...

    # the owner
    async def owner_health(self) -> OwnerHealthView:
        """Who owns the backend's database (host, pid, API address), when its lease was last
        renewed and its scheduler last ticked, and what it reports about itself."""
        ...


class ExecutorHandle(Protocol):
    """The in-process executor an owner lends its LocalBackend, so the UI can steer it."""

    @property
    def name(self) -> str: ...

    async def resize(self, slots: int) -> None: ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def drain(self) -> None: ...


class OwnerProbe(Protocol):
    """What an in-process owner tells its LocalBackend about itself (fresher than the row)."""

    @property
    def owner_id(self) -> str: ...

    @property
    def ticked_at(self) -> datetime | None: ...

    @property
    def problem(self) -> str | None: ...


@runtime_checkable
class SupportsClose(Protocol):
    """Anything with an async close()."""

    async def close(self) -> None: ...
