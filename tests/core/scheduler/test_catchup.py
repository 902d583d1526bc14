"""Catch-up after downtime (rule 3): none / latest / all with cap and window (F6, F7)."""

from __future__ import annotations

from datetime import timedelta

from core.jobs.scheduler import reason_kind

from .conftest import MINUTE, START, World


async def restart_after(world: World, seconds: float) -> None:
    """The owner was down for ``seconds``; a new process takes over the same lease."""
    world.clock.advance(seconds)
    world.scheduler = world.new_scheduler()


async def test_f6_112_missed_minutes_with_latest_make_one_run(world: World) -> None:
    schedule = world.every_minute(catchup="latest")
    await world.tick()
    await restart_after(world, 112 * MINUTE)
    report = await world.tick()
    assert report.catch_up
    assert report.count("ran") == 1
    assert report.count("coalesced") == 111
    ledger = world.ledger(schedule.id)
    assert len(ledger) == 112
    assert ledger[-1].outcome == "ran"
    assert ledger[-1].scheduled_for == START + timedelta(minutes=112)
    assert all(reason_kind(o.reason) == "coalesced" for o in ledger[:-1])
    assert "2026-03-02T09:52:00Z" in (ledger[0].reason or "")
    assert len(world.runs(schedule.id)) == 1
    world.assert_complete(schedule.id)


async def test_f7_catch_up_all_enqueues_at_most_the_cap_and_warns(world: World) -> None:
    schedule = world.every_minute(catchup="all", catchup_cap=10, overlap="allow", overlap_max=10)
    await world.tick()
    await restart_after(world, 112 * MINUTE)
    report = await world.tick()
    assert report.count("ran") == 10
    assert report.count("missed") == 102
    runs = world.runs(schedule.id)
    assert [r.scheduled_for for r in runs] == [
        START + timedelta(minutes=m) for m in range(103, 113)
    ]
    missed = [o for o in world.ledger(schedule.id) if o.outcome == "missed"]
    assert {reason_kind(o.reason) for o in missed} == {"catch-up cap"}
    assert report.warnings == ("every: catch-up cap 10 dropped 102 occurrences (recorded missed)",)
    [audit] = world.audits("schedule.catchup_dropped")
    assert audit.target_id == schedule.id
    assert "dropped 102" in str(audit.after)
    world.assert_complete(schedule.id)


async def test_catch_up_all_with_overlap_skip_still_runs_one_at_a_time(world: World) -> None:
    schedule = world.every_minute(catchup="all", catchup_cap=5)
    await world.tick()
    await restart_after(world, 20 * MINUTE)
    await world.tick()
    assert world.outcomes(schedule.id) == {"missed": 15, "ran": 1, "skipped": 4}
    world.assert_complete(schedule.id)


async def test_catch_up_none_records_the_downtime_as_missed(world: World) -> None:
    schedule = world.every_minute(catchup="none")
    await world.tick()
    await restart_after(world, 30 * MINUTE + 20)
    await world.tick()
    ledger = world.ledger(schedule.id)
    assert [o.outcome for o in ledger] == ["missed"] * 29 + ["ran"]  # the newest is 20 s late
    assert {reason_kind(o.reason) for o in ledger[:-1]} == {"catch-up none"}
    world.assert_complete(schedule.id)


async def test_catch_up_none_after_a_long_outage_runs_nothing(world: World) -> None:
    schedule = world.schedule("daily", schedule_type="daily", time_of_day="09:00", catchup="none")
    await world.tick()
    await restart_after(world, 3 * 86400)
    await world.tick()
    ledger = world.ledger(schedule.id)
    assert [o.outcome for o in ledger] == ["missed"] * 3
    assert reason_kind(ledger[-1].reason) == "deadline"
    world.assert_complete(schedule.id)


async def test_on_start_a_lone_late_occurrence_is_caught_up(world: World) -> None:
    schedule = world.schedule("daily", schedule_type="daily", time_of_day="09:00")
    await world.tick()
    await restart_after(world, 10 * 3600)  # 09:00 was missed by 9 h; catch-up latest runs it
    report = await world.tick()
    assert report.catch_up
    [row] = world.ledger(schedule.id)
    assert (row.outcome, row.lateness_seconds) == ("ran", 9 * 3600)
    world.assert_complete(schedule.id)


async def test_the_window_bounds_what_is_caught_up(world: World) -> None:
    schedule = world.every_minute(catchup_window_seconds=3600)
    await world.tick()
    await restart_after(world, 3 * 3600)
    await world.tick()
    outcomes = world.outcomes(schedule.id)
    assert outcomes == {"missed": 119, "coalesced": 60, "ran": 1}  # 10:00 is inside
    first = world.ledger(schedule.id)[0]
    assert reason_kind(first.reason) == "outside catch-up window"
    world.assert_complete(schedule.id)


async def test_a_ten_day_backlog_is_recorded_in_bounded_chunks(world: World) -> None:
    schedule = world.every_minute()
    other = world.schedule("hourly", schedule_type="hourly", minute=0)
    await world.tick()
    await restart_after(world, 10 * 86400)
    report = await world.tick()
    assert report.batches >= 3  # 14400 occurrences at most 5000 per schedule per batch
    # The window is inclusive: 1441 occurrences lie within the last 24 h.
    assert world.outcomes(schedule.id) == {"missed": 12959, "coalesced": 1440, "ran": 1}
    assert world.outcomes(other.id)["ran"] == 1
    world.assert_complete(schedule.id, other.id)


async def test_the_catch_up_pass_ends_after_one_successful_tick(world: World) -> None:
    schedule = world.schedule("ten", schedule_type="interval", interval_seconds=600)
    assert (await world.tick()).catch_up
    world.clock.advance(600 + 400)
    report = await world.tick()
    assert not report.catch_up
    assert world.outcomes(schedule.id) == {"missed": 1}
