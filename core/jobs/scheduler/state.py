"""What the scheduler reads before deciding: due schedules, active runs, maintenance, templates.

The due-schedule reads go straight to the DBAPI cursor (``bulk.Binder``) rather than ORM
objects or even Core rows: a burst reads ten thousand rows, and per-row conversion is what it
would spend its time on. Values still pass through the columns' own type processors, memoised
per distinct value (policies and timings repeat across schedules, instants across a burst).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlmodel import Session

from core.jobs.scheduler.bulk import Binder
from core.jobs.scheduler.occurrences import TIMING_COLUMNS, TimingKey, timing_key
from core.jobs.scheduler.policy import Policy
from core.storage.tables import JobRun, JobSchedule, Occurrence

ACTIVE = ("pending", "running")

SCHEDULES = JobSchedule.__table__  # type: ignore[attr-defined]
RUNS = JobRun.__table__  # type: ignore[attr-defined]
LEDGER = Occurrence.__table__  # type: ignore[attr-defined]

_POLICY_COLUMNS = (
    "start_deadline_seconds",
    "catchup",
    "catchup_cap",
    "catchup_window_seconds",
    "overlap",
    "overlap_max",
    "jitter",
    "jitter_seconds",
)
_DUE_NAMES = (
    "id",
    "job_identifier",
    "job_template_id",
    "next_run",
    "updated_at",
    "created_at",
    "job_parameters",
    *TIMING_COLUMNS,
    *_POLICY_COLUMNS,
)
_DUE_SELECT = f"SELECT {', '.join(_DUE_NAMES)} FROM job_schedules"


class DueSchedule(NamedTuple):
    """The parts of a due schedule the scheduler needs, read without ORM objects.

    A named tuple rather than a dataclass: a burst builds ten thousand of them.
    """

    id: int
    name: str
    template_id: int
    #: None only for a disabled schedule (resume reads those too)
    next_run: datetime | None
    updated_at: datetime
    parameters: dict[str, Any]
    key: TimingKey
    policy: Policy


_TIMING_AT = [_DUE_NAMES.index(name) for name in (*TIMING_COLUMNS, "created_at")]
_POLICY_AT = [_DUE_NAMES.index(name) for name in _POLICY_COLUMNS]
_ID, _NAME, _TEMPLATE, _NEXT, _UPDATED, _CREATED, _PARAMETERS = range(7)


class _DueReader:
    """Converts raw job_schedules rows into DueSchedules for one query.

    Only what differs per row is converted per row (next_run, updated_at); timings, policies
    and parameter overrides repeat across schedules and are converted once per distinct value.
    """

    def __init__(self, binder: Binder) -> None:
        self.binder = binder
        self.timing_of = itemgetter(*_TIMING_AT)
        self.policy_of = itemgetter(*_POLICY_AT)
        self.next_run = binder.converter(SCHEDULES.c.next_run, results=True)
        self.updated_at = binder.converter(SCHEDULES.c.updated_at, results=True)
        self.json = binder.converter(SCHEDULES.c.job_parameters, results=True)
        self.timings: dict[tuple[Any, ...], TimingKey] = {}
        self.policies: dict[tuple[Any, ...], Policy] = {}
        self.parameters: dict[str, dict[str, Any]] = {}

    def __call__(self, raw: Sequence[Any]) -> DueSchedule:
        timing_raw = self.timing_of(raw)
        if timing_raw[0] != "interval":
            timing_raw = (*timing_raw[:-1], None)  # created_at only anchors intervals
        key = self.timings.get(timing_raw)
        if key is None:
            key = self.timings[timing_raw] = self._timing_key(raw)
        policy_raw = self.policy_of(raw)
        policy = self.policies.get(policy_raw)
        if policy is None:
            policy = self.policies[policy_raw] = Policy(*policy_raw)
        return DueSchedule(
            id=raw[_ID],
            name=raw[_NAME],
            template_id=raw[_TEMPLATE],
            next_run=self.next_run(raw[_NEXT]),
            updated_at=self.updated_at(raw[_UPDATED]),
            parameters=self._parameters(raw[_PARAMETERS]),
            key=key,
            policy=policy,
        )

    def _timing_key(self, raw: Sequence[Any]) -> TimingKey:
        values = {}
        for name in (*TIMING_COLUMNS, "created_at"):
            value = raw[_DUE_NAMES.index(name)]
            if value is not None:
                column = SCHEDULES.c[name]
                value = self.binder.converter(column, results=True)(value)
            values[name] = value
        return timing_key(values)

    def _parameters(self, raw: Any) -> dict[str, Any]:
        if isinstance(raw, str):  # SQLite hands JSON back as text: parse each distinct text once
            found = self.parameters.get(raw)
            if found is None:
                found = self.parameters[raw] = dict(self.json(raw) or {})
            return found
        return dict(self.json(raw) or {})


def read_due(
    session: Session, upto: datetime, limit: int, after: tuple[datetime, int] | None = None
) -> list[DueSchedule]:
    """Active schedules whose next_run is at or before ``upto``, in (next_run, id) order.

    ``after``: continue after this (next_run, id) key (read-ahead while a batch is written).
    """
    binder = Binder.of(session)
    ph = binder.placeholder
    bind_next = binder.converter(SCHEDULES.c.next_run, results=False)
    sql = f"{_DUE_SELECT} WHERE next_run <= {ph} AND is_active = {ph}"
    params: list[Any] = [bind_next(upto), binder.bind(SCHEDULES.c.is_active, True)]
    if after is not None:
        sql += f" AND (next_run > {ph} OR (next_run = {ph} AND id > {ph}))"
        params += [bind_next(after[0]), bind_next(after[0]), after[1]]
    rows = binder.select(session, f"{sql} ORDER BY next_run, id LIMIT {ph}", [*params, limit])
    reader = _DueReader(binder)
    return [reader(row) for row in rows]


def read_schedule(session: Session, schedule_id: int) -> DueSchedule | None:
    """One schedule in the same shape (resume, backfill); next_run may be None."""
    binder = Binder.of(session)
    rows = binder.select(session, f"{_DUE_SELECT} WHERE id = {binder.placeholder}", (schedule_id,))
    return _DueReader(binder)(rows[0]) if rows else None


def next_due(session: Session) -> datetime | None:
    """The earliest next_run of any active schedule."""
    value: datetime | None = session.execute(
        select(func.min(SCHEDULES.c.next_run)).where(SCHEDULES.c.is_active.is_(True))
    ).scalar()
    return value


def latest_run(session: Session) -> datetime | None:
    """The newest occurrence any schedule ran (a wall time the clock has passed already)."""
    value: datetime | None = session.execute(select(func.max(SCHEDULES.c.last_run))).scalar()
    return value


@dataclass(frozen=True)
class StoredState:
    """The columns that say whether a plan made from a schedule row is still valid."""

    next_run: datetime | None
    is_active: bool
    updated_at: datetime


def current_rows(session: Session, ids: Sequence[int], lock: bool) -> dict[int, StoredState]:
    """id -> the schedule's state as stored now; the rows are locked on PostgreSQL."""
    if not ids:
        return {}
    binder = Binder.of(session)
    sql = (
        "SELECT id, next_run, is_active, updated_at FROM job_schedules "
        f"WHERE id IN ({binder.placeholders(len(ids))})"
    )
    if lock:
        sql += " FOR UPDATE"
    convert = [
        binder.converter(SCHEDULES.c[name], results=True)
        for name in ("next_run", "is_active", "updated_at")
    ]
    found = {}
    for sid, next_run, active, updated in binder.select(session, sql, list(ids)):
        found[sid] = StoredState(convert[0](next_run), convert[1](active), convert[2](updated))
    return found


