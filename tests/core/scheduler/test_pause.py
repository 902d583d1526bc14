"""Pause (rule 10): template pause, backend maintenance, and resuming a disabled schedule with
a preview of what will happen before it happens."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from core.backend.inputs import SchedulePatch
from core.clock import ManualClock
from core.errors import Conflict
from core.jobs.scheduler import MAINTENANCE_KEY, SchedulerConfig, reason_kind
from core.storage.database import Database
from core.storage.tables import SystemState

from .conftest import MINUTE, START, World


async def test_a_paused_template_skips_its_occurrences_and_resumes_cleanly(world: World) -> None:
    schedule = world.every_minute()
    world.set_template("job", paused=True)
    for _ in range(3):
        await world.advance(MINUTE)
    ledger = world.ledger(schedule.id)
    assert [o.outcome for o in ledger] == ["skipped"] * 3
    assert ledger[0].reason == "paused: template 'job' is paused"
    world.set_template("job", paused=False)
    await world.advance(MINUTE)
    assert world.outcomes(schedule.id) == {"skipped": 3, "ran": 1}
    world.assert_complete(schedule.id)


async def test_maintenance_skips_everything_and_resume_skips_what_was_missed(
    world: World,
) -> None:
    a = world.every_minute("a")
    b = world.schedule("b", schedule_type="interval", interval_seconds=120)
    await world.scheduler.pause_backend("disk swap")
    for _ in range(4):
        await world.advance(MINUTE)
    assert world.outcomes(a.id) == {"skipped": 4}
    assert {o.reason for o in world.ledger(b.id)} == {"maintenance: disk swap"}
    preview = await world.scheduler.preview_resume_backend()
    assert not preview.applied
    assert preview.summary() == "resuming: occurrences skipped during maintenance stay skipped"
    plan = await world.scheduler.resume_backend()
    assert plan.applied and plan.runs == ()
    assert world.audits("backend.pause") and world.audits("backend.resume")
    with world.db.read() as session:
        assert session.get(SystemState, MAINTENANCE_KEY) is None
    await world.advance(MINUTE)
    assert world.outcomes(a.id) == {"skipped": 4, "ran": 1}
    world.assert_complete(a.id, b.id)


async def test_ending_maintenance_with_catch_up_runs_what_the_policies_keep(
    world: World,
) -> None:
    latest = world.every_minute("latest")
    everything = world.every_minute(
        "all", catchup="all", catchup_cap=3, overlap="allow", overlap_max=5
    )
    none = world.every_minute("none", catchup="none")
    await world.scheduler.pause_backend("upgrade")
    for _ in range(10):
        await world.advance(MINUTE)
    world.clock.advance(30)
    assert world.lease.renew()
    preview = await world.scheduler.preview_resume_backend(catch_up=True)
    assert sorted((name, at.minute) for name, at in preview.runs) == [
        ("all", 8), ("all", 9), ("all", 10), ("latest", 10), ("none", 10),
    ]  # fmt: skip
    assert world.runs() == []  # a preview writes nothing
    plan = await world.scheduler.resume_backend(catch_up=True)
    assert len(plan.run_ids) == 5
    latest_ledger = world.ledger(latest.id)
    assert latest_ledger[-1].outcome == "ran"
    assert latest_ledger[-1].reason == "caught up after maintenance"
    assert [o.outcome for o in latest_ledger[:-1]] == ["skipped"] * 9
    assert world.outcomes(everything.id) == {"skipped": 7, "ran": 3}
    assert world.outcomes(none.id) == {"skipped": 9, "ran": 1}
    world.assert_complete(latest.id, everything.id, none.id)


async def test_maintenance_survives_a_restart(world: World) -> None:
    schedule = world.every_minute()
    await world.scheduler.pause_backend("long job")
    world.scheduler = world.new_scheduler()
    await world.advance(MINUTE)
    assert world.outcomes(schedule.id) == {"skipped": 1}


async def test_resume_schedule_previews_then_records_missed_as_skipped(world: World) -> None:
    schedule = world.every_minute()
    await world.advance(MINUTE)
    world.schedules.set_active(schedule.id, False)  # paused_at = 08:01
    assert world.schedule_row(schedule.id).next_run is None
    for _ in range(5):
        await world.advance(MINUTE)  # nothing is recorded while disabled
    assert len(world.ledger(schedule.id)) == 1
    world.clock.advance(30)
    preview = await world.scheduler.preview_resume_schedule(schedule.id)
    assert not preview.applied
    assert preview.missed == 5  # 08:02 .. 08:06
    assert [o.outcome for o in preview.occurrences] == ["skipped"] * 5
    assert {reason_kind(o.reason) for o in preview.occurrences} == {"paused"}
    assert preview.next_run == START + timedelta(minutes=7)
    assert "5 occurrences missed while disabled; 5 skipped" in preview.summary()
    assert len(world.ledger(schedule.id)) == 1  # nothing written by the preview
    assert not world.schedule_row(schedule.id).is_active
    assert world.lease.renew()  # the owner's heartbeat
    plan = await world.scheduler.resume_schedule(schedule.id)
    assert plan.applied
    assert plan.occurrences == preview.occurrences
    row = world.schedule_row(schedule.id)
    assert (row.is_active, row.paused_at, row.next_run) == (
        True,
        None,
        START + timedelta(minutes=7),
    )
    assert world.outcomes(schedule.id) == {"ran": 1, "skipped": 5}
    assert world.audits("schedule.enable")[-1].after["catch_up"] is False  # type: ignore[index]
    await world.advance(MINUTE)
    world.finish_runs()
    world.assert_complete(schedule.id)


async def test_resume_schedule_with_catch_up_applies_the_catch_up_policy(world: World) -> None:
    schedule = world.every_minute()
    await world.tick()
    world.schedules.set_active(schedule.id, False)
    world.clock.advance(10 * MINUTE + 5)
    assert world.lease.renew()
    preview = await world.scheduler.preview_resume_schedule(schedule.id, catch_up=True)
    assert [o.outcome for o in preview.occurrences] == ["coalesced"] * 9 + ["ran"]
    plan = await world.scheduler.resume_schedule(schedule.id, catch_up=True)
    assert plan.counts() == {"coalesced": 9, "ran": 1}
    [run] = world.runs(schedule.id)
    assert run.scheduled_for == START + timedelta(minutes=10)
    world.assert_complete(schedule.id)


async def test_a_long_pause_records_only_the_newest_thousand_and_says_so(world: World) -> None:
    schedule = world.every_minute()
    await world.tick()
    world.schedules.set_active(schedule.id, False)
    world.clock.advance(3 * 86400)
    assert world.lease.renew()
    plan = await world.scheduler.resume_schedule(schedule.id)
    assert plan.missed == 3 * 1440
    assert plan.truncated
    assert len(plan.occurrences) == 1000
    assert plan.occurrences[-1].scheduled_for == world.clock.now()
    assert any("only the newest 1000" in note for note in plan.notes)
    assert len(world.ledger(schedule.id)) == 1000


async def test_a_very_long_pause_is_bounded_without_an_exact_count(world: World) -> None:
    schedule = world.every_minute()
    await world.tick()
    world.schedules.set_active(schedule.id, False)
    world.clock.advance(40 * 86400)  # 57,600 occurrences: more than the scan walks
    preview = await world.scheduler.preview_resume_schedule(schedule.id)
    assert preview.missed is None
    assert len(preview.occurrences) == 1000
    assert preview.occurrences[-1].scheduled_for == world.clock.now()
    assert "more than can be counted" in preview.summary()


async def test_resuming_an_active_schedule_changes_nothing(world: World) -> None:
    schedule = world.every_minute()
    plan = await world.scheduler.resume_schedule(schedule.id)
    assert plan.occurrences == ()
    assert plan.notes == ("the schedule is already enabled; nothing to resume",)


async def test_resume_needs_the_lease(world: World) -> None:
    schedule = world.every_minute()
    world.schedules.set_active(schedule.id, False)
    world.clock.advance(25)
    assert world.new_lease("owner-b").try_acquire()
    with pytest.raises(Conflict, match="does not own"):
        await world.scheduler.resume_schedule(schedule.id)
    assert not world.schedule_row(schedule.id).is_active


async def test_an_edit_while_no_owner_runs_keeps_the_due_occurrences(world: World) -> None:
    schedule = world.every_minute()
    await world.advance(MINUTE)  # 08:01 runs; then the owner is down for ten minutes
    world.finish_runs()
    world.clock.advance(10 * MINUTE + 5)
    world.schedules.update(schedule.id, SchedulePatch(job_identifier="renamed"))
    policies = SchedulePatch(catchup="all", catchup_cap=20, overlap="allow", overlap_max=20)
    world.schedules.update(schedule.id, policies)
    world.scheduler = world.new_scheduler()  # the owner starts again
    await world.tick()
    # 08:02 .. 08:11 are still due after the edits: catch-up "all" runs each of them.
    assert world.outcomes(schedule.id) == {"ran": 11}
    world.assert_complete(schedule.id)


async def test_enabled_with_no_owner_then_an_owner_records_what_was_missed(world: World) -> None:
    schedule = world.every_minute()
    await world.advance(MINUTE)  # 08:01 runs
    world.finish_runs()
    world.schedules.set_active(schedule.id, False)  # paused_at = 08:01
    world.clock.advance(5 * MINUTE + 30)
    enabled = world.schedules.set_active(schedule.id, True)  # 08:06:30, no owner running
    assert enabled.next_run == START + timedelta(minutes=7)
    world.clock.advance(3 * MINUTE)  # 08:09:30: 08:07 .. 08:09 fall due while nobody owns it
    assert world.lease.renew()
    world.scheduler = world.new_scheduler()
    await world.scheduler.start()
    await world.scheduler.stop()
    ledger = world.ledger(schedule.id)
    assert [(o.scheduled_for.minute, o.outcome) for o in ledger] == [
        (1, "ran"),
        *((minute, "skipped") for minute in range(2, 7)),
        (7, "coalesced"),
        (8, "coalesced"),
        (9, "ran"),
    ]
    assert {o.reason for o in ledger[1:6]} == {"paused: schedule was disabled"}
    row = world.schedule_row(schedule.id)
    assert (row.paused_at, row.next_run) == (None, START + timedelta(minutes=10))
    world.assert_complete(schedule.id)


async def test_enabled_while_the_scheduler_runs_records_what_was_missed(
    database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    # Without a wake-up (the CLI enabled it, the daemon runs elsewhere) the loop looks at least
    # once a heartbeat of its clock; wake() is the same-process shortcut.
    world = World(database, clock, tmp_path, SchedulerConfig(heartbeat_seconds=0.05))
    first = world.every_minute("first")
    second = world.every_minute("second")
    await world.scheduler.start()
    try:
        for schedule in (first, second):
            world.schedules.set_active(schedule.id, False)  # 08:00
        clock.advance(3 * MINUTE + 30)
        assert world.lease.renew()
        world.schedules.set_active(first.id, True)
        world.scheduler.wake()
        await wait_until(lambda: world.schedule_row(first.id).paused_at is None)
        # The woken look goes on for another round until it finds nothing: let it end, or
        # it may find `second` below (seen under load).
        await asyncio.sleep(0.3)
        world.schedules.set_active(second.id, True)  # no wake: the next heartbeat finds it
        await asyncio.sleep(0.2)
        assert world.schedule_row(second.id).paused_at is not None  # not yet: no time passed
        clock.advance(1)
        await wait_until(lambda: world.schedule_row(second.id).paused_at is None)
    finally:
        await world.scheduler.stop()
    for schedule in (first, second):
        assert [(o.scheduled_for.minute, o.outcome) for o in world.ledger(schedule.id)] == [
            (1, "skipped"),
            (2, "skipped"),
            (3, "skipped"),
        ]
        assert world.schedule_row(schedule.id).next_run == START + timedelta(minutes=4)
    world.assert_complete(first.id, second.id)


async def test_an_enabled_schedule_edited_before_the_owner_looks_is_recorded_once(
    world: World,
) -> None:
    schedule = world.every_minute()
    await world.tick()
    world.schedules.set_active(schedule.id, False)
    world.clock.advance(2 * MINUTE + 30)
    world.schedules.set_active(schedule.id, True)
    world.schedules.set_active(schedule.id, False)  # off again before the owner looked
    world.clock.advance(2 * MINUTE)
    world.schedules.set_active(schedule.id, True)  # 08:04:30
    assert world.schedule_row(schedule.id).paused_at == START
    await world.tick()
    await world.tick()  # a second look records nothing twice
    assert world.outcomes(schedule.id) == {"skipped": 4}
    world.assert_complete(schedule.id)


async def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll ``condition`` on the real clock (the scheduler loop runs on its own task)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)
