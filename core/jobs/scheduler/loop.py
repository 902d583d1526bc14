"""``Scheduler``: the wake-up loop around the tick engine, and the operator's scheduling actions.

The lease is renewed by the owner (``core/owner.py``) every heartbeat and by every batch this
scheduler commits; the scheduler itself only ever fires while ``Lease.holds()`` and the batch
transaction's own lease check agree. Operator actions (maintenance, resume, backfill) share the
tick's lock, so they never interleave with a batch of the same process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from core.clock import Clock
from core.jobs.audit import Actor
from core.jobs.scheduler import maintenance, resume
from core.jobs.scheduler.engine import SchedulerConfig, StoreErrors, TickEngine
from core.jobs.scheduler.lease import Lease
from core.jobs.scheduler.reports import BackendResumePlan, ResumePlan, RetentionReport, TickReport
from core.jobs.scheduler.retention import retention_pass
from core.jobs.scheduler.runrows import RunRows
from core.jobs.system_state import maintenance as current_maintenance
from core.settings.secrets import SecretBox
from core.storage.database import Database

log = logging.getLogger("jobdeck.scheduler")
T = TypeVar("T")

#: The first retention pass runs this long after start (then every retention interval).
_FIRST_RETENTION_SECONDS = 60.0


class Scheduler(TickEngine):
    """Turns due occurrences into ledger rows and pending runs while this process owns the DB."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        lease: Lease,
        config: SchedulerConfig,
        secrets: SecretBox | None,
        on_runs_created: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(
            db,
            clock=clock,
            lease=lease,
            config=config,
            secrets=secrets,
            on_runs_created=on_runs_created,
        )
        self.last_report: TickReport | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._next_retention: float | None = None

    # -- loop --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Run the catch-up pass, then keep ticking in a background task until ``stop``."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self.catch_up_next()
        self._next_retention = self.clock.monotonic() + _FIRST_RETENTION_SECONDS
        report = await self._safe_tick()
        self._task = asyncio.create_task(self._run(report), name="jobdeck-scheduler")

    async def stop(self) -> None:
        """Stop firing; a batch in flight finishes (it is one transaction) before this returns."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task

    def wake(self) -> None:
        """Look for due schedules now (thread-safe): a schedule was created or changed."""
        self.look_for_enabled()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    @property
    def running(self) -> bool:
        """True while the background loop runs."""
        return self._task is not None and not self._task.done()

    async def _safe_tick(self) -> TickReport:
        try:
            report = await self.tick()
        except Exception as exc:  # a bug in one tick must not end scheduling for good
            log.exception("scheduler tick crashed; retrying")
            report = TickReport(at=self.clock.now(), owner=False, error=repr(exc))
        self.last_report = report
        if report.owner and report.error is None:
            # What "the scheduler last ticked" means to every reader: a tick that finished.
            self.lease.ticked(self.clock.now())
        return report

    async def _run(self, report: TickReport) -> None:
        backoff = 0.0
        while not self._stopping:
            if report.error is not None:
                backoff = min(max(2 * backoff, 1.0), self.config.max_backoff_seconds)
                wait = backoff
            else:
                backoff = 0.0
                wait = self._wait_after(report)
            await self._sleep(wait)
            if self._stop_requested():
                break
            report = await self._safe_tick()
            if self.lease.holds() and self._retention_due():
                with contextlib.suppress(*StoreErrors):
                    await self.retention_pass()

    def _stop_requested(self) -> bool:
        # A method, not the attribute: ``stop`` flips it while this coroutine is suspended.
        return self._stopping

    def _wait_after(self, report: TickReport) -> float:
        """Until the earliest next_run, but at least every heartbeat (and max_sleep)."""
        cap = min(self.config.heartbeat_seconds, self.config.max_sleep_seconds)
        if not report.owner or report.next_due is None:
            return cap
        until = (report.next_due - self.clock.now()).total_seconds()
        return max(0.0, min(until, cap))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    def _retention_due(self) -> bool:
        now = self.clock.monotonic()
        if self._next_retention is None or now < self._next_retention:
            return False
        self._next_retention = now + self.config.retention_interval_seconds
        return True

    async def _locked(self, work: Callable[[], T]) -> T:
        async with self._lock:
            return await asyncio.to_thread(work)

    # -- retention ---------------------------------------------------------------------------

    async def retention_pass(self) -> RetentionReport:
        """Delete run history the templates' retention no longer keeps (rule 14)."""
        return await self._locked(lambda: retention_pass(self.db, self.clock))

    # -- maintenance -------------------------------------------------------------------------

    async def pause_backend(self, reason: str, actor: Actor | None = None) -> None:
        """Maintenance on: due occurrences are recorded ``skipped: maintenance``."""

        def work() -> None:
            with self.db.write() as session:
                maintenance.pause(session, self.clock.now(), reason, actor or Actor.system())

        await self._locked(work)
        log.warning("backend paused for maintenance: %s", reason)

    async def preview_resume_backend(self, catch_up: bool = False) -> BackendResumePlan:
        """What ending maintenance would do, without doing it."""

        def work() -> BackendResumePlan:
            now = self.clock.now()
            with self.db.read() as session:
                switch = current_maintenance(session)
                planned = (
                    maintenance.catch_up_runs(session, now, self.config.stale_run_seconds)
                    if catch_up
                    else []
                )
            runs = tuple((s.name, at) for s, _, at in planned)
            return BackendResumePlan(now, catch_up, switch, runs, applied=False)

        return await self._locked(work)

    async def resume_backend(
        self, catch_up: bool = False, actor: Actor | None = None
    ) -> BackendResumePlan:
        """Maintenance off; with ``catch_up``, each schedule's catch-up policy picks runs."""

        def work() -> BackendResumePlan:
            now = self.clock.now()
            with self.db.write() as session:
                switch, planned, run_ids = maintenance.resume(
                    session,
                    clock=self.clock,
                    lease=self.lease,
                    runs=RunRows(self.secrets, now, self.rng),
                    catch_up=catch_up,
                    stale_seconds=self.config.stale_run_seconds,
                    actor=actor or Actor.system(),
                )
            self.lease.confirm()
            runs = tuple((s.name, at) for s, _, at in planned)
            return BackendResumePlan(now, catch_up, switch, runs, True, tuple(run_ids))

        plan = await self._locked(work)
        if plan.run_ids:
            self.on_runs_created()
        self.wake()
        return plan

    # -- schedules ---------------------------------------------------------------------------

    async def preview_resume_schedule(self, ref: int | str, catch_up: bool = False) -> ResumePlan:
        """What ``resume_schedule`` would record and run, without doing it (rule 10)."""

        def work() -> ResumePlan:
            with self.db.read() as session:
                return resume.plan_resume(
                    session, ref, self.clock.now(), catch_up, self.config.stale_run_seconds
                )

        return await self._locked(work)

    async def resume_schedule(
        self, ref: int | str, catch_up: bool = False, actor: Actor | None = None
    ) -> ResumePlan:
        """Enable a disabled schedule: what it missed is recorded ``skipped: paused``, or caught
        up by its catch-up policy when ``catch_up`` is True."""

        def work() -> tuple[ResumePlan, list[int]]:
            with self.db.write() as session:
                result = resume.apply_resume(
                    session,
                    ref,
                    clock=self.clock,
                    lease=self.lease,
                    runs=RunRows(self.secrets, self.clock.now(), self.rng),
                    catch_up=catch_up,
                    stale_seconds=self.config.stale_run_seconds,
                    actor=actor or Actor.system(),
                )
            self.lease.confirm()
            return result

        plan, run_ids = await self._locked(work)
        if run_ids:
            self.on_runs_created()
        self.wake()
        return plan

    async def backfill(
        self, schedule_ref: int | str, start: datetime, end: datetime, actor: Actor | None = None
    ) -> list[int]:
        """Runs (triggered_by="backfill") for each occurrence in [start, end]; consumes none."""

        def work() -> list[int]:
            now = self.clock.now()
            with self.db.write() as session:
                return maintenance.backfill(
                    session,
                    schedule_ref,
                    start,
                    end,
                    now=now,
                    runs=RunRows(self.secrets, now, self.rng),
                    actor=actor or Actor.system(),
                )

        run_ids = await self._locked(work)
        if run_ids:
            self.on_runs_created()
        return run_ids
