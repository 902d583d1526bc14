"""One batch of due schedules: decide outside the transaction, record inside one short one.

The transaction starts by re-checking the lease (``Lease.check_in``), then re-reads what
could have changed since the plan was made (the schedule rows, pauses, active runs, ledger
keys already present), and writes ledger rows, pending runs and the advanced next_run
together. Either all of it commits or none of it does, so a crash anywhere leaves every
occurrence either untouched (it is still due, next_run unchanged) or fully recorded (F4);
the unique keys and ``ON CONFLICT DO NOTHING`` make a repeated attempt harmless anyway.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from core.clock import Clock
from core.errors import JobdeckError, ValidationFailed
from core.jobs.audit import Actor, record
from core.jobs.scheduler.bulk import Binder
from core.jobs.scheduler.lease import Lease
from core.jobs.scheduler.ledger import advance, cancel_active, insert_ledger, insert_runs
from core.jobs.scheduler.occurrences import FireMemo
from core.jobs.scheduler.policy import (
    BROKEN,
    MAINTENANCE,
    PAUSED,
    Decision,
    apply_overlap,
    dropped_by_cap,
    paused,
    plan_due,
)
from core.jobs.scheduler.runrows import RunRows
from core.jobs.scheduler.state import (
    DueSchedule,
    active_runs,
    current_rows,
    recorded_keys,
)
from core.jobs.system_state import maintenance
from core.storage.tables import JobTemplate

log = logging.getLogger("jobdeck.scheduler")

#: Ledger rows per transaction: a batch stops taking schedules once its plans reach this.
ROW_BUDGET = 20_000

FaultHook = Callable[[str], None]


class LeaseLost(JobdeckError):
    """The batch found the lease held by someone else (or expired): nothing was recorded."""


@dataclass(frozen=True)
class SchedulePlan:
    """Deadline and catch-up decisions for one schedule, and where its next_run moves to."""

    schedule: DueSchedule
    decisions: list[Decision]
    next_run: datetime | None


@dataclass
class BatchOutcome:
    """What one committed batch recorded."""

    outcomes: Counter[str] = field(default_factory=Counter)
    run_ids: list[int] = field(default_factory=list)
    schedules: int = 0
    #: plans dropped because their schedule changed meanwhile (re-read next round)
    stale: int = 0
    #: (schedule id, schedule name, message) for catch-up caps that dropped occurrences (F7)
    warnings: list[tuple[int, str, str]] = field(default_factory=list)


def plan_batch(
    schedules: Sequence[DueSchedule], now: datetime, memo: FireMemo, *, catching_up: bool
) -> list[SchedulePlan]:
    """Decide the due occurrences of each schedule (CPU only; no database)."""
    plans: list[SchedulePlan] = []
    # Schedules with the same timing, next_run and policies get the same (immutable) plan.
    shared: dict[tuple[Any, ...], tuple[list[Decision], datetime | None]] = {}
    rows = 0
    for schedule in schedules:
        if schedule.next_run is None:
            continue
        key = (schedule.key, schedule.next_run, schedule.policy)
        found = shared.get(key)
        if found is None:
            try:
                due = memo.due(schedule.key, schedule.next_run, now)
            except ValidationFailed as exc:
                # A timing stored by an older, laxer version: record why and stop the schedule
                # rather than spin on it or drop the occurrence silently.
                why = f"{BROKEN}: invalid timing ({exc})"
                late = max(0.0, (now - schedule.next_run).total_seconds())
                found = ([Decision(schedule.next_run, "missed", why, late)], None)
            else:
                decisions = plan_due(
                    due.due, now, schedule.policy, catching_up=catching_up, more_after=due.more
                )
                found = (decisions, due.next_run)
            shared[key] = found
        plans.append(SchedulePlan(schedule, found[0], found[1]))
        rows += len(found[0])
        if rows >= ROW_BUDGET:
            break
    return plans


def finalize(
    decisions: list[Decision],
    schedule: DueSchedule,
    template: JobTemplate,
    switch: dict[str, Any] | None,
    active: int,
    now: datetime,
) -> tuple[list[Decision], str | None]:
    """Apply maintenance, template pause and overlap to time decisions (rules 4, 10).

    Returns the decisions and, for replace, the cancel reason for the active runs.
    """
    if switch is not None:
        why = f"{MAINTENANCE}: {switch.get('reason') or 'backend paused'}"
        return paused([d.scheduled_for for d in decisions], now, why), None
    if template.paused:
        why = f"{PAUSED}: template {template.name!r} is paused"
        return paused([d.scheduled_for for d in decisions], now, why), None
    overlap = apply_overlap(decisions, schedule.policy, active)
    return overlap.decisions, overlap.replace_reason


def _still_valid(session: Session, plans: Sequence[SchedulePlan]) -> list[SchedulePlan]:
    """The plans whose schedule is unchanged since it was read (locked on PostgreSQL)."""
    is_sqlite = session.get_bind().dialect.name == "sqlite"
    current = current_rows(session, [plan.schedule.id for plan in plans], lock=not is_sqlite)
    valid = []
    for plan in plans:
        stored = current.get(plan.schedule.id)
        if (
            stored is not None
            and stored.is_active
            and stored.next_run == plan.schedule.next_run
            and stored.updated_at == plan.schedule.updated_at
        ):
            valid.append(plan)
    return valid


def record_batch(
    session: Session,
    plans: Sequence[SchedulePlan],
    *,
    lease: Lease,
    clock: Clock,
    runs: RunRows,
    stale_run_seconds: float,
    fault: FaultHook,
) -> BatchOutcome:
    """Record the plans in the caller's write transaction; raises LeaseLost (roll back)."""
    if not lease.check_in(session):
        raise LeaseLost("the scheduler lease is no longer ours; nothing recorded")
    fault("lease_checked")
    now = clock.now()
    outcome = BatchOutcome()
    valid = _still_valid(session, plans)
    outcome.stale = len(plans) - len(valid)
    if not valid:
        return outcome

    ids = [plan.schedule.id for plan in valid]
    switch = maintenance(session)
    template_ids = {plan.schedule.template_id for plan in valid}
    templates = {
        t.id: t
        for t in session.exec(
            sqlmodel_select(JobTemplate).where(col(JobTemplate.id).in_(template_ids))
        )
    }
    # A template whose job type is gone cannot make runs: say so on each occurrence.
    broken: dict[int, str] = {}
    for template_id, template in templates.items():
        try:
            runs.constant(template)
        except JobdeckError as exc:
            broken[template_id or 0] = f"{BROKEN}: {exc}"
    times = [d.scheduled_for for plan in valid for d in plan.decisions]
    recorded = recorded_keys(session, ids, min(times), max(times)) if times else set()
    active = active_runs(session, ids, now, stale_run_seconds)

    ledger: list[tuple[Any, ...]] = []
    groups: dict[int, tuple[JobTemplate, list[tuple[Any, ...]]]] = {}
    cancels: list[tuple[int, str]] = []
    advances: list[tuple[int, datetime | None, datetime | None]] = []
    counts: dict[str, int] = {}
    for plan in valid:
        schedule = plan.schedule
        template = templates[schedule.template_id]
        pending = plan.decisions
        if recorded:
            pending = [d for d in pending if (schedule.id, d.scheduled_for) not in recorded]
        decisions, replace_reason = finalize(
            pending, schedule, template, switch, active.get(schedule.id, 0), now
        )
        if replace_reason:
            cancels.append((schedule.id, replace_reason))
        dropped = dropped_by_cap(decisions)
        if dropped:
            message = (
                f"catch-up cap {schedule.policy.catchup_cap} dropped {dropped} "
                f"occurrence{'s' if dropped != 1 else ''} (recorded missed)"
            )
            outcome.warnings.append((schedule.id, schedule.name, message))
        last_ran = None
        for decision in decisions:
            if decision.verdict == "run":
                why = broken.get(schedule.template_id)
                if why is None:
                    try:
                        row = runs.varying(template, schedule, decision.scheduled_for)
                    except JobdeckError as exc:  # parameters that no longer resolve
                        why = f"{BROKEN}: {exc}"
                    else:
                        groups.setdefault(schedule.template_id, (template, []))[1].append(row)
                        last_ran = decision.scheduled_for
                if why is not None:
                    decision = replace(decision, verdict="missed", reason=why)
            result = decision.outcome
            ledger.append(
                (schedule.id, decision.scheduled_for, result, decision.reason, decision.lateness)
            )
            counts[result] = counts.get(result, 0) + 1
        advances.append((schedule.id, plan.next_run, last_ran))
    outcome.schedules = len(valid)
    outcome.outcomes.update(counts)

    binder = Binder.of(session)
    # Cancel before inserting: the replacing run must not match its own cancel statement.
    cancel_active(session, cancels)
    run_ids, outcome.run_ids = insert_runs(session, binder, runs, groups)
    fault("runs_inserted")
    ledger = [
        (sid, at, result, why, run_ids.get((sid, at)) if result == "ran" else None, late)
        for sid, at, result, why, late in ledger
    ]
    insert_ledger(session, binder, ledger, now)
    fault("ledger_inserted")
    advance(session, binder, advances)
    for schedule_id, name, message in outcome.warnings:
        log.warning("schedule %r: %s", name, message)
        record(
            session,
            Actor.system(),
            now,
            "schedule.catchup_dropped",
            "schedule",
            schedule_id,
            name,
            after={"warning": message},
        )
    fault("schedules_updated")
    return outcome
