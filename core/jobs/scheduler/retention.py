"""History retention (rule 14): per template, keep N successes, M failures, and a max age.

A template's ``retention`` JSON may set ``keep_success``, ``keep_failure`` and
``max_age_days``; missing or unusable values fall back to the defaults below. The newest
success and the newest failure are always kept, whatever their age, and pending or running
runs are never touched. Deletes go in small id chunks, each in its own short transaction, so a
big clean-up never holds the write lock for long. Ledger rows older than the max age (and at
least ``LEDGER_MIN_DAYS``) go too: the ledger only has to dedupe occurrences near next_run.
Capping the log bytes of a run is the executor's job (it keeps head and tail as it writes).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from core.clock import Clock
from core.jobs.audit import Actor, record
from core.jobs.scheduler.bulk import rowcount
from core.jobs.scheduler.reports import RetentionReport
from core.jobs.scheduler.state import LEDGER, RUNS, SCHEDULES
from core.storage.database import Database
from core.storage.tables import JobTemplate

log = logging.getLogger("jobdeck.scheduler.retention")

DEFAULTS = {"keep_success": 100, "keep_failure": 100, "max_age_days": 30}
SUCCESS = ("completed",)
FAILURE = ("failed", "timed_out", "cancelled", "lost")
#: Ledger rows younger than this stay, even when a template keeps runs for less.
LEDGER_MIN_DAYS = 7
_CHUNK = 500
_TEMPLATES = JobTemplate.__table__  # type: ignore[attr-defined]


def policy_of(retention: Any) -> dict[str, int]:
    """The effective retention numbers of a template's JSON (defaults fill the gaps)."""
    found = dict(DEFAULTS)
    if isinstance(retention, dict):
        for name in DEFAULTS:
            value = retention.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                found[name] = value
    return found


def retention_pass(db: Database, clock: Clock) -> RetentionReport:
    """Delete what every template's retention no longer keeps; returns the counts."""
    now = clock.now()
    with db.read() as session:
        templates = list(
            session.execute(select(_TEMPLATES.c.id, _TEMPLATES.c.name, _TEMPLATES.c.retention))
        )
    per_template: dict[str, int] = {}
    runs_deleted = ledger_deleted = 0
    for template_id, name, retention in templates:
        policy = policy_of(retention)
        cutoff = now - timedelta(days=policy["max_age_days"])
        deleted = _trim(db, template_id, SUCCESS, policy["keep_success"], cutoff)
        deleted += _trim(db, template_id, FAILURE, policy["keep_failure"], cutoff)
        ledger_cutoff = now - timedelta(days=max(policy["max_age_days"], LEDGER_MIN_DAYS))
        ledger_deleted += _trim_ledger(db, template_id, ledger_cutoff)
        if deleted:
            per_template[name] = deleted
            runs_deleted += deleted
    report = RetentionReport(now, runs_deleted, ledger_deleted, per_template)
    if runs_deleted or ledger_deleted:
        log.info("retention: deleted %d runs and %d ledger rows", runs_deleted, ledger_deleted)
        with db.write() as session:
            record(
                session,
                Actor.system(),
                now,
                "retention.pass",
                "run",
                None,
                None,
                after={
                    "runs": runs_deleted,
                    "ledger": ledger_deleted,
                    "per_template": per_template,
                },
            )
    return report


def _bucket(template_id: int, statuses: Sequence[str]) -> Any:
    return select(RUNS.c.id).where(
        RUNS.c.job_template_id == template_id, RUNS.c.status.in_(statuses)
    )


def _trim(
    db: Database, template_id: int, statuses: Sequence[str], keep: int, cutoff: datetime
) -> int:
    """Delete a status bucket's runs beyond the newest ``keep`` or older than ``cutoff``."""
    newest_first = (RUNS.c.queued_at.desc(), RUNS.c.id.desc())
    deleted = 0
    # Always keep the newest run of the bucket (the last success or the last failure).
    protected = max(keep, 1)
    while True:
        with db.read() as session:
            over = [
                row[0]
                for row in session.execute(
                    _bucket(template_id, statuses)
                    .order_by(*newest_first)
                    .offset(protected)
                    .limit(_CHUNK)
                )
            ]
            newest = session.execute(
                _bucket(template_id, statuses).order_by(*newest_first).limit(1)
            ).scalar()
            old = [
                row[0]
                for row in session.execute(
                    _bucket(template_id, statuses)
                    .where(RUNS.c.queued_at < cutoff, RUNS.c.id != newest)
                    .limit(_CHUNK)
                )
            ]
        ids = sorted(set(over) | set(old))
        gone = _delete_runs(db, ids, statuses) if ids else 0
        if not gone:
            return deleted
        deleted += gone


def _delete_runs(db: Database, ids: list[int], statuses: Sequence[str]) -> int:
    with db.write() as session:
        # The status condition again: a run cannot have become active, but say so in SQL.
        result = session.execute(
            delete(RUNS).where(RUNS.c.id.in_(ids), RUNS.c.status.in_(statuses))
        )
        return rowcount(result)


def _trim_ledger(db: Database, template_id: int, cutoff: datetime) -> int:
    deleted = 0
    schedules = select(SCHEDULES.c.id).where(SCHEDULES.c.job_template_id == template_id)
    while True:
        with db.write() as session:
            ids = [
                row[0]
                for row in session.execute(
                    select(LEDGER.c.id)
                    .where(LEDGER.c.schedule_id.in_(schedules), LEDGER.c.scheduled_for < cutoff)
                    .limit(_CHUNK)
                )
            ]
            if not ids:
                return deleted
            deleted += rowcount(session.execute(delete(LEDGER).where(LEDGER.c.id.in_(ids))))
