"""Engine set-up (SQLite in WAL mode, or PostgreSQL), sessions with short write transactions."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from core.errors import BackendUnavailable

#: How long a writer waits for SQLite's lock before giving up (F17: no "database is locked").
SQLITE_BUSY_TIMEOUT_MS = 15_000


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, or None (not SQLite, in-memory, or a URI filename)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    if parsed.query.get("mode") == "memory":
        return None
    return Path(database)


def _prepare_sqlite_file(url: str) -> None:
    """Create the database file with mode 0600 before SQLite creates it world-readable."""
    db_path = sqlite_file(url)
    if db_path is None:
        return
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if not db_path.exists():
        fd = os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys; writes take the lock up front (BEGIN IMMEDIATE)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writes can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that later writes can hit SQLITE_BUSY without waiting for
        # the busy timeout; taking the write lock at BEGIN makes writers queue politely.
        immediate = conn.get_execution_options().get("jobdeck_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One database: its engine, read sessions, and short write transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            _prepare_sqlite_file(url)
            self.engine = create_engine(
                url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                **({"poolclass": StaticPool} if sqlite_file(url) is None else {}),
            )
            _configure_sqlite(self.engine)
        else:
            # libpq waits forever on a blackholed host unless told otherwise.
            connect_args = {} if "connect_timeout=" in url else {"connect_timeout": 10}
            self.engine = create_engine(
                url, echo=echo, pool_pre_ping=True, pool_size=5, connect_args=connect_args
            )
        self._write_engine = self.engine.execution_options(jobdeck_write=True)

    def on_write_commit(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (in the writing thread, as the commit is issued) for every write
        transaction this process commits; returns the function that stops it."""

        def committing(connection: Any) -> None:
            if connection.get_execution_options().get("jobdeck_write", False):
                callback()

        event.listen(self.engine, "commit", committing)
        return lambda: event.remove(self.engine, "commit", committing)

    @contextmanager
    def _available(self) -> Iterator[None]:
        """The database failing to be reached or used (OperationalError) as BackendUnavailable."""
        try:
            yield
        except OperationalError as exc:
            raise BackendUnavailable(f"database {self.describe()} unavailable: {exc.orig}") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing it does is committed."""
        with self._available(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for queries, in one transaction; nothing it does is committed.

        For hot reads of plain rows (a runs page): without a Session's bookkeeping around it,
        a read costs some 0.05-0.1 ms less.
        """
        with self._available(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A short write transaction, committed on success and rolled back on error."""
        with self._available(), Session(self._write_engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    def describe(self) -> str:
        """The URL without any password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
