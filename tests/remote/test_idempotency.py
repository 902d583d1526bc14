"""A write whose answer is lost after the daemon acted is retried, and acts only once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.backend.inputs import RunQuery, TemplateSpec
from core.errors import BackendUnavailable
from core.remote.backend import JobdeckRemoteBackend
from core.remote.transport import NO_RETRY

from .conftest import FAST_RETRY, Live
from .proxy import DroppingProxy


@pytest.fixture
async def proxy(live: Live) -> AsyncIterator[DroppingProxy]:
    port = int(live.address.rsplit(":", 1)[1])
    dropping = DroppingProxy("127.0.0.1", port)
    await dropping.start()
    yield dropping
    await dropping.stop()


def shell(name: str) -> TemplateSpec:
    return TemplateSpec(name=name, job_type="shell", config={"command": "echo hi"})


async def test_without_a_retry_the_lost_answer_hides_a_write_that_happened(
    live: Live, proxy: DroppingProxy
) -> None:
    # The control: the proxy really loses the answer of a request the daemon carried out.
    remote = await JobdeckRemoteBackend.connect(proxy.address, live.token, retry=NO_RETRY)
    try:
        proxy.drop_next()
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await remote.create_template(shell("hello"))
    finally:
        await remote.close()
    assert proxy.dropped == 1
    assert [t.name for t in await live.local.list_templates()] == ["hello"]


async def test_a_retried_create_acts_once(live: Live, proxy: DroppingProxy) -> None:
    remote = await JobdeckRemoteBackend.connect(proxy.address, live.token, retry=FAST_RETRY)
    try:
        proxy.drop_next()
        created = await remote.create_template(shell("hello"))
        assert proxy.dropped == 1 and proxy.connections >= 2
        assert await live.local.list_templates() == [created]
        creates = [r for r in await live.local.audit_log() if r.action == "template.create"]
        assert len(creates) == 1
    finally:
        await remote.close()


async def test_a_retried_run_now_queues_one_run(live: Live, proxy: DroppingProxy) -> None:
    await live.local.create_template(shell("hello"))
    remote = await JobdeckRemoteBackend.connect(proxy.address, live.token, retry=FAST_RETRY)
    try:
        proxy.drop_next()
        run = await remote.run_template("hello", force=True)
        assert proxy.dropped == 1
        page = await live.local.list_runs(RunQuery())
        assert [r.id for r in page.items] == [run.id]
        second = await remote.run_template("hello", force=True)  # a new call: a new run
        assert second.id != run.id
    finally:
        await remote.close()
