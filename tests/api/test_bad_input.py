"""Malformed or hostile input: a 4xx that names the field, never a 500, nothing half-written."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import func, select

from core.api.app import create_app
from core.backend.local import LocalBackend
from core.jobs.audit import Actor
from core.storage.tables import AuditRecord, JobSchedule, JobTemplate

from .conftest import World


def _rows(world: World, table: type) -> int:
    with world.db.read() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _locs(response: httpx.Response) -> list[list[object]]:
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": 5, "job_type": "shell"}, ["body", "name"]),
        ({"job_type": "shell"}, ["body", "name"]),
        ({"name": "x", "job_type": "shell", "colour": "red"}, ["body", "colour"]),
        ({"name": "x", "job_type": "shell", "retries": "many"}, ["body", "retries"]),
        ({"name": "x", "job_type": "no-such-type"}, ["job_type"]),
        ({"name": "x", "job_type": "shell", "config": {"command": 7}}, ["config", "command"]),
        ({"name": "x", "job_type": "shell", "config": {}}, ["config", "command"]),
    ],
)
async def test_bad_template_bodies_name_the_field(
    world: World, client: httpx.AsyncClient, body: dict[str, object], loc: list[str]
) -> None:
    before = (_rows(world, JobTemplate), _rows(world, AuditRecord))
    response = await client.post("/api/job-templates", json=body, headers=world.auth("admin"))
    assert response.status_code == 422, response.text
    assert any(found[: len(loc)] == loc for found in _locs(response)), response.text
    assert (_rows(world, JobTemplate), _rows(world, AuditRecord)) == before


async def test_bad_schedule_timing_names_the_field(world: World, client: httpx.AsyncClient) -> None:
    body = {
        "job_identifier": "bad",
        "template": "hello",
        "schedule_type": "cron",
        "cron_expression": "*/0 * * * *",
        "timezone": "UTC",
    }
    before = _rows(world, JobSchedule)
    response = await client.post("/api/job-schedules", json=body, headers=world.auth("admin"))
    assert response.status_code == 422
    assert _locs(response)[0][0] == "cron_expression"
    assert _rows(world, JobSchedule) == before


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b"[1, 2]", "application/json"), (b"", None)],
)
async def test_unparseable_bodies_are_4xx(
    world: World, client: httpx.AsyncClient, content: bytes, content_type: str | None
) -> None:
    headers = world.auth("admin")
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.post("/api/job-templates", content=content, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "body"


async def test_huge_bodies_are_refused(world: World, client: httpx.AsyncClient) -> None:
    body = {"name": "big", "job_type": "shell", "config": {"command": "x" * (2 * 1024 * 1024)}}
    response = await client.post("/api/job-templates", json=body, headers=world.auth("admin"))
    assert response.status_code == 413
    assert _rows(world, JobTemplate) == 2


async def test_deeply_nested_json_is_a_4xx(world: World, client: httpx.AsyncClient) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    content = f'{{"name": "deep", "job_type": "shell", "config": {{"command": {nested}}}}}'
    response = await client.post(
        "/api/job-templates",
        content=content.encode(),
        headers={**world.auth("admin"), "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    "url",
    [
        "/api/job-templates/99999999999999999999999",
        "/api/job-templates/%C2%B2",  # a superscript two: a "digit" int() refuses
        "/api/job-templates/no-such-template",
        "/api/job-schedules/" + "9" * 5000,
        "/api/job-runs/12345",
        "/api/workers/nobody",
    ],
)
async def test_unknown_references_are_404(
    world: World, client: httpx.AsyncClient, url: str
) -> None:
    response = await client.get(url, headers=world.auth("viewer"))
    assert response.status_code == 404, response.text


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/job-runs?page_size=0", "page_size"),
        ("/api/job-runs?page_size=101", "page_size"),
        ("/api/job-runs?page=0", "page"),
        ("/api/job-runs?status=exploded", "status"),
        ("/api/job-runs?template_id=1,x", "template_id"),
        ("/api/job-runs?since=yesterday", "since"),
        ("/api/job-runs?cursor=garbage", "cursor"),
        ("/api/job-runs/99999999999999999999", "run_id"),
        ("/api/job-runs/1/logs?offset=-1", "offset"),
        ("/api/job-schedules/nightly/preview?n=0", "n"),
        ("/api/job-schedules/nightly/preview?viewer_zone=Mars/Base", "viewer_zone"),
        ("/api/changes?after=-5", "after"),
    ],
)
async def test_bad_query_values_name_the_field(
    world: World, client: httpx.AsyncClient, url: str, field: str
) -> None:
    response = await client.get(url, headers=world.auth("viewer"))
    assert response.status_code == 422, response.text
    assert any(field in loc for loc in _locs(response)), response.text


async def test_bad_last_event_id_names_the_header(world: World, client: httpx.AsyncClient) -> None:
    headers = {**world.auth("viewer"), "Last-Event-ID": "abc"}
    response = await client.get("/api/events", headers=headers)
    assert response.status_code == 422
    assert _locs(response) == [["header", "Last-Event-ID"]]


async def test_an_unexpected_error_is_a_sanitised_500(
    world: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(world.backend, "list_templates", broken)
    response = await client.get("/api/job-templates", headers=world.auth("viewer"))
    assert response.status_code == 500
    detail = response.json()["detail"]
    assert detail["message"] == "An internal error occurred"
    assert len(detail["error_id"]) == 36
    assert "secret" not in response.text


async def test_read_only_backend_refuses_writes_with_403(world: World) -> None:
    read_only = LocalBackend(
        world.db, actor=Actor("api", "api"), default_zone="UTC", read_only=True
    )
    app = create_app(read_only, world.db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jobdeck") as http:
        response = await http.post("/api/job-templates/hello/execute", headers=world.auth("admin"))
        listed = await http.get("/api/job-templates", headers=world.auth("admin"))
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert listed.status_code == 200
