"""Clock jumps (rule 8, F13, F14) and jitter (rule 9)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from core.jobs.scheduler import reason_kind
from core.jobs.scheduler.clockwatch import SKEW_KEY
from core.storage.tables import JobSchedule, SystemState

from .conftest import MINUTE, START, World


async def test_f13_a_forward_step_is_downtime_and_is_audited(world: World) -> None:
    schedule = world.every_minute()
    daily = world.schedule("daily", schedule_type="daily", time_of_day="08:30")
    await world.advance(MINUTE)
    world.finish_runs()
    world.clock.step_wall(timedelta(hours=1))  # NTP steps the clock; monotonic barely moves
    world.clock.advance(5)
    report = await world.tick()
    assert report.clock_jump_seconds is not None and abs(report.clock_jump_seconds - 3600) < 1
    assert report.catch_up
    # every minute: the hour is coalesced into one late run
    assert world.outcomes(schedule.id) == {"ran": 2, "coalesced": 59}
    # 08:30 fell inside the jump; 30 min late is past the deadline, but a jump is downtime,
    # so catch-up (latest) runs it rather than marking it missed
    [row] = world.ledger(daily.id)
    assert (row.outcome, row.lateness_seconds) == ("ran", 31 * 60 + 5)
    [audit] = world.audits("clock.skew")
    assert audit.after is not None and audit.after["direction"] == "forward"
    world.assert_complete(schedule.id, daily.id)


async def test_f14_a_backward_step_never_reruns_and_warns(world: World) -> None:
    schedule = world.every_minute()
    for _ in range(5):
        await world.advance(MINUTE)
        world.finish_runs()
    world.clock.step_wall(timedelta(hours=-1))
    report = await world.tick()
    assert report.clock_jump_seconds is not None and report.clock_jump_seconds < -3599
    assert report.recorded == 0
    [audit] = world.audits("clock.skew")
    assert audit.after is not None and audit.after["direction"] == "backward"
    with world.db.read() as session:
        state = session.get(SystemState, SKEW_KEY)
        assert state is not None and state.value["direction"] == "backward"
    # An edit recomputes next_run from the stepped-back clock: occurrences already recorded
    # become "due" again, and the ledger key still stops them from running twice.
    with world.db.write() as session:
        session.execute(
            update(JobSchedule)
            .where(col(JobSchedule.id) == schedule.id)
            .values(next_run=START + timedelta(minutes=2))
        )
    world.clock.advance(3600 + 2 * MINUTE)  # wall back to 08:06 and beyond
    await world.tick()
    world.finish_runs()
    ledger = world.ledger(schedule.id)
    assert len(ledger) == len({o.scheduled_for for o in ledger})
    world.assert_complete(schedule.id)


async def test_small_drift_is_not_a_jump(world: World) -> None:
    world.every_minute()
    await world.tick()
    world.clock.step_wall(timedelta(milliseconds=800))
    world.clock.advance(MINUTE)
    report = await world.tick()
    assert report.clock_jump_seconds is None
    assert world.audits("clock.skew") == []


async def test_a_clock_set_back_across_a_restart_is_noticed(world: World) -> None:
    schedule = world.every_minute()
    for _ in range(3):
        await world.advance(MINUTE)
        world.finish_runs()
    world.lease.release()  # a clean shutdown
    world.clock.step_wall(timedelta(hours=-2))  # the host comes back with its clock behind
    world.scheduler = world.new_scheduler()
    assert world.lease.try_acquire()
    report = await world.scheduler.tick()
    assert report.clock_jump_seconds is not None and report.clock_jump_seconds < -7000
    assert report.recorded == 0
    assert world.audits("clock.skew")[0].after["direction"] == "backward"  # type: ignore[index]
    world.assert_complete(schedule.id, upto=START + timedelta(minutes=3))


def test_the_loop_wakes_at_least_every_heartbeat_and_max_sleep(world: World) -> None:
    from core.jobs.scheduler import SchedulerConfig, TickReport

    far = START + timedelta(days=1)
    report = TickReport(at=START, owner=True, next_due=far)
    assert world.scheduler._wait_after(report) == 5.0
    sleepy = world.new_scheduler(SchedulerConfig(heartbeat_seconds=600, max_sleep_seconds=60))
    assert sleepy._wait_after(report) == 60.0
    soon = TickReport(at=START, owner=True, next_due=START + timedelta(seconds=1.5))
    assert world.scheduler._wait_after(soon) == 1.5
    late = TickReport(at=START, owner=True, next_due=START - timedelta(seconds=1))
    assert world.scheduler._wait_after(late) == 0.0


async def test_rule9_hash_jitter_delays_the_start_but_keeps_the_key(world: World) -> None:
    a = world.every_minute("a", jitter="hash", jitter_seconds=30)
    b = world.every_minute("b", jitter="hash", jitter_seconds=30, overlap="allow", overlap_max=9)
    for _ in range(3):
        await world.advance(MINUTE)
        world.finish_runs()
    runs = world.runs(a.id)
    offsets = {(r.not_before - r.scheduled_for).total_seconds() for r in runs if r.not_before}
    assert len(runs) == 3 and len(offsets) == 1  # stable per schedule
    [offset] = offsets
    assert 0 <= offset < 30
    assert [r.scheduled_for for r in runs] == [START + timedelta(minutes=m) for m in (1, 2, 3)]
    other = {
        (r.not_before - r.scheduled_for).total_seconds() for r in world.runs(b.id) if r.not_before
    }
    assert other != offsets
    world.assert_complete(a.id, b.id)


async def test_rule9_random_jitter_stays_within_bounds(world: World) -> None:
    schedule = world.every_minute(jitter="random", jitter_seconds=20)
    for _ in range(5):
        await world.advance(MINUTE)
        world.finish_runs()
    for run in world.runs(schedule.id):
        assert run.not_before is not None and run.scheduled_for is not None
        assert 0 <= (run.not_before - run.scheduled_for).total_seconds() <= 20
    assert {reason_kind(o.reason) for o in world.ledger(schedule.id)} == {None}


async def test_no_jitter_leaves_not_before_empty(world: World) -> None:
    schedule = world.every_minute()
    await world.advance(MINUTE)
    [run] = world.runs(schedule.id)
    assert run.not_before is None
