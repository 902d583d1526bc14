"""Run queries (filters, sorting, keyset pages, counts) and history clean-up."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Select, delete, func, literal, or_
from sqlmodel import Session, col, select

from core.backend.inputs import RunFilter, RunQuery
from core.backend.views import ACTIVE_STATUSES, RUN_STATUSES, TRIGGERS, RunPage, RunView
from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs import run_rows
from core.jobs.audit import Actor, record
from core.jobs.parameters import MASK
from core.settings.secrets import is_sealed
from core.storage.database import Database
from core.storage.tables import JobRun, JobSchedule, JobTemplate

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Nullable sort keys sort through a sentinel so keyset cursors stay total (nulls sort lowest).
_SENTINELS: dict[str, Any] = {
    "started_at": _EPOCH,
    "completed_at": _EPOCH,
    "duration_seconds": -1.0,
}
_DATETIME_KEYS = {"queued_at", "started_at", "completed_at"}


def _sort_expr(key: str) -> Any:
    column = getattr(JobRun, key)
    if key in _SENTINELS:
        return func.coalesce(column, literal(_SENTINELS[key], type_=column.type))
    return column


def encode_cursor(query: RunQuery, value: Any, run_id: int) -> str:
    """An opaque cursor for the page after the row (value, run_id)."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat()
    payload = {"s": query.sort, "d": query.descending, "v": value, "i": run_id}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_cursor(query: RunQuery) -> tuple[Any, int] | None:
    """The (sort value, id) a cursor points after; a cursor from another sort is rejected."""
    if not query.cursor:
        return None
    try:
        padded = query.cursor + "=" * (-len(query.cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value, run_id = payload["v"], int(payload["i"])
        if payload["s"] != query.sort or payload["d"] != query.descending:
            raise ValidationFailed("cursor", "the cursor belongs to a different sort order")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("cursor", "not a cursor returned by a previous page") from None
    if query.sort in _DATETIME_KEYS and value is not None:
        value = datetime.fromisoformat(value)
    elif query.sort in _SENTINELS and value is None:
        value = _SENTINELS[query.sort]
    return value, run_id


def check_filter_values(status: tuple[str, ...], triggered_by: tuple[str, ...]) -> None:
    """Unknown statuses or triggers are input errors, not empty results."""
    for value in status:
        if value not in RUN_STATUSES:
            raise ValidationFailed(
                "status", f"unknown status {value!r} (use {', '.join(RUN_STATUSES)})"
            )
    for value in triggered_by:
        if value not in TRIGGERS:
            raise ValidationFailed(
                "triggered_by", f"unknown trigger {value!r} (use {', '.join(TRIGGERS)})"
            )


def _conditions(query: RunQuery | RunFilter) -> list[ColumnElement[bool]]:
    check_filter_values(query.status, query.triggered_by)
    conditions: list[ColumnElement[bool]] = []
    if query.status:
        conditions.append(col(JobRun.status).in_(query.status))
    if query.job_type:
        conditions.append(col(JobRun.job_type).in_(query.job_type))
    if query.triggered_by:
        conditions.append(col(JobRun.triggered_by).in_(query.triggered_by))
    if query.template_id:
        conditions.append(col(JobRun.job_template_id).in_(query.template_id))
    if query.schedule_id:
        conditions.append(col(JobRun.job_schedule_id).in_(query.schedule_id))
    if isinstance(query, RunQuery):
        if query.since:
            conditions.append(col(JobRun.queued_at) >= query.since)
        if query.until:
            conditions.append(col(JobRun.queued_at) < query.until)
        if query.since and query.until and query.until <= query.since:
            raise ValidationFailed("until", "the time range ends before it starts")
        if query.search:
            escaped = (
                query.search.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            )
            conditions.append(func.lower(JobRun.job_name).like(f"%{escaped}%", escape="\\"))
    elif query.before:
        conditions.append(col(JobRun.queued_at) < query.before)
    return conditions


def to_view(
    row: JobRun, schedule_name: str | None = None, template_name: str | None = None
) -> RunView:
    """The frozen view of a run row."""
    data = row.model_dump(
        exclude={
            "pgid",
            "template_snapshot",
            "heartbeat_at",
            "deadline_at",
            "cancel_requested",
            "not_before",
            "owner_id",
        }
    )
    data["parameters"] = {
        key: MASK if is_sealed(value) else value for key, value in data["parameters"].items()
    }
    return RunView(**data, schedule_name=schedule_name, template_name=template_name)


_RUNS = run_rows.RUNS


def cleanup_filter(older_than_days: int, now: datetime) -> RunFilter:
    """The filter of finished runs queued more than N days before ``now``."""
    if not 1 <= older_than_days <= 36500:
        raise ValidationFailed("days", f"{older_than_days} is outside 1..36500")
    return RunFilter(before=now - timedelta(days=older_than_days))


def check_clear_filter(run_filter: RunFilter) -> None:
    """Pending and running runs are never cleared."""
    for status in run_filter.status:
        if status in ACTIVE_STATUSES:
            raise ValidationFailed("status", f"{status} runs are never cleared; cancel them first")


#: Sort keys an index serves in order: ix_job_runs_queued (queued_at, id) and the primary key.
_INDEXED_SORTS = frozenset({"queued_at", "id"})
#: The most runs a quick page holds (the API's largest page).
QUICK_PAGE_ROWS = 100


def quick_page(query: RunQuery) -> bool:
    """True for a page that costs about a millisecond however many runs are stored: no filter
    and no total, at most QUICK_PAGE_ROWS runs in an indexed order, so the database steps
    through that many index entries from one end or from the cursor's seek, and no more.

    SQLite reads such a page on the caller's thread (LocalBackend.list_runs): handing it to
    the page reader thread cost more CPU than reading it while other requests were served
    (benchmarks/api_runs.py, every page read afresh: ~10% of the server's CPU per request).
    A filter can make SQLite walk far for a page of matches, and a total counts every match,
    so those stay on the reader.
    """
    filtered = (
        query.status
        or query.job_type
        or query.triggered_by
        or query.template_id
        or query.schedule_id
        or query.since
        or query.until
        or query.search
    )
    return (
        not filtered
        and not query.with_total
        and query.sort in _INDEXED_SORTS
        and query.limit <= QUICK_PAGE_ROWS
    )


@functools.lru_cache(maxsize=128)
def _page_statement(dialect: str, query: RunQuery) -> Select[Any]:
    """The statement of one runs page (``query``'s total aside), for a database of ``dialect``.

    Kept per query: SQLAlchemy keys its compiled-SQL cache by walking a statement, and keeps
    that key on the statement object, so a repeated page (a console polling page 1 after each
    change) saves building and walking it again (~0.2 ms of a ~1.2 ms page at 1M runs).
    A query that fails validation raises here and is not kept.
    """
    conditions = _conditions(query)
    after = decode_cursor(query)
    sort = _sort_expr(query.sort)
    stmt = run_rows.page_rows(dialect).statement.where(*conditions)
    if after is not None:
        value, run_id = after
        # The bounded form lets SQLite and PostgreSQL seek in the (key, id) index
        # instead of walking from the newest row and filtering.
        if query.descending:
            stmt = stmt.where(sort <= value, or_(sort < value, _RUNS.c.id < run_id))
        else:
            stmt = stmt.where(sort >= value, or_(sort > value, _RUNS.c.id > run_id))
    order = (sort.desc(), _RUNS.c.id.desc()) if query.descending else (sort.asc(), _RUNS.c.id.asc())
    return stmt.order_by(*order).limit(query.limit + 1)


class RunService:
    """Run history reads and clean-up; every delete is audited."""

    def __init__(self, db: Database, clock: Clock, actor: Actor) -> None:
        self.db = db
        self.clock = clock
        self.actor = actor

    def get(self, run_id: int) -> RunView:
        """One run, with its schedule's and template's current names."""
        with self.db.read() as session:
            row = session.get(JobRun, run_id)
            if row is None:
                raise NotFound("run", run_id)
            return self._views(session, [row])[0]

    def page(self, query: RunQuery) -> RunPage:
        """One page of runs: filters, sort by (key, id), keyset cursor, total when asked.

        One query reads the page with its schedule and template names (outer joins on primary
        keys), as plain rows: no ORM objects, and never the wide columns a view leaves out.
        """
        dialect = self.db.engine.dialect.name
        stmt = _page_statement(dialect, query)
        with self.db.connect() as connection:
            total = None
            if query.with_total:
                count = select(func.count()).select_from(JobRun).where(*_conditions(query))
                total = int(connection.execute(count).scalar_one())
            # Core rows, decoded by run_rows: the ORM's and the column types' per-value
            # machinery cost more here than the query itself.
            rows = connection.execute(stmt).all()
        rows_of = run_rows.page_rows(dialect)
        items = rows_of.views(rows[: query.limit])
        cursor = None
        if len(rows) > query.limit and items:
            last = items[-1]
            value = getattr(last, query.sort)
            if value is None:
                value = _SENTINELS.get(query.sort)
            cursor = encode_cursor(query, value, last.id)
        return RunPage(items=items, total=total, next_cursor=cursor)

    def counts(self, query: RunQuery | None = None) -> dict[str, int]:
        """How many runs have each status (every status present, zero included)."""
        conditions = _conditions(query) if query else []
        with self.db.read() as session:
            found = dict(
                session.exec(
                    select(JobRun.status, func.count())
                    .where(*conditions)
                    .group_by(col(JobRun.status))
                ).all()
            )
        return {status: int(found.get(status, 0)) for status in RUN_STATUSES}

    def delete(self, run_id: int) -> None:
        """Delete one finished run (with its attempts and log)."""
        with self.db.write() as session:
            row = session.get(JobRun, run_id)
            if row is None:
                raise NotFound("run", run_id)
            if row.status in ACTIVE_STATUSES:
                raise Conflict(f"run {run_id} is {row.status}; cancel it first")
            record(
                session,
                self.actor,
                self.clock.now(),
                "run.delete",
                "run",
                run_id,
                row.job_name,
                before={"status": row.status, "queued_at": row.queued_at.isoformat()},
            )
            session.delete(row)

    def cleanup(self, older_than_days: int) -> int:
        """Delete finished runs queued more than N days ago; returns how many."""
        cutoff = cleanup_filter(older_than_days, self.clock.now())
        return self._clear(cutoff, f"cleanup older than {older_than_days} days")

    def clear(self, run_filter: RunFilter) -> int:
        """Delete finished runs matching the filter (never pending or running ones)."""
        check_clear_filter(run_filter)
        return self._clear(run_filter, "clear by filter")

    def _clear(self, run_filter: RunFilter, why: str) -> int:
        conditions = [*_conditions(run_filter), col(JobRun.status).not_in(ACTIVE_STATUSES)]
        with self.db.write() as session:
            result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                delete(JobRun).where(*conditions)
            )
            count = int(result.rowcount or 0)
            record(
                session,
                self.actor,
                self.clock.now(),
                "run.clear",
                "run",
                None,
                None,
                before={"filter": run_filter.model_dump(mode="json"), "why": why},
                after={"deleted": count},
            )
        return count

    def _views(self, session: Session, rows: list[JobRun]) -> list[RunView]:
        schedule_ids = {r.job_schedule_id for r in rows if r.job_schedule_id is not None}
        template_ids = {r.job_template_id for r in rows if r.job_template_id is not None}
        schedules = (
            dict(
                session.exec(
                    select(JobSchedule.id, JobSchedule.job_identifier).where(
                        col(JobSchedule.id).in_(schedule_ids)
                    )
                ).all()
            )
            if schedule_ids
            else {}
        )
        templates = (
            dict(
                session.exec(
                    select(JobTemplate.id, JobTemplate.name).where(
                        col(JobTemplate.id).in_(template_ids)
                    )
                ).all()
            )
            if template_ids
            else {}
        )
        return [
            to_view(r, schedules.get(r.job_schedule_id), templates.get(r.job_template_id))
            for r in rows
        ]
