"""Small reads and writes beside the batched path: probes, cancels, counts, the worker row."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from core.jobs.executor.config import Worker
from core.jobs.executor.schema import RUNS, WORKERS


def _due(now: datetime) -> Any:
    return or_(RUNS.c.not_before.is_(None), RUNS.c.not_before <= now)


@dataclass(frozen=True)
class Probe:
    """What a cheap read found: due pending runs, pending runs someone asked to cancel."""

    due: bool
    cancels: bool


def probe(session: Session, now: datetime, only: frozenset[int] | None = None) -> Probe:
    """One read, no write lock: is there anything to claim or to cancel?"""
    pending = RUNS.c.status == "pending"
    if only is not None:
        pending = pending & RUNS.c.id.in_(sorted(only))
    due = exists().where(pending, _due(now), RUNS.c.cancel_requested.is_(False))
    cancels = exists().where(pending, RUNS.c.cancel_requested.is_(True))
    row = session.execute(select(due.label("due"), cancels.label("cancels"))).one()
    return Probe(bool(row.due), bool(row.cancels))


def cancel_requested_pending(session: Session, now: datetime) -> None:
    """Pending runs someone asked to cancel end here, before they start."""
    session.execute(
        update(RUNS)
        .where(RUNS.c.status == "pending", RUNS.c.cancel_requested.is_(True))
        .values(
            status="cancelled",
            completed_at=now,
            owner_id=None,
            error_message=func.coalesce(RUNS.c.cancel_reason, "cancelled before it started"),
        )
    )


@dataclass(frozen=True)
class WorkerState:
    """The worker row's live columns."""

    status: str
    slots: int
    active: int
    processed: int
    failed: int
    paused: bool
    draining: bool


def cancel_requests(session: Session, run_ids: list[int]) -> dict[int, str | None]:
    """Which of ``run_ids`` someone asked to cancel (through the database), with the reason."""
    rows = session.execute(
        select(RUNS.c.id, RUNS.c.cancel_reason).where(
            RUNS.c.id.in_(run_ids), RUNS.c.cancel_requested.is_(True)
        )
    )
    return {int(run_id): reason for run_id, reason in rows}


def cancel_pending(session: Session, run_id: int, reason: str, now: datetime) -> bool:
    """Cancel a pending run, or flag a running one for its executor; False if it has ended."""
    done = session.execute(
        update(RUNS)
        .where(RUNS.c.id == run_id, RUNS.c.status == "pending")
        .values(
            status="cancelled",
            completed_at=now,
            cancel_requested=True,
            cancel_reason=reason,
            error_message=f"cancelled before it started: {reason}",
        )
    )
    if done.rowcount:  # type: ignore[attr-defined]
        return True
    flagged = session.execute(
        update(RUNS)
        .where(RUNS.c.id == run_id, RUNS.c.status == "running")
        .values(cancel_requested=True, cancel_reason=reason)
    )
    return bool(flagged.rowcount)  # type: ignore[attr-defined]


def upsert_worker(
    session: Session, me: Worker, *, now: datetime, state: WorkerState, starting: bool
) -> None:
    """Create or refresh this executor's worker row."""
    name, host, pid, owner_id = me.name, me.host, os.getpid(), me.owner_id
    values: dict[str, Any] = {
        "kind": "local",
        "status": state.status,
        "slots": state.slots,
        "active": state.active,
        "processed": state.processed,
        "failed": state.failed,
        "paused": state.paused,
        "draining": state.draining,
        "heartbeat_at": now,
    }
    if starting:
        values.update(host=host, pid=pid, owner_id=owner_id, started_at=now)
    done = session.execute(update(WORKERS).where(WORKERS.c.name == name).values(**values))
    if not done.rowcount:  # type: ignore[attr-defined]
        values.update(host=host, pid=pid, owner_id=owner_id, started_at=now, queues=[])
        session.execute(insert(WORKERS).values(name=name, **values))


def claimable_count(session: Session, now: datetime) -> int:
    """Pending runs due now (what ``wait_idle`` waits for)."""
    due = RUNS.c.not_before.is_(None) | (RUNS.c.not_before <= now)
    return int(
        session.execute(
            select(func.count()).select_from(RUNS).where(RUNS.c.status == "pending", due)
        ).scalar_one()
    )
