"""FakeBackend: the Backend protocol over in-memory rows, for UI tests and snapshots."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.backend.fake.actions import FakeRunActions
from core.backend.fake.runs import FakeRunService
from core.backend.fake.schedules import FakeScheduleService
from core.backend.fake.store import FakeStore
from core.backend.fake.templates import FakeTemplateService
from core.backend.inputs import (
    RunFilter,
    RunQuery,
    SchedulePatch,
    ScheduleSpec,
    TemplatePatch,
    TemplateSpec,
)
from core.backend.protocol import Backend, Capabilities, Ref
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
    OwnerView,
    RunPage,
    RunView,
    ScheduleView,
    TemplateRevisionView,
    TemplateView,
    WorkerView,
)
from core.clock import Clock, ManualClock
from core.errors import PermissionDenied
from core.jobs.audit import Actor
from core.jobs.types import registered_job_types
from core.settings.config import SchedulerSettings

#: Where a FakeBackend's clock starts when none is given (a Monday morning), for determinism.
DEFAULT_START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class FakeBackend:
    """In-memory Backend with the local backend's validation, errors and audit log."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        actor: Actor | None = None,
        default_zone: str = "UTC",
        read_only: bool = False,
        capabilities: Capabilities | None = None,
    ) -> None:
        self.clock: Clock = clock or ManualClock(DEFAULT_START)
        self.store = FakeStore(self.clock, actor or Actor("tester", "test"), default_zone)
        self.templates = FakeTemplateService(self.store)
        self.schedules = FakeScheduleService(self.store)
        self.runs = FakeRunService(self.store)
        self.actions = FakeRunActions(self.store)
        self._capabilities = capabilities or Capabilities(
            name="fake",
            writable=not read_only,
            log_streaming=True,
            run_cancel=True,
            run_retry=True,
            workers=True,
            worker_control=True,
        )
        self.closed = False
        self.scheduler_settings = SchedulerSettings()
        #: the lease row ``owner_health`` reports (tests set it; None: nobody owns)
        self.owner: OwnerView | None = None
        #: what the owner says about itself (``OwnerHealthView.problem``)
        self.owner_problem: str | None = None
        #: with no ``owner`` set: a healthy owner that renewed and ticked just now
        self.owner_alive = False

    @classmethod
    def seeded(cls, clock: Clock | None = None, **options: Any) -> FakeBackend:
        """A backend holding the realistic data set of core/backend/fake/seed.py.

        The data is the same on every call for the same clock; ``options`` go to the
        constructor (``read_only=True`` still gets the data: seeding bypasses the check).
        """
        from core.backend.fake.seed import seed

        backend = cls(clock=clock, **options)
        seed(backend)
        backend.owner_alive = True
        return backend

    @property
    def capabilities(self) -> Capabilities:
        """What this fake claims to support (pass ``capabilities`` to mimic another backend)."""
        return self._capabilities

    def _check_writable(self) -> None:
        if not self._capabilities.writable:
            raise PermissionDenied("read-only mode: writes are disabled")

    async def close(self) -> None:
        """Nothing to release; remembered so tests can check that the app closed it."""
        self.closed = True

    def add_run(
        self, *, template: Ref | None = None, schedule: Ref | None = None, **fields: Any
    ) -> RunView:
        """Store a run as an executor would have written it (tests only; not audited).

        Name, type and revision come from ``template`` (or the schedule's template); any JobRun
        column can be given; the duration follows from start and completion when not given.
        """
        return self.runs.add(template=template, schedule=schedule, **fields)

    def update_run(self, run_id: int, **fields: Any) -> RunView:
        """Change a stored run as an executor would (tests only: live updates; not audited)."""
        return self.runs.update(run_id, **fields)

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
        return self.templates.list_templates(job_type=job_type, tag=tag, search=search)

    async def get_template(self, ref: Ref) -> TemplateView:
        """One template."""
        return self.templates.get(ref)

    async def create_template(self, spec: TemplateSpec) -> TemplateView:
        """Create a template."""
        self._check_writable()
        return self.templates.create(spec)

    async def update_template(self, ref: Ref, patch: TemplatePatch) -> TemplateView:
        """Update a template (a new revision)."""
        self._check_writable()
        return self.templates.update(ref, patch)

    async def delete_template(self, ref: Ref, *, force: bool = False) -> DeleteReport:
        """Delete a template."""
        self._check_writable()
        return self.templates.delete(ref, force=force)

    async def copy_template(self, ref: Ref, new_name: str) -> TemplateView:
        """Copy a template under a new name."""
        self._check_writable()
        return self.templates.copy(ref, new_name)

    async def template_revisions(self, ref: Ref) -> list[TemplateRevisionView]:
        """A template's revisions, newest first."""
        return self.templates.revisions(ref)

    async def list_schedules(
        self, *, template: Ref | None = None, is_active: bool | None = None
    ) -> list[ScheduleView]:
        """Schedules by name, filtered."""
        return self.schedules.list_schedules(template=template, is_active=is_active)

    async def get_schedule(self, ref: Ref) -> ScheduleView:
        """One schedule."""
        return self.schedules.get(ref)

    async def create_schedule(self, spec: ScheduleSpec) -> ScheduleView:
        """Create a schedule."""
        self._check_writable()
        return self.schedules.create(spec)

    async def update_schedule(self, ref: Ref, patch: SchedulePatch) -> ScheduleView:
        """Update a schedule."""
        self._check_writable()
        return self.schedules.update(ref, patch)

    async def delete_schedule(self, ref: Ref) -> DeleteReport:
        """Delete a schedule."""
        self._check_writable()
        return self.schedules.delete(ref)

    async def set_schedule_active(self, ref: Ref, active: bool) -> ScheduleView:
        """Enable or disable a schedule."""
        self._check_writable()
        return self.schedules.set_active(ref, active)

    async def preview_schedule(
        self, ref: Ref, n: int = 10, *, viewer_zone: str | None = None
    ) -> list[FireTimeView]:
        """Next fire times of a stored schedule."""
        return self.schedules.preview(ref, n, viewer_zone)

    async def preview_timing(
        self, spec: ScheduleSpec, n: int = 10, *, viewer_zone: str | None = None
    ) -> list[FireTimeView]:
        """Next fire times of unsaved timing."""
        return self.schedules.preview_spec(spec, n, viewer_zone)

    async def list_runs(self, query: RunQuery) -> RunPage:
        """A page of runs."""
        return self.runs.page(query)

    async def get_run(self, run_id: int) -> RunView:
        """One run."""
        return self.runs.get(run_id)

    async def run_counts(self, query: RunQuery | None = None) -> dict[str, int]:
        """Runs per status."""
        return self.runs.counts(query)

    async def delete_run(self, run_id: int) -> None:
        """Delete a finished run."""
        self._check_writable()
        self.runs.delete(run_id)

    async def cleanup_runs(self, older_than_days: int) -> int:
        """Delete finished runs older than N days."""
        self._check_writable()
        return self.runs.cleanup(older_than_days)

    async def clear_runs(self, run_filter: RunFilter) -> int:
        """Delete finished runs matching a filter."""
        self._check_writable()
        return self.runs.clear(run_filter)

    async def run_template(
        self,
        ref: Ref,
        *,
        parameters: dict[str, Any] | None = None,
        triggered_by: str = "manual",
        force: bool = False,
    ) -> RunView:
        """Queue a run of a template now (nothing executes it in the fake)."""
        self._check_writable()
        return self.actions.run_template(ref, parameters, triggered_by, force)

    async def run_schedule(self, ref: Ref, *, force: bool = False) -> RunView:
        """Queue a manual run of a schedule now (nothing executes it in the fake)."""
        self._check_writable()
        return self.actions.run_schedule(ref, force)

    async def cancel_run(self, run_id: int, *, reason: str | None = None) -> RunView:
        """Cancel a pending or running run."""
        self._check_writable()
        return self.actions.cancel(run_id, reason)

    async def retry_run(self, run_id: int) -> RunView:
        """Queue a new run retrying an ended one."""
        self._check_writable()
        return self.actions.retry(run_id)

    async def run_attempts(self, run_id: int) -> list[AttemptView]:
        """A run's attempts."""
        return self.actions.attempt_views(run_id)

    async def run_logs(self, run_id: int, *, after_seq: int = 0, limit: int = 1000) -> LogPage:
        """Log chunks after a position."""
        return self.actions.logs(run_id, after_seq, limit)

    async def list_occurrences(
        self, *, schedule: Ref | None = None, limit: int = 200
    ) -> list[OccurrenceView]:
        """The occurrence ledger, newest first."""
        return self.actions.occurrence_views(schedule, limit)

    async def list_workers(self) -> list[WorkerView]:
        """Known executors."""
        return self.actions.worker_views()

    async def resize_worker(self, name: str, slots: int) -> WorkerView:
        """Change a worker's slots."""
        self._check_writable()
        return self.actions.steer_worker(name, "worker.resize", slots=slots)

    async def pause_worker(self, name: str) -> WorkerView:
        """Mark a worker paused."""
        self._check_writable()
        return self.actions.steer_worker(name, "worker.pause", paused=True)

    async def resume_worker(self, name: str) -> WorkerView:
        """Clear a worker's pause and drain."""
        self._check_writable()
        return self.actions.steer_worker(name, "worker.resume", paused=False, draining=False)

    async def drain_worker(self, name: str) -> WorkerView:
        """Mark a worker draining."""
        self._check_writable()
        return self.actions.steer_worker(name, "worker.drain", draining=True)

    async def audit_log(self, *, limit: int = 100) -> list[AuditView]:
        """The newest audit records."""
        return self.store.audit_views(limit)

    async def changes(self, after: int | None = None, *, limit: int = 500) -> ChangeBatch:
        """What changed after ``after`` in the in-memory store."""
        return self.store.change_batch(after, limit)

    async def wait_for_changes(self, after: int | None, seconds: float) -> None:
        """Polled, like the local backend: read again after ``seconds``."""
        await asyncio.sleep(seconds)

    async def owner_health(self) -> OwnerHealthView:
        """``owner`` as set by the test (or a healthy one, with ``owner_alive``)."""
        now = self.clock.now()
        settings = self.scheduler_settings
        ttl = timedelta(seconds=settings.lease_ttl_seconds)
        owner = self.owner
        if owner is None and self.owner_alive:
            owner = OwnerView(
                owner_id="fake-owner",
                host="fake-host",
                pid=4242,
                api_address=None,
                acquired_at=DEFAULT_START,
                heartbeat_at=now,
                expires_at=now + ttl,
                ticked_at=now,
            )
        return OwnerHealthView(
            checked_at=now,
            owner=owner,
            heartbeat_seconds=settings.heartbeat_seconds,
            lease_ttl_seconds=(
                (owner.expires_at - owner.heartbeat_at).total_seconds()
                if owner is not None
                else settings.lease_ttl_seconds
            ),
            problem=self.owner_problem if owner is not None else None,
        )


if TYPE_CHECKING:
    # mypy proves here that the fake implements every method of the protocol, typed alike.
    _conforms: type[Backend] = FakeBackend
