"""History retention (rule 14): keep N successes, M failures and a max age per template; always
the last success and the last failure; never an active run."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from core.backend.inputs import TemplatePatch
from core.jobs.scheduler.retention import policy_of
from core.storage.tables import JobRun, JobTemplate, Occurrence

from .conftest import START, World


def seed(world: World, template: str, statuses: list[str], days_old: list[float]) -> list[int]:
    """Runs of ``template`` with the given statuses, queued ``days_old`` days before now."""
    with world.db.write() as session:
        template_id = session.exec(select(JobTemplate.id).where(JobTemplate.name == template)).one()
        runs = [
            JobRun(
                job_template_id=template_id,
                job_name=template,
                job_type="shell",
                status=status,
                triggered_by="manual",
                queued_at=world.clock.now() - timedelta(days=age),
            )
            for status, age in zip(statuses, days_old, strict=True)
        ]
        session.add_all(runs)
        session.flush()
        return [r.id for r in runs if r.id is not None]


def remaining(world: World) -> set[int]:
    return {r.id for r in world.runs() if r.id is not None}


async def test_keep_counts_per_status_bucket(world: World) -> None:
    world.template("kept")
    world.set_template(
        "kept", retention={"keep_success": 2, "keep_failure": 1, "max_age_days": 365}
    )
    ok = seed(world, "kept", ["completed"] * 5, [5, 4, 3, 2, 1])
    bad = seed(world, "kept", ["failed", "timed_out", "lost"], [3, 2, 1])
    report = await world.scheduler.retention_pass()
    assert remaining(world) == {ok[3], ok[4], bad[2]}
    assert report.runs_deleted == 5
    assert report.per_template == {"kept": 5}
    assert world.audits("retention.pass")[0].after["runs"] == 5  # type: ignore[index]


async def test_max_age_keeps_the_last_success_and_failure(world: World) -> None:
    world.template("aged")
    world.set_template("aged", retention={"max_age_days": 7})
    old_ok = seed(world, "aged", ["completed", "completed"], [30, 20])
    old_bad = seed(world, "aged", ["failed", "cancelled"], [40, 35])
    fresh = seed(world, "aged", ["completed"], [1])
    await world.scheduler.retention_pass()
    # the newest success is fresh; the newest failure is 35 days old but is still the last one
    assert remaining(world) == {fresh[0], old_bad[1]}
    assert old_ok[0] not in remaining(world)


async def test_active_runs_are_never_deleted(world: World) -> None:
    world.template("busy")
    world.set_template("busy", retention={"keep_success": 0, "keep_failure": 0, "max_age_days": 0})
    active = seed(world, "busy", ["pending", "running"], [100, 100])
    done = seed(world, "busy", ["completed", "completed", "failed"], [100, 99, 98])
    await world.scheduler.retention_pass()
    assert remaining(world) == {*active, done[1], done[2]}


async def test_defaults_apply_without_a_retention_setting(world: World) -> None:
    ids = seed(world, "job", ["completed"] * 105, [0.01 * i for i in range(105)])
    old = seed(world, "job", ["completed"], [45])
    await world.scheduler.retention_pass()
    assert remaining(world) == set(ids[:100])
    assert old[0] not in remaining(world)


async def test_old_ledger_rows_go_but_recent_ones_stay(world: World) -> None:
    schedule = world.every_minute()
    with world.db.write() as session:
        for days in (40, 31, 2):
            session.add(
                Occurrence(
                    schedule_id=schedule.id,
                    scheduled_for=START - timedelta(days=days),
                    outcome="missed",
                    reason="deadline: test",
                    recorded_at=START,
                )
            )
    report = await world.scheduler.retention_pass()
    assert report.ledger_deleted == 2
    assert [o.scheduled_for for o in world.ledger(schedule.id)] == [START - timedelta(days=2)]


def test_policy_of_ignores_bad_values() -> None:
    assert policy_of(None) == {"keep_success": 100, "keep_failure": 100, "max_age_days": 30}
    assert policy_of({"keep_success": "x", "keep_failure": -1, "max_age_days": True}) == {
        "keep_success": 100,
        "keep_failure": 100,
        "max_age_days": 30,
    }
    assert policy_of({"keep_success": 3})["keep_success"] == 3


async def test_retention_set_through_the_template_service_is_applied(world: World) -> None:
    world.template("set", retention={"keep_success": 1, "keep_failure": 1})
    ok = seed(world, "set", ["completed"] * 3, [3, 2, 1])
    bad = seed(world, "set", ["failed"] * 2, [2, 1])
    await world.scheduler.retention_pass()
    assert remaining(world) == {ok[2], bad[1]}
    world.templates.update("set", TemplatePatch(retention={"keep_success": 3}))
    ok += seed(world, "set", ["completed"] * 3, [0.5, 0.4, 0.3])
    await world.scheduler.retention_pass()
    assert remaining(world) == {*ok[3:], bad[1]}
