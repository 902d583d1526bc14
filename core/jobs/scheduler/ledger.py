"""The writes of one batch: pending runs, ledger rows, replace cancels, advanced next_runs.

All of them run inside the batch's transaction (see ``batch.record_batch``) through the bulk
path (``bulk.Binder``): one executemany per statement, constant columns processed once.
Pending runs are inserted without RETURNING (SQLite's executemany cannot return rows); their
ids are read back by key from the rows above the largest id seen before the insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from core.jobs.scheduler.bulk import Binder
from core.jobs.scheduler.runrows import VARYING, RunRows
from core.jobs.scheduler.state import ACTIVE, LEDGER, RUNS, SCHEDULES
from core.storage.tables import JobTemplate

RunKey = tuple[int, datetime]
#: The ledger columns given per row (recorded_at is one value for the whole batch).
LEDGER_COLUMNS = ("schedule_id", "scheduled_for", "outcome", "reason", "run_id", "lateness_seconds")


def insert_runs(
    session: Session,
    binder: Binder,
    runs: RunRows,
    groups: dict[int, tuple[JobTemplate, list[tuple[Any, ...]]]],
) -> tuple[dict[RunKey, int], list[int]]:
    """Insert pending runs per template; returns key -> run id, and the ids created."""
    wanted = {
        (row[0], row[3]) for _, rows in groups.values() for row in rows
    }  # (job_schedule_id, scheduled_for)
    if not wanted:
        return {}, []
    before = session.execute(select(func.max(RUNS.c.id))).scalar() or 0
    found: dict[RunKey, int] = {}
    if binder.is_sqlite:
        # The batch holds SQLite's write lock, so nobody else can take ids meanwhile: number
        # the runs ourselves and skip reading them back (executemany cannot RETURNING).
        next_id = before + 1
        inserted = 0
        for template, rows in groups.values():
            numbered = [(next_id + i, *row) for i, row in enumerate(rows)]
            for run_id, *row in numbered:
                found[(row[0], row[3])] = run_id
            next_id += len(rows)
            inserted += binder.insert(
                session,
                RUNS,
                ("id", *VARYING),
                numbered,
                runs.constant(template),
                ignore_duplicates=True,
            )
        if inserted != len(found):  # some keys existed already: keep only the rows we made
            made = _existing_ids(session, binder, before)
            found = {key: run_id for key, run_id in found.items() if run_id in made}
    else:
        for template, rows in groups.values():
            binder.insert(
                session, RUNS, VARYING, rows, runs.constant(template), ignore_duplicates=True
            )
        convert = binder.converter(RUNS.c.scheduled_for, results=True)
        sql = (
            "SELECT id, job_schedule_id, scheduled_for FROM job_runs "
            f"WHERE id > {binder.placeholder} AND triggered_by = 'schedule'"
        )
        for run_id, schedule_id, raw in binder.select(session, sql, (before,)):
            key = (schedule_id, convert(raw))
            if key in wanted:
                found[key] = int(run_id)
    created = list(found.values())
    for key in wanted - set(found):
        # The key already had a scheduled run (its ledger row went with old history): point
        # the ledger at that run rather than create a second one for the same occurrence.
        existing = session.execute(
            select(RUNS.c.id).where(
                RUNS.c.job_schedule_id == key[0],
                RUNS.c.scheduled_for == key[1],
                RUNS.c.triggered_by == "schedule",
            )
        ).scalar()
        if existing is not None:
            found[key] = int(existing)
    return found, created


def _existing_ids(session: Session, binder: Binder, above: int) -> set[int]:
    sql = f"SELECT id FROM job_runs WHERE id > {binder.placeholder}"
    return {int(row[0]) for row in binder.select(session, sql, (above,))}


def insert_ledger(
    session: Session, binder: Binder, rows: Sequence[tuple[Any, ...]], recorded_at: datetime
) -> None:
    """One ledger row per occurrence; a key already present stays as it is."""
    binder.insert(
        session, LEDGER, LEDGER_COLUMNS, rows, {"recorded_at": recorded_at}, ignore_duplicates=True
    )


def cancel_active(session: Session, cancels: Sequence[tuple[int, str]]) -> None:
    """Ask the active runs of these schedules to cancel (overlap ``replace``)."""
    if cancels:
        session.execute(
            update(RUNS)
            .where(
                RUNS.c.job_schedule_id == bindparam("sid"),
                RUNS.c.status.in_(ACTIVE),
                RUNS.c.cancel_requested.is_(False),
            )
            .values(cancel_requested=True, cancel_reason=bindparam("why")),
            [{"sid": sid, "why": why} for sid, why in cancels],
        )


def advance(
    session: Session,
    binder: Binder,
    advances: Sequence[tuple[int, datetime | None, datetime | None]],
) -> None:
    """Move each schedule's next_run on, and its last_run to the newest occurrence that ran."""
    next_run = binder.converter(SCHEDULES.c.next_run, results=False)
    last_run = binder.converter(SCHEDULES.c.last_run, results=False)
    ph = binder.placeholder
    binder.execute_many(
        session,
        f"UPDATE job_schedules SET next_run = {ph}, last_run = COALESCE({ph}, last_run) "
        f"WHERE id = {ph}",
        [(next_run(nxt), last_run(last), sid) for sid, nxt, last in advances],
    )
