"""The daemon's change feed as `GET /api/events` streams it, buffered for ``changes()``.

A background task holds the stream open. It buffers every ``change`` event, in order, and
knows the span it covers: all changes with ids in ``(covered_from, latest]``. When the stream
drops it reconnects with backoff, sending ``Last-Event-ID: latest``, so the daemon resumes
right after the last change buffered and nothing is missed; a ``reset`` event (the daemon no
longer keeps the changes after that id) empties the buffer and starts a new span.

``read(after)`` answers from the buffer while the stream is live and ``after`` lies inside the
span; otherwise it returns None and the caller asks `GET /api/changes` (which also answers
``reset`` for cursors too old to serve, or fails while the daemon is down).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import random
import time

from core.backend.views import ChangeBatch, ChangeView
from core.errors import JobdeckError
from core.pulse import Pulse
from core.remote.sse import EventParser, ServerEvent
from core.remote.transport import RetryPolicy, Transport

log = logging.getLogger("jobdeck.remote")

EVENTS_PATH = "/api/events"
#: The daemon sends a heartbeat every 15 s when idle; three missed ones mean a dead link.
IDLE_SECONDS = 45.0
#: After an ``error`` event (the daemon's store is down) the buffer is not trusted this long.
ERROR_HOLD_SECONDS = 3.0
RECONNECT = RetryPolicy(budget_seconds=float("inf"), first_delay=0.1, max_delay=3.0)


class ChangeFeed:
    """The buffered `/api/events` stream of one daemon."""

    def __init__(
        self,
        transport: Transport,
        *,
        capacity: int = 10_000,
        reconnect: RetryPolicy = RECONNECT,
        idle_seconds: float = IDLE_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self.transport = transport
        self.capacity = capacity
        self.reconnect = reconnect
        self.idle_seconds = idle_seconds
        self._rng = rng or random.Random()
        self._items: list[ChangeView] = []
        self._ids: list[int] = []
        self._covered_from: int | None = None
        self._latest: int | None = None
        self._start_after: int | None = None
        self._connected = False
        self._error_at: float | None = None
        self._ready = asyncio.Event()
        #: fired whenever something arrives or the stream goes up or down
        self._arrived = Pulse()
        self._task: asyncio.Task[None] | None = None
        #: how many times the stream was (re)opened and acknowledged, and why it last ended
        self.connections = 0
        self.last_error: str | None = None
        #: the Last-Event-ID the latest (re)connection sent (None: it started fresh)
        self.resumed_from: int | None = None

    # -- reading ------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """True once the reader task runs."""
        return self._task is not None

    @property
    def live(self) -> bool:
        """True while the stream is connected and the daemon reported no store error lately."""
        if not self._connected:
            return False
        return self._error_at is None or time.monotonic() - self._error_at >= ERROR_HOLD_SECONDS

    @property
    def latest(self) -> int | None:
        """The id of the newest change buffered (the resume point)."""
        return self._latest

    def read(self, after: int | None, limit: int) -> ChangeBatch | None:
        """The changes after ``after`` from the buffer, or None when it cannot tell."""
        if not self.live or self._latest is None or self._covered_from is None:
            return None
        if after is None:
            return ChangeBatch(items=(), cursor=self._latest)
        if not self._covered_from <= after <= self._latest:
            return None
        start = bisect.bisect_right(self._ids, after)
        chunk = self._items[start : start + limit]
        more = start + limit < len(self._items)
        cursor = chunk[-1].id if more and chunk else self._latest
        return ChangeBatch(items=tuple(chunk), cursor=cursor)

    # -- the reader task ----------------------------------------------------------------

    async def wait_beyond(self, after: int | None, seconds: float) -> None:
        """Return once the buffer holds changes after ``after`` (at once if it already does),
        the stream goes up or down, or ``seconds`` seconds have passed."""
        if self.live and self._latest is not None and after is not None and self._latest > after:
            return
        await self._arrived.wait(seconds)

    def start(self, after: int | None) -> None:
        """Open the stream in the background, from ``after`` (None: from now)."""
        if self._task is None:
            self._start_after = after
            self._task = asyncio.create_task(self._run(), name="jobdeck-remote-events")

    async def wait_live(self, seconds: float) -> bool:
        """Wait (up to ``seconds``) until the stream is live; True if it is."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), seconds)
        return self.live

    async def close(self) -> None:
        """Stop the reader."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._connected = False

    async def _run(self) -> None:
        attempt = 0
        while True:
            opened = self.connections
            try:
                await self._stream_once()
                self.last_error = "the daemon ended the stream"
            except JobdeckError as exc:
                self.last_error = str(exc)
            finally:
                self._connected = False
                self._ready.clear()
                self._arrived.fire()
            if self.connections > opened:
                attempt = 0  # it was up: start the backoff over
            pause = self.reconnect.delay(attempt, self._rng)
            log.debug("event stream down (%s); reconnecting in %.2fs", self.last_error, pause)
            await asyncio.sleep(pause)
            attempt += 1

    async def _stream_once(self) -> None:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        params: dict[str, int] = {}
        self.resumed_from = self._latest
        if self._latest is not None:
            headers["Last-Event-ID"] = str(self._latest)
        elif self._start_after is not None:
            params["after"] = self._start_after
        async with self.transport.stream_lines(
            EVENTS_PATH, params=params, headers=headers, idle_seconds=self.idle_seconds
        ) as lines:
            parser = EventParser()
            async for line in lines:
                event = parser.feed(line)
                if event is not None:
                    self._apply(event)

    def _apply(self, event: ServerEvent) -> None:
        if event.event == "change":
            self._append(ChangeView.model_validate_json(event.data))
        elif event.event == "ready":
            cursor = int(json.loads(event.data)["cursor"])
            if self._latest is None:
                # From now: the span starts at the daemon's cursor. From a given cursor: the
                # changes after it follow this event, so the span starts there.
                start = cursor if self._start_after is None else self._start_after
                self._covered_from = self._latest = start
            self._went_live()
        elif event.event == "reset":
            cursor = int(json.loads(event.data)["cursor"])
            self._items, self._ids = [], []
            self._covered_from = self._latest = cursor
            self._went_live()
        elif event.event == "error":
            self._error_at = time.monotonic()

    def _went_live(self) -> None:
        self._connected = True
        self._error_at = None
        self.connections += 1
        self._ready.set()
        self._arrived.fire()

    def _append(self, change: ChangeView) -> None:
        if self._latest is not None and change.id <= self._latest:
            return  # already buffered (a resumed stream never repeats, but be sure)
        self._items.append(change)
        self._ids.append(change.id)
        self._latest = change.id
        self._arrived.fire()
        if len(self._items) > 2 * self.capacity:
            dropped = len(self._items) - self.capacity
            self._covered_from = self._ids[dropped - 1]
            del self._items[:dropped], self._ids[:dropped]
