"""`/api/events` (server-sent events of the change feed) and `/api/changes` (the same, polled)."""

from __future__ import annotations

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from core.api.auth import Viewer
from core.api.schemas import ERRORS, respond
from core.api.state import MAX_ID, api_state, reader
from core.api.streams import EVENT_STREAM, STREAM_HEADERS, change_events
from core.backend.views import ChangeBatch
from core.errors import ValidationFailed

router = APIRouter(tags=["events"])

AFTER = Query(None, ge=0, le=MAX_ID, description="the last change id seen (absent: start from now)")


def _last_event_id(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_ID):
        raise ValidationFailed("header.Last-Event-ID", "must be an event id the stream sent")
    return int(text)


@router.get("/api/events", responses={**ERRORS, 200: {"content": {EVENT_STREAM: {}}}})
async def events(
    *,
    request: Request,
    after: int | None = AFTER,
    last_event_id: str | None = Header(
        None, alias="Last-Event-ID", description="resume after this event (wins over ?after=)"
    ),
    _: Viewer,
) -> StreamingResponse:
    """Every change to templates, schedules, runs, workers and the ledger, as they happen.

    Events: ``ready`` (id = the cursor the stream starts from), ``change`` (id = change id,
    data = ``{id, at, kind, op, ref_id}``), ``reset`` (the changes after the client's cursor
    are no longer kept: reload everything, then go on; id = the new cursor), ``error`` (the
    store is unavailable; the stream keeps trying). Idle streams get a comment every 15 s.
    A client that reconnects with ``Last-Event-ID`` misses nothing.
    """
    start = _last_event_id(last_event_id)
    if start is None:
        start = after
    backend = reader(request)
    first = await backend.changes(start)
    stream = change_events(api_state(request), backend, first, start)
    return StreamingResponse(stream, media_type=EVENT_STREAM, headers=STREAM_HEADERS)


@router.get("/api/changes", response_model=ChangeBatch, responses=ERRORS)
async def changes(
    *,
    request: Request,
    after: int | None = AFTER,
    limit: int = Query(500, ge=1, le=1000),
    _: Viewer,
) -> Response:
    """The change feed after ``after`` (a client without a stream polls this)."""
    return respond(await reader(request).changes(after, limit=limit))
