"""Idempotency-Key: a retried write replays the first answer and never acts twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlmodel import func, select

from core.api.idempotency import IdempotencyStore
from core.errors import Conflict
from core.storage.tables import ApiToken, IdempotencyRecord, JobRun, JobTemplate

from .conftest import World


def _count(world: World, table: type) -> int:
    with world.db.read() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


async def test_same_key_same_request_replays_without_acting_again(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = {**world.auth("operator"), "Idempotency-Key": "run-hello-1"}
    runs_before = _count(world, JobRun)
    first = await client.post("/api/job-templates/hello/execute", json={}, headers=headers)
    again = await client.post("/api/job-templates/hello/execute", json={}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert _count(world, JobRun) == runs_before + 1


async def test_without_a_key_every_request_acts(world: World, client: httpx.AsyncClient) -> None:
    runs_before = _count(world, JobRun)
    for _ in range(2):
        response = await client.post(
            "/api/job-templates/hello/execute", json={}, headers=world.auth("operator")
        )
        assert response.status_code == 200
    assert _count(world, JobRun) == runs_before + 2


async def test_same_key_with_another_body_is_refused_naming_the_header(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = {**world.auth("admin"), "Idempotency-Key": "k"}
    spec = {"name": "one", "job_type": "shell", "config": {"command": "true"}}
    assert (await client.post("/api/job-templates", json=spec, headers=headers)).status_code == 200
    other = await client.post("/api/job-templates", json={**spec, "name": "two"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    elsewhere = await client.delete("/api/job-templates/spare", headers=headers)
    assert elsewhere.status_code == 422
    with world.db.read() as session:
        names = set(session.exec(select(JobTemplate.name)).all())
    assert "two" not in names and "spare" in names


async def test_keys_belong_to_one_token(world: World, client: httpx.AsyncClient) -> None:
    runs_before = _count(world, JobRun)
    for role in ("operator", "admin"):
        headers = {**world.auth(role), "Idempotency-Key": "shared"}
        response = await client.post("/api/job-templates/hello/execute", headers=headers)
        assert response.status_code == 200
        assert "idempotent-replayed" not in response.headers
    assert _count(world, JobRun) == runs_before + 2


async def test_a_failed_write_is_not_remembered(world: World, client: httpx.AsyncClient) -> None:
    headers = {**world.auth("operator"), "Idempotency-Key": "cancel-1"}
    ended = world.ids["ended_run"]
    refused = await client.post(f"/api/job-runs/{ended}/cancel", headers=headers)
    assert refused.status_code == 409
    assert _count(world, IdempotencyRecord) == 0
    # the same key may be used again once the first attempt changed nothing
    pending = world.ids["pending_run"]
    headers["Idempotency-Key"] = "cancel-2"
    assert (
        await client.post(f"/api/job-runs/{pending}/cancel", headers=headers)
    ).status_code == 200
    replay = await client.post(f"/api/job-runs/{pending}/cancel", headers=headers)
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"


async def test_concurrent_requests_with_one_key_act_once(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = {**world.auth("operator"), "Idempotency-Key": "burst"}
    runs_before = _count(world, JobRun)
    answers = await asyncio.gather(
        *(client.post("/api/job-templates/hello/execute", headers=headers) for _ in range(6))
    )
    codes = sorted(a.status_code for a in answers)
    assert set(codes) <= {200, 409}, [a.text for a in answers]
    assert 200 in codes
    assert _count(world, JobRun) == runs_before + 1


async def test_keys_expire_after_a_day(world: World, client: httpx.AsyncClient) -> None:
    headers = {**world.auth("operator"), "Idempotency-Key": "daily"}
    runs_before = _count(world, JobRun)
    await client.post("/api/job-templates/hello/execute", headers=headers)
    with world.db.write() as session:
        row = session.exec(select(IdempotencyRecord)).one()
        row.created_at = row.created_at - timedelta(hours=24, seconds=1)
        session.add(row)
    response = await client.post("/api/job-templates/hello/execute", headers=headers)
    assert "idempotent-replayed" not in response.headers
    assert _count(world, JobRun) == runs_before + 2


async def test_a_created_token_is_never_stored_for_replay(
    world: World, client: httpx.AsyncClient
) -> None:
    headers = {**world.auth("admin"), "Idempotency-Key": "new-token"}
    body = {"name": "robot", "role": "viewer"}
    first = await client.post("/api/tokens", json=body, headers=headers)
    token = first.json()["token"]
    assert token.startswith("jd_")
    replay = await client.post("/api/tokens", json=body, headers=headers)
    assert replay.json()["token"] is None
    assert replay.json()["info"]["name"] == "robot"
    with world.db.read() as session:
        stored = [str(r.response) for r in session.exec(select(IdempotencyRecord))]
        hashes = session.exec(select(ApiToken.token_hash)).all()
    assert not any(token in text for text in stored)
    assert token not in hashes


async def test_bad_keys_are_refused(world: World, client: httpx.AsyncClient) -> None:
    for key in ("", "x" * 256, "has space"):
        headers = {**world.auth("operator"), "Idempotency-Key": key}
        response = await client.post("/api/job-templates/hello/execute", headers=headers)
        assert response.status_code == 422, key
        assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


def test_an_unfinished_request_blocks_its_key(world: World) -> None:
    store = IdempotencyStore(world.db, world.backend.clock, 3600)
    token = world_token_id(world)
    assert store.begin(token, "k", "POST", "/x", "h") is None
    with pytest.raises(Conflict, match="not finished"):
        store.begin(token, "k", "POST", "/x", "h")
    store.finish(token, "k", 200, {"ok": True})
    replay = store.begin(token, "k", "POST", "/x", "h")
    assert replay is not None and replay.body == {"ok": True}


def world_token_id(world: World) -> int:
    """The id of the viewer token."""
    with world.db.read() as session:
        found = session.exec(select(ApiToken.id).where(ApiToken.name == "viewer")).one()
    assert found is not None
    return found
