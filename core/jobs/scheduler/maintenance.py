"""Backend maintenance (rule 10) and backfill runs (rule 13).

Maintenance is the SystemState row ``maintenance`` = {"reason", "since", "by"}; while it is
set, every due occurrence is recorded ``skipped: maintenance`` as it comes due, so the ledger
stays current and exactly-once. Resuming skips what was missed unless asked to catch up; then
each schedule's catch-up policy picks, among its occurrences skipped since maintenance began,
the ones to run, and their ledger rows change from ``skipped`` to ``ran`` (still one record
per occurrence). Backfill creates runs for past occurrences without consuming them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlmodel import Session

from core.clock import Clock
from core.errors import Conflict, ValidationFailed
from core.jobs.audit import Actor, record
from core.jobs.scheduler.batch import finalize
from core.jobs.scheduler.bulk import insert_ignoring_duplicates
from core.jobs.scheduler.lease import Lease
from core.jobs.scheduler.occurrences import fires_between
from core.jobs.scheduler.policy import MAINTENANCE, plan_due
from core.jobs.scheduler.runrows import RunRows
from core.jobs.scheduler.state import (
    LEDGER,
    RUNS,
    SCHEDULES,
    DueSchedule,
    active_runs,
    read_schedule,
)
from core.jobs.schedules import load_schedule
from core.jobs.system_state import MAINTENANCE_KEY, maintenance
from core.storage.tables import JobTemplate, SystemState

#: Backfill creates at most this many runs per call.
BACKFILL_LIMIT = 1000
#: Per schedule, only this many of the newest maintenance-skipped occurrences are considered.
_CATCHUP_SCAN = 1000
CAUGHT_UP = "caught up after maintenance"
_STATE = SystemState.__table__  # type: ignore[attr-defined]

CatchUpRuns = list[tuple[DueSchedule, JobTemplate, datetime]]


def pause(session: Session, now: datetime, reason: str, actor: Actor) -> None:
    """Switch maintenance on (or update its reason)."""
    reason = reason.strip() or "maintenance"
    value = {"reason": reason, "since": now.isoformat(), "by": actor.name}
    state = session.get(SystemState, MAINTENANCE_KEY)
    before = state.value if state else None
    if isinstance(before, dict) and before.get("since"):
        value["since"] = before["since"]  # a new reason does not restart the window
    if state is None:
        state = SystemState(key=MAINTENANCE_KEY, value=value, updated_at=now)
    else:
        state.value, state.updated_at = value, now
    session.add(state)
    record(session, actor, now, "backend.pause", "system", None, MAINTENANCE_KEY, after=value)


def catch_up_runs(session: Session, now: datetime, stale_seconds: float) -> CatchUpRuns:
    """The runs ending maintenance with catch-up would create (schedule, template, occurrence)."""
    switch = maintenance(session)
    if switch is None:
        return []
    since = _since(switch, now)
    ranked = (
        select(
            LEDGER.c.schedule_id,
            LEDGER.c.scheduled_for,
            func.row_number()
            .over(partition_by=LEDGER.c.schedule_id, order_by=LEDGER.c.scheduled_for.desc())
            .label("rank"),
        )
        .where(
            LEDGER.c.outcome == "skipped",
            LEDGER.c.reason.like(f"{MAINTENANCE}%"),
            LEDGER.c.scheduled_for >= since,
        )
        .subquery()
    )
    by_schedule: dict[int, list[datetime]] = defaultdict(list)
    for schedule_id, at in session.execute(
        select(ranked.c.schedule_id, ranked.c.scheduled_for).where(ranked.c.rank <= _CATCHUP_SCAN)
    ):
        by_schedule[schedule_id].append(at)
    active = active_runs(session, list(by_schedule), now, stale_seconds) if by_schedule else {}
    found: CatchUpRuns = []
    for schedule_id, times in sorted(by_schedule.items()):
        schedule = read_schedule(session, schedule_id)
        active_now = session.execute(
            select(SCHEDULES.c.is_active).where(SCHEDULES.c.id == schedule_id)
        ).scalar()
        if schedule is None or not active_now:
            continue
        template = session.get(JobTemplate, schedule.template_id)
        assert template is not None
        decisions = plan_due(sorted(times), now, schedule.policy, catching_up=True)
        decisions, _ = finalize(
            decisions, schedule, template, None, active.get(schedule_id, 0), now
        )
        found.extend((schedule, template, d.scheduled_for) for d in decisions if d.verdict == "run")
    return found


def resume(
    session: Session,
    *,
    clock: Clock,
    lease: Lease,
    runs: RunRows,
    catch_up: bool,
    stale_seconds: float,
    actor: Actor,
) -> tuple[dict[str, Any] | None, CatchUpRuns, list[int]]:
    """End maintenance; with ``catch_up``, run what the catch-up policies keep."""
    now = clock.now()
    switch = maintenance(session)
    planned = catch_up_runs(session, now, stale_seconds) if catch_up and switch else []
    run_ids: list[int] = []
    if planned:
        if not lease.check_in(session):
            raise Conflict("this process does not own scheduling for the database")
        rows = [runs.build(template, schedule, at) for schedule, template, at in planned]
        statement = insert_ignoring_duplicates(session, RUNS).returning(
            RUNS.c.id, RUNS.c.job_schedule_id, RUNS.c.scheduled_for
        )
        inserted = session.execute(statement, rows).all()
        run_ids = [row[0] for row in inserted]
        session.execute(
            update(LEDGER)
            .where(
                and_(
                    LEDGER.c.schedule_id == bindparam("sid"),
                    LEDGER.c.scheduled_for == bindparam("at"),
                    LEDGER.c.outcome == "skipped",
                )
            )
            .values(outcome="ran", reason=CAUGHT_UP, run_id=bindparam("rid")),
            [{"sid": sid, "at": at, "rid": rid} for rid, sid, at in inserted],
        )
    session.execute(delete(_STATE).where(_STATE.c.key == MAINTENANCE_KEY))
    if switch is not None:
        after = {"catch_up": catch_up, "runs": run_ids}
        record(
            session,
            actor,
            now,
            "backend.resume",
            "system",
            None,
            MAINTENANCE_KEY,
            before=switch,
            after=after,
        )
    return switch, planned, run_ids


def _since(switch: dict[str, Any], now: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(switch["since"]))
    except (KeyError, ValueError):
        return datetime.min.replace(tzinfo=now.tzinfo)


def backfill(
    session: Session,
    ref: int | str,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    runs: RunRows,
    actor: Actor,
) -> list[int]:
    """Runs (triggered_by="backfill") for every occurrence in [start, end]; consumes none."""
    for name, value in (("start", start), ("end", end)):
        if value.utcoffset() is None:
            raise ValidationFailed(name, "must include a timezone or UTC offset")
    if end < start:
        raise ValidationFailed("end", "the range ends before it starts")
    if end > now:
        raise ValidationFailed("end", "backfill covers past occurrences only")
    row = load_schedule(session, ref)
    assert row.id is not None
    template = session.get(JobTemplate, row.job_template_id)
    assert template is not None
    if template.paused:
        raise Conflict(f"template {template.name!r} is paused")
    switch = maintenance(session)
    if switch is not None:
        raise Conflict(f"the backend is paused for maintenance ({switch.get('reason')})")
    schedule = read_schedule(session, row.id)
    assert schedule is not None
    times = fires_between(schedule.key, start, end, BACKFILL_LIMIT)
    if not times:
        return []
    rows = [runs.build(template, schedule, at, triggered_by="backfill") for at in times]
    statement = RUNS.insert().returning(RUNS.c.id)
    run_ids = [int(r[0]) for r in session.execute(statement, rows)]
    record(
        session,
        actor,
        now,
        "schedule.backfill",
        "schedule",
        row.id,
        row.job_identifier,
        after={"start": start.isoformat(), "end": end.isoformat(), "runs": len(run_ids)},
    )
    return run_ids
