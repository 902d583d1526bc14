"""Alembic migrations on both backends: data survives (F21), round trips, no drift, concurrency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from core.storage import tables
from core.storage.database import Database
from core.storage.migrate import (
    at_shipped_head,
    current_revision,
    downgrade,
    head_revision,
    shipped_head,
    upgrade,
)
from tests.fresh_process import packages_loaded

from .seed_0001 import TABLES_0001, seed_0001, typed_table
from .workers import finish, release, start_worker

TABLES_0002 = ("occurrences", "job_run_log_chunks", "workers", "owner_lease", "system_state")
TABLES_0005 = ("api_tokens", "idempotency_keys", "changes")
ORM_CLASSES_0001 = (
    tables.JobTemplate,
    tables.JobTemplateRevision,
    tables.JobSchedule,
    tables.JobRun,
    tables.JobRunAttempt,
    tables.AuditRecord,
)


def _table_names(db: Database) -> set[str]:
    """Every table in the database (or in the test's schema on PostgreSQL)."""
    return set(sa.inspect(db.engine).get_table_names())


def _schema_drift(db: Database) -> list[Any]:
    """What autogenerate would change to make the database match the SQLModel tables."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def _schema_snapshot(db: Database) -> dict[str, Any]:
    """Columns, indexes, keys and constraints of every table, comparable with ==."""
    inspector = sa.inspect(db.engine)
    snapshot: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        snapshot[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)
            ],
            "indexes": sorted(
                (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
            ),
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], str(fk["options"]))
                for fk in inspector.get_foreign_keys(name)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
            ),
        }
    return snapshot


def _read_rows(db: Database, name: str, columns: list[str]) -> list[dict[str, Any]]:
    """Every row of a table, through revision 0001's column types, ordered by id."""
    table = typed_table(name, columns)
    with db.engine.connect() as connection:
        result = connection.execute(sa.select(table).order_by(table.c.id))
        return [dict(row) for row in result.mappings()]


def _assert_aware_utc(value: object, where: str) -> None:
    """A timestamp column must read back aware and in UTC."""
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"{where} came back naive"
        assert value.utcoffset() == timedelta(0), f"{where} is not in UTC: {value!r}"


def test_upgrade_from_0001_keeps_every_row(empty_database: Database) -> None:
    """F21: a database written by revision 0001 upgrades to head with nothing lost or changed."""
    db = empty_database
    upgrade(db, "0001")
    assert current_revision(db) == "0001"
    assert _table_names(db) == {*TABLES_0001, "alembic_version"}
    with db.engine.begin() as connection:
        seeded = seed_0001(connection)

    upgrade(db)

    assert current_revision(db) == head_revision()
    assert _table_names(db) == {*TABLES_0001, *TABLES_0002, *TABLES_0005, "alembic_version"}
    for name, expected in seeded.items():
        stored = _read_rows(db, name, list(expected[0]))
        # Aware datetimes compare as instants, so == also covers the UTC conversion.
        assert stored == expected, f"{name} changed during the upgrade"
        for row in stored:
            for column, value in row.items():
                _assert_aware_utc(value, f"{name}.{column}")

    # Today's models read the old rows too, with every timestamp aware UTC.
    with db.read() as session:
        for model in ORM_CLASSES_0001:
            objects = session.scalars(select(model)).all()
            assert len(objects) == len(seeded[model.__tablename__])
            for obj in objects:
                for column, value in obj.model_dump().items():
                    _assert_aware_utc(value, f"{model.__tablename__}.{column}")


def test_tables_added_after_0001_work_with_migrated_rows(empty_database: Database) -> None:
    """F21: the 0002 tables exist after the upgrade and accept rows tied to migrated data."""
    db = empty_database
    upgrade(db, "0001")
    with db.engine.begin() as connection:
        seeded = seed_0001(connection)
    upgrade(db)

    schedule_id = seeded["job_schedules"][0]["id"]
    run_id = seeded["job_runs"][0]["id"]
    now = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    with db.write() as session:
        session.add(
            tables.Occurrence(
                schedule_id=schedule_id,
                scheduled_for=seeded["job_runs"][0]["scheduled_for"],
                outcome="ran",
                run_id=run_id,
                lateness_seconds=1.5,
                recorded_at=now,
            )
        )
        session.add(
            tables.RunLogChunk(run_id=run_id, seq=0, stream="stdout", created_at=now, data="hi\n")
        )
        session.add(tables.Worker(name="local", kind="local", status="online", queues=["default"]))
        session.add(
            tables.OwnerLease(
                owner_id="abc",
                host="db1",
                pid=1,
                acquired_at=now,
                heartbeat_at=now,
                expires_at=now + timedelta(seconds=30),
            )
        )
        session.add(tables.SystemState(key="paused", value={"on": False}, updated_at=now))
        # New rows in old tables get fresh ids (PostgreSQL sequences survived the upgrade).
        session.add(
            tables.JobRun(
                job_template_id=seeded["job_templates"][0]["id"],
                job_schedule_id=schedule_id,
                job_name="backup [daily]",
                job_type="shell",
                status="pending",
                triggered_by="manual",
                queued_at=now,
            )
        )

    with db.read() as session:
        occurrence = session.scalars(select(tables.Occurrence)).one()
        assert occurrence.run_id == run_id
        assert occurrence.scheduled_for == seeded["job_runs"][0]["scheduled_for"]
        assert session.scalars(select(tables.RunLogChunk.data)).all() == ["hi\n"]
        assert session.scalars(select(tables.Worker.queues)).one() == ["default"]
        assert session.get_one(tables.OwnerLease, "scheduler").expires_at == now + timedelta(
            seconds=30
        )
        assert session.get_one(tables.SystemState, "paused").value == {"on": False}
        run_ids = session.scalars(select(tables.JobRun.id)).all()
        assert len(set(run_ids)) == len(seeded["job_runs"]) + 1


def test_downgrade_to_base_and_upgrade_again(empty_database: Database) -> None:
    """Every downgrade step removes what its upgrade created, and head can be rebuilt."""
    db = empty_database
    upgrade(db)
    downgrade(db, "0001")
    assert current_revision(db) == "0001"
    assert _table_names(db) == {*TABLES_0001, "alembic_version"}

    downgrade(db, "base")
    assert current_revision(db) is None
    assert _table_names(db) <= {"alembic_version"}

    upgrade(db)
    assert current_revision(db) == head_revision()
    assert _schema_drift(db) == []


def test_migrated_schema_matches_the_models(database: Database) -> None:
    """The migrations build exactly the schema SQLModel describes (autogenerate finds nothing)."""
    assert current_revision(database) == head_revision()
    assert _schema_drift(database) == []


def test_upgrade_twice_is_a_no_op(database: Database) -> None:
    """Upgrading a database already at head changes neither schema nor data."""
    now = datetime(2026, 4, 1, tzinfo=UTC)
    with database.write() as session:
        session.add(tables.SystemState(key="marker", value=[1], updated_at=now))
    before = _schema_snapshot(database)

    upgrade(database)

    assert current_revision(database) == head_revision()
    assert _schema_snapshot(database) == before
    with database.read() as session:
        assert session.get_one(tables.SystemState, "marker").value == [1]


def test_shipped_head_is_alembics_head() -> None:
    """The fast start-up check reads the head from file names; Alembic must agree."""
    assert shipped_head() == head_revision()


def test_only_a_database_at_head_skips_alembic(empty_database: Database) -> None:
    """An empty or older database is not taken for one at head; a migrated one is."""
    db = empty_database
    assert not at_shipped_head(db)
    upgrade(db, "0004")
    assert not at_shipped_head(db)
    upgrade(db)
    assert at_shipped_head(db)


def test_opening_a_database_at_head_does_not_import_alembic(db_url: str) -> None:
    """Start-up on an up-to-date database stays clear of Alembic (and Mako, Pygments)."""
    db = Database(db_url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    code = (
        "from core.storage.database import Database\n"
        "from core.storage.migrate import upgrade\n"
        f"db = Database({db_url!r})\n"
        "upgrade(db)\n"
        "db.dispose()\n"
    )
    assert packages_loaded(code, ("alembic", "mako")) == []


def test_two_processes_upgrading_at_once_both_succeed(db_url: str) -> None:
    """Two processes starting on the same fresh database migrate it once, and neither fails."""
    workers = [start_worker("upgrade", db_url) for _ in range(2)]
    for worker in workers:
        release(worker)
    reported = [finish(worker).strip() for worker in workers]

    assert reported == [head_revision(), head_revision()]
    db = Database(db_url)
    try:
        assert current_revision(db) == head_revision()
        assert _schema_drift(db) == []
    finally:
        db.dispose()
