"""`GET /api/job-runs`: the listing's items are the runs' own JSON, and totals are reused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from core.api.paging import TotalCache
from core.api.schemas import RunList
from core.backend.fake import FakeBackend
from core.backend.inputs import RunQuery
from core.backend.views import ChangeBatch

from .conftest import World

PAGE_FIELDS = ["items", "total", "page", "page_size", "total_pages", "next_cursor"]


async def test_listed_runs_are_the_runs_json(world: World, client: httpx.AsyncClient) -> None:
    queued = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    full = world.add_run(
        job_name="nightly 'backup' \u2013 ü",
        status="failed",
        triggered_by="schedule",
        scheduled_for=queued,
        queued_at=queued,
        started_at=queued + timedelta(seconds=1),
        completed_at=queued + timedelta(seconds=2),
        duration_seconds=0.1 + 0.2,
        attempts=2,
        max_attempts=3,
        exit_code=1,
        signal=15,
        worker="pool",
        host="host-1",
        pid=4242,
        parameters={"plain": [1, 2.5], "token": "enc:v1:sealed"},
        template_revision=1,
        result={"rows": 3, "ratio": 1 / 3},
        error_message="boom",
        log_size=99,
        executed_by="alice",
        lateness_seconds=0.25,
        cancel_reason="why not",
    )
    bare = world.add_run(queued_at=queued - timedelta(days=1), parameters={}, result=None)
    headers = world.auth("viewer")

    listing = await client.get("/api/job-runs", params={"page_size": 100}, headers=headers)
    assert listing.status_code == 200
    body = listing.json()
    assert list(body) == PAGE_FIELDS
    # the kept page's hand-joined JSON is byte for byte what the response model writes
    assert RunList.model_validate_json(listing.content).model_dump_json() == listing.text
    listed = {item["id"]: item for item in body["items"]}
    for run_id in (full, bare):
        single = await client.get(f"/api/job-runs/{run_id}", headers=headers)
        assert listed[run_id] == single.json()
        # the same bytes too: field order and number formatting included
        item_text = single.text
        assert item_text in listing.text
    assert listed[full]["parameters"]["token"] != "enc:v1:sealed"
    assert listed[full]["queued_at"] == "2031-05-06T07:08:09.123456Z"
    assert listed[full]["duration_seconds"] == 0.30000000000000004


class _Feed(FakeBackend):
    """A fake backend that counts how often the change feed and the counts are read."""

    feed_reads = 0
    counts = 0

    async def changes(self, after: int | None = None, *, limit: int = 500) -> ChangeBatch:
        self.feed_reads += 1
        return await super().changes(after, limit=limit)

    async def run_counts(self, query: RunQuery | None = None) -> dict[str, int]:
        self.counts += 1
        return await super().run_counts(query)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_fresh_total_is_reused_without_reading_the_feed() -> None:
    backend = _Feed.seeded()
    clock = _Clock()
    cache = TotalCache(ttl=60.0, busy_seconds=1.0, monotonic=clock)
    first = await cache.total(backend, RunQuery())
    assert (backend.feed_reads, backend.counts) == (1, 1)

    clock.now += 0.5
    assert await cache.total(backend, RunQuery(limit=7)) == first
    assert (backend.feed_reads, backend.counts) == (1, 1)  # neither the feed nor a count

    clock.now += 1.0  # past busy_seconds: the feed is read, unchanged, so no recount
    assert await cache.total(backend, RunQuery()) == first
    assert (backend.feed_reads, backend.counts) == (2, 1)
    clock.now += 0.5  # within busy_seconds of that look: nothing read again
    assert await cache.total(backend, RunQuery()) == first
    assert (backend.feed_reads, backend.counts) == (2, 1)

    backend.add_run(template="cleanup-tmp")
    clock.now += 0.2  # a change within busy_seconds of the last look may lag...
    assert await cache.total(backend, RunQuery()) == first
    clock.now += 1.0  # ...by busy_seconds at most
    assert await cache.total(backend, RunQuery()) == first + 1
    assert (backend.feed_reads, backend.counts) == (3, 2)


async def test_an_unchanged_total_is_recounted_after_its_ttl() -> None:
    backend = _Feed.seeded()
    clock = _Clock()
    cache = TotalCache(ttl=10.0, busy_seconds=1.0, monotonic=clock)
    await cache.total(backend, RunQuery())
    for _ in range(9):
        clock.now += 1.5
        await cache.total(backend, RunQuery())
    assert backend.counts == 2  # counted at 100, then again once 10 s had passed
    assert await cache.total(backend, RunQuery(status=("failed",))) <= await cache.total(
        backend, RunQuery()
    )
    assert backend.counts == 3  # another filter set has a total of its own


async def test_a_kept_page_is_served_until_anything_changes(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = world.auth("viewer")
    world.add_run(job_name="first")
    reads = 0
    real = world.backend.list_runs

    async def counting(query: RunQuery) -> object:
        nonlocal reads
        reads += 1
        return await real(query)

    world.backend.list_runs = counting  # type: ignore[method-assign]
    params = {"page_size": 100}
    first = await client.get("/api/job-runs", params=params, headers=headers)
    again = await client.get("/api/job-runs", params=params, headers=headers)
    assert reads == 1  # the second answer was the kept page
    assert again.text == first.text
    assert again.headers["etag"] == first.headers["etag"]

    # a run written behind the API's back (another process, the executor) retires the page
    world.add_run(job_name="second")
    fresh = await client.get("/api/job-runs", params=params, headers=headers)
    assert reads == 2
    assert [item["job_name"] for item in fresh.json()["items"]][:1] == ["second"]
    assert fresh.headers["etag"] != first.headers["etag"]

    other = await client.get("/api/job-runs", params={"page_size": 1}, headers=headers)
    assert reads == 3  # another query string is another page
    assert other.json()["next_cursor"] is not None


async def test_a_client_holding_the_page_gets_304(world: World, client: httpx.AsyncClient) -> None:
    headers = world.auth("viewer")
    world.add_run(job_name="first")
    first = await client.get("/api/job-runs", headers=headers)
    tag = first.headers["etag"]

    same = await client.get("/api/job-runs", headers={**headers, "If-None-Match": f'"x", {tag}'})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == tag

    world.add_run(job_name="second")
    changed = await client.get("/api/job-runs", headers={**headers, "If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.json()["items"][0]["job_name"] == "second"

    no_token = await client.get("/api/job-runs", headers={"If-None-Match": tag})
    assert no_token.status_code == 401  # a tag is no way around the token
