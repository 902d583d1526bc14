"""Reconcile runs left `running` by a dead owner, and process groups that outlived their run.

A run is reconciled when its owner stopped heartbeating for 3 periods, or when it carries our
owner id but this process does not run it (a previous life with the same id). Its process
group, if it still lives on this host, is killed (a dead owner's pipes are gone, so nobody can
read the job's output or learn its exit status); the run becomes `lost`, then is retried when
its policy says so. A process is only killed when it is marked as the run's own (its
JOBDECK_RUN_ID, or the fork-server child's name), never because a recorded pid matches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from core.jobs.executor.config import ReconcileReport, Worker
from core.jobs.executor.outcome import signal_name
from core.jobs.executor.procs import (
    ProcInfo,
    group_members,
    kill_group,
    marked_processes,
    started_at,
)
from core.jobs.executor.retry import decide
from core.jobs.executor.schema import ATTEMPTS, CHUNKS, RUNS
from core.storage.database import Database

log = logging.getLogger("jobdeck.executor")
#: A run is presumed dead after this many missed heartbeats (SCHEDULING.md rule 15).
STALE_PERIODS = 3
#: A fork child's start time may trail the attempt's recorded start by this much.
START_SLACK = timedelta(seconds=2)


@dataclass
class Stale:
    """A running run whose owner is gone."""

    run_id: int
    owner_id: str | None
    host: str | None
    pgid: int | None
    attempt: int
    attempt_started_at: datetime | None
    max_attempts: int
    snapshot: dict[str, Any]
    deadline_at: datetime | None
    heartbeat_at: datetime | None


def find_stale(
    session: Session,
    *,
    owner_id: str,
    now: datetime,
    period: float,
    ours: set[int],
    born: datetime,
) -> list[Stale]:
    """Running runs whose owner stopped heartbeating, and ours that this process does not run.

    A run with our owner id is ours only if this process runs it (``ours``); one stamped
    before this executor started (``born``) is a previous life's. A run claimed a moment ago
    may not be in ``ours`` yet, but its heartbeat is fresh, so it is never taken for dead.
    """
    cutoff = now - timedelta(seconds=STALE_PERIODS * period)
    last_sign = func.coalesce(RUNS.c.heartbeat_at, RUNS.c.started_at, RUNS.c.queued_at)
    rows = session.execute(
        select(
            RUNS.c.id,
            RUNS.c.owner_id,
            RUNS.c.host,
            RUNS.c.pgid,
            RUNS.c.attempts,
            RUNS.c.max_attempts,
            RUNS.c.template_snapshot,
            RUNS.c.deadline_at,
            RUNS.c.heartbeat_at,
            ATTEMPTS.c.started_at.label("attempt_started_at"),
        )
        .select_from(
            RUNS.outerjoin(
                ATTEMPTS,
                (ATTEMPTS.c.run_id == RUNS.c.id) & (ATTEMPTS.c.attempt == RUNS.c.attempts),
            )
        )
        .where(
            RUNS.c.status == "running",
            ((RUNS.c.owner_id.is_distinct_from(owner_id)) & (last_sign < cutoff))
            | ((RUNS.c.owner_id == owner_id) & ((last_sign < cutoff) | (last_sign < born))),
        )
    ).all()
    return [
        Stale(
            run_id=row.id,
            owner_id=row.owner_id,
            host=row.host,
            pgid=row.pgid,
            attempt=max(1, row.attempts),
            attempt_started_at=row.attempt_started_at,
            max_attempts=max(1, row.max_attempts),
            snapshot=row.template_snapshot or {},
            deadline_at=row.deadline_at,
            heartbeat_at=row.heartbeat_at,
        )
        for row in rows
        if row.owner_id != owner_id or row.id not in ours
    ]


def _alive(pgid: int) -> bool:
    return bool(group_members(pgid))


def groups_of(stale: Stale, marked: list[tuple[ProcInfo, int]]) -> set[int]:
    """The live process groups on this host that belong to the stale run's attempt."""
    groups = set()
    for info, run_id in marked:
        if run_id != stale.run_id:
            continue
        if stale.pgid is not None:
            if info.pgid == stale.pgid:
                groups.add(info.pgid)
        elif stale.attempt_started_at is None or (
            started_at(info) >= stale.attempt_started_at - START_SLACK
        ):
            # The owner died before it recorded the group: trust the marker and the age.
            groups.add(info.pgid)
    return groups


