"""The wake-up loop on the real clock: start runs the catch-up pass, fires on time, stops."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from core.backend.inputs import ScheduleSpec, TemplateSpec
from core.clock import SystemClock
from core.jobs.audit import Actor
from core.jobs.scheduler import Lease, Scheduler, SchedulerConfig
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.storage.database import Database
from core.storage.tables import Occurrence

from .conftest import assert_ledger_complete


async def test_start_fires_on_the_real_clock_and_stop_is_clean(
    fresh_sqlite_database: Database, tmp_path: Path
) -> None:
    db, clock, actor = fresh_sqlite_database, SystemClock(), Actor("t", "cli")
    TemplateService(db, clock, actor).create(
        TemplateSpec(name="job", job_type="shell", config={"command": "true"})
    )
    service = ScheduleService(db, clock, actor, "UTC")
    view = service.create(
        ScheduleSpec(
            job_identifier="fast", template="job", schedule_type="interval", interval_seconds=1,
            overlap="allow", overlap_max=100,
        )
    )  # fmt: skip
    assert view.next_run is not None
    lease = Lease(db, clock=clock, owner_id="loop", host="t", pid=1, ttl_seconds=5)
    assert lease.try_acquire()
    created: list[float] = []
    scheduler = Scheduler(
        db,
        clock=clock,
        lease=lease,
        config=SchedulerConfig(heartbeat_seconds=0.5, max_sleep_seconds=0.5),
        secrets=None,
        on_runs_created=lambda: created.append(time.monotonic()),
    )
    await scheduler.start()
    assert scheduler.running
    await asyncio.sleep(3.2)
    lease.renew()
    await scheduler.stop()
    assert not scheduler.running
    stopped = clock.now()
    assert len(created) >= 3
    report = scheduler.last_report
    assert report is not None and report.error is None
    # Everything due before the last tick is recorded, each once, and promptly.
    assert_ledger_complete(db, {view.id: view.next_run}, report.at)
    with db.read() as session:
        rows = list(session.exec(select(Occurrence)))
    assert all((o.recorded_at - o.scheduled_for) < timedelta(seconds=0.5) for o in rows)
    assert all(o.scheduled_for <= stopped for o in rows)


async def test_wake_makes_the_loop_look_now(fresh_sqlite_database: Database) -> None:
    clock = SystemClock()
    lease = Lease(fresh_sqlite_database, clock=clock, owner_id="w", host="t", pid=1, ttl_seconds=5)
    assert lease.try_acquire()
    scheduler = Scheduler(
        fresh_sqlite_database,
        clock=clock,
        lease=lease,
        config=SchedulerConfig(heartbeat_seconds=30, max_sleep_seconds=30),
        secrets=None,
    )
    await scheduler.start()
    first = scheduler.last_report
    await asyncio.sleep(0.05)
    scheduler.wake()
    await asyncio.sleep(0.3)
    assert scheduler.last_report is not first  # ticked again long before 30 s
    await scheduler.stop()
