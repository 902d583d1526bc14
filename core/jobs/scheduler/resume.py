"""Resuming a disabled schedule (rule 10): record what it missed, or catch up if asked.

A disabled schedule has no next_run, so the tick never sees the occurrences that fell while
it was off. Resuming walks them from ``paused_at`` to now and records each one: ``skipped:
paused`` by default, or the schedule's catch-up policy when the operator asks for it. A long
pause is capped: only the newest ``RESUME_LIMIT`` occurrences are recorded, and the plan says
so. ``plan_resume`` computes the plan without writing (the preview); ``apply_resume`` makes
the same decisions inside one write transaction through the batch recorder, so the lease
check, pauses, overlap and run creation behave exactly as on a tick.

A schedule enabled any other way (the schedule service, from any process) is active with
``paused_at`` still set: the tick looks for such schedules (``enabled_while_paused``; on the
first tick, when woken, and at least once a heartbeat) and ``record_enabled`` records what each
missed between ``paused_at`` and its next run as ``skipped: paused``, bounded the same way,
then clears ``paused_at``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.audit import Actor, record
from core.jobs.scheduler.batch import (
    BatchOutcome,
    FaultHook,
    LeaseLost,
    SchedulePlan,
    finalize,
    record_batch,
)
from core.jobs.scheduler.bulk import rowcount
from core.jobs.scheduler.lease import Lease
from core.jobs.scheduler.occurrences import newest_between, timing_key, trigger_for
from core.jobs.scheduler.policy import PAUSED, Decision, paused, plan_due
from core.jobs.scheduler.reports import PlannedOccurrence, ResumePlan
from core.jobs.scheduler.runrows import RunRows
from core.jobs.scheduler.state import (
    SCHEDULES,
    DueSchedule,
    active_runs,
    read_schedule,
    recorded_keys,
)
from core.jobs.schedules import load_schedule
from core.jobs.system_state import maintenance
from core.storage.tables import JobTemplate

_US = timedelta(microseconds=1)
#: At most this many missed occurrences are recorded on resume (the newest ones).
RESUME_LIMIT = 1000
#: Schedules enabled while paused handled per transaction (each may record RESUME_LIMIT rows).
ENABLED_PER_BATCH = 20
#: The reason recorded for an occurrence missed while a schedule was disabled.
DISABLED = f"{PAUSED}: schedule was disabled"


@dataclass(frozen=True)
class _Computed:
    plan: ResumePlan
    schedule: DueSchedule | None
    decisions: list[Decision]


def _compute(
    session: Session, ref: int | str, now: datetime, catch_up: bool, stale_seconds: float
) -> _Computed:
    row = load_schedule(session, ref)
    assert row.id is not None
    template = session.get(JobTemplate, row.job_template_id)
    if template is None:
        raise NotFound("template", row.job_template_id)
    schedule = read_schedule(session, row.id)
    assert schedule is not None
    if row.is_active:
        plan = ResumePlan(
            schedule_id=row.id,
            schedule=row.job_identifier,
            at=now,
            catch_up=catch_up,
            paused_at=row.paused_at,
            applied=False,
            missed=0,
            occurrences=(),
            truncated=False,
            next_run=row.next_run,
            notes=("the schedule is already enabled; nothing to resume",),
        )
        return _Computed(plan, None, [])

    key = timing_key(row.model_dump())
    trigger = trigger_for(key)
    notes: list[str] = []
    fires: list[datetime] = []
    missed: int | None = 0
    if row.paused_at is None:
        notes.append("no record of when it was disabled; nothing to record as missed")
    else:
        # From the instant it was disabled (inclusive: the tick may not have reached that
        # occurrence yet), but never before the schedule existed (its first run came after).
        since = max(row.paused_at, row.created_at + timedelta(microseconds=1))
        newest = newest_between(key, since, now, RESUME_LIMIT)
        fires, missed = newest.fires, newest.total
    if fires:
        # An occurrence at the very instant it was disabled may have been recorded already.
        done = recorded_keys(session, [row.id], fires[0], fires[-1])
        kept = [f for f in fires if (row.id, f) not in done]
        if missed is not None:
            missed -= len(fires) - len(kept)
        fires = kept
    truncated = missed is None or missed > len(fires)
    if truncated:
        notes.append(
            f"only the newest {len(fires)} missed occurrences are recorded; "
            "older ones are not listed one by one"
        )
    if catch_up:
        decisions = plan_due(fires, now, schedule.policy, catching_up=True)
    else:
        decisions = paused(fires, now, DISABLED)
    # Show the final outcome: a paused template, maintenance or overlap still apply.
    shown, _ = finalize(
        decisions,
        schedule,
        template,
        maintenance(session),
        active_runs(session, [row.id], now, stale_seconds).get(row.id, 0),
        now,
    )
    next_run = trigger.get_next_fire_time(now, now)
    if next_run is None:
        notes.append("the schedule has no future occurrences")
    plan = ResumePlan(
        schedule_id=row.id,
        schedule=row.job_identifier,
        at=now,
        catch_up=catch_up,
        paused_at=row.paused_at,
        applied=False,
        missed=missed,
        occurrences=tuple(PlannedOccurrence(d.scheduled_for, d.outcome, d.reason) for d in shown),
        truncated=truncated,
        next_run=next_run,
        notes=tuple(notes),
    )
    return _Computed(plan, schedule, decisions)


def plan_resume(
    session: Session, ref: int | str, now: datetime, catch_up: bool, stale_seconds: float
) -> ResumePlan:
    """What resuming would record and start, without writing anything (the preview)."""
    return _compute(session, ref, now, catch_up, stale_seconds).plan


def apply_resume(
    session: Session,
    ref: int | str,
    *,
    clock: Clock,
    lease: Lease,
    runs: RunRows,
    catch_up: bool,
    stale_seconds: float,
    actor: Actor,
) -> tuple[ResumePlan, list[int]]:
    """Enable the schedule and record its missed occurrences, in the caller's transaction."""
    now = clock.now()
    computed = _compute(session, ref, now, catch_up, stale_seconds)
    plan = computed.plan
    if computed.schedule is None:
        return plan, []
    row = load_schedule(session, ref)
    row.is_active = True
    row.paused_at = None
    row.updated_at = now
    row.next_run = plan.next_run
    session.add(row)
    session.flush()
    fresh = read_schedule(session, plan.schedule_id)
    assert fresh is not None
    try:
        outcome = record_batch(
            session,
            [SchedulePlan(fresh, computed.decisions, plan.next_run)],
            lease=lease,
            clock=clock,
            runs=runs,
            stale_run_seconds=stale_seconds,
            fault=lambda _point: None,
        )
    except LeaseLost:
        raise Conflict("this process does not own scheduling for the database") from None
    plan = replace(plan, applied=True)
    record(
        session,
        actor,
        now,
        "schedule.enable",
        "schedule",
        plan.schedule_id,
        plan.schedule,
        after={"catch_up": catch_up, "summary": plan.summary(), "runs": outcome.run_ids},
    )
    return plan, outcome.run_ids


