"""Scheduler test harness: a World with services, a lease, a scheduler and a ManualClock.

Tests call ``await world.tick()`` (which renews the lease first, as the owner's heartbeat
would) instead of sleeping, and check ledger completeness with ``world.assert_complete``: for a
schedule, the ledger's occurrences are exactly its fire times from its first next_run up to
now, each recorded once, and every ``ran`` row points at the one scheduled run of its key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from core.backend.inputs import ScheduleSpec, TemplateSpec
from core.backend.views import ScheduleView
from core.clock import ManualClock
from core.errors import BackendUnavailable
from core.jobs.audit import Actor
from core.jobs.scheduler import Lease, Scheduler, SchedulerConfig, TickReport
from core.jobs.schedules import ScheduleService, load_schedule, timing_of
from core.jobs.templates import TemplateService
from core.jobs.timing import next_fire_times
from core.settings.secrets import SecretBox
from core.storage.database import Database
from core.storage.tables import AuditRecord, JobRun, JobSchedule, JobTemplate, Occurrence

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
MINUTE = 60.0


class World:
    """Everything a scheduler test needs, on one database and one ManualClock."""

    def __init__(
        self, db: Database, clock: ManualClock, tmp_path: Path, config: SchedulerConfig
    ) -> None:
        self.db = db
        self.clock = clock
        self.actor = Actor("tester", "cli")
        self.secrets = SecretBox(tmp_path / "secret.key")
        self.templates = TemplateService(db, clock, self.actor, self.secrets)
        self.schedules = ScheduleService(db, clock, self.actor, "UTC", self.secrets)
        self.created_calls = 0
        self.first_next_run: dict[int, datetime] = {}
        self.lease = self.new_lease("owner-a")
        assert self.lease.try_acquire()
        self.scheduler = self.new_scheduler(config)
        self.template("job")

    def new_lease(self, owner_id: str, ttl: float = 20.0) -> Lease:
        """A lease object for another would-be owner on the same database and clock."""
        return Lease(
            self.db, clock=self.clock, owner_id=owner_id, host="test", pid=1, ttl_seconds=ttl
        )

    def new_scheduler(self, config: SchedulerConfig | None = None) -> Scheduler:
        """A fresh Scheduler (a restarted process) on this world's lease."""

        def created() -> None:
            self.created_calls += 1

        return Scheduler(
            self.db,
            clock=self.clock,
            lease=self.lease,
            config=config or SchedulerConfig(),
            secrets=self.secrets,
            on_runs_created=created,
        )

    # -- set-up ------------------------------------------------------------------------------

    def template(self, name: str, **fields: Any) -> None:
        """A shell template."""
        self.templates.create(
            TemplateSpec(name=name, job_type="shell", config={"command": "true"}, **fields)
        )

    def schedule(self, name: str, template: str = "job", **fields: Any) -> ScheduleView:
        """A schedule (default zone UTC); remembers its first next_run for completeness."""
        view = self.schedules.create(ScheduleSpec(job_identifier=name, template=template, **fields))
        assert view.next_run is not None
        self.first_next_run[view.id] = view.next_run
        return view

    def every_minute(self, name: str = "every", **policies: Any) -> ScheduleView:
        """A ``* * * * *`` cron schedule with the given policies."""
        return self.schedule(name, schedule_type="cron", cron_expression="* * * * *", **policies)

    def set_template(self, name: str, **values: Any) -> None:
        """Change template columns directly (paused, retention, job_type)."""
        with self.db.write() as session:
            session.execute(
                update(JobTemplate).where(col(JobTemplate.name) == name).values(**values)
            )

    def set_run_status(self, run_id: int, status: str, **values: Any) -> None:
        """Move a run along as the executor would."""
        with self.db.write() as session:
            session.execute(
                update(JobRun).where(col(JobRun.id) == run_id).values(status=status, **values)
            )

    def finish_runs(self, status: str = "completed") -> None:
        """Every pending or running run ends (an executor that keeps up)."""
        with self.db.write() as session:
            session.execute(
                update(JobRun)
                .where(col(JobRun.status).in_(("pending", "running")))
                .values(status=status)
            )

    # -- acting ------------------------------------------------------------------------------

    async def tick(self, renew: bool = True) -> TickReport:
        """Renew the lease (the owner's heartbeat), then tick."""
        if renew:
            assert self.lease.renew()
        return await self.scheduler.tick()

    async def advance(self, seconds: float) -> TickReport:
        """Let time pass, then tick."""
        self.clock.advance(seconds)
        return await self.tick()

    async def run_until(self, end: datetime) -> list[TickReport]:
        """Tick at every next due instant up to ``end``, as the wake-up loop would."""
        reports = [await self.tick()]
        while reports[-1].next_due is not None and reports[-1].next_due <= end:
            self.clock.advance((reports[-1].next_due - self.clock.now()).total_seconds())
            reports.append(await self.tick())
        self.clock.advance(max(0.0, (end - self.clock.now()).total_seconds()))
        reports.append(await self.tick())
        return reports

    # -- reading -----------------------------------------------------------------------------

    def ledger(self, schedule_id: int) -> list[Occurrence]:
        """The schedule's ledger rows, oldest first."""
        with self.db.read() as session:
            return list(
                session.exec(
                    select(Occurrence)
                    .where(Occurrence.schedule_id == schedule_id)
                    .order_by(col(Occurrence.scheduled_for))
                )
            )

    def outcomes(self, schedule_id: int) -> Counter[str]:
        """Ledger outcomes of a schedule, counted."""
        return Counter(o.outcome for o in self.ledger(schedule_id))

    def runs(self, schedule_id: int | None = None, triggered_by: str | None = None) -> list[JobRun]:
        """Runs, oldest first, optionally of one schedule or trigger."""
        with self.db.read() as session:
            query = select(JobRun).order_by(col(JobRun.id))
            if schedule_id is not None:
                query = query.where(JobRun.job_schedule_id == schedule_id)
            if triggered_by is not None:
                query = query.where(JobRun.triggered_by == triggered_by)
            return list(session.exec(query))

    def schedule_row(self, ref: int | str) -> JobSchedule:
        """The stored schedule row."""
        with self.db.read() as session:
            return load_schedule(session, ref)

    def audits(self, action: str) -> list[AuditRecord]:
        """Audit records of one action."""
        with self.db.read() as session:
            return list(session.exec(select(AuditRecord).where(AuditRecord.action == action)))

    def expected(self, schedule_id: int, upto: datetime | None = None) -> list[datetime]:
        """Fire times from the schedule's first next_run up to ``upto`` (default now)."""
        return expected_fires(
            self.db, schedule_id, self.first_next_run[schedule_id], upto or self.clock.now()
        )

    def assert_complete(self, *schedule_ids: int, upto: datetime | None = None) -> None:
        """Every due occurrence has exactly one ledger row, consistent with the runs."""
        firsts = {sid: self.first_next_run[sid] for sid in schedule_ids}
        assert_ledger_complete(self.db, firsts, upto or self.clock.now())

    def assert_runs_consistent(self) -> None:
        """Scheduled runs and ``ran`` ledger rows match one to one."""
        assert_runs_consistent(self.db)


