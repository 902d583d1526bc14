"""The event reader against a real `jobdeck daemon` that is killed (SIGKILL) and restarted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.backend.inputs import TemplateSpec
from core.backend.local import LocalBackend
from core.errors import BackendUnavailable
from core.jobs.audit import Actor
from core.remote.backend import JobdeckRemoteBackend
from core.storage.database import Database, sqlite_url

from .conftest import FAST_RETRY, eventually
from .processes import admin_token, jobdeck_env, seed_template, start_daemon

pytestmark = pytest.mark.slow


def shell(name: str) -> TemplateSpec:
    return TemplateSpec(name=name, job_type="shell", config={"command": "true"})


async def test_the_reader_resumes_from_last_event_id_after_a_kill(tmp_path: Path) -> None:
    home, env = tmp_path, jobdeck_env(tmp_path)
    seed_template(home, "hello")
    token = admin_token(home)
    daemon = await asyncio.to_thread(start_daemon, home, env)
    port = int(daemon.address.rsplit(":", 1)[1])
    db = Database(sqlite_url(home / "jobdeck.db"))
    local = LocalBackend(db, actor=Actor("test", "test"), default_zone="UTC")
    remote = await JobdeckRemoteBackend.connect(daemon.address, token, retry=FAST_RETRY)
    try:
        start = await remote.changes()
        await remote.create_template(shell("before-the-kill"))
        await eventually(lambda: _past(remote, start.cursor), seconds=20)
        seen = await remote.changes(start.cursor)
        assert [c.kind for c in seen.items] == ["template"]

        await asyncio.to_thread(daemon.kill)
        for name in ("while-down-1", "while-down-2", "while-down-3"):
            await local.create_template(shell(name))  # straight into the database
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await remote.changes(seen.cursor)

        daemon = await asyncio.to_thread(start_daemon, home, env, port)
        await eventually(lambda: _live_again(remote), seconds=30)
        assert remote.feed.resumed_from == seen.cursor
        expected = await local.changes(seen.cursor)
        await eventually(lambda: _past(remote, expected.cursor - 1), seconds=20)
        after = await remote.changes(seen.cursor)
        assert after == expected
        created = [c.ref_id for c in after.items if (c.kind, c.op) == ("template", "insert")]
        names = {(await local.get_template(ref)).name for ref in created if ref is not None}
        assert names == {"while-down-1", "while-down-2", "while-down-3"}
        ids = [c.id for c in seen.items + after.items]
        assert ids == sorted(set(ids))  # nothing twice, in order
    finally:
        await remote.close()
        await local.close()
        await asyncio.to_thread(daemon.stop)


async def _past(remote: JobdeckRemoteBackend, cursor: int) -> bool:
    return (remote.feed.latest or 0) > cursor


async def _live_again(remote: JobdeckRemoteBackend) -> bool:
    return remote.feed.connections >= 2 and remote.feed.live