def mark_lost(
    session: Session, stale: Stale, *, now: datetime, note: str, period: float, owner_id: str
) -> str | None:
    """End the stale run as lost (or pending for a retry); None when it changed meanwhile."""
    cutoff = now - timedelta(seconds=STALE_PERIODS * period)
    last_sign = func.coalesce(RUNS.c.heartbeat_at, RUNS.c.started_at, RUNS.c.queued_at)
    guard = [
        RUNS.c.id == stale.run_id,
        RUNS.c.status == "running",
        RUNS.c.owner_id.is_not_distinct_from(stale.owner_id),
    ]
    if stale.owner_id != owner_id:
        guard.append(last_sign < cutoff)
    decision = decide(
        stale.snapshot,
        status="lost",
        attempt=stale.attempt,
        max_attempts=stale.max_attempts,
        deadline_at=stale.deadline_at,
        now=now,
    )
    error = f"lost: {note}"
    values: dict[str, Any] = {"error_message": error, "heartbeat_at": None}
    if decision.retry:
        values.update(status="pending", owner_id=None, not_before=decision.not_before)
        note += f"; attempt {stale.attempt + 1} of {stale.max_attempts} will follow"
    else:
        values.update(status="lost", completed_at=now)
    done = session.execute(update(RUNS).where(*guard).values(**values))
    if not done.rowcount:  # type: ignore[attr-defined]
        return None
    session.execute(
        update(ATTEMPTS)
        .where(ATTEMPTS.c.run_id == stale.run_id, ATTEMPTS.c.attempt == stale.attempt)
        .values(status="lost", completed_at=now, error_message=error)
    )
    text = f"[jobdeck] lost: {note}\n"
    last_seq = session.execute(
        select(func.max(CHUNKS.c.seq)).where(CHUNKS.c.run_id == stale.run_id)
    ).scalar()
    session.execute(
        insert(CHUNKS).values(
            run_id=stale.run_id,
            attempt=stale.attempt,
            seq=(last_seq or 0) + 1,
            stream="system",
            created_at=now,
            data=text,
        )
    )
    session.execute(
        update(RUNS)
        .where(RUNS.c.id == stale.run_id)
        .values(log_size=RUNS.c.log_size + len(text.encode()))
    )
    return "pending" if decision.retry else "lost"


def finished_groups(
    session: Session, marked: list[tuple[ProcInfo, int]], host: str
) -> list[tuple[int, int]]:
    """(run id, group) of live groups an ended attempt on this host recorded: leftovers."""
    by_run: dict[int, set[int]] = {}
    for info, run_id in marked:
        by_run.setdefault(run_id, set()).add(info.pgid)
    if not by_run:
        return []
    rows = session.execute(
        select(ATTEMPTS.c.run_id, ATTEMPTS.c.pid)
        .select_from(ATTEMPTS.join(RUNS, RUNS.c.id == ATTEMPTS.c.run_id))
        .where(
            ATTEMPTS.c.run_id.in_(list(by_run)),
            ATTEMPTS.c.status != "running",
            ATTEMPTS.c.pid.is_not(None),
            RUNS.c.host == host,
        )
    ).all()
    return sorted({(r.run_id, r.pid) for r in rows if r.pid in by_run.get(r.run_id, set())})


async def kill_groups(groups: set[int], grace: float) -> dict[int, int | None]:
    """Kill several groups at once; the last signal each needed."""
    ordered = sorted(groups)
    signals = await asyncio.gather(*(kill_group(pgid, grace) for pgid in ordered))
    return dict(zip(ordered, signals, strict=True))


def describe_owner(stale: Stale, me: Worker, now: datetime) -> str:
    """Why the run is presumed dead, for its log and the report."""
    if stale.owner_id == me.owner_id:
        return "this owner restarted and no longer runs it"
    owner = (stale.owner_id or "unknown")[:8]
    if stale.heartbeat_at is None:
        return f"owner {owner} on {stale.host or 'an unknown host'} never heartbeated it"
    silent = (now - stale.heartbeat_at).total_seconds()
    return f"owner {owner} on {stale.host or 'an unknown host'} silent for {silent:.0f} s"


async def reconcile_once(
    *,
    db: Database,
    call: Callable[[Callable[[], Any]], Awaitable[Any]],
    me: Worker,
    now: datetime,
    period: float,
    grace: float,
    stale: list[Stale],
) -> ReconcileReport:
    """Kill what lives of the stale runs, mark them lost (or retry), then kill leftovers."""
    marked = await asyncio.to_thread(marked_processes)
    targets: dict[int, set[int]] = {}
    for run in stale:
        if run.host in (None, me.host):
            targets[run.run_id] = groups_of(run, marked)
    killed = await kill_groups(set().union(*targets.values()) if targets else set(), grace)
    lost, retried, notes = [], [], []
    for run in stale:
        note = describe_owner(run, me, now)
        groups = targets.get(run.run_id)
        if groups is None:
            note += f"; its processes on {run.host} could not be checked from {me.host}"
        elif groups:
            how = ", ".join(
                f"{g} ({signal_name(sig)})" for g in sorted(groups) if (sig := killed[g])
            )
            note += f"; killed its process group {how or ', '.join(map(str, sorted(groups)))}"
        elif run.pgid is not None and await asyncio.to_thread(_alive, run.pgid):
            note += (
                f"; process group {run.pgid} lives but is not marked as this run's "
                "(its id was reused?): left alone"
            )
        else:
            note += "; its processes were already gone"

        def write(run: Stale = run, note: str = note) -> str | None:
            with db.write() as session:
                return mark_lost(
                    session, run, now=now, note=note, period=period, owner_id=me.owner_id
                )

        outcome = await call(write)
        if outcome is not None:
            lost.append(run.run_id)
            notes.append(f"run {run.run_id}: {note}")
            if outcome == "pending":
                retried.append(run.run_id)

    def leftovers() -> list[tuple[int, int]]:
        with db.read() as session:
            return finished_groups(session, marked, me.host)

    ended = await call(leftovers)
    if ended:
        extra = await kill_groups({pgid for _, pgid in ended}, grace)
        killed.update(extra)
        notes += [f"run {run_id}: killed leftover process group {pgid}" for run_id, pgid in ended]
    return ReconcileReport(
        lost=tuple(lost),
        retried=tuple(retried),
        killed_groups=tuple(sorted(g for g, sig in killed.items() if sig is not None)),
        notes=tuple(notes),
    )
