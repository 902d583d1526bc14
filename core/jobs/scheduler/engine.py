"""The scheduler: ticks that turn due occurrences into ledger rows and pending runs.

Why not an APScheduler job as the wake-up timer: APScheduler 3 keeps a job's next run time
in wall-clock time and computes its sleep from ``datetime.now()``. After the wall clock steps
back an hour it sleeps an hour, which breaks rule 8 (wake at least every 60 s, notice the
jump) and starves everything tied to the wake-up. It also reads the real clock, so it cannot
run on an injected one. The loop below is the same timer without those flaws: it sleeps on
the event loop's monotonic clock until the earliest next_run (one indexed query), at most a
heartbeat (and never more than ``max_sleep_seconds``), and can be woken early (``wake``).
APScheduler still decides *when* each schedule fires: fire times come from ``JobdeckTrigger``.

A tick never blocks the event loop: each batch (read, decide, record) runs in a worker thread
via ``asyncio.to_thread``; the loop thread only awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from core.clock import Clock
from core.errors import BackendUnavailable
from core.jobs.scheduler.batch import (
    BatchOutcome,
    FaultHook,
    LeaseLost,
    SchedulePlan,
    plan_batch,
    record_batch,
)
from core.jobs.scheduler.clockwatch import ClockWatch
from core.jobs.scheduler.lease import Lease
from core.jobs.scheduler.occurrences import FireMemo
from core.jobs.scheduler.reports import TickReport
from core.jobs.scheduler.resume import ENABLED_PER_BATCH, enabled_while_paused, record_enabled
from core.jobs.scheduler.runrows import RunRows
from core.jobs.scheduler.state import latest_run, next_due, read_due
from core.settings.secrets import SecretBox
from core.storage.database import Database

log = logging.getLogger("jobdeck.scheduler")

#: A tick gives up after this many batches (a schedule edited in every round cannot spin it).
_MAX_ROUNDS = 10_000
StoreErrors = (BackendUnavailable, SQLAlchemyError, OSError)


@dataclass(frozen=True)
class SchedulerConfig:
    """Scheduler tuning (SchedulerSettings supplies the first two)."""

    heartbeat_seconds: float = 5.0
    max_sleep_seconds: float = 60.0
    batch_size: int = 1000
    #: a running run whose heartbeat is older than this does not block overlap (rule 15)
    stale_run_seconds: float = 60.0
    retention_interval_seconds: float = 3600.0
    #: wall and monotonic clocks disagreeing by more than this is a clock jump (rule 8)
    clock_jump_seconds: float = 2.0
    max_backoff_seconds: float = 30.0


@dataclass(frozen=True)
class _Planned:
    """A batch read and decided, waiting to be recorded."""

    plans: list[SchedulePlan]
    now: datetime
    #: the (next_run, id) key of its last schedule, where the next read-ahead continues
    last: tuple[datetime, int]


def _no_fault(point: str) -> None:
    """The default fault hook: tests replace it to crash or fail at a named point."""


class TickEngine:
    """Ticks: batches of due schedules recorded under the lease (the loop is in Scheduler)."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        lease: Lease,
        config: SchedulerConfig,
        secrets: SecretBox | None,
        on_runs_created: Callable[[], None],
    ) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease
        self.config = config
        self.secrets = secrets
        self.on_runs_created = on_runs_created
        self.rng = random.Random()
        #: tests replace this to inject crashes or store errors at named points
        self.fault_hook: FaultHook = _no_fault
        self.clock_watch = ClockWatch(db, clock, config.clock_jump_seconds)
        self._lock = asyncio.Lock()
        # The first tick of a process is the catch-up pass after downtime (rule 3).
        self._catching_up = True
        #: when (monotonic) to look again for schedules enabled while paused; None: next tick
        self._enabled_next: float | None = None

    def catch_up_next(self) -> None:
        """Treat the next tick as after downtime (start-up, lease regained, clock jump)."""
        self._catching_up = True
        self._enabled_next = None

    def look_for_enabled(self) -> None:
        """Look for schedules enabled while paused on the next tick (thread-safe)."""
        self._enabled_next = None

    async def tick(self) -> TickReport:
        """Process everything due at ``clock.now()``; store errors end it with ``error`` set."""
        async with self._lock:
            return await self._tick()

    async def _tick(self) -> TickReport:
        started = self.clock.now()
        floor = None
        if self.clock_watch.first:
            with contextlib.suppress(*StoreErrors):
                floor = await asyncio.to_thread(self._latest_run)
        jump = self.clock_watch.observe(floor)
        if jump is not None and jump > 0:  # a forward step is downtime: catch up (rules 2-3)
            self._catching_up = True
        if not self.lease.holds():
            return TickReport(at=started, owner=False, clock_jump_seconds=jump)
        if jump is not None:
            with contextlib.suppress(*StoreErrors):
                await asyncio.to_thread(self.clock_watch.record, jump)
        catch_up = self._catching_up
        memo = FireMemo()
        totals: Counter[str] = Counter()
        run_ids: list[int] = []
        warnings: list[str] = []
        batches = schedules = 0
        error: str | None = None
        lease_lost = False
        try:
            async for outcome in self._all_batches(started, memo, catch_up):
                batches += 1
                schedules += outcome.schedules
                totals.update(outcome.outcomes)
                run_ids.extend(outcome.run_ids)
                warnings.extend(f"{name}: {text}" for _, name, text in outcome.warnings)
                if outcome.run_ids:
                    self.on_runs_created()
        except LeaseLost:
            log.error("lease lost: this process stops firing until it holds it again")
            lease_lost = True
            # Someone else owned the database meanwhile: if this process gets the lease back,
            # its first tick treats the gap as downtime.
            self._catching_up = True
        except StoreErrors as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("scheduler tick failed (will retry): %s", error)
        if error is None and not lease_lost:
            self._catching_up = False
        upcoming = None
        with contextlib.suppress(*StoreErrors):
            upcoming = await asyncio.to_thread(self._next_due)
        return TickReport(
            at=started,
            owner=not lease_lost,
            catch_up=catch_up,
            batches=batches,
            schedules=schedules,
            outcomes=dict(totals),
            run_ids=tuple(run_ids),
            lease_lost=lease_lost,
            error=error,
            clock_jump_seconds=jump,
            warnings=tuple(warnings),
            next_due=upcoming,
        )

    async def _all_batches(
        self, upto: datetime, memo: FireMemo, catch_up: bool
    ) -> AsyncIterator[BatchOutcome]:
        """What schedules enabled while paused missed, then everything due at ``upto``."""
        async for outcome in self._enabled_batches():
            yield outcome
        async for outcome in self._batches(upto, memo, catch_up):
            yield outcome

    async def _enabled_batches(self) -> AsyncIterator[BatchOutcome]:
        """Record the occurrences that schedules enabled since the last look missed (rule 10).

        The schedule service enables a schedule in whatever process the operator used and
        leaves its ``paused_at``; the owner records the skipped occurrences here, so they are
        recorded whether or not the owner runs in that process (or runs at all at the time).
        The look scans the schedules table (no index serves it), so it runs on the first
        tick, when woken, and otherwise at most once a heartbeat. Its range ends before the
        schedule's next run, so it may come before or after the tick records that run.
        """
        started = self.clock.monotonic()
        if self._enabled_next is not None and started < self._enabled_next:
            return
        for _ in range(_MAX_ROUNDS):
            ids = await asyncio.to_thread(self._enabled_ids)
            if not ids:
                break
            outcome, cleared = await asyncio.to_thread(self._write_enabled, ids)
            yield outcome
            if not cleared:  # changed meanwhile: the next look tries again
                break
        # Only after a look that raised nothing: a store error retries it on the next tick.
        self._enabled_next = started + self.config.heartbeat_seconds

    async def _batches(
        self, upto: datetime, memo: FireMemo, catch_up: bool
    ) -> AsyncIterator[BatchOutcome]:
        """Record everything due at ``upto``, batch by batch, in worker threads.

        First pass: while batch k is written, batch k+1 is read and planned (keyset order,
        so it does not see batch k again); SQLite and PostgreSQL release the interpreter lock
        while they work, so the two overlap. Second pass, without read-ahead: whatever the
        first left due (a batch cut by the row budget, plans made stale by an edit, a backlog
        that continues) until nothing is due.
        """
        ahead = asyncio.create_task(asyncio.to_thread(self._read, upto, memo, catch_up, None))
        try:
            while (batch := await ahead) is not None:
                ahead = asyncio.create_task(
                    asyncio.to_thread(self._read, upto, memo, catch_up, batch.last)
                )
                yield await asyncio.to_thread(self._write, batch)
        finally:
            if not ahead.done():  # an error while writing: let the read finish, ignore it
                with contextlib.suppress(Exception):
                    await ahead
        for _ in range(_MAX_ROUNDS):
            batch = await asyncio.to_thread(self._read, upto, memo, catch_up, None)
            if batch is None:
                return
            yield await asyncio.to_thread(self._write, batch)

    def _read(
        self, upto: datetime, memo: FireMemo, catch_up: bool, after: tuple[datetime, int] | None
    ) -> _Planned | None:
        """Read and plan one batch (worker thread); None when nothing (more) is due."""
        self.fault_hook("before_read")
        with self.db.read() as session:
            due = read_due(session, upto, self.config.batch_size, after)
        if not due:
            return None
        now = self.clock.now()
        plans = plan_batch(due, now, memo, catching_up=catch_up)
        self.fault_hook("planned")
        last = plans[-1].schedule
        assert last.next_run is not None
        return _Planned(plans, now, (last.next_run, last.id))

    def _write(self, batch: _Planned) -> BatchOutcome:
        """Record one planned batch in one transaction (worker thread)."""
        runs = RunRows(self.secrets, batch.now, self.rng)
        with self.db.write() as session:
            outcome = record_batch(
                session,
                batch.plans,
                lease=self.lease,
                clock=self.clock,
                runs=runs,
                stale_run_seconds=self.config.stale_run_seconds,
                fault=self.fault_hook,
            )
        self.lease.confirm()
        self.fault_hook("committed")
        return outcome

    def _enabled_ids(self) -> list[int]:
        with self.db.read() as session:
            return enabled_while_paused(session, ENABLED_PER_BATCH)

    def _write_enabled(self, ids: list[int]) -> tuple[BatchOutcome, int]:
        """Record one group of enabled schedules in one transaction (worker thread)."""
        runs = RunRows(self.secrets, self.clock.now(), self.rng)
        with self.db.write() as session:
            result = record_enabled(
                session,
                ids,
                clock=self.clock,
                lease=self.lease,
                runs=runs,
                stale_seconds=self.config.stale_run_seconds,
                fault=self.fault_hook,
            )
        self.lease.confirm()
        return result

    def _latest_run(self) -> datetime | None:
        with self.db.read() as session:
            return latest_run(session)

    def _next_due(self) -> datetime | None:
        with self.db.read() as session:
            return next_due(session)