def expected_fires(
    db: Database, schedule_id: int, first: datetime, upto: datetime
) -> list[datetime]:
    """A schedule's fire times in [first, upto], from its stored timing."""
    with db.read() as session:
        timing = timing_of(load_schedule(session, schedule_id))
    found: list[datetime] = []
    after = first - timedelta(microseconds=1)
    while True:
        chunk = [f.utc for f in next_fire_times(timing, after, 200)]
        found.extend(f for f in chunk if f <= upto)
        if len(chunk) < 200 or chunk[-1] > upto:
            return found
        after = chunk[-1]


def ledger_times(db: Database) -> dict[int, list[datetime]]:
    """Every schedule's ledger occurrences, oldest first (Core rows: fast)."""
    table = Occurrence.__table__  # type: ignore[attr-defined]
    found: dict[int, list[datetime]] = {}
    with db.read() as session:
        for sid, at in session.execute(
            sa_select(table.c.schedule_id, table.c.scheduled_for).order_by(
                table.c.schedule_id, table.c.scheduled_for
            )
        ):
            found.setdefault(sid, []).append(at)
    return found


def assert_ledger_complete(db: Database, firsts: dict[int, datetime], upto: datetime) -> None:
    """For each schedule, the ledger holds each fire in [first, upto] exactly once."""
    recorded = ledger_times(db)
    for schedule_id, first in firsts.items():
        times = recorded.get(schedule_id, [])
        assert len(times) == len(set(times)), "duplicate ledger keys"
        assert times == expected_fires(db, schedule_id, first, upto), f"schedule {schedule_id}"
    assert_runs_consistent(db)


