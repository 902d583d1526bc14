"""F4: crash the scheduling process at random points while 100 every-minute schedules fire.

Each iteration forks a child that takes the lease and ticks on its own ManualClock (which starts
after the previous owner's lease expired), and dies at a random point: ``os._exit`` from the
fault hook (between deciding and the transaction, inside it after the lease check, after the
runs or ledger rows were inserted, after the commit) or SIGKILL from the parent at a random
moment. After all iterations a last owner catches up, and then every due occurrence of every
schedule has exactly one ledger row, each ``ran`` row its one run, and no run key repeats.
Set JOBDECK_CRASH_ITERATIONS=200 for the full RELIABILITY.md count (by default 20 on SQLite
and 10 on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from core.clock import ManualClock
from core.jobs.scheduler import Lease, Scheduler, SchedulerConfig
from core.storage.database import Database

from .conftest import START, World, assert_ledger_complete

pytestmark = pytest.mark.slow

#: Iterations per backend: 20 on SQLite and 10 on PostgreSQL unless the variable says otherwise.
ITERATIONS = os.environ.get("JOBDECK_CRASH_ITERATIONS")
SCHEDULES = 100
CRASHED = 17
FINISH_RUNS = "UPDATE job_runs SET status = 'completed' WHERE status = 'pending'"
POINTS = (
    "planned",
    "lease_checked",
    "runs_inserted",
    "ledger_inserted",
    "schedules_updated",
    "committed",
)


def _child(url: str, seed: int, start: datetime, crash_at_call: int | None) -> None:
    """One owner's life: take the lease, tick on a ManualClock, die at a random point."""
    rng = random.Random(seed)
    db = Database(url)
    clock = ManualClock(start)
    lease = Lease(
        db, clock=clock, owner_id=f"crash-{seed}", host="t", pid=os.getpid(), ttl_seconds=30
    )
    if not lease.try_acquire():
        os._exit(2)
    config = SchedulerConfig(batch_size=rng.choice([7, 40, 1000]))
    scheduler = Scheduler(db, clock=clock, lease=lease, config=config, secrets=None)
    calls = 0

    def hook(point: str) -> None:
        nonlocal calls
        if point in POINTS:
            calls += 1
            if crash_at_call is not None and calls >= crash_at_call:
                os._exit(CRASHED)  # no clean-up at all, like a power cut

    scheduler.fault_hook = hook

    async def life() -> None:
        for _ in range(30):
            clock.advance(rng.choice([20, 59, 60, 61, 90, 240]))
            lease.renew()
            await scheduler.tick()
            if rng.random() < 0.3:  # an executor finishing some runs
                with db.write() as session:
                    session.execute(text(FINISH_RUNS))

    asyncio.run(life())
    os._exit(0)


def _next_start(db: Database) -> datetime:
    """A start time after the last owner's lease expired (so a new one can take it)."""
    info = Lease.current(db, ManualClock(START))
    return START if info is None else info.expires_at + timedelta(seconds=1)


def test_f4_crashes_at_random_points_never_duplicate_or_lose_an_occurrence(
    database: Database, tmp_path: Path
) -> None:
    world = World(database, ManualClock(START), tmp_path, SchedulerConfig())
    ids = [
        world.every_minute(f"s{i}", overlap="allow", overlap_max=100).id for i in range(SCHEDULES)
    ]
    world.lease.release()
    db = database
    context = multiprocessing.get_context("fork")
    rng = random.Random(4)
    outcomes: dict[str, int] = {}
    iterations = int(ITERATIONS or (20 if db.is_sqlite else 10))
    for iteration in range(iterations):
        start = _next_start(db)
        kill_after = rng.random() < 0.3
        crash_at = None if kill_after else rng.randint(1, 40)
        child = context.Process(target=_child, args=(db.url, 1000 + iteration, start, crash_at))
        child.start()
        if kill_after:
            time.sleep(rng.uniform(0.2, 1.5))  # includes the fork's start-up
            if child.is_alive():
                os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(60)
        assert child.exitcode is not None, "a child hung"
        kind = {0: "finished", CRASHED: "crashed", -signal.SIGKILL: "killed"}.get(child.exitcode)
        assert kind is not None, f"unexpected exit code {child.exitcode}"
        outcomes[kind] = outcomes.get(kind, 0) + 1
        # After every crash, what is in the store is consistent (all of a batch or none of it).
        world.assert_runs_consistent()

    with db.read() as session:
        recorded_by_children = session.execute(text("SELECT count(*) FROM occurrences")).scalar()
    # A last owner catches up; then every due occurrence is recorded exactly once.
    clock = ManualClock(_next_start(db))
    lease = Lease(db, clock=clock, owner_id="recovery", host="t", pid=0, ttl_seconds=30)
    assert lease.try_acquire()
    scheduler = Scheduler(db, clock=clock, lease=lease, config=SchedulerConfig(), secrets=None)
    report = asyncio.run(scheduler.tick())
    assert report.error is None
    assert_ledger_complete(db, {sid: world.first_next_run[sid] for sid in ids}, clock.now())
    print(f"F4 outcomes: {outcomes}, simulated {clock.now() - START}")
    assert outcomes.get("crashed", 0) + outcomes.get("killed", 0) >= iterations // 2
    # The children got somewhere before the recovery (how far depends on the machine's load:
    # killed children are killed after a wall-clock delay, so only "some" is a fair bar).
    assert recorded_by_children and recorded_by_children > 0
    assert clock.now() > START
    assert START.tzinfo is UTC
