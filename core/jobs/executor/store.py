"""The executor's writes after a claim, batched: pids, log chunks, outcomes, heartbeats, worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from core.jobs.executor.fastsql import Prepared
from core.jobs.executor.schema import ATTEMPTS, CHUNKS, RUNS, param

log = logging.getLogger("jobdeck.executor")


@dataclass(frozen=True)
class Spawned:
    """An attempt's process started: where reconcile finds its group after a crash."""

    run_id: int
    attempt: int
    pid: int


@dataclass(frozen=True)
class Finish:
    """How an attempt ended and what becomes of its run (a final status, or pending again)."""

    run_id: int
    attempt: int
    status: str
    attempt_status: str
    now: datetime
    duration: float
    exit_code: int | None
    signal: int | None
    result: Any
    error: str | None
    cancel_reason: str | None
    log_size: int
    not_before: datetime | None
    #: the attempt's process (also its group), when it got that far
    pid: int | None = None


@dataclass
class Batch:
    """Everything one flush writes, in one transaction."""

    owner_id: str
    chunks: list[dict[str, Any]] = field(default_factory=list)
    log_sizes: dict[int, int] = field(default_factory=dict)
    spawned: list[Spawned] = field(default_factory=list)
    finishes: list[Finish] = field(default_factory=list)
    heartbeat_runs: list[int] = field(default_factory=list)
    heartbeat_at: datetime | None = None

    def empty(self) -> bool:
        """Nothing to write."""
        return not (self.chunks or self.log_sizes or self.spawned or self.finishes) and (
            self.heartbeat_at is None
        )


_SPAWNED = Prepared(
    update(RUNS)
    .where(RUNS.c.id == bindparam("b_id"), RUNS.c.owner_id == bindparam("b_owner"))
    .values(pid=bindparam("b_pid"), pgid=bindparam("b_pid"))
)
_SPAWNED_ATTEMPT = Prepared(
    update(ATTEMPTS)
    .where(ATTEMPTS.c.run_id == bindparam("b_id"), ATTEMPTS.c.attempt == bindparam("b_attempt"))
    .values(pid=bindparam("b_pid"))
)
_LOG_SIZE = Prepared(
    update(RUNS).where(RUNS.c.id == bindparam("b_id")).values(log_size=bindparam("b_size"))
)
_ADD_CHUNK = Prepared(
    insert(CHUNKS).values(
        run_id=bindparam("b_run"),
        attempt=bindparam("b_attempt"),
        seq=bindparam("b_seq"),
        stream=bindparam("b_stream"),
        created_at=param("b_at", CHUNKS, "created_at"),
        data=bindparam("b_data"),
    )
)
_FINAL = Prepared(
    update(RUNS)
    .where(
        RUNS.c.id == bindparam("b_id"),
        RUNS.c.status == "running",
        RUNS.c.owner_id == bindparam("b_owner"),
    )
    .values(
        status=bindparam("b_status"),
        completed_at=param("b_now", RUNS, "completed_at"),
        heartbeat_at=param("b_now2", RUNS, "heartbeat_at"),
        duration_seconds=bindparam("b_duration"),
        exit_code=bindparam("b_exit"),
        signal=bindparam("b_signal"),
        result=param("b_result", RUNS, "result"),
        error_message=bindparam("b_error"),
        cancel_reason=func.coalesce(bindparam("b_reason"), RUNS.c.cancel_reason),
        log_size=bindparam("b_size"),
        not_before=param("b_not_before", RUNS, "not_before"),
        pid=func.coalesce(bindparam("b_pid"), RUNS.c.pid),
        pgid=func.coalesce(bindparam("b_pid"), RUNS.c.pgid),
    )
)
#: A retry waits as pending (claimable by any owner after ``not_before``); its last attempt's
#: exit code, signal and error stay visible meanwhile.
_RETRY = Prepared(
    update(RUNS)
    .where(
        RUNS.c.id == bindparam("b_id"),
        RUNS.c.status == "running",
        RUNS.c.owner_id == bindparam("b_owner"),
    )
    .values(
        status="pending",
        owner_id=None,
        heartbeat_at=None,
        exit_code=bindparam("b_exit"),
        signal=bindparam("b_signal"),
        error_message=bindparam("b_error"),
        log_size=bindparam("b_size"),
        not_before=param("b_not_before", RUNS, "not_before"),
        pid=func.coalesce(bindparam("b_pid"), RUNS.c.pid),
        pgid=func.coalesce(bindparam("b_pid"), RUNS.c.pgid),
    )
)
_ATTEMPT_END = Prepared(
    update(ATTEMPTS)
    .where(ATTEMPTS.c.run_id == bindparam("b_id"), ATTEMPTS.c.attempt == bindparam("b_attempt"))
    .values(
        status=bindparam("b_status"),
        completed_at=param("b_now", ATTEMPTS, "completed_at"),
        exit_code=bindparam("b_exit"),
        signal=bindparam("b_signal"),
        error_message=bindparam("b_error"),
        pid=func.coalesce(bindparam("b_pid"), ATTEMPTS.c.pid),
    )
)