def enabled_while_paused(session: Session, limit: int) -> list[int]:
    """Active schedules still carrying ``paused_at``: enabled, their missed ones not recorded."""
    query = (
        select(SCHEDULES.c.id)
        .where(SCHEDULES.c.paused_at.is_not(None), SCHEDULES.c.is_active.is_(True))
        .order_by(SCHEDULES.c.id)
        .limit(limit)
    )
    return [int(sid) for sid in session.execute(query).scalars()]


def record_enabled(
    session: Session,
    ids: list[int],
    *,
    clock: Clock,
    lease: Lease,
    runs: RunRows,
    stale_seconds: float,
    fault: FaultHook,
) -> tuple[BatchOutcome, int]:
    """Record, in the caller's write transaction, what these schedules missed while disabled.

    The occurrences from ``paused_at`` up to (not including) the schedule's next run are
    recorded ``skipped: paused``; the next run and everything after it stay with the tick
    (deadline and catch-up rules). Returns what was recorded and how many schedules had
    ``paused_at`` cleared. Raises LeaseLost (roll back) like any batch.
    """
    now = clock.now()
    query = select(
        SCHEDULES.c.id,
        SCHEDULES.c.paused_at,
        SCHEDULES.c.created_at,
        SCHEDULES.c.updated_at,
    ).where(
        SCHEDULES.c.id.in_(ids),
        SCHEDULES.c.paused_at.is_not(None),
        SCHEDULES.c.is_active.is_(True),
    )
    plans: list[SchedulePlan] = []
    stamps: list[tuple[int, datetime, datetime]] = []
    for sid, paused_at, created_at, updated_at in session.execute(query):
        schedule = read_schedule(session, sid)
        assert schedule is not None
        since = max(paused_at, created_at + timedelta(microseconds=1))
        # Up to the next run, which the tick records by the usual rules; a schedule that
        # cannot fire any more missed everything up to now.
        end = min(now, schedule.next_run - _US) if schedule.next_run is not None else now
        fires: list[datetime] = []
        # A timing stored invalid records nothing here: the tick says why when it comes due.
        with contextlib.suppress(ValidationFailed):
            if since <= end:
                fires = newest_between(schedule.key, since, end, RESUME_LIMIT).fires
        plans.append(SchedulePlan(schedule, paused(fires, now, DISABLED), schedule.next_run))
        stamps.append((sid, paused_at, updated_at))
    if not plans:
        return BatchOutcome(), 0
    outcome = record_batch(
        session,
        plans,
        lease=lease,
        clock=clock,
        runs=runs,
        stale_run_seconds=stale_seconds,
        fault=fault,
    )
    cleared = 0
    for sid, paused_at, updated_at in stamps:
        # Only where nothing changed the schedule meanwhile (record_batch skipped those).
        done = session.execute(
            SCHEDULES.update()
            .where(
                SCHEDULES.c.id == sid,
                SCHEDULES.c.paused_at == paused_at,
                SCHEDULES.c.updated_at == updated_at,
                SCHEDULES.c.is_active.is_(True),
            )
            .values(paused_at=None)
        )
        cleared += rowcount(done)
    return outcome, cleared
