"""SQLite specifics: connection pragmas, private files, and concurrent writers (F17)."""

from __future__ import annotations

import sqlite3
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.storage.database import SQLITE_BUSY_TIMEOUT_MS, Database
from core.storage.tables import AuditRecord, SystemState

from .workers import COUNTER_KEY, HANG_TIMEOUT_SECONDS, finish, release, start_worker, write_ticks

THREADS = 4
PROCESSES = 2
TRANSACTIONS_EACH = 200


def _path(db: Database) -> Path:
    """The file behind a SQLite Database."""
    database = db.engine.url.database
    assert database
    return Path(database)


def _pragma(db: Database, name: str, *, write: bool = False) -> object:
    """A PRAGMA's value as seen by a pooled read or write connection."""
    with db.write() if write else db.read() as session:
        return session.execute(text(f"PRAGMA {name}")).scalar_one()


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_connections_use_wal_busy_timeout_and_foreign_keys(
    sqlite_database: Database, write: bool
) -> None:
    """Every connection, read or write, gets the pragmas F17 and the FK rules rely on."""
    assert _pragma(sqlite_database, "journal_mode", write=write) == "wal"
    assert _pragma(sqlite_database, "busy_timeout", write=write) == SQLITE_BUSY_TIMEOUT_MS
    assert _pragma(sqlite_database, "foreign_keys", write=write) == 1


def test_database_files_are_private(sqlite_database: Database) -> None:
    """The database and its WAL side files are created mode 0600 (they may hold secrets)."""
    with sqlite_database.write() as session:
        session.add(SystemState(key="k", value=1, updated_at=datetime.now(UTC)))
        # Keep the transaction open long enough to be sure the side files exist.
        session.flush()
        path = _path(sqlite_database)
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    assert modes == {f.name: 0o600 for f in files}


def test_write_transactions_take_the_lock_at_begin(sqlite_database: Database) -> None:
    """A write session holds the write lock from its first statement (BEGIN IMMEDIATE)."""
    other = sqlite3.connect(_path(sqlite_database), timeout=0, isolation_level=None)
    try:
        with sqlite_database.read() as session:
            session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
            # A reader does not block a writer in WAL mode.
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")

        with sqlite_database.write() as session:
            session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


def test_concurrent_writers_never_see_database_is_locked(sqlite_database: Database) -> None:
    """F17: 4 threads and 2 processes, 200 read-modify-write transactions each, all land."""
    with sqlite_database.write() as session:
        session.add(SystemState(key=COUNTER_KEY, value={"n": 0}, updated_at=datetime.now(UTC)))
    url = sqlite_database.url
    processes = [
        start_worker("write", url, f"process-{n}", str(TRANSACTIONS_EACH)) for n in range(PROCESSES)
    ]
    go = threading.Event()

    def thread_writer(actor: str) -> None:
        go.wait()
        write_ticks(sqlite_database, actor, TRANSACTIONS_EACH)

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(thread_writer, f"thread-{n}") for n in range(THREADS)]
        for process in processes:
            release(process)
        go.set()
        # .result() re-raises whatever a thread hit, "database is locked" included.
        for future in futures:
            future.result(timeout=HANG_TIMEOUT_SECONDS)
    for process in processes:
        finish(process)

    actors = [f"thread-{n}" for n in range(THREADS)] + [f"process-{n}" for n in range(PROCESSES)]
    with sqlite_database.read() as session:
        rows = session.execute(select(AuditRecord.actor, AuditRecord.target_id)).all()
        counter = session.get_one(SystemState, COUNTER_KEY).value
    assert sorted(tuple(row) for row in rows) == sorted(
        (actor, number) for actor in actors for number in range(TRANSACTIONS_EACH)
    )
    # Serialised read-modify-write: no lost update among 1,200 increments.
    assert counter == {"n": len(actors) * TRANSACTIONS_EACH}
