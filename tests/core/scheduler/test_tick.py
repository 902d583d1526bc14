"""Ticks: one ledger record per occurrence (rule 1), start deadline (rule 2, F5), manual and
backfill runs that consume nothing (rule 13), broken schedules, and the lease re-check (F3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from core.errors import Conflict, ValidationFailed
from core.jobs.execution.records import new_run
from core.jobs.scheduler import SchedulerConfig, reason_kind
from core.storage.tables import JobSchedule, JobTemplate

from .conftest import MINUTE, START, World


async def test_a_due_occurrence_becomes_one_ledger_row_and_one_pending_run(world: World) -> None:
    schedule = world.every_minute()
    assert (await world.tick()).recorded == 0  # nothing due yet
    report = await world.advance(MINUTE)
    assert report.count("ran") == 1
    [run] = world.runs(schedule.id)
    assert (run.status, run.triggered_by) == ("pending", "schedule")
    assert run.scheduled_for == START + timedelta(minutes=1)
    assert run.job_name == "every"
    assert report.run_ids == (run.id,)
    [row] = world.ledger(schedule.id)
    assert (row.outcome, row.run_id, row.lateness_seconds) == ("ran", run.id, 0.0)
    stored = world.schedule_row(schedule.id)
    assert stored.next_run == START + timedelta(minutes=2)
    assert stored.last_run == START + timedelta(minutes=1)
    assert report.next_due == START + timedelta(minutes=2)
    assert world.created_calls == 1
    world.assert_complete(schedule.id)


async def test_ticking_again_at_the_same_instant_records_nothing_twice(world: World) -> None:
    schedule = world.every_minute()
    await world.advance(MINUTE)
    again = await world.tick()
    assert again.recorded == 0
    assert len(world.runs(schedule.id)) == 1
    world.assert_complete(schedule.id)


async def test_many_schedules_over_many_minutes_stay_complete(world: World) -> None:
    ids = [world.every_minute(f"s{i}").id for i in range(30)]
    ids.append(world.schedule("iv", schedule_type="interval", interval_seconds=45).id)
    world.scheduler = world.new_scheduler(SchedulerConfig(batch_size=7))
    for _ in range(10):
        await world.advance(MINUTE)
        world.finish_runs()
    world.assert_complete(*ids)
    # The 45 s interval sometimes has two due per minute: the older one is coalesced.
    assert world.outcomes(ids[-1]) == {"ran": 10, "coalesced": 3}
    assert len(world.runs()) == 30 * 10 + 10


async def test_f5_a_short_outage_runs_the_occurrence_late_once(world: World) -> None:
    schedule = world.schedule("ten", schedule_type="interval", interval_seconds=600)
    await world.tick()  # the start-up pass
    world.clock.advance(600 + 240)  # due at +10 min, found 4 min late
    report = await world.tick()
    assert report.count("ran") == 1
    [row] = world.ledger(schedule.id)
    assert row.lateness_seconds == 240.0
    world.assert_complete(schedule.id)


async def test_rule2_found_past_the_deadline_is_missed_not_dropped(world: World) -> None:
    schedule = world.schedule("ten", schedule_type="interval", interval_seconds=600)
    await world.tick()
    world.clock.advance(600 + 360)
    report = await world.tick()
    assert report.count("missed") == 1
    [row] = world.ledger(schedule.id)
    assert row.outcome == "missed"
    assert reason_kind(row.reason) == "deadline"
    assert "6 min late" in (row.reason or "")
    assert row.lateness_seconds == 360.0
    assert world.runs(schedule.id) == []
    world.assert_complete(schedule.id)


async def test_a_per_schedule_deadline(world: World) -> None:
    schedule = world.schedule(
        "ten", schedule_type="interval", interval_seconds=600, start_deadline_seconds=30
    )
    await world.tick()
    world.clock.advance(600 + 31)
    await world.tick()
    assert world.outcomes(schedule.id) == {"missed": 1}


async def test_a_once_schedule_fires_once_and_then_has_no_next_run(world: World) -> None:
    at = START + timedelta(minutes=5)
    schedule = world.schedule("once", schedule_type="once", run_at=at)
    await world.advance(5 * MINUTE)
    await world.advance(60 * MINUTE)
    assert world.outcomes(schedule.id) == {"ran": 1}
    assert world.schedule_row(schedule.id).next_run is None
    world.assert_complete(schedule.id)


async def test_parameters_are_resolved_into_the_run(world: World) -> None:
    from core.jobs.parameters import ParameterSpec

    world.template("param", parameters=(ParameterSpec(name="target", default="db1"),))
    schedule = world.schedule(
        "p", template="param", schedule_type="interval", interval_seconds=60,
        job_parameters={"target": "db2"},
    )  # fmt: skip
    await world.advance(MINUTE)
    [run] = world.runs(schedule.id)
    assert run.parameters == {"target": "db2"}
    assert run.template_snapshot is not None and run.template_snapshot["job_type"] == "shell"


async def test_a_broken_template_records_missed_with_the_reason(world: World) -> None:
    schedule = world.every_minute()
    world.set_template("job", job_type="vanished")
    await world.advance(MINUTE)
    [row] = world.ledger(schedule.id)
    assert row.outcome == "missed"
    assert reason_kind(row.reason) == "broken"
    assert "vanished" in (row.reason or "")
    world.assert_complete(schedule.id)


async def test_an_invalid_stored_timing_is_recorded_and_stops(world: World) -> None:
    schedule = world.every_minute()
    with world.db.write() as session:
        session.execute(
            update(JobSchedule)
            .where(col(JobSchedule.id) == schedule.id)
            .values(cron_expression="61 * * * *")
        )
    await world.advance(MINUTE)
    [row] = world.ledger(schedule.id)
    assert (row.outcome, reason_kind(row.reason)) == ("missed", "broken")
    assert world.schedule_row(schedule.id).next_run is None
    assert (await world.advance(MINUTE)).recorded == 0


async def test_rule13_manual_runs_consume_no_occurrence(world: World) -> None:
    schedule = world.every_minute()
    with world.db.write() as session:
        template = session.get(JobTemplate, 1)
        assert template is not None
        run = new_run(
            template=template,
            schedule=None,
            triggered_by="manual",
            scheduled_for=START + timedelta(minutes=1),
            now=START,
            parameters={},
            executed_by="tester",
        )
        session.add(run)
    await world.advance(MINUTE)
    assert world.outcomes(schedule.id) == {"ran": 1}
    assert len(world.runs(schedule.id, triggered_by="schedule")) == 1
    world.assert_complete(schedule.id)


async def test_rule13_backfill_creates_runs_and_consumes_nothing(world: World) -> None:
    schedule = world.schedule("ten", schedule_type="cron", cron_expression="*/10 * * * *")
    await world.advance(30 * MINUTE)  # 3 due: 1 ran, 2 coalesced
    before = world.schedule_row(schedule.id)
    ids = await world.scheduler.backfill(
        schedule.id, START - timedelta(hours=1), START + timedelta(minutes=20)
    )
    assert len(ids) == 9  # 07:00 .. 08:20 every 10 minutes
    backfilled = world.runs(schedule.id, triggered_by="backfill")
    assert [r.id for r in backfilled] == ids
    assert backfilled[0].scheduled_for == START - timedelta(hours=1)
    after = world.schedule_row(schedule.id)
    assert (after.next_run, after.last_run) == (before.next_run, before.last_run)
    assert len(world.ledger(schedule.id)) == 3
    assert world.audits("schedule.backfill")[0].after == {
        "start": "2026-03-02T07:00:00+00:00",
        "end": "2026-03-02T08:20:00+00:00",
        "runs": 9,
    }
    await world.advance(10 * MINUTE)  # the next occurrence is recorded as usual
    world.assert_complete(schedule.id)


async def test_backfill_refuses_bad_ranges_and_paused_templates(world: World) -> None:
    schedule = world.every_minute()
    now = world.clock.now()
    with pytest.raises(ValidationFailed, match="end"):
        await world.scheduler.backfill(schedule.id, now, now + timedelta(minutes=5))
    with pytest.raises(ValidationFailed, match="before it starts"):
        await world.scheduler.backfill(schedule.id, now, now - timedelta(minutes=5))
    with pytest.raises(ValidationFailed, match="more than 1000"):
        await world.scheduler.backfill(schedule.id, now - timedelta(days=2), now)
    with pytest.raises(ValidationFailed, match="timezone"):
        await world.scheduler.backfill(schedule.id, datetime(2026, 3, 1), now)
    world.set_template("job", paused=True)
    with pytest.raises(Conflict, match="paused"):
        await world.scheduler.backfill(schedule.id, now - timedelta(minutes=5), now)


async def test_f3_a_tick_without_the_lease_fires_nothing(world: World) -> None:
    schedule = world.every_minute()
    world.clock.advance(25)  # past the TTL: the lease lapsed, nobody renewed it
    other = world.new_lease("owner-b")
    assert other.try_acquire()
    world.clock.advance(MINUTE)
    report = await world.tick(renew=False)
    assert not report.owner
    assert world.ledger(schedule.id) == []
    assert not world.lease.renew()


async def test_f3_the_batch_rechecks_the_lease_and_rolls_back(world: World) -> None:
    schedule = world.every_minute()
    world.clock.advance(MINUTE)
    assert world.lease.renew()

    def steal(point: str) -> None:
        if point == "planned":  # between the decision and the transaction
            world.clock.step_wall(timedelta(seconds=30))
            assert world.new_lease("owner-b").try_acquire()

    world.scheduler.fault_hook = steal
    report = await world.scheduler.tick()
    assert report.lease_lost
    assert not report.owner
    assert world.ledger(schedule.id) == []
    assert world.runs() == []
    assert world.schedule_row(schedule.id).next_run == START + timedelta(minutes=1)
    assert not world.lease.holds()


async def test_ticks_in_a_window_respect_start_and_end(world: World) -> None:
    start = START + timedelta(minutes=3)
    end = START + timedelta(minutes=6)
    schedule = world.schedule(
        "win", schedule_type="cron", cron_expression="* * * * *", start_at=start, end_at=end
    )
    for _ in range(10):
        await world.advance(MINUTE)
    assert [o.scheduled_for for o in world.ledger(schedule.id)] == [
        START + timedelta(minutes=m) for m in (3, 4, 5, 6)
    ]
    assert world.schedule_row(schedule.id).next_run is None


def test_start_is_in_utc() -> None:
    assert START.tzinfo is UTC


async def test_an_existing_scheduled_run_is_reused_not_duplicated(world: World) -> None:
    # Its ledger row went with old history, say: the key still has its one scheduled run.
    schedule = world.every_minute(overlap="allow", overlap_max=5)
    other = world.every_minute("other")
    due = START + timedelta(minutes=1)
    with world.db.write() as session:
        template = session.get(JobTemplate, 1)
        assert template is not None
        row = JobSchedule.model_validate(world.schedule_row(schedule.id).model_dump())
        existing = new_run(
            template=template,
            schedule=row,
            triggered_by="schedule",
            scheduled_for=due,
            now=START,
            parameters={},
            executed_by=None,
        )
        existing.status = "completed"
        session.add(existing)
        session.flush()
        existing_id = existing.id
    report = await world.advance(MINUTE)
    assert report.count("ran") == 2
    [row_a] = world.ledger(schedule.id)
    assert row_a.run_id == existing_id
    assert len(world.runs(schedule.id)) == 1
    [row_b] = world.ledger(other.id)
    assert row_b.run_id is not None and row_b.run_id != existing_id
    assert set(report.run_ids) == {row_b.run_id}
    world.assert_complete(schedule.id, other.id)
