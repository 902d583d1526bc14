"""changes() from the live `/api/events` stream: buffered, resumed after a restart, no gaps."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.backend.inputs import TemplateSpec
from core.errors import BackendUnavailable
from core.remote.backend import JobdeckRemoteBackend
from core.remote.transport import NO_RETRY, Transport

from .conftest import Live, eventually
from .server import live_api


def shell(name: str) -> TemplateSpec:
    return TemplateSpec(name=name, job_type="shell", config={"command": "echo hi"})


def spy_on(remote: JobdeckRemoteBackend) -> list[str]:
    """Record the path of every request the backend sends (not the stream)."""
    paths: list[str] = []
    transport: Transport = remote._http
    original = transport.call

    async def recording(method: str, path: str, **options: Any) -> bytes:
        paths.append(path)
        return await original(method, path, **options)

    transport.call = recording  # type: ignore[method-assign]
    return paths


async def test_changes_are_what_the_stream_delivered(live: Live) -> None:
    remote = await live.connect()
    try:
        paths = spy_on(remote)
        start = await remote.changes()
        assert remote.feed.live and remote.feed.connections == 1
        for name in ("one", "two", "three"):
            await live.local.create_template(shell(name))
        expected = await live.local.changes(start.cursor)
        await eventually(lambda: _latest_past(remote, expected.cursor))
        batch = await remote.changes(start.cursor)
        assert batch == expected
        assert [(c.kind, c.op) for c in batch.items] == [("template", "insert")] * 3
        first = await remote.changes(start.cursor, limit=1)
        assert (len(first.items), first.cursor) == (1, batch.items[0].id)
        assert "/api/changes" not in paths  # every answer came from the stream's buffer
    finally:
        await remote.close()


async def _latest_past(remote: JobdeckRemoteBackend, cursor: int) -> bool:
    return (remote.feed.latest or 0) >= cursor


async def test_a_cursor_older_than_the_buffer_is_answered_by_the_daemon(live: Live) -> None:
    remote = await JobdeckRemoteBackend.connect(live.address, live.token, feed_capacity=2)
    try:
        paths = spy_on(remote)
        start = await remote.changes()
        for index in range(6):
            await live.local.create_template(shell(f"t{index}"))
        expected = await live.local.changes(start.cursor)
        await eventually(lambda: _latest_past(remote, expected.cursor))
        assert remote.feed.read(start.cursor, 500) is None  # trimmed past it
        batch = await remote.changes(start.cursor)
        assert batch == expected
        assert len(batch.items) == 6 and paths.count("/api/changes") == 1
    finally:
        await remote.close()


async def test_the_reader_resumes_after_a_restart_and_misses_nothing(live: Live) -> None:
    """Stop the server mid-stream, change things while it is down, start it again on the
    same port: the reader reconnects with Last-Event-ID and delivers every change once."""
    port = int(live.address.rsplit(":", 1)[1])
    remote = await live.connect()
    try:
        start = await remote.changes()
        await live.local.create_template(shell("before"))
        await eventually(lambda: _latest_past(remote, start.cursor + 1))
        seen = await remote.changes(start.cursor)
        assert len(seen.items) == 1
        await live.server.stop()
        for name in ("while-down-1", "while-down-2", "while-down-3"):
            await live.local.create_template(shell(name))
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await remote.changes(seen.cursor)  # stale: the caller shows it
        async with live_api(live.local, live.db, live.clock, port=port):
            await eventually(lambda: _connections(remote, 2))
            assert remote.feed.resumed_from == seen.cursor
            expected = await live.local.changes(seen.cursor)
            await eventually(lambda: _latest_past(remote, expected.cursor))
            after = await remote.changes(seen.cursor)
            assert after == expected and len(after.items) == 3
            ids = [c.id for c in seen.items + after.items]
            assert ids == sorted(set(ids)) and len(ids) == 4
    finally:
        await remote.close()


async def _connections(remote: JobdeckRemoteBackend, count: int) -> bool:
    return remote.feed.connections >= count and remote.feed.live


async def test_changes_fail_fast_when_the_daemon_is_gone(live: Live) -> None:
    remote = await live.connect(retry=NO_RETRY, live_wait_seconds=0.5)
    await live.server.stop()
    try:
        with pytest.raises(BackendUnavailable, match=live.address):
            await remote.changes()
    finally:
        await remote.close()


async def test_an_attached_console_hears_of_a_change_as_it_happens(live: Live) -> None:
    """wait_for_changes returns when the stream delivers, not at the end of the poll."""
    remote = await live.connect()
    try:
        start = await remote.changes()
        waiting = asyncio.ensure_future(remote.wait_for_changes(start.cursor, 30.0))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await live.local.create_template(shell("pushed"))
        await asyncio.wait_for(waiting, 10.0)
        batch = await remote.changes(start.cursor)
        assert [(c.kind, c.op) for c in batch.items] == [("template", "insert")]
    finally:
        await remote.close()
