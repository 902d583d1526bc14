"""Bring a database to the newest schema with Alembic, one process at a time.

Alembic (and Mako, Pygments behind it) is imported only when a database is not at the
shipped head: a start on an up-to-date database reads ``alembic_version`` and goes on, which
keeps the console's start-up short.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from core.storage.database import Database, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def shipped_head() -> str:
    """The newest revision shipped, from the scripts' file names (``0005_api_and_changes.py``
    holds revision ``0005``; a test holds this equal to Alembic's own answer)."""
    return max(
        path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")
    )


def at_shipped_head(db: Database) -> bool:
    """Whether the database is already at the newest revision (no Alembic needed)."""
    try:
        with db.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no alembic_version table yet: an empty database
        return False
    return [row[0] for row in versions] == [shipped_head()]


def alembic_config() -> Config:
    """An Alembic config pointing at jobdeck's migration scripts (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of jobdeck, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _migration_lock(db: Database) -> Iterator[None]:
    """Serialise migrations between processes starting at the same moment."""
    path = sqlite_file(db.url)
    if path is not None:
        lock_path = path.with_name(path.name + ".migrate.lock")
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        # PostgreSQL serialises through a transaction-level advisory lock taken in _begin.
        yield


@contextmanager
def _begin(db: Database) -> Iterator[Connection]:
    """The migration transaction: SQLite takes the write lock at BEGIN, PostgreSQL an advisory
    lock, so a migration never deadlocks with a concurrent writer or a second migrator."""
    engine = db.engine.execution_options(jobdeck_write=True)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(74206515)"))
        yield connection


def upgrade(db: Database, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the newest)."""
    if revision == "head" and at_shipped_head(db):
        return
    from alembic import command

    config = alembic_config()
    with _migration_lock(db), _begin(db) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(db: Database, revision: str) -> None:
    """Downgrade the database to ``revision`` (tests and emergencies only)."""
    from alembic import command

    config = alembic_config()
    with _migration_lock(db), _begin(db) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
