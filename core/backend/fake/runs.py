"""Run history of the fake backend, mirroring core/jobs/runs.RunService, plus test seeding."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from core.backend.fake.store import FakeStore, as_utc, row_id
from core.backend.inputs import RunFilter, RunQuery
from core.backend.protocol import Ref
from core.backend.views import ACTIVE_STATUSES, RUN_STATUSES, RunPage, RunView
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.runs import (
    check_clear_filter,
    check_filter_values,
    cleanup_filter,
    decode_cursor,
    encode_cursor,
)
from core.storage.tables import JobRun

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Must match core/jobs/runs.py: nullable sort keys sort as these lowest values there (a SQL
# coalesce), so the order and the keyset cursors agree.
_NULL_SORT_VALUES: dict[str, Any] = {
    "started_at": _EPOCH,
    "completed_at": _EPOCH,
    "duration_seconds": -1.0,
}


class FakeRunService:
    """Run queries, counts and clean-up over a FakeStore; deletes are audited."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def get(self, run_id: int) -> RunView:
        """One run."""
        row = self.store.runs.get(run_id)
        if row is None:
            raise NotFound("run", run_id)
        return self.store.run_view(row)

    def page(self, query: RunQuery) -> RunPage:
        """One page of runs: filters, sort by (key, id), keyset cursor, total count."""
        matched = self._matching(query)
        after = decode_cursor(query)

        def sort_key(run: JobRun) -> tuple[Any, int]:
            return _sort_value(run, query.sort), row_id(run)

        ordered = sorted(matched, key=sort_key, reverse=query.descending)
        if after is not None:
            if query.descending:
                ordered = [run for run in ordered if sort_key(run) < after]
            else:
                ordered = [run for run in ordered if sort_key(run) > after]
        page = ordered[: query.limit]
        cursor = None
        if len(ordered) > query.limit:
            last = page[-1]
            cursor = encode_cursor(query, _sort_value(last, query.sort), row_id(last))
        items = tuple(self.store.run_view(run) for run in page)
        total = len(matched) if query.with_total else None
        return RunPage(items=items, total=total, next_cursor=cursor)

    def counts(self, query: RunQuery | None = None) -> dict[str, int]:
        """How many runs have each status (every status present, zero included)."""
        rows = self._matching(query) if query else list(self.store.runs.values())
        return {status: sum(1 for r in rows if r.status == status) for status in RUN_STATUSES}

    def delete(self, run_id: int) -> None:
        """Delete one finished run."""
        row = self.store.runs.get(run_id)
        if row is None:
            raise NotFound("run", run_id)
        if row.status in ACTIVE_STATUSES:
            raise Conflict(f"run {run_id} is {row.status}; cancel it first")
        self.store.record(
            "run.delete",
            "run",
            run_id,
            row.job_name,
            before={"status": row.status, "queued_at": row.queued_at.isoformat()},
        )
        self.store.drop_runs([row])

    def cleanup(self, older_than_days: int) -> int:
        """Delete finished runs queued more than N days ago; returns how many."""
        cutoff = cleanup_filter(older_than_days, self.store.clock.now())
        return self._clear(cutoff, f"cleanup older than {older_than_days} days")

    def clear(self, run_filter: RunFilter) -> int:
        """Delete finished runs matching the filter (never pending or running ones)."""
        check_clear_filter(run_filter)
        return self._clear(run_filter, "clear by filter")

    def add(
        self, *, template: Ref | None = None, schedule: Ref | None = None, **fields: Any
    ) -> RunView:
        """Store a run as an executor would have written it (tests and seeding; not audited)."""
        unknown = set(fields) - set(JobRun.model_fields)
        if unknown:
            raise TypeError(f"JobRun has no field(s) {', '.join(sorted(unknown))}")
        schedule_row = self.store.schedule_row(schedule) if schedule is not None else None
        template_row = self.store.template_row(template) if template is not None else None
        if template_row is None and schedule_row is not None:
            template_row = self.store.templates[schedule_row.job_template_id]
        values: dict[str, Any] = {
            "job_template_id": template_row.id if template_row else None,
            "job_schedule_id": schedule_row.id if schedule_row else None,
            "job_name": template_row.name if template_row else "adhoc",
            "job_type": template_row.job_type if template_row else "shell",
            "template_revision": template_row.revision if template_row else None,
            "status": "completed",
            "triggered_by": "schedule" if schedule_row else "manual",
            "queued_at": self.store.clock.now(),
        }
        values.update(as_utc(copy.deepcopy(fields)))
        started, completed = values.get("started_at"), values.get("completed_at")
        if started and completed and values.get("duration_seconds") is None:
            values["duration_seconds"] = (completed - started).total_seconds()
        row = JobRun(id=self.store.next_id("run"), **values)
        view = self.store.run_view(row)  # validates status, trigger and types before storing
        self.store.runs[row_id(row)] = row
        self.store.changed("run", "insert", row.id)
        return view

    def update(self, run_id: int, **fields: Any) -> RunView:
        """Change a stored run as an executor would (tests: live updates; not audited)."""
        unknown = set(fields) - set(JobRun.model_fields)
        if unknown:
            raise TypeError(f"JobRun has no field(s) {', '.join(sorted(unknown))}")
        row = self.store.runs.get(run_id)
        if row is None:
            raise NotFound("run", run_id)
        candidate = row.model_copy(update=as_utc(copy.deepcopy(fields)))
        view = self.store.run_view(candidate)  # validates before anything is stored
        self.store.runs[run_id] = candidate
        self.store.changed("run", "update", run_id)
        return view

    def _matching(self, query: RunQuery | RunFilter) -> list[JobRun]:
        check_filter_values(query.status, query.triggered_by)
        since, until = (query.since, query.until) if isinstance(query, RunQuery) else (None, None)
        if since and until and until <= since:
            raise ValidationFailed("until", "the time range ends before it starts")
        return [run for run in self.store.runs.values() if _matches(run, query)]

    def _clear(self, run_filter: RunFilter, why: str) -> int:
        doomed = [run for run in self._matching(run_filter) if run.status not in ACTIVE_STATUSES]
        self.store.drop_runs(doomed)
        self.store.record(
            "run.clear",
            "run",
            None,
            None,
            before={"filter": run_filter.model_dump(mode="json"), "why": why},
            after={"deleted": len(doomed)},
        )
        return len(doomed)


def _sort_value(run: JobRun, key: str) -> Any:
    value = getattr(run, key)
    return _NULL_SORT_VALUES.get(key) if value is None else value


def _matches(run: JobRun, query: RunQuery | RunFilter) -> bool:
    """The Python twin of the SQL conditions in core/jobs/runs.py."""
    wanted_values = (
        (query.status, run.status),
        (query.job_type, run.job_type),
        (query.triggered_by, run.triggered_by),
        (query.template_id, run.job_template_id),
        (query.schedule_id, run.job_schedule_id),
    )
    if any(wanted and value not in wanted for wanted, value in wanted_values):
        return False
    if isinstance(query, RunFilter):
        return query.before is None or run.queued_at < query.before
    if query.since and run.queued_at < query.since:
        return False
    if query.until and run.queued_at >= query.until:
        return False
    return not query.search or query.search.lower() in run.job_name.lower()
