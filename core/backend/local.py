"""The local backend: the embedded core over SQLite/PostgreSQL, off the event loop."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
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
from core.backend.protocol import Capabilities, ExecutorHandle, OwnerProbe, Ref
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
from core.clock import Clock, SystemClock
from core.errors import NotFound, PermissionDenied, Unsupported, ValidationFailed
from core.jobs import audit
from core.jobs.audit import Actor
from core.jobs.changes import change_batch
from core.jobs.page_reader import read_page
from core.jobs.run_actions import RunActions
from core.jobs.runs import RunService, quick_page
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.jobs.types import registered_job_types
from core.settings.config import SchedulerSettings
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
        scheduler: SchedulerSettings | None = None,
    ) -> None:
        self.db = db
        #: the scheduler settings owners of this database run with (health thresholds)
        self.scheduler_settings = scheduler or SchedulerSettings()
        #: the owner running in this process, while there is one (``attach_owner``)
        self.owner_probe: OwnerProbe | None = None
        self.clock = clock or SystemClock()
        self.actor = actor
        self.templates = TemplateService(db, self.clock, actor, secrets)
        self.schedules = ScheduleService(db, self.clock, actor, default_zone, secrets)
        self.runs = RunService(db, self.clock, actor)
        self.executor: ExecutorHandle | None = None
        self.on_runs_created = on_runs_created
        self.on_schedules_changed: Callable[[], None] | None = None
        self.actions = RunActions(db, self.clock, actor, secrets, self.runs, self._runs_created)
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
        """What the local backend can do; worker control while it holds the owner's pool."""
        if self.executor is not None:
            return self._capabilities.model_copy(update={"worker_control": True})
        return self._capabilities

    def with_actor(self, actor: Actor) -> LocalBackend:
        """This backend acting as ``actor`` (the API's per-token audit name): the same database,
        clock, secrets, wake-up callback and lent pool; only who the audit log names differs.

        Take one per request: it shares the pool lent at the time it was made.
        """
        scoped = copy.copy(self)
        scoped.actor = actor
        scoped.templates = TemplateService(self.db, self.clock, actor, self.templates.secrets)
        scoped.schedules = ScheduleService(
            self.db, self.clock, actor, self.schedules.default_zone, self.schedules.secrets
        )
        scoped.runs = RunService(self.db, self.clock, actor)
        scoped.actions = RunActions(
            self.db,
            self.clock,
            actor,
            self.actions.secrets,
            scoped.runs,
            self.actions.on_runs_created,
        )
        return scoped

    def attach_executor(self, executor: ExecutorHandle | None) -> None:
        """Lend the in-process owner's pool (None when the owner stops), for worker control."""
        self.executor = executor

    def attach_owner(self, probe: OwnerProbe | None) -> None:
        """The owner running in this process (None when it stops): ``owner_health`` adds
        what it knows about itself to what its lease row says."""
        self.owner_probe = probe

    def _runs_created(self) -> None:
        if self.on_runs_created is not None:
            self.on_runs_created()

    def _schedules_changed(self) -> None:
        if self.on_schedules_changed is not None:
            self.on_schedules_changed()

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
        result = await self._call(self.schedules.create, spec)
        self._schedules_changed()
        return result

    async def update_schedule(self, ref: Ref, patch: SchedulePatch) -> ScheduleView:
        """Update a schedule."""
        self._check_writable()
        result = await self._call(self.schedules.update, ref, patch)
        self._schedules_changed()
        return result

    async def delete_schedule(self, ref: Ref) -> DeleteReport:
        """Delete a schedule."""
        self._check_writable()
        result = await self._call(self.schedules.delete, ref)
        self._schedules_changed()
        return result

    async def set_schedule_active(self, ref: Ref, active: bool) -> ScheduleView:
        """Enable or disable a schedule."""
        self._check_writable()
        result = await self._call(self.schedules.set_active, ref, active)
        self._schedules_changed()
        return result

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
        """A page of runs. SQLite's are read on the one page reader thread
        (core.jobs.page_reader), but a quick page (core.jobs.runs.quick_page) is read here."""
        if self.db.is_sqlite:
            if quick_page(query):
                return self.runs.page(query)
            return await read_page(self.runs.page, query)
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

    async def run_schedule(self, ref: Ref, *, force: bool = False) -> RunView:
        """Queue a manual run of a schedule now (never consuming an occurrence)."""
        self._check_writable()
        return await self._call(self.actions.run_schedule, ref, force=force)

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

    async def resize_worker(self, name: str, slots: int) -> WorkerView:
        """Change the pool's number of slots (running runs beyond a smaller size finish)."""
        if isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= 1024:
            raise ValidationFailed("slots", f"must be a whole number from 1 to 1024, not {slots!r}")
        return await self._steer(name, "worker.resize", lambda ex: ex.resize(slots))

    async def pause_worker(self, name: str) -> WorkerView:
        """Claim nothing new until resumed; running runs continue."""
        return await self._steer(name, "worker.pause", lambda ex: ex.pause())

    async def resume_worker(self, name: str) -> WorkerView:
        """Claim again after a pause or a drain."""
        return await self._steer(name, "worker.resume", lambda ex: ex.resume())

    async def drain_worker(self, name: str) -> WorkerView:
        """Finish what runs, take nothing new."""
        return await self._steer(name, "worker.drain", lambda ex: ex.drain())

    async def _steer(
        self, name: str, action: str, act: Callable[[ExecutorHandle], Awaitable[None]]
    ) -> WorkerView:
        self._check_writable()
        executor = self.executor
        if executor is None or executor.name != name:
            known = {worker.name for worker in await self.list_workers()}
            if name not in known:
                raise NotFound("worker", name)
            raise Unsupported(
                f"worker {name!r} is not run by this process: steer it through its owner"
                " (jobdeck --backend URL of the daemon that owns the database)"
            )
        await act(executor)
        await self._call(self._audit_worker, action, name)
        for worker in await self.list_workers():
            if worker.name == name:
                return worker
        raise NotFound("worker", name)

    def _audit_worker(self, action: str, name: str) -> None:
        with self.db.write() as session:
            audit.record(session, self.actor, self.clock.now(), action, "worker", None, name)

    async def audit_log(self, *, limit: int = 100) -> list[AuditView]:
        """The newest audit records."""
        return await self._call(self._audit, limit)

    async def changes(self, after: int | None = None, *, limit: int = 500) -> ChangeBatch:
        """What changed after ``after``, read from the trigger-fed change feed."""
        return await self._call(self._changes, after, limit)

    async def wait_for_changes(self, after: int | None, seconds: float) -> None:
        """Every process writes the feed through the database: read it again after
        ``seconds`` (one indexed read; nothing pushes across processes)."""
        await asyncio.sleep(seconds)

    async def owner_health(self) -> OwnerHealthView:
        """The lease row (one primary-key read), and the in-process owner's own word."""
        return await self._call(self._owner_health)

    def _owner_health(self) -> OwnerHealthView:
        from core.jobs.scheduler.lease import Lease

        checked = self.clock.now()
        info = Lease.current(self.db, self.clock)
        settings = self.scheduler_settings
        if info is None:
            return OwnerHealthView(
                checked_at=checked,
                owner=None,
                heartbeat_seconds=settings.heartbeat_seconds,
                lease_ttl_seconds=settings.lease_ttl_seconds,
            )
        ticked, problem = info.ticked_at, None
        probe = self.owner_probe
        if probe is not None and probe.owner_id == info.owner_id:
            # This process is the owner: its latest tick, not the one its last renewal wrote.
            ticked = max((t for t in (ticked, probe.ticked_at) if t is not None), default=None)
            problem = probe.problem
        owner = OwnerView(
            owner_id=info.owner_id,
            host=info.host,
            pid=info.pid,
            api_address=info.api_address,
            acquired_at=info.acquired_at,
            heartbeat_at=info.heartbeat_at,
            expires_at=info.expires_at,
            ticked_at=ticked,
        )
        return OwnerHealthView(
            checked_at=checked,
            owner=owner,
            heartbeat_seconds=settings.heartbeat_seconds,
            # the TTL the owner renews with, as its row shows it
            lease_ttl_seconds=(info.expires_at - info.heartbeat_at).total_seconds(),
            problem=problem,
        )

    def _changes(self, after: int | None, limit: int) -> ChangeBatch:
        with self.db.read() as session:
            # the feed is stamped by the database's clock, so gaps are aged by the real clock
            return change_batch(session, after, limit, time.time())

    def _audit(self, limit: int) -> list[AuditView]:
        with self.db.read() as session:
            rows = session.exec(
                select(AuditRecord).order_by(col(AuditRecord.id).desc()).limit(limit)
            )
            return [AuditView.model_validate(row.model_dump()) for row in rows]
