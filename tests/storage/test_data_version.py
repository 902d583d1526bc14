"""The change token: it moves with every commit, from this process or another, and only then."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import text

from core.storage.data_version import DataVersion
from core.storage.database import Database
from core.storage.tables import SystemState


def _commit(db: Database, key: str) -> None:
    with db.write() as session:
        session.merge(SystemState(key=key, value="x", updated_at=datetime.now(UTC)))


def test_the_token_moves_with_each_commit_and_only_then(database: Database) -> None:
    version = DataVersion(database)
    try:
        before = version.current()
        assert version.current() == before
        with database.read() as session:  # reading changes nothing
            session.execute(text("SELECT count(*) FROM job_runs")).scalar_one()
        assert version.current() == before

        _commit(database, "first")
        after_one = version.current()
        assert after_one != before
        assert version.current() == after_one

        _commit(database, "second")
        assert version.current() not in (before, after_one)
    finally:
        version.close()


def test_a_commit_by_another_process_moves_the_token(sqlite_database: Database) -> None:
    version = DataVersion(sqlite_database)
    try:
        before = version.current()
        path = sqlite_database.engine.url.database
        script = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            'c.execute("INSERT INTO system_state (key, value, updated_at) '
            "VALUES ('other', 'y', '2030-01-01')\"); c.commit()"
        )
        subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=30)
        assert version.current() != before
    finally:
        version.close()


def test_an_in_memory_database_counts_its_own_commits() -> None:
    db = Database("sqlite://")
    from core.storage.migrate import upgrade

    upgrade(db)
    version = DataVersion(db)
    try:
        before = version.current()
        _commit(db, "memory")
        assert version.current() != before
    finally:
        version.close()
        db.dispose()


def test_an_unreadable_token_equals_no_other() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    version = DataVersion(db)
    try:
        first, second = version.current(), version.current()
        assert first != second  # nothing kept under an unknown token can be trusted
    finally:
        version.close()
        db.dispose()
