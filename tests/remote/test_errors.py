"""The remote backend's error mapping, retries and idempotency keys, against mocked answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from core.backend.inputs import TemplateSpec
from core.errors import (
    BackendUnavailable,
    Conflict,
    NotFound,
    PermissionDenied,
    Unsupported,
    ValidationFailed,
)
from core.remote.backend import JobdeckRemoteBackend
from core.remote.transport import RetryPolicy

URL = "http://daemon.test:8765"
FAST = RetryPolicy(budget_seconds=1.0, first_delay=0.01, max_delay=0.05)
SPEC = TemplateSpec(name="hello", job_type="shell", config={"command": "echo hi"})
TEMPLATE: dict[str, Any] = {
    "id": 1,
    "name": "hello",
    "job_type": "shell",
    "description": None,
    "config": {"command": ["echo", "hi"]},
    "parameters": [],
    "tags": [],
    "timeout_seconds": None,
    "deadline_seconds": None,
    "retries": 0,
    "retry_backoff": "exponential",
    "retry_delay_seconds": 10.0,
    "overlap": None,
    "is_global": True,
    "owner": "me",
    "paused": False,
    "revision": 1,
    "created_at": "2026-03-02T09:30:00Z",
    "updated_at": "2026-03-02T09:30:00Z",
}


@pytest.fixture
async def remote() -> AsyncIterator[JobdeckRemoteBackend]:
    backend = JobdeckRemoteBackend(URL, "jd_secret", retry=FAST)
    yield backend
    await backend.close()


@pytest.fixture
def api() -> AsyncIterator[respx.MockRouter]:
    with respx.mock(base_url=URL, assert_all_called=False) as router:
        yield router


async def test_404_is_not_found_in_the_servers_words(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    api.get("/api/job-templates/ghost").respond(404, json={"detail": "template 'ghost' not found"})
    with pytest.raises(NotFound) as raised:
        await remote.get_template("ghost")
    assert str(raised.value) == "template 'ghost' not found"
    assert (raised.value.kind, raised.value.ref) == ("template", "ghost")
    api.get("/api/job-runs/404").respond(404, json={"detail": "run 404 not found"})
    with pytest.raises(NotFound) as by_id:
        await remote.get_run(404)
    assert (by_id.value.kind, by_id.value.ref) == ("run", 404)


async def test_ids_no_run_can_have_are_not_found_without_asking(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    for run_id in (0, -3, 2**63):
        with pytest.raises(NotFound, match="not found"):
            await remote.get_run(run_id)
    assert api.calls.call_count == 0


async def test_409_is_conflict_except_when_steering_a_worker(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    api.delete("/api/job-templates/hello").respond(
        409, json={"detail": "template 'hello' is used by 1 schedule(s): w"}
    )
    with pytest.raises(Conflict, match="used by 1 schedule"):
        await remote.delete_template("hello")
    words = "worker 'pool-a' is not run by this process: steer it through its owner"
    api.post("/api/workers/pool-a/pause").respond(409, json={"detail": words})
    with pytest.raises(Unsupported) as raised:
        await remote.pause_worker("pool-a")
    assert str(raised.value) == words


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (["query", "n"], "n"),  # FastAPI's own request validation
        (["body", "config", "command"], "config.command"),
        (["path", "run_id"], "run_id"),
        (["cron_expression", "minute"], "cron_expression.minute"),  # the backend's, relayed
        (["header", "Idempotency-Key"], "header.Idempotency-Key"),
        (["body"], "body"),
    ],
)
async def test_422_names_the_field_from_loc(
    remote: JobdeckRemoteBackend, api: respx.MockRouter, loc: list[str], field: str
) -> None:
    detail = [{"loc": loc, "msg": "is wrong", "type": "value_error"}]
    api.post("/api/job-templates").respond(422, json={"detail": detail})
    with pytest.raises(ValidationFailed) as raised:
        await remote.create_template(SPEC)
    assert (raised.value.field, raised.value.problem) == (field, "is wrong")
    assert api.calls.call_count == 1  # a refusal is never retried


async def test_401_and_403_are_permission_denied_with_the_servers_message(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    api.get("/api/job-templates").respond(401, json={"detail": "Could not validate credentials"})
    with pytest.raises(PermissionDenied) as unauthenticated:
        await remote.list_templates()
    assert "Could not validate credentials" in str(unauthenticated.value)
    assert URL in str(unauthenticated.value) and "JOBDECK_TOKEN" in str(unauthenticated.value)
    words = "Permission denied: admin role required (token 'viewer' is viewer)"
    api.post("/api/job-templates").respond(403, json={"detail": words})
    with pytest.raises(PermissionDenied) as forbidden:
        await remote.create_template(SPEC)
    assert str(forbidden.value) == words


async def test_server_faults_are_backend_unavailable_naming_the_url(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    detail = {"message": "An internal error occurred", "error_id": "e-42"}
    route = api.get("/api/job-templates").respond(500, json={"detail": detail})
    with pytest.raises(BackendUnavailable) as raised:
        await remote.list_templates()
    assert URL in str(raised.value) and "500" in str(raised.value) and "e-42" in str(raised.value)
    assert route.call_count == 1  # a 500 is a bug, not a blip: asking again will not help
    api.post("/api/job-templates").respond(413, json={"detail": "request body too large"})
    with pytest.raises(ValidationFailed, match="too large"):
        await remote.create_template(SPEC)


async def test_reads_retry_a_503_then_succeed(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    route = api.get("/api/job-templates").mock(
        side_effect=[
            httpx.Response(503, json={"detail": "database unavailable"}),
            httpx.ConnectError("refused"),
            httpx.Response(200, json={"templates": [TEMPLATE], "total": 1}),
        ]
    )
    assert [t.name for t in await remote.list_templates()] == ["hello"]
    assert route.call_count == 3


async def test_reads_give_up_after_the_budget_naming_the_url(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    route = api.get("/api/job-templates").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(BackendUnavailable) as raised:
        await remote.list_templates()
    assert f"the jobdeck daemon at {URL} is unreachable: refused" in str(raised.value)
    assert "retried for" in str(raised.value)
    assert 3 <= route.call_count <= 60  # backed off: not a busy loop, not a single try


async def test_a_write_whose_answer_was_lost_is_resent_with_the_same_key(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    route = api.post("/api/job-templates").mock(
        side_effect=[
            httpx.ReadError("connection reset"),  # it reached the daemon; the answer did not
            httpx.Response(
                409,
                json={"detail": "the request with Idempotency-Key 'k' has not finished"},
            ),
            httpx.Response(200, json=TEMPLATE, headers={"Idempotent-Replayed": "true"}),
        ]
    )
    created = await remote.create_template(SPEC)
    assert created.name == "hello"
    keys = [call.request.headers.get("Idempotency-Key") for call in route.calls]
    assert len(keys) == 3 and keys[0] and len(set(keys)) == 1
    bodies = {call.request.content for call in route.calls}
    assert len(bodies) == 1  # byte for byte the same request, as the daemon's record demands


async def test_each_write_has_its_own_key_and_reads_have_none(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    writes = api.post("/api/job-templates").respond(200, json=TEMPLATE)
    reads = api.get("/api/job-templates/1").respond(200, json=TEMPLATE)
    await remote.create_template(SPEC)
    await remote.create_template(SPEC)
    await remote.get_template(1)
    keys = {call.request.headers["Idempotency-Key"] for call in writes.calls}
    assert len(keys) == 2
    assert "Idempotency-Key" not in reads.calls.last.request.headers
    assert reads.calls.last.request.headers["Authorization"] == "Bearer jd_secret"
    assert "jd_secret" not in str(reads.calls.last.request.url)


async def test_a_conflict_on_the_first_try_is_not_retried(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    route = api.post("/api/job-templates").respond(
        409, json={"detail": "a template named 'hello' already exists"}
    )
    with pytest.raises(Conflict, match="already exists"):
        await remote.create_template(SPEC)
    assert route.call_count == 1


async def test_a_write_that_keeps_failing_stops_within_the_budget(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    route = api.post("/api/job-templates").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(BackendUnavailable, match="unreachable: slow"):
        await remote.create_template(SPEC)
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert route.call_count > 1 and len(keys) == 1


async def test_read_only_refuses_writes_before_sending_anything(api: respx.MockRouter) -> None:
    api.get("/api/capabilities").respond(200, json={"name": "local (x)", "writable": True})
    backend = await JobdeckRemoteBackend.connect(URL, "jd_secret", read_only=True, retry=FAST)
    try:
        assert backend.capabilities.writable is False
        with pytest.raises(PermissionDenied, match="read-only"):
            await backend.create_template(SPEC)
        with pytest.raises(PermissionDenied, match="read-only"):
            await backend.pause_worker("pool-a")
        assert [call.request.url.path for call in api.calls] == ["/api/capabilities"]
    finally:
        await backend.close()


async def test_capabilities_come_from_the_daemon_and_ignore_unknown_flags(
    api: respx.MockRouter,
) -> None:
    api.get("/api/capabilities").respond(
        200,
        json={
            "name": "local (sqlite:///x.db)",
            "writable": True,
            "log_streaming": True,
            "run_cancel": True,
            "worker_control": True,
            "teleport": True,  # a newer daemon's flag
        },
    )
    backend = await JobdeckRemoteBackend.connect(URL, "jd_secret", retry=FAST)
    try:
        caps = backend.capabilities
        assert (caps.writable, caps.log_streaming, caps.run_cancel, caps.worker_control) == (
            True,
            True,
            True,
            True,
        )
        assert caps.pause is False
        assert URL in caps.name
    finally:
        await backend.close()


async def test_connect_fails_when_the_token_is_refused(api: respx.MockRouter) -> None:
    api.get("/api/capabilities").respond(401, json={"detail": "Not authenticated"})
    with pytest.raises(PermissionDenied, match="Not authenticated") as raised:
        await JobdeckRemoteBackend.connect(URL, None, retry=FAST)
    assert f"the daemon at {URL} needs a token" in str(raised.value)
    assert "Authorization" not in api.calls.last.request.headers


async def test_worker_slots_are_checked_as_the_local_backend_does(
    remote: JobdeckRemoteBackend, api: respx.MockRouter
) -> None:
    for slots in (0, 1025, True, 2.5, "3"):
        with pytest.raises(ValidationFailed) as raised:
            await remote.resize_worker("pool-a", slots)  # type: ignore[arg-type]
        assert raised.value.field == "slots" and "from 1 to 1024" in raised.value.problem
    assert api.calls.call_count == 0


async def test_a_refused_owner_token_is_renewed_once_from_its_source(
    api: respx.MockRouter,
) -> None:
    # An owner that restarted published a new local credential: the client picks it up.
    sources = iter(["jd_fresh", "jd_fresh"])
    backend = JobdeckRemoteBackend(URL, "jd_old", retry=FAST, renew_token=lambda: next(sources))
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer jd_fresh":
            return httpx.Response(200, json={"templates": [TEMPLATE], "total": 1})
        return httpx.Response(401, json={"detail": "Could not validate credentials"})

    api.get("/api/job-templates").mock(side_effect=answer)
    try:
        assert [t.name for t in await backend.list_templates()] == ["hello"]
        assert seen == ["Bearer jd_old", "Bearer jd_fresh"]
    finally:
        await backend.close()


async def test_a_refused_token_without_a_fresh_one_stays_refused(api: respx.MockRouter) -> None:
    backend = JobdeckRemoteBackend(URL, "jd_old", retry=FAST, renew_token=lambda: "jd_old")
    route = api.get("/api/job-templates").mock(
        return_value=httpx.Response(401, json={"detail": "Could not validate credentials"})
    )
    try:
        with pytest.raises(PermissionDenied):
            await backend.list_templates()
        assert route.call_count == 1
    finally:
        await backend.close()