def assert_runs_consistent(db: Database) -> None:
    """Scheduled runs and ``ran`` ledger rows match one to one; no duplicate run keys."""
    runs_table = JobRun.__table__  # type: ignore[attr-defined]
    ledger_table = Occurrence.__table__  # type: ignore[attr-defined]
    with db.read() as session:
        runs = {
            rid: (sid, at)
            for rid, sid, at in session.execute(
                sa_select(
                    runs_table.c.id, runs_table.c.job_schedule_id, runs_table.c.scheduled_for
                ).where(runs_table.c.triggered_by == "schedule")
            )
        }
        ran = list(
            session.execute(
                sa_select(
                    ledger_table.c.run_id, ledger_table.c.schedule_id, ledger_table.c.scheduled_for
                ).where(ledger_table.c.outcome == "ran")
            )
        )
    assert len(set(runs.values())) == len(runs), "duplicate scheduled run keys"
    assert sorted(rid for rid, _, _ in ran) == sorted(runs)
    for rid, sid, at in ran:
        assert runs[rid] == (sid, at)


@pytest.fixture
def clock() -> ManualClock:
    """A clock at Monday 2026-03-02 08:00 UTC."""
    return ManualClock(START)


@pytest.fixture
def world(database: Database, clock: ManualClock, tmp_path: Path) -> World:
    """A World on each backend."""
    return World(database, clock, tmp_path, SchedulerConfig())


@pytest.fixture
def sqlite_world(fresh_sqlite_database: Database, clock: ManualClock, tmp_path: Path) -> World:
    """A World on SQLite only (for tests about timing rather than storage)."""
    return World(fresh_sqlite_database, clock, tmp_path, SchedulerConfig())


class FlakyDatabase(Database):
    """A Database whose reads and writes fail on demand (F18) or at random (F19)."""

    def __init__(self, url: str, *, rate: float = 0.0, seed: int = 0) -> None:
        super().__init__(url)
        import random

        self.rng = random.Random(seed)
        self.rate = rate
        self.down = False
        self.failures: Counter[str] = Counter()

    def _maybe_fail(self, point: str) -> None:
        if self.down or self.rng.random() < self.rate / 3:
            self.failures[point] += 1
            raise OperationalError(f"injected failure {point}", {}, Exception(point))

    @contextmanager
    def read(self) -> Iterator[Any]:
        try:
            self._maybe_fail("connect")
        except OperationalError as exc:
            raise BackendUnavailable(str(exc)) from exc
        with super().read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Any]:
        try:
            self._maybe_fail("connect")
        except OperationalError as exc:
            raise BackendUnavailable(str(exc)) from exc
        with super().write() as session:
            yield session
            # Raised inside the transaction: Database.write rolls back and reports it.
            self._maybe_fail("before commit")
        try:
            self._maybe_fail("after commit")
        except OperationalError as exc:
            raise BackendUnavailable(str(exc)) from exc
