"""The local backend: the embedded core over SQLite/PostgreSQL, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlmodel import col, select

from core.backend.inputs import (
    RunFilter,
    RunQuery,
    SchedulePatch,
    ScheduleSpec,
    TemplatePatch,
    TemplateSpec,
)
from core.backend.protocol import Capabilities, Ref
from core.backend.views import (
    AttemptView,
    AuditView,
    DeleteReport,
    FireTimeView,
    JobTypeView,
    LogPage,
    OccurrenceView,
    RunPage,
    RunView,
    ScheduleView,
    TemplateRevisionView,
    TemplateView,
    WorkerView,
)
from core.clock import Clock, SystemClock
from core.errors import PermissionDenied
from core.jobs.audit import Actor
from core.jobs.run_actions import RunActions
from core.jobs.runs import RunService
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.jobs.types import registered_job_types
from core.settings.secrets import SecretBox
from core.storage.database import Database
from core.storage.tables import AuditRecord

P = ParamSpec("P")
T = TypeVar("T")


class LocalBackend:
    """Backend over the embedded core; blocking database work runs in worker threads."""

    def __init__(
        self,
        db: Database,
        *,
        actor: Actor,
        default_zone: str,
        clock: Clock | None = None,
        read_only: bool = False,
        secrets: SecretBox | None = None,
        on_runs_created: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.actor = actor
        self.templates = TemplateService(db, self.clock, actor, secrets)
        self.schedules = ScheduleService(db, self.clock, actor, default_zone, secrets)
        self.runs = RunService(db, self.clock, actor)
        self.actions = RunActions(
            db, self.clock, actor, secrets, self.runs, on_runs_created or (lambda: None)
        )
        self._capabilities = Capabilities(
            name=f"local ({db.describe()})",
            writable=not read_only,
            log_streaming=True,
            run_cancel=True,
            run_retry=True,
            workers=True,
        )

    @property
    def capabilities(self) -> Capabilities:
        """What the local backend can do (grows as the scheduler and executor land)."""
        return self._capabilities

    def _check_writable(self) -> None:
        if not self._capabilities.writable:
            raise PermissionDenied("read-only mode: writes are disabled")

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def close(self) -> None:
        """Release the database connections."""
        await asyncio.to_thread(self.db.dispose)

    async def job_types(self) -> list[JobTypeView]:
        """Installed job types with their config schemas."""
        return [
            JobTypeView(name=t.name, description=t.description, config_schema=t.config_schema())
            for t in registered_job_types().values()
        ]

    async def list_templates(
        self, *, job_type: str | None = None, tag: str | None = None, search: str | None = None
    ) -> list[TemplateView]:
        """Templates by name, filtered."""
        return await self._call(
            self.templates.list_templates, job_type=job_type, tag=tag, search=search
        )

    async def get_template(self, ref: Ref) -> TemplateView:
        """One template."""
        return await self._call(self.templates.get, ref)

    async def create_template(self, spec: TemplateSpec) -> TemplateView:
        """Create a template."""
        self._check_writable()
        return await self._call(self.templates.create, spec)

    async def update_template(self, ref: Ref, patch: TemplatePatch) -> TemplateView:
        """Update a template (a new revision)."""
        self._check_writable()
        return await self._call(self.templates.update, ref, patch)

    async def delete_template(self, ref: Ref, *, force: bool = False) -> DeleteReport:
        """Delete a template."""
        self._check_writable()
        return await self._call(self.templates.delete, ref, force=force)

    async def copy_template(self, ref: Ref, new_name: str) -> TemplateView:
        """Copy a template under a new name."""
        self._check_writable()
        return await self._call(self.templates.copy, ref, new_name)

    async def template_revisions(self, ref: Ref) -> list[TemplateRevisionView]:
        """A template's revisions, newest first."""
        return await self._call(self.templates.revisions, ref)

    async def list_schedules(
        self, *, template: Ref | None = None, is_active: bool | None = None
    ) -> list[ScheduleView]:
        """Schedules by name, filtered."""
        return await self._call(
            self.schedules.list_schedules, template=template, is_active=is_active
        )

    async def get_schedule(self, ref: Ref) -> ScheduleView:
        """One schedule."""
        return await self._call(self.schedules.get, ref)

    async def create_schedule(self, spec: ScheduleSpec) -> ScheduleView:
        """Create a schedule."""
        self._check_writable()
        return await self._call(self.schedules.create, spec)

    async def update_schedule(self, ref: Ref, patch: SchedulePatch) -> ScheduleView:
        """Update a schedule."""
        self._check_writable()
        return await self._call(self.schedules.update, ref, patch)

    async def delete_schedule(self, ref: Ref) -> DeleteReport:
        """Delete a schedule."""
        self._check_writable()
        return await self._call(self.schedules.delete, ref)

    async def set_schedule_active(self, ref: Ref, active: bool) -> ScheduleView:
        """Enable or disable a schedule."""
        self._check_writable()
        return await self._call(self.schedules.set_active, ref, active)

    async def preview_schedule(
        self, ref: Ref, n: int = 10, *, viewer_zone: str | None = None
    ) -> list[FireTimeView]:
        """Next fire times of a stored schedule."""
        return await self._call(self.schedules.preview, ref, n, viewer_zone)

    async def preview_timing(
        self, spec: ScheduleSpec, n: int = 10, *, viewer_zone: str | None = None
    ) -> list[FireTimeView]:
        """Next fire times of unsaved timing."""
        return await self._call(self.schedules.preview_spec, spec, n, viewer_zone)

    async def list_runs(self, query: RunQuery) -> RunPage:
        """A page of runs."""
        return await self._call(self.runs.page, query)

    async def get_run(self, run_id: int) -> RunView:
        """One run."""
        return await self._call(self.runs.get, run_id)

    async def run_counts(self, query: RunQuery | None = None) -> dict[str, int]:
        """Runs per status."""
        return await self._call(self.runs.counts, query)

    async def delete_run(self, run_id: int) -> None:
        """Delete a finished run."""
        self._check_writable()
        await self._call(self.runs.delete, run_id)

    async def cleanup_runs(self, older_than_days: int) -> int:
        """Delete finished runs older than N days."""
        self._check_writable()
        return await self._call(self.runs.cleanup, older_than_days)

    async def clear_runs(self, run_filter: RunFilter) -> int:
        """Delete finished runs matching a filter."""
        self._check_writable()
        return await self._call(self.runs.clear, run_filter)

    async def run_template(
        self,
        ref: Ref,
        *,
        parameters: dict[str, Any] | None = None,
        triggered_by: str = "manual",
        force: bool = False,
    ) -> RunView:
        """Queue a run of a template now."""
        self._check_writable()
        return await self._call(
            self.actions.run_template, ref, parameters, triggered_by=triggered_by, force=force
        )

    async def cancel_run(self, run_id: int, *, reason: str | None = None) -> RunView:
        """Cancel a pending or running run."""
        self._check_writable()
        return await self._call(self.actions.cancel, run_id, reason)

    async def retry_run(self, run_id: int) -> RunView:
        """Queue a new run retrying an ended one."""
        self._check_writable()
        return await self._call(self.actions.retry, run_id)

    async def run_attempts(self, run_id: int) -> list[AttemptView]:
        """A run's attempts."""
        return await self._call(self.actions.attempts, run_id)

    async def run_logs(self, run_id: int, *, after_seq: int = 0, limit: int = 1000) -> LogPage:
        """Log chunks after a position."""
        return await self._call(self.actions.logs, run_id, after_seq, limit)

    async def list_occurrences(
        self, *, schedule: Ref | None = None, limit: int = 200
    ) -> list[OccurrenceView]:
        """The occurrence ledger, newest first."""
        return await self._call(self.actions.occurrences, schedule, limit)

    async def list_workers(self) -> list[WorkerView]:
        """Known executors."""
        return await self._call(self.actions.workers)

    async def audit_log(self, *, limit: int = 100) -> list[AuditView]:
        """The newest audit records."""
        return await self._call(self._audit, limit)

    def _audit(self, limit: int) -> list[AuditView]:
        with self.db.read() as session:
            rows = session.exec(
                select(AuditRecord).order_by(col(AuditRecord.id).desc()).limit(limit)
            )
            return [AuditView.model_validate(row.model_dump()) for row in rows]
