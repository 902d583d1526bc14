"""Small SQL helpers shared by the scheduler's writers (dialect inserts, row counts)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

T = TypeVar("T")


def insert_ignoring_duplicates(session: Session, table: Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect (SQLite or PostgreSQL).

    No conflict target: any unique key (including the partial index on scheduled runs) makes
    a duplicate a no-op, which is what keeps a re-fire after a crash harmless (F4).
    """
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return insert(table).on_conflict_do_nothing()


def rowcount(result: Any) -> int:
    """Rows a DML statement touched (0 when the driver cannot tell)."""
    return int(getattr(result, "rowcount", 0) or 0)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Slices of at most ``size`` items (keeps IN lists under the drivers' parameter limits)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
