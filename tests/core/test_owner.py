"""The owner: start-up order (gc.freeze before the scheduler) and prompt in-process wake-ups."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from core.backend.inputs import ScheduleSpec, TemplateSpec
from core.clock import ManualClock
from core.jobs.audit import Actor
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.owner import Owner
from core.settings.config import SchedulerSettings, Settings
from core.storage.database import Database
from core.storage.tables import Occurrence

START = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)


def make_owner(db: Database, tmp_path: Path, clock: ManualClock) -> Owner:
    """An owner whose scheduler, left alone, would not look again for 30 s."""
    settings = Settings(
        home=tmp_path,
        timezone="UTC",
        scheduler=SchedulerSettings(heartbeat_seconds=30, max_sleep_seconds=30),
    )
    return Owner(settings, db, clock=clock)


async def test_start_freezes_the_startup_objects_before_the_scheduler_starts(
    fresh_sqlite_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = make_owner(fresh_sqlite_database, tmp_path, ManualClock(START))
    steps: list[str] = []
    # Spies rather than the real calls: freezing would keep this test process's objects alive.
    monkeypatch.setattr(gc, "collect", lambda *args: steps.append("gc.collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: steps.append("gc.freeze"))
    start = owner.scheduler.start

    async def scheduler_start() -> None:
        steps.append("scheduler.start")
        await start()

    monkeypatch.setattr(owner.scheduler, "start", scheduler_start)
    assert await owner.try_start()
    try:
        assert steps == ["gc.collect", "gc.freeze", "scheduler.start"]
    finally:
        await owner.stop(grace=1.0, reason="test over")


async def test_schedules_changed_wakes_the_scheduler_at_once(
    fresh_sqlite_database: Database, tmp_path: Path
) -> None:
    db, clock, actor = fresh_sqlite_database, ManualClock(START), Actor("t", "cli")
    owner = make_owner(db, tmp_path, clock)
    owner.schedules_changed()  # not running yet: nothing to wake, and no error
    TemplateService(db, clock, actor).create(
        TemplateSpec(name="job", job_type="shell", config={"command": "true"})
    )
    assert await owner.try_start()
    try:
        # Created while the owner sleeps (its next look is 30 s away): due at once.
        ScheduleService(db, clock, actor, "UTC").create(
            ScheduleSpec(
                job_identifier="soon",
                template="job",
                schedule_type="once",
                run_at=START + timedelta(seconds=10),
            )
        )
        clock.advance(10)
        owner.schedules_changed()
        deadline = asyncio.get_running_loop().time() + 5
        while not _ledger(db):
            assert asyncio.get_running_loop().time() < deadline, "the scheduler did not look"
            await asyncio.sleep(0.02)
        assert _ledger(db) == [(START + timedelta(seconds=10), "ran")]
    finally:
        await owner.stop(grace=1.0, reason="test over")


def _ledger(db: Database) -> list[tuple[datetime, str]]:
    with db.read() as session:
        return [(o.scheduled_for, o.outcome) for o in session.exec(select(Occurrence))]


async def test_the_owner_reports_its_ticks_and_a_database_it_cannot_write(
    fresh_sqlite_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the status line shows: the in-process owner's last tick at once, other processes
    learn it from the lease row its renewals write, and a failing renewal is reported."""
    import os

    from sqlalchemy.exc import OperationalError

    from core.backend.local import LocalBackend
    from core.jobs.scheduler.lease import Lease

    db, clock = fresh_sqlite_database, ManualClock(START)
    scheduler = SchedulerSettings(heartbeat_seconds=0.05, lease_ttl_seconds=20)
    owner = Owner(Settings(home=tmp_path, timezone="UTC", scheduler=scheduler), db, clock=clock)
    backend = LocalBackend(
        db, actor=Actor("t", "tui"), default_zone="UTC", clock=clock, scheduler=scheduler
    )
    assert (await backend.owner_health()).owner is None
    assert await owner.try_start()
    try:
        backend.attach_owner(owner)
        health = await backend.owner_health()
        assert health.owner is not None and health.owner.pid == os.getpid()
        assert health.owner.ticked_at == START  # the start's first tick, said by the owner
        assert health.verdict().state == "live" and health.heartbeat_seconds == 0.05

        async def row_ticked() -> bool:
            info = await asyncio.to_thread(Lease.current, db, clock)
            return info is not None and info.ticked_at == START

        deadline = asyncio.get_running_loop().time() + 30
        while not await row_ticked():
            assert asyncio.get_running_loop().time() < deadline, "no renewal wrote the tick"
            await asyncio.sleep(0.02)

        def refused() -> bool:
            raise OperationalError("UPDATE owner_lease", {}, Exception("readonly database"))

        monkeypatch.setattr(owner.lease, "renew", refused)
        while (problem := (await backend.owner_health()).problem) is None:
            assert asyncio.get_running_loop().time() < deadline, "the failure went unsaid"
            await asyncio.sleep(0.02)
        assert problem == "database unwritable: readonly database"
        assert (await backend.owner_health()).verdict().state == "troubled"
    finally:
        backend.attach_owner(None)
        await owner.stop(grace=1.0, reason="test over")
