"""Storage faults (F17, F18, F19): ticks survive a store that is down, flaky or contended."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from core.errors import BackendUnavailable
from core.jobs.scheduler import SchedulerConfig, reason_kind
from core.storage.database import Database

from .conftest import MINUTE, FlakyDatabase, World


def flaky_world(world: World, tmp_path: Path, rate: float = 0.0, seed: int = 0) -> FlakyDatabase:
    """Point the world's scheduler (only) at a flaky view of the same database."""
    flaky = FlakyDatabase(world.db.url, rate=rate, seed=seed)
    world.lease.db = flaky
    world.scheduler.db = flaky
    world.scheduler.clock_watch.db = flaky
    return flaky


async def test_f18_a_store_outage_loses_nothing_and_applies_the_deadline_after(
    world: World, tmp_path: Path
) -> None:
    fast = world.schedule("ten", schedule_type="interval", interval_seconds=600)
    slow = world.schedule("daily", schedule_type="daily", time_of_day="08:05")
    world.lease.ttl_seconds = 3600  # so the lease outlives the first part of the outage
    await world.tick()
    flaky = flaky_world(world, tmp_path)
    flaky.down = True
    world.clock.advance(5 * MINUTE)
    report = await world.scheduler.tick()
    assert report.error is not None and "injected" in report.error
    assert report.recorded == 0
    world.clock.advance(MINUTE)
    assert (await world.scheduler.tick()).error is not None
    world.clock.advance(8 * MINUTE)  # 14 min of outage in total: it is 08:14
    flaky.down = False
    assert world.lease.renew()
    report = await world.scheduler.tick()
    assert report.error is None and not report.catch_up
    # 08:05 daily is one occurrence found 9 min late: missed by the deadline rule
    [row] = world.ledger(slow.id)
    assert (row.outcome, reason_kind(row.reason)) == ("missed", "deadline")
    # 08:10 is within the deadline (4 min late): it runs late
    [run] = world.ledger(fast.id)
    assert (run.outcome, run.lateness_seconds) == ("ran", 240.0)
    world.assert_complete(fast.id, slow.id)
    flaky.dispose()


async def test_f19_twenty_percent_failed_commits_leave_one_record_per_occurrence(
    world: World, tmp_path: Path
) -> None:
    ids = [world.every_minute(f"s{i}").id for i in range(20)]
    ids.append(world.schedule("iv", schedule_type="interval", interval_seconds=90).id)
    world.scheduler = world.new_scheduler(SchedulerConfig(batch_size=6))
    flaky = flaky_world(world, tmp_path, rate=0.2, seed=7)
    errors = 0
    for _ in range(40):
        world.clock.advance(MINUTE)
        with contextlib.suppress(BackendUnavailable):  # the heartbeat may fail too
            world.lease.renew()
        report = await world.scheduler.tick()
        errors += report.error is not None
        world.finish_runs()
    flaky.rate = 0.0
    assert world.lease.renew()
    await world.scheduler.tick()
    assert errors > 3
    assert sum(flaky.failures.values()) > 10
    assert flaky.failures["after commit"] > 0  # committed, but reported as failed
    world.assert_complete(*ids)
    flaky.dispose()


async def test_f17_concurrent_writers_never_see_database_locked(
    fresh_sqlite_database: Database, tmp_path: Path
) -> None:
    from core.clock import ManualClock
    from core.jobs.audit import Actor, record

    from .conftest import START

    world = World(
        fresh_sqlite_database, ManualClock(START), tmp_path, SchedulerConfig(batch_size=50)
    )
    ids = [world.every_minute(f"s{i}").id for i in range(60)]
    stop = threading.Event()
    failures: list[BaseException] = []

    def hammer() -> None:  # the TUI, the API and the executor writing meanwhile
        other = Database(fresh_sqlite_database.url)
        try:
            while not stop.is_set():
                world.finish_runs()
                with other.write() as session:
                    record(session, Actor("tui", "tui"), START, "poke", "system", None, None)
        except BaseException as exc:
            failures.append(exc)
        finally:
            other.dispose()

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(5):
            report = await world.advance(MINUTE)
            assert report.error is None
            await asyncio.sleep(0)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    world.assert_complete(*ids)


async def test_the_loop_backs_off_and_recovers(world: World, tmp_path: Path) -> None:
    world.every_minute()
    flaky = flaky_world(world, tmp_path)
    flaky.down = True
    sleeps: list[float] = []
    scheduler = world.scheduler

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 4:
            flaky.down = False
        if len(sleeps) == 6:
            scheduler._stopping = True
        await asyncio.sleep(0)

    scheduler._sleep = fake_sleep  # type: ignore[method-assign]
    await scheduler.start()
    task = scheduler._task
    assert task is not None
    await asyncio.wait_for(task, 5)
    assert sleeps[:3] == [1.0, 2.0, 4.0]  # exponential backoff while the store is down
    assert sleeps[4] <= 5.0  # then back to the normal wake-up
    flaky.dispose()
