"""Runs over `/api/job-runs`: pages, counts, logs, attempts, cancel, retry and deletes."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, RootModel

from core.backend.inputs import RunFilter, RunQuery
from core.backend.views import RUN_STATUSES, AttemptView, LogPage, RunPage, RunView
from core.errors import NotFound
from core.remote.calls import RemoteCalls, many, one
from core.remote.transport import QueryValue

RUNS = "/api/job-runs"
#: The API's largest page; longer listings are read page by page along the keyset cursor.
MAX_PAGE_SIZE = 100
#: The largest id a database column holds; the API answers 422 past it, the protocol NotFound.
MAX_ID = 2**63 - 1


class _RunList(BaseModel):
    items: list[RunView]
    total: int | None = None
    next_cursor: str | None = None


class _RunAction(BaseModel):
    job_run: RunView


class _Count(BaseModel):
    deleted_count: int


class _Counts(RootModel[dict[str, int]]):
    """`/api/job-runs/stats`: a bare object, status -> count."""


def _run_path(run_id: int, tail: str = "") -> str:
    if isinstance(run_id, bool) or not isinstance(run_id, int) or not 1 <= run_id <= MAX_ID:
        raise NotFound("run", run_id)
    return f"{RUNS}/{run_id}{tail}"


def _filters(source: RunQuery | RunFilter) -> dict[str, QueryValue]:
    return {
        "status": source.status,
        "job_type": source.job_type,
        "triggered_by": source.triggered_by,
        "template_id": source.template_id,
        "schedule_id": source.schedule_id,
    }


class RunCalls(RemoteCalls):
    """The Backend's run methods."""

    async def list_runs(self, query: RunQuery) -> RunPage:
        """A page of runs; pages longer than the API's are read in steps along the cursor."""
        params: dict[str, QueryValue] = {
            **_filters(query),
            "since": query.since,
            "until": query.until,
            "search": query.search,
            "sort": query.sort,
            "descending": query.descending,
            # Only sent to skip the count: a daemon that always counts ignores it.
            "with_total": None if query.with_total else False,
        }
        items: list[RunView] = []
        cursor: str | None = query.cursor
        total: int | None = None
        while True:
            size = min(MAX_PAGE_SIZE, query.limit - len(items))
            raw = await self._get(RUNS, {**params, "page_size": size, "cursor": cursor})
            page = one(_RunList, raw)
            total = page.total if not items else total
            items.extend(page.items)
            cursor = page.next_cursor
            if cursor is None or not page.items or len(items) >= query.limit:
                counted = total if query.with_total else None
                return RunPage(items=tuple(items), total=counted, next_cursor=cursor)

    async def get_run(self, run_id: int) -> RunView:
        """One run."""
        return one(RunView, await self._get(_run_path(run_id)))

    async def run_counts(self, query: RunQuery | None = None) -> dict[str, int]:
        """Runs per status (every status, in RUN_STATUSES order)."""
        if query is not None and (query.since or query.until or query.search):
            # `/api/job-runs/stats` filters by status, type, trigger, template and schedule
            # only; with a time window or a search, count each status by its page's total.
            return await self._counts_by_page(query)
        raw = await self._get(f"{RUNS}/stats", _filters(query) if query else None)
        found = one(_Counts, raw).root
        return {status: int(found.get(status, 0)) for status in RUN_STATUSES}

    async def _counts_by_page(self, query: RunQuery) -> dict[str, int]:
        async def total(status: str) -> int:
            if query.status and status not in query.status:
                return 0
            one_run = query.model_copy(
                update={"status": (status,), "limit": 1, "cursor": None, "with_total": True}
            )
            return (await self.list_runs(one_run)).total or 0

        totals = await asyncio.gather(*(total(status) for status in RUN_STATUSES))
        return dict(zip(RUN_STATUSES, totals, strict=True))

    async def delete_run(self, run_id: int) -> None:
        """Delete a finished run."""
        await self._write("DELETE", _run_path(run_id))

    async def cleanup_runs(self, older_than_days: int) -> int:
        """Delete finished runs older than N days."""
        raw = await self._write("DELETE", f"{RUNS}/cleanup", params={"days": older_than_days})
        return one(_Count, raw).deleted_count

    async def clear_runs(self, run_filter: RunFilter) -> int:
        """Delete finished runs matching a filter."""
        params = {**_filters(run_filter), "before": run_filter.before}
        raw = await self._write("DELETE", f"{RUNS}/clear-filtered", params=params)
        return one(_Count, raw).deleted_count

    async def cancel_run(self, run_id: int, *, reason: str | None = None) -> RunView:
        """Cancel a pending run, or ask the executor to stop a running one."""
        body = None if reason is None else {"reason": reason}
        raw = await self._write("POST", _run_path(run_id, "/cancel"), body)
        return one(_RunAction, raw).job_run

    async def retry_run(self, run_id: int) -> RunView:
        """Queue a new run retrying an ended one."""
        return one(_RunAction, await self._write("POST", _run_path(run_id, "/retry"))).job_run

    async def run_attempts(self, run_id: int) -> list[AttemptView]:
        """A run's attempts."""
        return many(AttemptView, await self._get(_run_path(run_id, "/attempts")))

    async def run_logs(self, run_id: int, *, after_seq: int = 0, limit: int = 1000) -> LogPage:
        """Log chunks after a position."""
        params: dict[str, QueryValue] = {"offset": after_seq, "limit": limit}
        return one(LogPage, await self._get(_run_path(run_id, "/logs"), params))
