"""A token that changes whenever anything is committed to the database, by any process.

A cache of query results (the API's run pages) stays valid while the token stays the same:

- SQLite file: ``PRAGMA data_version`` on a connection of its own, which changes when any other
  connection commits, in this process or another. A few microseconds and no lock wait, so it
  is read on the event loop.
- PostgreSQL: the cluster's current snapshot (``pg_current_snapshot()``). A write transaction
  changes it when it takes its transaction id and again when it commits; read-only
  transactions leave it alone. It costs a query.
- In-memory SQLite: only this process can write it, so its commits are counted.

The token is read *before* the data it vouches for: a commit in between makes the cached data
newer than its token, never older, and the next look reads again.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Hashable
from pathlib import Path

from sqlalchemy import text

from core.storage.database import Database, sqlite_file


class DataVersion:
    """The database's change token (see the module docstring); ``close()`` when done."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._file = sqlite_file(db.url) if db.is_sqlite else None
        #: the token can be read on the event loop (no query to wait for)
        self.inline = db.is_sqlite
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._commits = 0
        self._unique = itertools.count()
        self._stop = db.on_write_commit(self._committed) if self._is_memory else None

    @property
    def _is_memory(self) -> bool:
        return self.db.is_sqlite and self._file is None

    def _committed(self) -> None:  # the writing thread
        with self._lock:
            self._commits += 1

    def current(self) -> Hashable:
        """The token now. When it cannot be read (a locked or missing file, a failed query) the
        answer equals no other, so nothing cached is trusted."""
        if self._is_memory:
            with self._lock:
                return ("commits", self._commits)
        try:
            if self._file is not None:
                return ("sqlite", self._sqlite_version(self._file))
            with self.db.connect() as connection:
                snapshot = connection.execute(text("SELECT pg_current_snapshot()::text"))
                return ("pg", snapshot.scalar_one())
        except Exception:  # an unreadable token only means "trust no cache"
            return ("unknown", next(self._unique))

    def _sqlite_version(self, path: Path) -> int:
        with self._lock:
            if self._connection is None:
                # timeout 0: never wait for a lock on the event loop (a busy answer is "unknown")
                self._connection = sqlite3.connect(
                    path, timeout=0, isolation_level=None, check_same_thread=False
                )
            # fetchall: a statement left unfinished would hold a read transaction open
            # (and keep the WAL from being checkpointed)
            ((version,),) = self._connection.execute("PRAGMA data_version").fetchall()
            return int(version)

    def close(self) -> None:
        """Close the token's connection and stop counting commits."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()
