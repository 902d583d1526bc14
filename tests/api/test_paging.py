"""Cockpit's page numbers over keyset pages: pages tile the listing, totals are right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from core.api.config import ApiSettings
from core.api.paging import PageCursors, numbered_page
from core.backend.inputs import RunQuery
from core.backend.local import LocalBackend

from .conftest import World, make_world, seed


def _add_runs(world: World, count: int) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    for n in range(count):
        world.add_run(queued_at=start + timedelta(minutes=n), job_name=f"job-{n:03d}")


async def test_pages_tile_the_listing(world: World, client: httpx.AsyncClient) -> None:
    _add_runs(world, 47)
    headers = world.auth("viewer")
    everything = await client.get("/api/job-runs", params={"page_size": 100}, headers=headers)
    expected = [run["id"] for run in everything.json()["items"]]
    assert len(expected) == 50  # 47 + the 3 seeded runs
    seen: list[int] = []
    for page in range(1, 7):
        response = await client.get(
            "/api/job-runs", params={"page": page, "page_size": 10}, headers=headers
        )
        body = response.json()
        assert (body["page"], body["page_size"], body["total"], body["total_pages"]) == (
            page,
            10,
            50,
            5,
        )
        seen.extend(run["id"] for run in body["items"])
    assert seen == expected


async def test_a_deep_page_without_the_pages_before_it(world: World) -> None:
    _add_runs(world, 30)
    query = RunQuery(limit=7)
    fresh = PageCursors(60)
    page4 = await numbered_page(world.backend, query, 4, 7, fresh, 10_000)
    everything = await world.backend.list_runs(RunQuery(limit=100))
    assert [r.id for r in page4.items] == [r.id for r in everything.items[21:28]]
    past_end = await numbered_page(world.backend, query, 9, 7, PageCursors(60), 10_000)
    assert past_end.items == () and past_end.total == 33


async def test_next_cursor_continues_the_page(world: World, client: httpx.AsyncClient) -> None:
    _add_runs(world, 12)
    headers = world.auth("viewer")
    first = (await client.get("/api/job-runs?page_size=5", headers=headers)).json()
    second = (
        await client.get(
            "/api/job-runs",
            params={"page_size": 5, "cursor": first["next_cursor"]},
            headers=headers,
        )
    ).json()
    by_number = (await client.get("/api/job-runs?page_size=5&page=2", headers=headers)).json()
    assert [r["id"] for r in second["items"]] == [r["id"] for r in by_number["items"]]


async def test_filters_apply_to_items_and_total(world: World, client: httpx.AsyncClient) -> None:
    _add_runs(world, 5)
    response = await client.get(
        "/api/job-runs", params={"status": "pending,failed"}, headers=world.auth("viewer")
    )
    body = response.json()
    assert body["total"] == 2
    assert {run["status"] for run in body["items"]} == {"pending", "failed"}


async def test_pages_past_the_limit_point_to_the_cursor(backend: LocalBackend) -> None:
    world = make_world(backend, ApiSettings(max_page_offset=20))
    await seed(world)
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jobdeck") as http:
        response = await http.get(
            "/api/job-runs", params={"page": 4, "page_size": 10}, headers=world.auth("viewer")
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["page"]
    assert "next_cursor" in response.json()["detail"][0]["msg"]


async def test_total_is_recounted_only_when_the_change_feed_moved() -> None:
    from core.api.paging import TotalCache
    from core.backend.fake import FakeBackend
    from core.backend.inputs import RunQuery

    backend = FakeBackend.seeded()
    calls: list[object] = []
    real = backend.run_counts

    async def counting(query: RunQuery | None = None) -> dict[str, int]:
        calls.append(query)
        return await real(query)

    backend.run_counts = counting  # type: ignore[method-assign]
    cache = TotalCache(ttl=60.0, busy_seconds=0.0)
    first = await cache.total(backend, RunQuery())
    assert await cache.total(backend, RunQuery(limit=10)) == first  # same filters, no change
    assert len(calls) == 1
    backend.add_run(template="cleanup-tmp")
    assert await cache.total(backend, RunQuery()) == first + 1
    assert len(calls) == 2
