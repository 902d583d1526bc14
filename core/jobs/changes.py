"""Reading the change feed: what changed in templates, schedules, runs, workers and the ledger.

Triggers (migration 0005) append to ``changes`` in the same transaction as the change, so a
reader sees every write of every process. Ids only grow, but on PostgreSQL a transaction
that took id N may commit after one that took N+1: a reader that moved its cursor past N
would miss it. ``deliverable`` therefore stops at the first gap until the row after it is older
than ``gap_seconds`` (then the missing id was rolled back and will never appear).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.backend.views import ChangeBatch, ChangeView
from core.storage.tables import Change

CHANGES = Change.__table__  # type: ignore[attr-defined]

#: What the feed reports on.
CHANGE_KINDS: tuple[str, ...] = ("template", "schedule", "run", "worker", "occurrence")


@dataclass(frozen=True)
class ChangeRow:
    """One change: what kind of row, which operation, and the row's id."""

    id: int
    at: float
    kind: str
    op: str
    ref_id: int | None


def read_after(session: Session, after: int, limit: int) -> list[ChangeRow]:
    """Changes with an id above ``after``, oldest first."""
    rows = session.execute(
        select(CHANGES.c.id, CHANGES.c.at, CHANGES.c.kind, CHANGES.c.op, CHANGES.c.ref_id)
        .where(CHANGES.c.id > after)
        .order_by(CHANGES.c.id)
        .limit(limit)
    )
    return [ChangeRow(int(r.id), float(r.at), r.kind, r.op, r.ref_id) for r in rows]


def bounds(session: Session) -> tuple[int, int]:
    """The oldest and the newest id still stored ((0, 0) when the feed is empty)."""
    # Two scalar subqueries: SQLite answers a lone min() or max() from the primary key at
    # once, but scans the whole table for min() and max() in one select.
    low = select(func.min(CHANGES.c.id)).scalar_subquery()
    high = select(func.max(CHANGES.c.id)).scalar_subquery()
    low, high = session.execute(select(low, high)).one()
    return int(low or 0), int(high or 0)


def prune(session: Session, older_than: float) -> int:
    """Delete changes recorded before ``older_than`` (epoch seconds); returns how many."""
    result = session.execute(delete(CHANGES).where(CHANGES.c.at < older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def deliverable(
    rows: list[ChangeRow], after: int, now: float, gap_seconds: float
) -> list[ChangeRow]:
    """The prefix of ``rows`` a reader at ``after`` may take now (see the module docstring).

    A row past a gap in the ids is taken only once it is ``gap_seconds`` old: by then the
    transaction that took the missing id has committed (and its row was read) or never will.
    """
    taken: list[ChangeRow] = []
    expected = after + 1
    for row in rows:
        if row.id != expected and now - row.at < gap_seconds:
            break
        taken.append(row)
        expected = row.id + 1
    return taken


def change_batch(
    session: Session, after: int | None, limit: int, now: float, gap_seconds: float = 10.0
) -> ChangeBatch:
    """The Backend.changes answer from the database (see ``ChangeBatch``)."""
    low, high = bounds(session)
    if after is None:
        return ChangeBatch(items=(), cursor=high)
    if after > high or (low and after < low - 1):
        # the cursor is from the future (another database) or its changes were pruned
        return ChangeBatch(items=(), cursor=high, reset=True)
    rows = deliverable(read_after(session, after, limit), after, now, gap_seconds)
    items = tuple(
        ChangeView(
            id=row.id,
            at=datetime.fromtimestamp(row.at, UTC),
            kind=row.kind,
            op=row.op,
            ref_id=row.ref_id,
        )
        for row in rows
    )
    return ChangeBatch(items=items, cursor=rows[-1].id if rows else after)
