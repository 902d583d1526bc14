"""The change feed: triggers record every watched write, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from core.jobs.changes import ChangeRow, change_batch, deliverable, prune, read_after
from core.storage.database import Database
from core.storage.tables import JobRun, JobSchedule, Occurrence, SystemState, Worker
from tests.storage.factories import T0, make_run, make_schedule, make_template


def _feed(db: Database, after: int = 0) -> list[tuple[str, str, int | None]]:
    with db.read() as session:
        return [(row.kind, row.op, row.ref_id) for row in read_after(session, after, 1000)]


def test_template_schedule_and_manual_run_writes_are_recorded(database: Database) -> None:
    with database.write() as session:
        template = make_template()
        session.add(template)
        session.flush()
        schedule = make_schedule(template.id)  # type: ignore[arg-type]
        session.add(schedule)
        session.flush()
        run = make_run(job_template_id=template.id)
        session.add(run)
        session.flush()
        ids = (template.id, schedule.id, run.id)
    assert _feed(database) == [
        ("template", "insert", ids[0]),
        ("schedule", "insert", ids[1]),
        ("run", "insert", ids[2]),
    ]


def test_run_updates_are_recorded_only_when_a_shown_column_changes(database: Database) -> None:
    with database.write() as session:
        run = make_run()
        session.add(run)
        session.flush()
        run_id = run.id
    with database.read() as session:
        start = max(row.id for row in read_after(session, 0, 100))
    with database.write() as session:
        # a heartbeat touches no column the feed watches: no change
        session.execute(update(JobRun).where(JobRun.id == run_id).values(heartbeat_at=T0))
        session.execute(update(JobRun).where(JobRun.id == run_id).values(status="pending"))
        session.execute(update(JobRun).where(JobRun.id == run_id).values(status="running"))
    assert _feed(database, start) == [("run", "update", run_id)]


def test_scheduled_runs_are_announced_by_their_occurrence_only(database: Database) -> None:
    with database.write() as session:
        template = make_template()
        session.add(template)
        session.flush()
        schedule = make_schedule(template.id)  # type: ignore[arg-type]
        session.add(schedule)
        session.flush()
    with database.read() as session:
        start = max(row.id for row in read_after(session, 0, 100))
    with database.write() as session:
        run = make_run(triggered_by="schedule", job_schedule_id=schedule.id, scheduled_for=T0)
        session.add(run)
        session.flush()
        session.add(
            Occurrence(
                schedule_id=schedule.id,  # type: ignore[arg-type]
                scheduled_for=T0,
                outcome="ran",
                run_id=run.id,
                recorded_at=T0,
            )
        )
        # firing moves next_run only: not a schedule change anyone must reload for
        session.execute(
            update(JobSchedule)
            .where(JobSchedule.id == schedule.id)
            .values(next_run=T0 + timedelta(days=1), last_run=T0)
        )
    feed = _feed(database, start)
    assert [(kind, op) for kind, op, _ in feed] == [("occurrence", "insert")]


def test_worker_heartbeats_are_quiet_but_state_changes_are_not(database: Database) -> None:
    with database.write() as session:
        session.add(Worker(name="local@a", kind="local", status="running", slots=4))
    with database.read() as session:
        start = max(row.id for row in read_after(session, 0, 100))
    with database.write() as session:
        session.execute(update(Worker).values(heartbeat_at=T0))
        session.execute(update(Worker).values(paused=True))
    assert [(kind, op) for kind, op, _ in _feed(database, start)] == [("worker", "update")]


def test_change_batch_cursor_reset_and_prune(database: Database) -> None:
    with database.write() as session:
        session.add(make_template("a"))
        session.add(make_template("b"))
    now = time.time()
    with database.read() as session:
        tail = change_batch(session, None, 10, now)
        assert tail.items == () and tail.cursor >= 2
        first = change_batch(session, tail.cursor - 2, 1, now)
        assert [item.kind for item in first.items] == ["template"]
        assert first.cursor == tail.cursor - 1
        future = change_batch(session, tail.cursor + 100, 10, now)
        assert future.reset and future.cursor == tail.cursor
    with database.write() as session:
        assert prune(session, now + 60) == 2
    with database.write() as session:
        session.add(make_template("c"))
    with database.read() as session:
        # ids never go back after a prune, and an old cursor is told to reload
        newest = change_batch(session, None, 10, time.time()).cursor
        assert newest == tail.cursor + 1
        assert change_batch(session, tail.cursor - 2, 10, time.time()).reset


def test_a_gap_in_ids_holds_the_reader_until_it_is_old() -> None:
    rows = [ChangeRow(1, 100.0, "run", "update", 7), ChangeRow(3, 100.0, "run", "update", 8)]
    assert [row.id for row in deliverable(rows, 0, now=101.0, gap_seconds=10)] == [1]
    assert [row.id for row in deliverable(rows, 0, now=111.0, gap_seconds=10)] == [1, 3]


def test_write_commits_of_this_process_are_announced(database: Database) -> None:
    """on_write_commit: each committed write transaction, not reads; until stopped."""
    heard: list[str] = []
    stop = database.on_write_commit(lambda: heard.append("commit"))
    now = datetime(2026, 4, 1, tzinfo=UTC)
    with database.write() as session:
        session.add(SystemState(key="a", value=[1], updated_at=now))
    with database.read() as session:
        session.get(SystemState, "a")
    assert heard == ["commit"]
    stop()
    with database.write() as session:
        session.add(SystemState(key="b", value=[2], updated_at=now))
    assert heard == ["commit"]
