"""`/api/job-schedules`: CRUD, enable/disable, run-now, preview, occurrences (and the ledger)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request, Response

from core.api.auth import Admin, Operator, Viewer
from core.api.idempotency import IdempotencyKey, IdempotentRoute
from core.api.schemas import ERRORS, Deleted, RunAction, RunNowRequest, respond
from core.api.state import reader, ref, writer
from core.backend.inputs import SchedulePatch, ScheduleSpec
from core.backend.views import FireTimeView, OccurrenceView, ScheduleView

router = APIRouter(tags=["schedules"], route_class=IdempotentRoute)
PREFIX = "/api/job-schedules"
SCHEDULE_ID = Path(description="the schedule's id, or its name (job_identifier)")
PREVIEW_N = Query(10, ge=1, le=1000, description="how many fire times")
VIEWER_ZONE = Query(None, description="also show each time in this IANA zone")
LEDGER_LIMIT = Query(200, ge=1, le=10_000, description="at most this many, newest first")


@router.get(PREFIX, response_model=list[ScheduleView], responses=ERRORS)
async def list_schedules(
    *,
    request: Request,
    template: str | None = Query(None, description="only schedules of this template (id/name)"),
    is_active: bool | None = Query(None, description="only enabled (true) or disabled (false)"),
    _: Viewer,
) -> Response:
    """Schedules by name (Cockpit: a bare list)."""
    target = None if template is None else ref(template, "template")
    return respond(await reader(request).list_schedules(template=target, is_active=is_active))


@router.post(PREFIX, response_model=ScheduleView, responses=ERRORS)
async def create_schedule(
    *,
    spec: ScheduleSpec,
    request: Request,
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Create a schedule (200, the new schedule with its next_run)."""
    return respond(await writer(request, who).create_schedule(spec))


@router.post(f"{PREFIX}/preview", response_model=list[FireTimeView], responses=ERRORS)
async def preview_timing(
    *,
    spec: ScheduleSpec,
    request: Request,
    n: int = PREVIEW_N,
    viewer_zone: str | None = VIEWER_ZONE,
    _: Viewer,
) -> Response:
    """Fire times of timing that is not saved (a form's preview); changes nothing."""
    return respond(await reader(request).preview_timing(spec, n, viewer_zone=viewer_zone))


@router.get(f"{PREFIX}/{{schedule_id}}", response_model=ScheduleView, responses=ERRORS)
async def get_schedule(*, request: Request, schedule_id: str = SCHEDULE_ID, _: Viewer) -> Response:
    """One schedule."""
    return respond(await reader(request).get_schedule(ref(schedule_id, "schedule")))


@router.put(f"{PREFIX}/{{schedule_id}}", response_model=ScheduleView, responses=ERRORS)
async def update_schedule(
    *,
    patch: SchedulePatch,
    request: Request,
    schedule_id: str = SCHEDULE_ID,
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Change a schedule; fields left out or null stay (``clear`` resets start/end)."""
    target = ref(schedule_id, "schedule")
    return respond(await writer(request, who).update_schedule(target, patch))


@router.delete(f"{PREFIX}/{{schedule_id}}", response_model=Deleted, responses=ERRORS)
async def delete_schedule(
    *,
    request: Request,
    schedule_id: str = SCHEDULE_ID,
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Delete a schedule (its runs stay, without the link)."""
    report = await writer(request, who).delete_schedule(ref(schedule_id, "schedule"))
    return respond(
        Deleted(
            message="Job schedule deleted successfully",
            kind=report.kind,
            name=report.name,
            removed_schedules=list(report.removed_schedules),
        )
    )


@router.post(f"{PREFIX}/{{schedule_id}}/enable", response_model=ScheduleView, responses=ERRORS)
async def enable_schedule(
    *,
    request: Request,
    schedule_id: str = SCHEDULE_ID,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Enable a schedule (its next_run is computed from now)."""
    target = ref(schedule_id, "schedule")
    return respond(await writer(request, who).set_schedule_active(target, True))


@router.post(f"{PREFIX}/{{schedule_id}}/disable", response_model=ScheduleView, responses=ERRORS)
async def disable_schedule(
    *,
    request: Request,
    schedule_id: str = SCHEDULE_ID,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Disable a schedule (nothing fires until it is enabled again)."""
    target = ref(schedule_id, "schedule")
    return respond(await writer(request, who).set_schedule_active(target, False))


@router.post(f"{PREFIX}/{{schedule_id}}/run-now", response_model=RunAction, responses=ERRORS)
async def run_schedule_now(
    *,
    request: Request,
    body: RunNowRequest | None = None,
    schedule_id: str = SCHEDULE_ID,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Run the schedule now: its template with the schedule's parameter overrides.

    The run is ``triggered_by: manual`` and linked to the schedule; it never consumes a
    scheduled occurrence (Cockpit's ``POST /api/job-schedules/execute``).
    """
    body = body or RunNowRequest()
    run = await writer(request, who).run_schedule(ref(schedule_id, "schedule"), force=body.force)
    return respond(RunAction(message="Job queued", job_run=run))


@router.get(
    f"{PREFIX}/{{schedule_id}}/preview", response_model=list[FireTimeView], responses=ERRORS
)
async def preview_schedule(
    *,
    request: Request,
    schedule_id: str = SCHEDULE_ID,
    n: int = PREVIEW_N,
    viewer_zone: str | None = VIEWER_ZONE,
    _: Viewer,
) -> Response:
    """The schedule's next fire times, in its zone and in UTC, DST gaps and folds flagged."""
    target = ref(schedule_id, "schedule")
    return respond(await reader(request).preview_schedule(target, n, viewer_zone=viewer_zone))


@router.get(
    f"{PREFIX}/{{schedule_id}}/occurrences",
    response_model=list[OccurrenceView],
    responses=ERRORS,
)
async def schedule_occurrences(
    *,
    request: Request,
    schedule_id: str = SCHEDULE_ID,
    limit: int = LEDGER_LIMIT,
    _: Viewer,
) -> Response:
    """What became of the schedule's due occurrences (ran, coalesced, skipped, missed)."""
    target = ref(schedule_id, "schedule")
    return respond(await reader(request).list_occurrences(schedule=target, limit=limit))


@router.get("/api/occurrences", response_model=list[OccurrenceView], responses=ERRORS)
async def occurrences(
    *,
    request: Request,
    schedule: str | None = Query(None, description="only this schedule's (id or name)"),
    limit: int = LEDGER_LIMIT,
    _: Viewer,
) -> Response:
    """The occurrence ledger of every schedule (or one), newest first."""
    target = None if schedule is None else ref(schedule, "schedule")
    return respond(await reader(request).list_occurrences(schedule=target, limit=limit))