def recorded_keys(
    session: Session, ids: Sequence[int], first: datetime, last: datetime
) -> set[tuple[int, datetime]]:
    """Ledger keys already present among these schedules in [first, last] (uses the key index)."""
    if not ids:
        return set()
    binder = Binder.of(session)
    ph = binder.placeholder
    at = binder.converter(LEDGER.c.scheduled_for, results=False)
    rows = binder.select(
        session,
        "SELECT schedule_id, scheduled_for FROM occurrences "
        f"WHERE schedule_id IN ({binder.placeholders(len(ids))}) "
        f"AND scheduled_for >= {ph} AND scheduled_for <= {ph}",
        [*ids, at(first), at(last)],
    )
    convert = binder.converter(LEDGER.c.scheduled_for, results=True)
    return {(sid, convert(raw)) for sid, raw in rows}


def active_runs(
    session: Session, ids: Sequence[int], now: datetime, stale_seconds: float
) -> dict[int, int]:
    """Per schedule, its pending and running runs; a running run silent for longer than
    ``stale_seconds`` is presumed lost (rule 15: a lost run never blocks overlap)."""
    if not ids:
        return {}
    binder = Binder.of(session)
    ph = binder.placeholder
    stale = binder.bind(RUNS.c.heartbeat_at, now - timedelta(seconds=stale_seconds))
    rows = binder.select(
        session,
        "SELECT job_schedule_id, count(*) FROM job_runs "
        f"WHERE job_schedule_id IN ({binder.placeholders(len(ids))}) "
        "AND status IN ('pending', 'running') "
        f"AND (status = 'pending' OR COALESCE(heartbeat_at, started_at, queued_at) >= {ph}) "
        "GROUP BY job_schedule_id",
        [*ids, stale],
    )
    return {sid: int(count) for sid, count in rows}
