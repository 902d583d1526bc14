"""`/api/job-runs`: pages, stats, recent, per schedule; one run, its logs, attempts, progress;
cancel, retry, delete, cleanup and clear-filtered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from core.api.auth import Admin, Operator, Viewer
from core.api.idempotency import IdempotencyKey, IdempotentRoute
from core.api.paging import PageCursors, TotalCache, numbered_page
from core.api.schemas import (
    ERRORS,
    CancelRequest,
    Progress,
    RunAction,
    RunDeleted,
    RunList,
    RunsCleared,
    RunsDeleted,
    respond,
)
from core.api.state import MAX_ID, api_state, reader, writer
from core.api.streams import EVENT_STREAM, STREAM_HEADERS, log_events
from core.backend.inputs import RunFilter, RunQuery, RunSortKey
from core.backend.views import AttemptView, LogPage, RunView
from core.errors import ValidationFailed

router = APIRouter(prefix="/api/job-runs", tags=["runs"], route_class=IdempotentRoute)

RUN_ID = Path(ge=1, le=MAX_ID, description="the run's id")
LIST_LIMIT = Query(50, ge=1, le=200, description="at most this many, newest first")
MAX_LOG_PAGE = 5000

# Cockpit's filters are comma-separated lists.
STATUS = Query(None, description="comma-separated statuses (pending,running,completed,...)")
JOB_TYPE = Query(None, description="comma-separated job types")
TRIGGERED_BY = Query(None, description="comma-separated triggers (schedule,manual,...)")
TEMPLATE_ID = Query(None, description="comma-separated template ids")
SCHEDULE_ID = Query(None, description="comma-separated schedule ids")


def _words(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _ids(value: str | None, field: str) -> tuple[int, ...]:
    ids = []
    for part in _words(value):
        if not (part.isascii() and part.isdigit() and len(part) <= 19 and int(part) <= MAX_ID):
            raise ValidationFailed(field, f"{part!r} is not an id (comma-separated whole numbers)")
        ids.append(int(part))
    return tuple(ids)


def _utc(value: datetime | None, field: str) -> datetime | None:
    """An aware UTC time (a time without offset is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(field, "out of range once converted to UTC") from None


def _build(model: Any, **values: Any) -> Any:
    """An input model; a rejected value is a 422 naming the field."""
    try:
        return model(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ValidationFailed(".".join(str(p) for p in error["loc"]), error["msg"]) from None


def _filters(
    status: str | None,
    job_type: str | None,
    triggered_by: str | None,
    template_id: str | None,
    schedule_id: str | None,
) -> dict[str, Any]:
    return {
        "status": _words(status),
        "job_type": _words(job_type),
        "triggered_by": _words(triggered_by),
        "template_id": _ids(template_id, "template_id"),
        "schedule_id": _ids(schedule_id, "schedule_id"),
    }


def _page_cursors(request: Request) -> PageCursors:
    cursors: PageCursors = request.app.state.page_cursors
    return cursors


@router.get("", response_model=RunList, responses=ERRORS)
async def list_runs(
    *,
    request: Request,
    page: int = Query(1, ge=1, le=1_000_000_000, description="1-based page number"),
    page_size: int = Query(25, ge=1, le=100),
    status: str | None = STATUS,
    job_type: str | None = JOB_TYPE,
    triggered_by: str | None = TRIGGERED_BY,
    template_id: str | None = TEMPLATE_ID,
    schedule_id: str | None = SCHEDULE_ID,
    since: Annotated[datetime | None, Query(description="queued at or after (ISO-8601)")] = None,
    until: Annotated[datetime | None, Query(description="queued before (ISO-8601)")] = None,
    search: Annotated[str | None, Query(max_length=200, description="job name contains")] = None,
    sort: RunSortKey = "queued_at",
    descending: bool = True,
    cursor: str | None = Query(
        None, max_length=1000, description="next_cursor of the previous page (keyset paging)"
    ),
    _: Viewer,
) -> Response:
    """A page of runs, newest first (Cockpit: ``items, total, page, page_size, total_pages``).

    ``next_cursor`` (jobdeck) fetches the following page by keyset; with ``cursor`` given,
    ``page`` is only echoed back. Pages are kept until the database changes and carry an
    ``ETag``: a client sending it back in ``If-None-Match`` gets 304 while nothing changed.
    """
    query: RunQuery = _build(
        RunQuery,
        **_filters(status, job_type, triggered_by, template_id, schedule_id),
        since=_utc(since, "since"),
        until=_utc(until, "until"),
        search=search,
        sort=sort,
        descending=descending,
        limit=page_size,
        with_total=False,
    )
    backend = reader(request)
    pages = api_state(request).pages
    token = await pages.token()  # before the page: a kept page is never older than a read
    key = request.url.query
    kept = pages.get(key, token)
    if kept is None:
        if cursor is not None:
            found = await backend.list_runs(query.model_copy(update={"cursor": cursor}))
        else:
            settings = api_state(request).settings
            found = await numbered_page(
                backend, query, page, page_size, _page_cursors(request), settings.max_page_offset
            )
        kept = pages.keep(key, token, found)
    totals: TotalCache = request.app.state.run_totals
    total = await totals.total(backend, query)
    return kept.respond(total, page, page_size, request.headers.get("if-none-match"))


@router.get("/stats", response_model=dict[str, int], responses=ERRORS)
async def run_stats(
    *,
    request: Request,
    status: str | None = STATUS,
    job_type: str | None = JOB_TYPE,
    triggered_by: str | None = TRIGGERED_BY,
    template_id: str | None = TEMPLATE_ID,
    schedule_id: str | None = SCHEDULE_ID,
    _: Viewer,
) -> dict[str, int]:
    """How many runs have each status (Cockpit's ``running`` and ``pending``, and the rest)."""
    filters = _filters(status, job_type, triggered_by, template_id, schedule_id)
    query = _build(RunQuery, **filters) if any(filters.values()) else None
    return await reader(request).run_counts(query)


@router.get("/recent", response_model=list[RunView], responses=ERRORS)
async def recent_runs(
    *,
    request: Request,
    limit: int = LIST_LIMIT,
    status: str | None = STATUS,
    job_type: str | None = JOB_TYPE,
    _: Viewer,
) -> Response:
    """The newest runs (a bare list)."""
    query = _build(RunQuery, status=_words(status), job_type=_words(job_type), limit=limit)
    return respond((await reader(request).list_runs(query)).items)


@router.get("/schedule/{schedule_id}", response_model=list[RunView], responses=ERRORS)
async def schedule_runs(
    *,
    request: Request,
    schedule_id: int = Path(ge=1, le=MAX_ID),
    limit: int = LIST_LIMIT,
    _: Viewer,
) -> Response:
    """A schedule's newest runs (a bare list)."""
    query = _build(RunQuery, schedule_id=(schedule_id,), limit=limit)
    return respond((await reader(request).list_runs(query)).items)


@router.delete("/cleanup", response_model=RunsDeleted, responses=ERRORS)
async def cleanup_runs(
    *,
    request: Request,
    days: int = Query(30, ge=1, le=36500, description="delete finished runs older than this"),
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Delete finished runs queued more than ``days`` ago (pending/running ones never)."""
    count = await writer(request, who).cleanup_runs(days)
    message = f"Deleted {count} job runs older than {days} days"
    return respond(RunsDeleted(message=message, deleted_count=count))


@router.delete("/clear-filtered", response_model=RunsCleared, responses=ERRORS)
async def clear_filtered(
    *,
    request: Request,
    status: str | None = STATUS,
    job_type: str | None = JOB_TYPE,
    triggered_by: str | None = TRIGGERED_BY,
    template_id: str | None = TEMPLATE_ID,
    schedule_id: str | None = SCHEDULE_ID,
    before: Annotated[datetime | None, Query(description="only runs queued before")] = None,
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Delete finished runs matching the filters (no filter: every finished run)."""
    filters = _filters(status, job_type, triggered_by, template_id, schedule_id)
    run_filter: RunFilter = _build(RunFilter, **filters, before=_utc(before, "before"))
    count = await writer(request, who).clear_runs(run_filter)
    shown = run_filter.model_dump(mode="json")
    return respond(
        RunsCleared(message=f"Deleted {count} job runs", deleted_count=count, filters=shown)
    )


@router.get("/{run_id}", response_model=RunView, responses=ERRORS)
async def get_run(*, request: Request, run_id: int = RUN_ID, _: Viewer) -> Response:
    """One run."""
    return respond(await reader(request).get_run(run_id))


@router.get(
    "/{run_id}/logs",
    response_model=LogPage,
    responses={**ERRORS, 200: {"content": {EVENT_STREAM: {}}}},
)
async def run_logs(
    *,
    request: Request,
    run_id: int = RUN_ID,
    offset: int = Query(
        0, ge=0, le=MAX_ID, description="read chunks after this seq (the previous next_seq)"
    ),
    limit: int = Query(1000, ge=1, le=MAX_LOG_PAGE),
    follow: bool = Query(False, description="stream (text/event-stream) until the run ends"),
    last_event_id: str | None = Header(
        None, alias="Last-Event-ID", description="resume a followed log after this seq"
    ),
    _: Viewer,
) -> Response:
    """A run's output after ``offset``; ``follow=true`` streams `chunk` events then `end`."""
    if follow and last_event_id is not None:
        offset = _event_id(last_event_id)
    backend = reader(request)
    first = await backend.run_logs(run_id, after_seq=offset, limit=limit)
    if not follow:
        return respond(first)
    stream = log_events(api_state(request), backend, run_id, first, limit)
    return StreamingResponse(stream, media_type=EVENT_STREAM, headers=STREAM_HEADERS)


def _event_id(value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_ID):
        raise ValidationFailed("header.Last-Event-ID", "must be an event id the stream sent")
    return int(text)


@router.get("/{run_id}/attempts", response_model=list[AttemptView], responses=ERRORS)
async def run_attempts(*, request: Request, run_id: int = RUN_ID, _: Viewer) -> Response:
    """A run's attempts, first first."""
    return respond(await reader(request).run_attempts(run_id))


@router.get("/{run_id}/progress", response_model=Progress, responses=ERRORS)
async def run_progress(*, request: Request, run_id: int = RUN_ID, _: Viewer) -> Response:
    """Cockpit's progress shape; jobdeck reports the attempt and worker (no item counter)."""
    run = await reader(request).get_run(run_id)
    if run.status != "running":
        return respond(Progress(status=run.status))
    where = f" on {run.worker}" if run.worker else ""
    message = f"attempt {run.attempts} of {run.max_attempts}{where}"
    return respond(Progress(status=run.status, message=message))


@router.post("/{run_id}/cancel", response_model=RunAction, responses=ERRORS)
async def cancel_run(
    *,
    request: Request,
    body: CancelRequest | None = None,
    run_id: int = RUN_ID,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Cancel a pending run, or ask the executor to stop a running one (409 once ended)."""
    reason = body.reason if body else None
    run = await writer(request, who).cancel_run(run_id, reason=reason)
    message = (
        "Job run cancelled"
        if run.status == "cancelled"
        else "Cancel requested: the executor is stopping the run"
    )
    return respond(RunAction(message=message, job_run=run))


@router.post("/{run_id}/retry", response_model=RunAction, responses=ERRORS)
async def retry_run(
    *,
    request: Request,
    run_id: int = RUN_ID,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Queue a new run (triggered_by retry) of an ended run, with its parameters."""
    run = await writer(request, who).retry_run(run_id)
    return respond(RunAction(message="Retry queued", job_run=run))


@router.delete("/{run_id}", response_model=RunDeleted, responses=ERRORS)
async def delete_run(
    *,
    request: Request,
    run_id: int = RUN_ID,
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Delete a finished run with its attempts and log (409 while pending or running)."""
    await writer(request, who).delete_run(run_id)
    return respond(RunDeleted(message="Job run deleted successfully", deleted=True))
