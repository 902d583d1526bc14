"""Claiming pending runs: one short transaction takes as many as there are free slots."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from core.jobs.executor.config import Worker
from core.jobs.executor.fastsql import Prepared
from core.jobs.executor.schema import ATTEMPTS, CHUNKS, RUNS, SCHEDULES, TEMPLATES, param


@dataclass(frozen=True)
class ClaimedRun:
    """A run this executor now owns, with everything its next attempt needs."""

    run_id: int
    attempt: int
    job_name: str
    job_type: str
    template_name: str | None
    schedule_id: int | None
    snapshot: dict[str, Any]
    parameters: dict[str, Any]
    scheduled_for: datetime | None
    started_at: datetime
    attempt_started_at: datetime
    deadline_at: datetime | None
    max_attempts: int
    next_seq: int
    log_size: int


_CANDIDATES = (
    select(
        RUNS.c.id,
        RUNS.c.job_name,
        RUNS.c.job_type,
        RUNS.c.job_schedule_id,
        RUNS.c.template_snapshot,
        RUNS.c.parameters,
        RUNS.c.scheduled_for,
        RUNS.c.started_at,
        RUNS.c.deadline_at,
        RUNS.c.attempts,
        RUNS.c.max_attempts,
        RUNS.c.triggered_by,
        RUNS.c.log_size,
        SCHEDULES.c.overlap,
        TEMPLATES.c.name.label("template_name"),
    )
    .select_from(
        RUNS.outerjoin(SCHEDULES, SCHEDULES.c.id == RUNS.c.job_schedule_id).outerjoin(
            TEMPLATES, TEMPLATES.c.id == RUNS.c.job_template_id
        )
    )
    .where(RUNS.c.status == "pending", RUNS.c.cancel_requested.is_(False))
    .order_by(RUNS.c.queued_at, RUNS.c.id)
    .with_for_update(skip_locked=True, of=RUNS)
)


_DUE_CANDIDATES = _CANDIDATES.where(
    or_(RUNS.c.not_before.is_(None), RUNS.c.not_before <= param("b_now", RUNS, "not_before"))
).limit(bindparam("b_limit"))
#: The common case (no overlap=queue run held back), compiled once.
_FAST_CANDIDATES = Prepared(_DUE_CANDIDATES)
#: Rows of the fast path, with the attribute names Core rows have.
_CANDIDATE_FIELDS = [str(column.key) for column in _DUE_CANDIDATES.selected_columns]
_Candidate: Any = namedtuple("_Candidate", _CANDIDATE_FIELDS)  # type: ignore[misc]


def _candidates(
    session: Session, now: datetime, limit: int, only: frozenset[int] | None
) -> list[Any]:
    """Due pending runs, oldest first; overlap=queue lets one run of a schedule at a time."""
    chosen: list[Any] = []
    held: set[int] = set()  # queue schedules with a run running or chosen: the rest waits
    for _ in range(4):
        query = _DUE_CANDIDATES
        if only is not None:
            query = query.where(RUNS.c.id.in_(sorted(only)))
        if held:
            query = query.where(
                or_(RUNS.c.job_schedule_id.is_(None), RUNS.c.job_schedule_id.not_in(held))
            )
        if chosen:
            query = query.where(RUNS.c.id.not_in([row.id for row in chosen]))
        values = {"b_now": now, "b_limit": limit - len(chosen)}
        rows: list[Any]
        if query is _DUE_CANDIDATES:
            found = _FAST_CANDIDATES.fetch(session.connection(), values)
            rows = [_Candidate(*row) for row in found]
        else:
            rows = list(session.execute(query, values).all())
        queue_ids = {r.job_schedule_id for r in rows if r.overlap == "queue"} - held
        if queue_ids:
            held |= set(
                session.execute(
                    select(RUNS.c.job_schedule_id)
                    .where(RUNS.c.status == "running", RUNS.c.job_schedule_id.in_(queue_ids))
                    .distinct()
                ).scalars()
            )
        skipped = False
        for row in rows:
            if row.overlap == "queue":
                if row.job_schedule_id in held:
                    skipped = True
                    continue
                held.add(row.job_schedule_id)
            chosen.append(row)
        # Rows held back by the queue rule made room: look further down the queue.
        if not skipped or len(chosen) >= limit or not rows:
            return chosen
    return chosen


_START = Prepared(
    update(RUNS)
    .where(RUNS.c.id == bindparam("b_id"), RUNS.c.status == "pending")
    .values(
        status="running",
        attempts=bindparam("b_attempt"),
        owner_id=bindparam("b_owner"),
        worker=bindparam("b_worker"),
        host=bindparam("b_host"),
        pid=None,
        pgid=None,
        started_at=param("b_started", RUNS, "started_at"),
        heartbeat_at=param("b_now", RUNS, "heartbeat_at"),
        deadline_at=param("b_deadline", RUNS, "deadline_at"),
        lateness_seconds=bindparam("b_lateness"),
        not_before=None,
    )
)
_ADD_ATTEMPT = Prepared(
    insert(ATTEMPTS).values(
        run_id=bindparam("b_id"),
        attempt=bindparam("b_attempt"),
        status="running",
        started_at=param("b_now", ATTEMPTS, "started_at"),
        worker=bindparam("b_worker"),
    )
)
_EXPIRE = (
    update(RUNS)
    .where(RUNS.c.id == bindparam("b_id"), RUNS.c.status == "pending")
    .values(
        status="timed_out",
        completed_at=param("b_now", RUNS, "completed_at"),
        error_message=bindparam("b_error"),
        not_before=None,
    )
)


def claim(
    session: Session,
    *,
    now: datetime,
    limit: int,
    worker: Worker,
    only: frozenset[int] | None = None,
) -> list[ClaimedRun]:
    """Take up to ``limit`` due pending runs (of ``only``, if given), oldest first."""
    rows = _candidates(session, now, limit, only)
    claimed: list[ClaimedRun] = []
    starts: list[dict[str, Any]] = []
    expired: list[dict[str, Any]] = []
    for row in rows:
        snapshot = row.template_snapshot or {}
        attempt = row.attempts + 1
        deadline_at = row.deadline_at
        if deadline_at is None and snapshot.get("deadline_seconds"):
            deadline_at = now + timedelta(seconds=float(snapshot["deadline_seconds"]))
        if row.attempts and deadline_at is not None and deadline_at <= now:
            error = f"the overall deadline passed before attempt {attempt} could start"
            expired.append({"b_id": row.id, "b_now": now, "b_error": error})
            continue
        started_at = row.started_at or now
        lateness = None
        if row.attempts == 0 and row.triggered_by == "schedule" and row.scheduled_for:
            lateness = max(0.0, (now - row.scheduled_for).total_seconds())
        starts.append(
            {
                "b_id": row.id,
                "b_attempt": attempt,
                "b_owner": worker.owner_id,
                "b_worker": worker.name,
                "b_host": worker.host,
                "b_started": started_at,
                "b_now": now,
                "b_deadline": deadline_at,
                "b_lateness": lateness,
            }
        )
        claimed.append(
            ClaimedRun(
                run_id=row.id,
                attempt=attempt,
                job_name=row.job_name,
                job_type=row.job_type,
                template_name=row.template_name,
                schedule_id=row.job_schedule_id,
                snapshot=snapshot,
                parameters=dict(row.parameters or {}),
                scheduled_for=row.scheduled_for,
                started_at=started_at,
                attempt_started_at=now,
                deadline_at=deadline_at,
                max_attempts=max(1, row.max_attempts),
                next_seq=1,
                log_size=row.log_size or 0,
            )
        )
    connection = session.connection()
    if expired:
        connection.execute(_EXPIRE, expired)
    if not starts:
        return []
    if _START.executemany(connection, starts) != len(starts):
        # Impossible under the write lock (SQLite) or the row locks (PostgreSQL): be loud.
        raise RuntimeError("claimed runs changed during the claim transaction")
    _ADD_ATTEMPT.executemany(
        connection,
        [
            {"b_id": run.run_id, "b_attempt": run.attempt, "b_now": now, "b_worker": worker.name}
            for run in claimed
        ],
    )
    return _with_log_positions(session, claimed)


def _with_log_positions(session: Session, claimed: list[ClaimedRun]) -> list[ClaimedRun]:
    """Retries continue the run's log after the chunks earlier attempts wrote."""
    retried = [run.run_id for run in claimed if run.attempt > 1]
    if not retried:
        return claimed
    last = dict(
        session.execute(
            select(CHUNKS.c.run_id, func.max(CHUNKS.c.seq))
            .where(CHUNKS.c.run_id.in_(retried))
            .group_by(CHUNKS.c.run_id)
        ).all()
    )
    return [
        replace(run, next_seq=int(last[run.run_id]) + 1) if run.run_id in last else run
        for run in claimed
    ]
