"""Overlap (rule 4, F8): a job that outlives its interval, under skip, queue, replace, allow."""

from __future__ import annotations

from datetime import timedelta

from core.jobs.scheduler import reason_kind

from .conftest import MINUTE, START, World


async def first_run_running(world: World, **policies: object) -> int:
    """An every-minute schedule whose first run is still running a minute later."""
    schedule = world.every_minute(**policies)
    await world.advance(MINUTE)
    [run] = world.runs(schedule.id)
    assert run.id is not None
    world.set_run_status(
        run.id, "running", started_at=world.clock.now(), heartbeat_at=world.clock.now()
    )
    return schedule.id


async def keep_alive(world: World, minutes: int) -> None:
    """Minutes pass; running runs keep heart-beating as a live executor's would."""
    from sqlalchemy import update
    from sqlmodel import col

    from core.storage.tables import JobRun

    for _ in range(minutes):
        world.clock.advance(MINUTE)
        with world.db.write() as session:
            session.execute(
                update(JobRun)
                .where(col(JobRun.status) == "running")
                .values(heartbeat_at=world.clock.now())
            )
        await world.tick()


async def test_skip_records_every_skipped_occurrence(world: World) -> None:
    sid = await first_run_running(world)
    await keep_alive(world, 3)
    ledger = world.ledger(sid)
    assert [o.outcome for o in ledger] == ["ran", "skipped", "skipped", "skipped"]
    assert all(reason_kind(o.reason) == "overlap" for o in ledger[1:])
    assert len(world.runs(sid)) == 1
    world.assert_complete(sid)


async def test_queue_keeps_at_most_n_waiting(world: World) -> None:
    sid = await first_run_running(world, overlap="queue", overlap_max=2)
    await keep_alive(world, 4)
    assert [o.outcome for o in world.ledger(sid)] == ["ran", "ran", "ran", "skipped", "skipped"]
    assert [r.status for r in world.runs(sid)] == ["running", "pending", "pending"]
    world.assert_complete(sid)


async def test_replace_cancels_the_running_one_and_starts_the_new_one(world: World) -> None:
    sid = await first_run_running(world, overlap="replace")
    await keep_alive(world, 1)
    old, new = world.runs(sid)
    assert old.cancel_requested
    assert old.cancel_reason == "replaced by occurrence 2026-03-02T08:02:00Z"
    assert (new.status, new.cancel_requested) == ("pending", False)
    assert new.scheduled_for == START + timedelta(minutes=2)
    assert world.outcomes(sid) == {"ran": 2}
    world.assert_complete(sid)


async def test_allow_runs_up_to_n_at_once(world: World) -> None:
    sid = await first_run_running(world, overlap="allow", overlap_max=2)
    await keep_alive(world, 3)
    assert [o.outcome for o in world.ledger(sid)] == ["ran", "ran", "skipped", "skipped"]
    world.assert_complete(sid)


async def test_a_lost_run_never_blocks(world: World) -> None:
    sid = await first_run_running(world)
    runs = world.runs(sid)
    assert runs[0].id is not None
    world.set_run_status(runs[0].id, "lost")
    await world.advance(MINUTE)
    assert world.outcomes(sid) == {"ran": 2}
    world.assert_complete(sid)


async def test_a_silent_running_run_is_presumed_lost_after_the_stale_limit(world: World) -> None:
    sid = await first_run_running(world)
    await world.advance(MINUTE)  # heartbeat 1 min old: still blocks
    world.clock.advance(61)
    await world.tick()  # heartbeat 2 min old (> 60 s): no longer blocks
    assert [o.outcome for o in world.ledger(sid)] == ["ran", "skipped", "ran"]
    world.assert_complete(sid)


async def test_finished_runs_do_not_block(world: World) -> None:
    schedule = world.every_minute()
    for _ in range(3):
        await world.advance(MINUTE)
        world.finish_runs("failed")
    assert world.outcomes(schedule.id) == {"ran": 3}
    world.assert_complete(schedule.id)


async def test_backfill_runs_count_as_active_for_the_schedule(world: World) -> None:
    schedule = world.every_minute()
    await world.scheduler.backfill(
        schedule.id, START - timedelta(minutes=3), START - timedelta(minutes=1)
    )
    await world.advance(MINUTE)
    [row] = world.ledger(schedule.id)
    assert (row.outcome, reason_kind(row.reason)) == ("skipped", "overlap")
