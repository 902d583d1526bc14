"""Table behaviour on both backends: aware timestamps, keys, foreign-key rules, JSON columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, StatementError

from core.storage.database import Database
from core.storage.tables import (
    JobRun,
    JobRunAttempt,
    JobSchedule,
    JobTemplate,
    Occurrence,
    RunLogChunk,
    SystemState,
)

from .factories import T0, make_run, make_schedule, make_template

RIGA_SUMMER = timezone(timedelta(hours=3))


def _add_template_and_schedule(database: Database) -> tuple[int, int]:
    """Store one template with one schedule; return their ids."""
    with database.write() as session:
        template = make_template()
        session.add(template)
        session.flush()
        assert template.id is not None
        schedule = make_schedule(template.id)
        session.add(schedule)
        session.flush()
        assert schedule.id is not None
        return template.id, schedule.id


def test_aware_datetime_comes_back_as_the_same_instant_in_utc(database: Database) -> None:
    """A +03:00 timestamp is stored as UTC and read back aware, on every backend."""
    local = datetime(2026, 7, 1, 12, 0, 0, 250000, tzinfo=RIGA_SUMMER)
    with database.write() as session:
        run = make_run(queued_at=local, started_at=local + timedelta(seconds=1))
        session.add(run)
        session.flush()
        run_id = run.id

    with database.read() as session:
        stored = session.get_one(JobRun, run_id)
        assert stored.queued_at == local
        assert stored.queued_at.tzinfo is not None
        assert stored.queued_at.utcoffset() == timedelta(0)
        assert stored.queued_at.replace(tzinfo=None) == datetime(2026, 7, 1, 9, 0, 0, 250000)
        assert stored.started_at == datetime(2026, 7, 1, 9, 0, 1, 250000, tzinfo=UTC)


def test_naive_datetime_is_refused(database: Database) -> None:
    """A naive datetime never reaches the database: its zone would be a guess."""
    with pytest.raises(StatementError, match="naive datetime") as raised, database.write() as s:
        s.add(make_run(queued_at=datetime(2026, 7, 1, 12, 0)))
    assert isinstance(raised.value.orig, ValueError)

    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_timestamps_filter_by_instant(database: Database) -> None:
    """Comparisons use instants, whatever zone the bound value carries."""
    with database.write() as session:
        session.add(make_run(queued_at=T0))
        session.add(make_run(queued_at=T0 + timedelta(hours=1)))

    cutoff = (T0 + timedelta(minutes=30)).astimezone(RIGA_SUMMER)
    with database.read() as session:
        later = session.scalars(select(JobRun).where(JobRun.queued_at > cutoff)).all()
    assert [run.queued_at for run in later] == [T0 + timedelta(hours=1)]


def test_one_scheduled_run_per_occurrence(database: Database) -> None:
    """uq_job_runs_occurrence refuses a second schedule-triggered run for the same occurrence."""
    template_id, schedule_id = _add_template_and_schedule(database)
    key = {"job_template_id": template_id, "job_schedule_id": schedule_id, "scheduled_for": T0}
    with database.write() as session:
        session.add(make_run(triggered_by="schedule", **key))

    with pytest.raises(IntegrityError), database.write() as session:
        session.add(make_run(triggered_by="schedule", **key))

    with database.write() as session:
        # Manual, retry and backfill runs never consume the occurrence.
        session.add(make_run(triggered_by="manual", **key))
        session.add(make_run(triggered_by="retry", **key))
        session.add(
            make_run(triggered_by="schedule", **(key | {"scheduled_for": T0 + timedelta(1)}))
        )

    with database.read() as session:
        triggers = session.scalars(select(JobRun.triggered_by).order_by(JobRun.id)).all()
    assert triggers == ["schedule", "manual", "retry", "schedule"]


def test_template_name_is_unique(database: Database) -> None:
    """Two templates cannot share a name."""
    with database.write() as session:
        session.add(make_template("backup"))
    with pytest.raises(IntegrityError), database.write() as session:
        session.add(make_template("backup", job_type="python"))
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(JobTemplate)) == 1


def test_deleting_a_scheduled_template_is_refused(database: Database) -> None:
    """job_schedules.job_template_id is ON DELETE RESTRICT: a schedule pins its template."""
    template_id, schedule_id = _add_template_and_schedule(database)
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(delete(JobTemplate).where(JobTemplate.id == template_id))

    with database.read() as session:
        assert session.get(JobTemplate, template_id) is not None
        assert session.get(JobSchedule, schedule_id) is not None


def test_deleting_a_template_keeps_its_runs(database: Database) -> None:
    """Run history outlives its template: job_runs.job_template_id is ON DELETE SET NULL."""
    with database.write() as session:
        template = make_template()
        session.add(template)
        session.flush()
        run = make_run(job_template_id=template.id)
        session.add(run)
        session.flush()
        template_id, run_id = template.id, run.id

    with database.write() as session:
        session.execute(delete(JobTemplate).where(JobTemplate.id == template_id))

    with database.read() as session:
        assert session.get_one(JobRun, run_id).job_template_id is None


def test_deleting_a_run_cascades_to_attempts_and_log_chunks(database: Database) -> None:
    """Attempts and log chunks go with their run; the occurrence ledger keeps its record."""
    template_id, schedule_id = _add_template_and_schedule(database)
    with database.write() as session:
        run = make_run(job_template_id=template_id, job_schedule_id=schedule_id, attempts=2)
        other = make_run(job_template_id=template_id)
        session.add_all([run, other])
        session.flush()
        assert run.id is not None and other.id is not None
        for owner in (run.id, other.id):
            session.add(JobRunAttempt(run_id=owner, attempt=1, status="failed"))
            session.add(RunLogChunk(run_id=owner, seq=0, stream="stdout", created_at=T0, data="x"))
        session.add(JobRunAttempt(run_id=run.id, attempt=2, status="completed"))
        session.add(
            Occurrence(
                schedule_id=schedule_id,
                scheduled_for=T0,
                outcome="ran",
                run_id=run.id,
                recorded_at=T0,
            )
        )
        run_id, other_id = run.id, other.id

    with database.write() as session:
        session.execute(delete(JobRun).where(JobRun.id == run_id))

    with database.read() as session:
        assert session.scalars(select(JobRunAttempt.run_id)).all() == [other_id]
        assert session.scalars(select(RunLogChunk.run_id)).all() == [other_id]
        ledger = session.scalars(select(Occurrence)).one()
        assert ledger.outcome == "ran"
        assert ledger.run_id is None


def test_log_chunk_needs_an_existing_run(database: Database) -> None:
    """Foreign keys are enforced (SQLite only does so with PRAGMA foreign_keys on)."""
    with pytest.raises(IntegrityError), database.write() as session:
        session.add(RunLogChunk(run_id=4242, seq=0, stream="stdout", created_at=T0, data="x"))


NESTED = {
    "argv": ["rsync", "-a", "/srv/", "backup:/srv/"],
    "env": {"LANG": "C.UTF-8", "NOTE": 'Rīga ✓ "quoted" \\ back'},
    "retry": {"codes": [1, 2, 255], "factor": 1.5, "jitter": None, "enabled": True},
    "big": 2**62,
    "deep": [[{"a": [{"b": []}]}], {}],
}


@pytest.mark.parametrize(
    "result",
    [NESTED, [1, "two", 3.25, None, False, {"k": []}], "plain text", 42],
    ids=["object", "array", "string", "number"],
)
def test_json_columns_round_trip_nested_data(database: Database, result: object) -> None:
    """JSON columns give back exactly what was stored, nested or scalar."""
    parameters = [{"name": "target", "type": "str", "default": "/srv", "choices": ["/srv", "/"]}]
    with database.write() as session:
        template = make_template(config=NESTED, parameters=parameters, tags=["nightly", "ü"])
        session.add(template)
        session.flush()
        run = make_run(job_template_id=template.id, parameters={"target": "/"}, result=result)
        session.add(run)
        session.add(SystemState(key="maintenance", value=NESTED, updated_at=T0))
        session.flush()
        template_id, run_id = template.id, run.id

    with database.read() as session:
        stored_template = session.get_one(JobTemplate, template_id)
        assert stored_template.config == NESTED
        assert stored_template.parameters == parameters
        assert stored_template.tags == ["nightly", "ü"]
        assert stored_template.retry_on == ["failed", "lost"]
        assert session.get_one(JobRun, run_id).result == result
        assert session.get_one(SystemState, "maintenance").value == NESTED
