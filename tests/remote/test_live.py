"""The remote backend against a real uvicorn on loopback: what the contract suite does not cover."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core.api.app import create_app
from core.api.serve import Listen, start_api
from core.backend.inputs import RunQuery, TemplatePatch, TemplateSpec
from core.backend.local import LocalBackend
from core.errors import NotFound, PermissionDenied
from core.remote.backend import JobdeckRemoteBackend
from core.storage.tables import JobRun

from .conftest import FAST_RETRY, Live
from .server import FAST, live_api, seed_token


def shell(name: str) -> TemplateSpec:
    return TemplateSpec(name=name, job_type="shell", config={"command": "echo hi"})


async def test_writes_are_audited_as_the_token_through_the_api(live: Live) -> None:
    remote = await live.connect()
    try:
        await remote.create_template(shell("hello"))
        await remote.update_template("hello", TemplatePatch(description="changed"))
    finally:
        await remote.close()
    records = await live.local.audit_log(limit=2)
    assert [(r.action, r.actor, r.source) for r in records] == [
        ("template.update", "tester", "api"),
        ("template.create", "tester", "api"),
    ]


async def test_a_read_only_daemon_and_a_weak_token_are_permission_denied(
    local: LocalBackend, tmp_path: Path
) -> None:
    clock = local.clock
    read_only = LocalBackend(local.db, actor=local.actor, default_zone="UTC", read_only=True)
    admin = seed_token(local.db, "admin", "admin", clock)
    viewer = seed_token(local.db, "viewer", "viewer", clock)
    async with live_api(read_only, local.db, clock) as server:  # type: ignore[arg-type]
        remote = await JobdeckRemoteBackend.connect(server.address, admin, retry=FAST_RETRY)
        try:
            assert remote.capabilities.writable is False
            with pytest.raises(PermissionDenied, match=r"^read-only mode: writes are disabled$"):
                await remote.create_template(shell("hello"))
        finally:
            await remote.close()
    async with live_api(local, local.db, clock) as server:  # type: ignore[arg-type]
        remote = await JobdeckRemoteBackend.connect(server.address, viewer, retry=FAST_RETRY)
        try:
            assert await remote.list_templates() == []
            with pytest.raises(PermissionDenied, match="admin role required"):
                await remote.create_template(shell("hello"))
        finally:
            await remote.close()
        with pytest.raises(PermissionDenied, match="Could not validate credentials"):
            await JobdeckRemoteBackend.connect(server.address, "jd_wrong", retry=FAST_RETRY)


async def test_over_the_owners_unix_socket(local: LocalBackend, tmp_path: Path) -> None:
    token = seed_token(local.db, "tester", "admin", local.clock)
    app = create_app(local, local.db, FAST, local.clock)
    server = await start_api(app, Listen(socket_path=tmp_path / "api.sock"))
    try:
        assert server.address == f"unix:{tmp_path / 'api.sock'}"
        remote = await JobdeckRemoteBackend.connect(server.address, token, retry=FAST_RETRY)
        try:
            await remote.create_template(shell("over-socket"))
            assert [t.name for t in await remote.list_templates()] == ["over-socket"]
        finally:
            await remote.close()
    finally:
        await server.stop()


@pytest.mark.parametrize("name", ["nightly/backup", "types", "..", "100% done", "a?b#c"])
async def test_names_that_are_not_path_safe_still_reach_their_template(
    live: Live, name: str
) -> None:
    remote = await live.connect()
    try:
        created = await remote.create_template(shell(name))
        assert (await remote.get_template(name)).id == created.id
        updated = await remote.update_template(name, TemplatePatch(description="x"))
        assert updated.revision == 2
        assert [r.revision for r in await remote.template_revisions(name)] == [2, 1]
        assert (await remote.delete_template(name)).name == name
        with pytest.raises(NotFound):
            await remote.get_template(name)
    finally:
        await remote.close()


def add_runs(live: Live, count: int, **fields: object) -> None:
    with live.db.write() as session:
        for index in range(count):
            values = {
                "job_name": "bulk",
                "job_type": "shell",
                "status": "completed",
                "triggered_by": "manual",
                "queued_at": live.clock.now() - timedelta(minutes=index),
            }
            values.update(fields)
            session.add(JobRun(**values))


async def test_pages_longer_than_the_apis_are_read_along_the_cursor(live: Live) -> None:
    add_runs(live, 250)
    remote = await live.connect()
    try:
        whole = await remote.list_runs(RunQuery(limit=1000))
        assert (len(whole.items), whole.total, whole.next_cursor) == (250, 250, None)
        first = await remote.list_runs(RunQuery(limit=130))
        assert len(first.items) == 130 and first.next_cursor
        rest = await remote.list_runs(RunQuery(limit=1000, cursor=first.next_cursor))
        assert [r.id for r in first.items + rest.items] == [r.id for r in whole.items]
        local = await live.local.list_runs(RunQuery(limit=1000))
        assert whole.items == local.items
    finally:
        await remote.close()


async def test_counts_with_a_time_window_or_search_match_the_local_backend(live: Live) -> None:
    add_runs(live, 3)
    add_runs(live, 2, status="failed", job_name="other")
    add_runs(live, 1, status="running", queued_at=live.clock.now() - timedelta(days=3))
    remote = await live.connect()
    try:
        for query in (
            RunQuery(since=live.clock.now() - timedelta(days=1)),
            RunQuery(search="oth"),
            RunQuery(since=live.clock.now() - timedelta(days=5), status=("running", "failed")),
            RunQuery(job_type=("shell",)),
        ):
            assert await remote.run_counts(query) == await live.local.run_counts(query)
        assert await remote.run_counts() == await live.local.run_counts()
    finally:
        await remote.close()