_RETRY_KEYS = (
    "b_id",
    "b_owner",
    "b_exit",
    "b_signal",
    "b_error",
    "b_size",
    "b_not_before",
    "b_pid",
)


def _finish_params(finish: Finish, owner_id: str) -> dict[str, Any]:
    return {
        "b_id": finish.run_id,
        "b_owner": owner_id,
        "b_status": finish.status,
        "b_now": finish.now,
        "b_now2": finish.now,
        "b_duration": finish.duration,
        "b_exit": finish.exit_code,
        "b_signal": finish.signal,
        "b_result": finish.result,
        "b_error": finish.error,
        "b_reason": finish.cancel_reason,
        "b_size": finish.log_size,
        "b_not_before": finish.not_before,
        "b_pid": finish.pid,
    }


def _end_runs(connection: Connection, batch: Batch) -> set[int]:
    """Apply the outcomes (one statement per kind); the runs someone else had taken."""
    refused: set[int] = set()
    finals = [f for f in batch.finishes if f.status != "pending"]
    retries = [f for f in batch.finishes if f.status == "pending"]
    for group, statement, keys in ((finals, _FINAL, None), (retries, _RETRY, _RETRY_KEYS)):
        if not group:
            continue
        rows = [_finish_params(f, batch.owner_id) for f in group]
        if keys is not None:
            rows = [{k: row[k] for k in keys} for row in rows]
        if statement.executemany(connection, rows) == len(group):
            continue
        # Some run was no longer ours (reconciled by another owner): find out which.
        found = connection.execute(
            select(RUNS.c.id, RUNS.c.status, RUNS.c.owner_id, RUNS.c.completed_at).where(
                RUNS.c.id.in_([f.run_id for f in group])
            )
        ).all()
        state = {row.id: row for row in found}
        for f in group:
            row = state.get(f.run_id)
            mine = row is not None and row.status == f.status
            if f.status == "pending":
                mine = mine and row is not None and row.owner_id is None
            else:
                mine = mine and row is not None and row.completed_at == f.now
            if not mine:
                refused.add(f.run_id)
    return refused


def write_batch(session: Session, batch: Batch) -> set[int]:
    """Apply ``batch``; the run ids whose finish was not applied (someone else took the run)."""
    connection = session.connection()
    if batch.chunks:
        _ADD_CHUNK.executemany(
            connection,
            [
                {
                    "b_run": c["run_id"],
                    "b_attempt": c["attempt"],
                    "b_seq": c["seq"],
                    "b_stream": c["stream"],
                    "b_at": c["created_at"],
                    "b_data": c["data"],
                }
                for c in batch.chunks
            ],
        )
    if batch.spawned:
        params = [
            {"b_id": s.run_id, "b_attempt": s.attempt, "b_pid": s.pid, "b_owner": batch.owner_id}
            for s in batch.spawned
        ]
        _SPAWNED.executemany(
            connection, [{k: p[k] for k in ("b_id", "b_pid", "b_owner")} for p in params]
        )
        _SPAWNED_ATTEMPT.executemany(
            connection, [{k: p[k] for k in ("b_id", "b_attempt", "b_pid")} for p in params]
        )
    finishing = {f.run_id for f in batch.finishes}
    sizes = [
        {"b_id": run_id, "b_size": size}
        for run_id, size in batch.log_sizes.items()
        if run_id not in finishing
    ]
    if sizes:
        _LOG_SIZE.executemany(connection, sizes)
    refused = _end_runs(connection, batch)
    ended = [
        {
            "b_id": f.run_id,
            "b_attempt": f.attempt,
            "b_status": f.attempt_status,
            "b_now": f.now,
            "b_exit": f.exit_code,
            "b_signal": f.signal,
            "b_error": f.error,
            "b_pid": f.pid,
        }
        for f in batch.finishes
        if f.run_id not in refused
    ]
    if ended:
        _ATTEMPT_END.executemany(connection, ended)
    if batch.heartbeat_at is not None and batch.heartbeat_runs:
        connection.execute(
            update(RUNS)
            .where(
                RUNS.c.id.in_(batch.heartbeat_runs),
                RUNS.c.owner_id == batch.owner_id,
                RUNS.c.status == "running",
            )
            .values(heartbeat_at=batch.heartbeat_at)
        )
    return refused
