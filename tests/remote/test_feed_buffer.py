"""The SSE parser and the change buffer's rules, without a network."""

from __future__ import annotations

import asyncio
import json

from core.remote.feed import ChangeFeed
from core.remote.sse import EventParser, ServerEvent
from core.remote.transport import Transport


def parse(text: str) -> list[ServerEvent]:
    parser = EventParser()
    events = []
    for line in text.split("\n"):
        event = parser.feed(line)
        if event is not None:
            events.append(event)
    return events


def test_parser_reads_named_events_ids_comments_and_multiline_data() -> None:
    stream = (
        "retry: 3000\n\n"
        ": heartbeat\n\n"
        'event: ready\nid: 7\ndata: {"cursor":7}\n\n'
        "data: line one\ndata:line two\n\n"
        "event: change\ndata: x\n\n"
    )
    parser = EventParser()
    events = []
    for line in stream.split("\n"):
        event = parser.feed(line)
        if event is not None:
            events.append(event)
    assert events == [
        ServerEvent("ready", '{"cursor":7}', "7"),
        ServerEvent("message", "line one\nline two", "7"),  # the last id sticks (spec)
        ServerEvent("change", "x", "7"),
    ]
    assert parser.retry_seconds == 3.0


def test_parser_drops_events_without_data() -> None:
    assert parse("event: ping\n\nid: 3\n\n") == []


def change(change_id: int, kind: str = "run") -> ServerEvent:
    data = {"id": change_id, "at": "2026-03-02T09:30:00Z", "kind": kind, "op": "update"}
    return ServerEvent("change", json.dumps({**data, "ref_id": 1}), str(change_id))


def ready(cursor: int) -> ServerEvent:
    return ServerEvent("ready", json.dumps({"cursor": cursor, "resumed": False}), str(cursor))


def feed() -> ChangeFeed:
    return ChangeFeed(Transport("http://unused.test", None), capacity=3)


def test_buffer_answers_inside_its_span_only() -> None:
    buffer = feed()
    assert buffer.read(None, 10) is None  # not live yet
    buffer._apply(ready(10))
    assert buffer.read(None, 10) is not None and buffer.read(None, 10).cursor == 10  # type: ignore[union-attr]
    for change_id in (11, 12, 14):
        buffer._apply(change(change_id))
    batch = buffer.read(10, 10)
    assert batch is not None
    assert ([c.id for c in batch.items], batch.cursor) == ([11, 12, 14], 14)
    first_two = buffer.read(10, 2)
    assert first_two is not None
    assert ([c.id for c in first_two.items], first_two.cursor) == ([11, 12], 12)
    rest = buffer.read(12, 10)
    assert rest is not None and [c.id for c in rest.items] == [14]
    nothing = buffer.read(14, 10)
    assert nothing is not None and (nothing.items, nothing.cursor) == ((), 14)
    assert buffer.read(9, 10) is None  # before the span: ask the daemon
    assert buffer.read(15, 10) is None  # past what the stream delivered: ask the daemon


def test_buffer_started_from_a_cursor_covers_from_there() -> None:
    buffer = feed()
    buffer._start_after = 5
    buffer._apply(ready(8))  # the daemon's cursor after the changes that follow
    for change_id in (6, 7, 8):
        buffer._apply(change(change_id))
    batch = buffer.read(5, 10)
    assert batch is not None and [c.id for c in batch.items] == [6, 7, 8]


def test_buffer_drops_its_oldest_past_twice_the_capacity() -> None:
    buffer = feed()
    buffer._apply(ready(0))
    for change_id in range(1, 8):  # capacity 3: trimmed back to 3 once 7 are held
        buffer._apply(change(change_id))
    assert buffer.read(0, 10) is None
    kept = buffer.read(4, 10)
    assert kept is not None and [c.id for c in kept.items] == [5, 6, 7]


def test_reset_starts_a_new_span_and_errors_suspend_the_buffer() -> None:
    buffer = feed()
    buffer._apply(ready(3))
    buffer._apply(change(4))
    buffer._apply(ServerEvent("reset", json.dumps({"cursor": 90}), "90"))
    assert buffer.read(4, 10) is None  # the daemon will answer reset for that cursor
    after_reset = buffer.read(90, 10)
    assert after_reset is not None and (after_reset.items, after_reset.cursor) == ((), 90)
    buffer._apply(ServerEvent("error", json.dumps({"detail": "database unavailable"}), None))
    assert buffer.live is False and buffer.read(90, 10) is None


def test_a_repeated_change_is_kept_once() -> None:
    buffer = feed()
    buffer._apply(ready(0))
    for change_id in (1, 2, 2, 1, 3):
        buffer._apply(change(change_id))
    batch = buffer.read(0, 10)
    assert batch is not None and [c.id for c in batch.items] == [1, 2, 3]


async def test_waiting_returns_when_a_change_arrives_not_at_the_end() -> None:
    buffer = feed()
    buffer._apply(ready(10))
    waiting = asyncio.ensure_future(buffer.wait_beyond(10, 30.0))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    buffer._apply(change(11))
    await asyncio.wait_for(waiting, 1.0)  # woken by the change, long before 30 s
    # already past the cursor: no wait at all
    await asyncio.wait_for(buffer.wait_beyond(10, 30.0), 0.1)


async def test_waiting_without_news_lasts_the_time_given() -> None:
    buffer = feed()
    buffer._apply(ready(10))
    began = asyncio.get_running_loop().time()
    await buffer.wait_beyond(10, 0.05)
    assert asyncio.get_running_loop().time() - began >= 0.05
