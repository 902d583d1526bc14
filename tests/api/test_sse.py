"""Server-sent events on a real uvicorn: the change feed (resumable) and a followed log."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from core.api.serve import ApiServer
from core.storage.tables import JobRun

from .conftest import World

Live = tuple[ApiServer, httpx.AsyncClient]


@dataclass
class Event:
    """One parsed server-sent event (``comment`` for heartbeat lines)."""

    event: str | None
    id: int | None
    data: Any
    comment: str | None = None


class EventReader:
    """Reads events off an open text/event-stream response."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()

    async def next(self, within: float = 5.0) -> Event:
        """The next event or comment, waiting at most ``within`` seconds."""
        return await asyncio.wait_for(self._next(), within)

    async def _next(self) -> Event:
        fields: dict[str, str] = {}
        async for line in self.lines:
            if line.startswith(":"):
                return Event(None, None, None, comment=line[1:].strip())
            if line == "":
                if "data" in fields or "event" in fields:
                    return Event(
                        fields.get("event"),
                        int(fields["id"]) if "id" in fields else None,
                        json.loads(fields["data"]) if "data" in fields else None,
                    )
                fields.clear()
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        raise EOFError("stream ended")

    async def until(self, kind: str, within: float = 5.0) -> Event:
        """The next event named ``kind`` (skipping heartbeats and others)."""
        deadline = time.monotonic() + within
        while True:
            event = await self.next(max(0.1, deadline - time.monotonic()))
            if event.event == kind:
                return event


@asynccontextmanager
async def stream(
    http: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> AsyncIterator[EventReader]:
    async with http.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventReader(response)


async def test_changes_arrive_as_events_with_the_change_id(world: World, live: Live) -> None:
    _, http = live
    async with stream(http, "/api/events", world.auth("viewer")) as events:
        ready = await events.until("ready")
        assert ready.data == {"cursor": ready.id, "resumed": False}
        created = await http.post(
            "/api/job-templates",
            json={"name": "fresh", "job_type": "shell", "config": {"command": "true"}},
            headers=world.auth("admin"),
        )
        change = await events.until("change")
    assert change.id is not None and ready.id is not None and change.id > ready.id
    assert change.data["kind"] == "template"
    assert change.data["op"] == "insert"
    assert change.data["ref_id"] == created.json()["id"]
    assert change.data["at"].endswith("Z")


async def _three_changes(world: World, http: httpx.AsyncClient) -> None:
    admin = world.auth("admin")
    for request in (
        http.post(
            "/api/job-templates",
            json={"name": "later", "job_type": "shell", "config": {"command": "true"}},
            headers=admin,
        ),
        http.put("/api/job-templates/later", json={"description": "edited"}, headers=admin),
        http.post("/api/job-schedules/nightly/disable", headers=admin),
    ):
        assert (await request).status_code == 200


async def test_a_reconnecting_client_misses_nothing(world: World, live: Live) -> None:
    _, http = live
    async with stream(http, "/api/events", world.auth("viewer")) as events:
        last_seen = (await events.until("ready")).id
    await _three_changes(world, http)  # while disconnected
    headers = {**world.auth("viewer"), "Last-Event-ID": str(last_seen)}
    # ?after= is overridden by the header EventSource sends on reconnect
    async with stream(http, "/api/events?after=0", headers) as events:
        ready = await events.until("ready")
        missed = [await events.until("change") for _ in range(3)]
    assert ready.data == {"cursor": last_seen, "resumed": True}
    assert [(e.data["kind"], e.data["op"]) for e in missed] == [
        ("template", "insert"),
        ("template", "update"),
        ("schedule", "update"),
    ]
    ids = [e.id for e in missed]
    assert ids == sorted(ids) and ids[0] == last_seen + 1  # type: ignore[operator]


async def test_after_query_resumes_too(world: World, live: Live) -> None:
    _, http = live
    async with stream(http, "/api/events", world.auth("viewer")) as events:
        last_seen = (await events.until("ready")).id
    await _three_changes(world, http)
    async with stream(http, f"/api/events?after={last_seen}", world.auth("viewer")) as events:
        kinds = [(await events.until("change")).data["kind"] for _ in range(3)]
    assert kinds == ["template", "template", "schedule"]


async def test_a_cursor_the_feed_no_longer_has_gets_a_reset(world: World, live: Live) -> None:
    _, http = live
    headers = {**world.auth("viewer"), "Last-Event-ID": "999999999"}
    async with stream(http, "/api/events", headers) as events:
        first = await events.next()
        while first.event is None:
            first = await events.next()
    assert first.event == "reset"
    assert "reload" in first.data["reason"]
    assert first.id == first.data["cursor"] < 999999999


async def test_an_idle_stream_sends_heartbeats(world: World, live: Live) -> None:
    _, http = live
    async with stream(http, "/api/events", world.auth("viewer")) as events:
        await events.until("ready")
        beat = await events.next(within=3)
    assert beat.comment == "heartbeat"


async def test_a_followed_log_streams_until_the_run_ends(world: World, live: Live) -> None:
    _, http = live
    run_id = world.add_run(status="running")
    world.add_log(run_id, 1, "first\n")
    url = f"/api/job-runs/{run_id}/logs?follow=true"
    async with stream(http, url, world.auth("viewer")) as events:
        chunk = await events.until("chunk")
        assert (chunk.id, chunk.data["data"]) == (1, "first\n")
        world.add_log(run_id, 2, "second\n")
        with world.db.write() as session:
            row = session.get(JobRun, run_id)
            assert row is not None
            row.status = "completed"
            session.add(row)
        second = await events.until("chunk")
        end = await events.until("end")
    assert (second.id, second.data["data"]) == (2, "second\n")
    assert end.data == {"run_id": run_id, "next_seq": 2, "status": "completed"}
    # resuming after chunk 1 replays only what came later
    headers = {**world.auth("viewer"), "Last-Event-ID": "1"}
    async with stream(http, url, headers) as events:
        again = await events.until("chunk")
        await events.until("end")
    assert again.id == 2


async def test_stopping_the_server_ends_open_streams(world: World, live: Live) -> None:
    server, http = live
    async with stream(http, "/api/events", world.auth("viewer")) as events:
        await events.until("ready")
        started = time.monotonic()
        await server.stop()
        elapsed = time.monotonic() - started
    assert elapsed < 3


async def test_a_write_of_this_process_is_sent_at_once_not_at_the_next_poll(
    world: World,
) -> None:
    """The owner's own commits wake the streams: a poll of 30 s does not delay them."""
    from core.api.app import create_app
    from core.api.config import ApiSettings
    from core.api.serve import Listen, start_api
    from core.backend.inputs import TemplateSpec

    slow = ApiSettings(heartbeat_seconds=0.3, poll_seconds=30.0, token_cache_seconds=0.0)
    app = create_app(world.backend, world.db, slow)
    server = await start_api(app, Listen(host="127.0.0.1", port=0), graceful_seconds=1)
    try:
        async with (
            httpx.AsyncClient(base_url=server.address, timeout=10) as http,
            stream(http, "/api/events", world.auth("viewer")) as events,
        ):
            await events.until("ready")
            await world.backend.create_template(
                TemplateSpec(name="pushed", job_type="shell", config={"command": "true"})
            )
            change = await events.until("change", within=5.0)
        assert (change.data["kind"], change.data["op"]) == ("template", "insert")
    finally:
        await server.stop()
