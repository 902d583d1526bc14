"""The tables the executor writes, as SQLAlchemy Core tables, and typed bind parameters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam

from core.storage.tables import (
    JobRun,
    JobRunAttempt,
    JobSchedule,
    JobTemplate,
    RunLogChunk,
    Worker,
)

RUNS: Table = JobRun.__table__  # type: ignore[attr-defined]
ATTEMPTS: Table = JobRunAttempt.__table__  # type: ignore[attr-defined]
SCHEDULES: Table = JobSchedule.__table__  # type: ignore[attr-defined]
TEMPLATES: Table = JobTemplate.__table__  # type: ignore[attr-defined]
CHUNKS: Table = RunLogChunk.__table__  # type: ignore[attr-defined]
WORKERS: Table = Worker.__table__  # type: ignore[attr-defined]


def param(name: str, table: Table, column: str) -> Any:
    """A bind parameter typed like ``table.column`` (aware datetimes, JSON)."""
    return bindparam(name, type_=table.c[column].type)
