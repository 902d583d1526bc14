"""Server-sent event streams: the change feed (`/api/events`) and a followed run log.

Both poll the backend (``ApiSettings.poll_seconds``), send a comment line when idle for
``heartbeat_seconds`` so proxies and clients know the stream is alive, and end when the
server stops (``ApiState.closing``) or the client goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from core.api.state import ApiState
from core.backend.protocol import Backend
from core.backend.views import ChangeBatch, LogPage
from core.errors import JobdeckError, NotFound

#: The reconnect delay an EventSource client should use (milliseconds).
RETRY_MS = 3000
HEARTBEAT = b": heartbeat\n\n"
#: Changes read per poll; a full batch is followed by the next at once.
CHANGE_BATCH = 500

EVENT_STREAM = "text/event-stream"
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(data: str, *, event: str | None = None, event_id: int | None = None) -> bytes:
    """One event in the text/event-stream format."""
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in (data.splitlines() or [""]))
    return ("\n".join(lines) + "\n\n").encode()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


#: After this process commits a write, the stream reads the feed this much later.
WRITE_SETTLE_SECONDS = 0.01


async def _pause(closing: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(closing.wait(), seconds)


async def _until_news(state: ApiState) -> None:
    """Until the next read of the change feed: ``poll_seconds``, or shortly after this
    process commits a write (its trigger-fed change rows are then there to send), or the
    server closing."""
    closing = asyncio.ensure_future(state.closing.wait())
    wrote = asyncio.ensure_future(state.writes.wait(state.settings.poll_seconds))
    try:
        await asyncio.wait({closing, wrote}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closing.cancel()
    if wrote.done() and wrote.result() and not state.closing.is_set():
        # the signal comes as the commit is issued: let it land, and let a burst gather
        await _pause(state.closing, WRITE_SETTLE_SECONDS)
    else:
        wrote.cancel()


class _Beat:
    """When the stream last said something, to know when a heartbeat is due."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.last = time.monotonic()

    def sent(self) -> None:
        self.last = time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.every


def _batch_events(batch: ChangeBatch) -> list[bytes]:
    out = []
    if batch.reset:
        reason = "the changes after your cursor are no longer kept: reload, then go on"
        out.append(
            sse(
                _json({"cursor": batch.cursor, "reason": reason}),
                event="reset",
                event_id=batch.cursor,
            )
        )
    out.extend(
        sse(item.model_dump_json(), event="change", event_id=item.id) for item in batch.items
    )
    return out


async def change_events(
    state: ApiState, backend: Backend, first: ChangeBatch, start: int | None
) -> AsyncIterator[bytes]:
    """`ready` (or `reset`), then one `change` event per change, id = change id.

    ``first`` is the batch after ``start`` (None: the stream begins now, at its cursor).
    """
    beat = _Beat(state.settings.heartbeat_seconds)
    yield f"retry: {RETRY_MS}\n\n".encode()
    if not first.reset:
        cursor = first.cursor if start is None else start
        ready = {"cursor": cursor, "resumed": start is not None}
        yield sse(_json(ready), event="ready", event_id=cursor)
    for event in _batch_events(first):
        yield event
    cursor, full = first.cursor, len(first.items) >= CHANGE_BATCH
    state.writes.watch(state.db)
    while not state.closing.is_set():
        if not full:
            await _until_news(state)
            if state.closing.is_set():
                return
        try:
            batch = await backend.changes(cursor, limit=CHANGE_BATCH)
        except JobdeckError as exc:  # the store may be down for a while: say so, keep trying
            yield sse(_json({"detail": str(exc)}), event="error")
            beat.sent()
            full = False
            continue
        events = _batch_events(batch)
        for event in events:
            yield event
        cursor, full = batch.cursor, len(batch.items) >= CHANGE_BATCH
        if events:
            beat.sent()
        elif beat.due():
            yield HEARTBEAT
            beat.sent()


async def log_events(
    state: ApiState, backend: Backend, run_id: int, first: LogPage, limit: int
) -> AsyncIterator[bytes]:
    """One `chunk` event per log chunk (id = seq), then `end` once the run's log is complete."""
    beat = _Beat(state.settings.heartbeat_seconds)
    yield f"retry: {RETRY_MS}\n\n".encode()
    page = first
    while True:
        for chunk in page.chunks:
            yield sse(chunk.model_dump_json(), event="chunk", event_id=chunk.seq)
        if page.chunks:
            beat.sent()
        if page.finished:
            try:
                status: str | None = (await backend.get_run(run_id)).status
            except JobdeckError:  # deleted (or the store went away) just as it ended
                status = None
            end = {"run_id": run_id, "next_seq": page.next_seq, "status": status}
            yield sse(_json(end), event="end", event_id=page.next_seq)
            return
        if len(page.chunks) < limit:
            if beat.due():
                yield HEARTBEAT
                beat.sent()
            await _pause(state.closing, state.settings.poll_seconds)
        if state.closing.is_set():
            return
        try:
            page = await backend.run_logs(run_id, after_seq=page.next_seq, limit=limit)
        except NotFound as exc:  # the run was deleted while followed
            yield sse(_json({"detail": str(exc)}), event="error")
            return
        except JobdeckError as exc:
            yield sse(_json({"detail": str(exc)}), event="error")
            await _pause(state.closing, state.settings.poll_seconds)
            page = LogPage(run_id=run_id, chunks=(), next_seq=page.next_seq, finished=False)
