"""Route x role: every route answers 401 without a token, 403 to a weaker role, 2xx to its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from core.api.app import route_roles
from core.api.auth import Principal
from core.storage.tables import AuditRecord

from .conftest import ROLES, World


@dataclass(frozen=True)
class Call:
    """A concrete request for a route; ``{name}`` parts are filled from World.ids."""

    url: str
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    check: Callable[[World, httpx.Response], None] | None = None


def _ran(world: World, response: httpx.Response) -> None:
    assert response.json()["job_run"]["status"] in ("pending", "running")


def _audited_as(action: str, token: str) -> Callable[[World, httpx.Response], None]:
    """The write is in the audit log under the token's name, from the api."""

    def check(world: World, response: httpx.Response) -> None:
        with world.db.read() as session:
            row = session.exec(
                select(AuditRecord)
                .where(AuditRecord.action == action)
                .order_by(col(AuditRecord.id).desc())
            ).first()
        assert row is not None, f"no audit record {action}"
        assert (row.actor, row.source) == (token, "api")

    return check


def _pool(call: str) -> Callable[[World, httpx.Response], None]:
    def check(world: World, response: httpx.Response) -> None:
        assert world.pool is not None and world.pool.calls[-1][0] == call

    return check


SPEC = {"name": "new", "job_type": "shell", "config": {"command": "echo new"}}
SCHEDULE = {
    "job_identifier": "hourly-hello",
    "template": "hello",
    "schedule_type": "hourly",
    "minute": 5,
    "timezone": "UTC",
}

#: (method, path template) -> a request the route's own role may make successfully.
CALLS: dict[tuple[str, str], Call] = {
    ("GET", "/api/job-templates"): Call("/api/job-templates"),
    ("POST", "/api/job-templates"): Call(
        "/api/job-templates", json=SPEC, check=_audited_as("template.create", "admin")
    ),
    ("GET", "/api/job-templates/types"): Call("/api/job-templates/types"),
    ("GET", "/api/job-templates/{template_id}"): Call("/api/job-templates/hello"),
    ("PUT", "/api/job-templates/{template_id}"): Call(
        "/api/job-templates/{template}", json={"description": "changed"}
    ),
    ("DELETE", "/api/job-templates/{template_id}"): Call("/api/job-templates/spare"),
    ("POST", "/api/job-templates/{template_id}/copy"): Call(
        "/api/job-templates/hello/copy", json={"name": "hello-copy"}
    ),
    ("GET", "/api/job-templates/{template_id}/revisions"): Call(
        "/api/job-templates/hello/revisions"
    ),
    ("POST", "/api/job-templates/{template_id}/execute"): Call(
        "/api/job-templates/hello/execute", json={}, check=_ran
    ),
    ("GET", "/api/job-schedules"): Call("/api/job-schedules"),
    ("POST", "/api/job-schedules"): Call("/api/job-schedules", json=SCHEDULE),
    ("POST", "/api/job-schedules/preview"): Call(
        "/api/job-schedules/preview", json=SCHEDULE, params={"n": 3}
    ),
    ("GET", "/api/job-schedules/{schedule_id}"): Call("/api/job-schedules/{schedule}"),
    ("PUT", "/api/job-schedules/{schedule_id}"): Call(
        "/api/job-schedules/nightly", json={"time_of_day": "03:00"}
    ),
    ("DELETE", "/api/job-schedules/{schedule_id}"): Call("/api/job-schedules/nightly"),
    ("POST", "/api/job-schedules/{schedule_id}/enable"): Call("/api/job-schedules/nightly/enable"),
    ("POST", "/api/job-schedules/{schedule_id}/disable"): Call(
        "/api/job-schedules/nightly/disable", check=_audited_as("schedule.disable", "operator")
    ),
    ("POST", "/api/job-schedules/{schedule_id}/run-now"): Call(
        "/api/job-schedules/nightly/run-now", check=_ran
    ),
    ("GET", "/api/job-schedules/{schedule_id}/preview"): Call(
        "/api/job-schedules/nightly/preview", params={"n": 2}
    ),
    ("GET", "/api/job-schedules/{schedule_id}/occurrences"): Call(
        "/api/job-schedules/nightly/occurrences"
    ),
    ("GET", "/api/occurrences"): Call("/api/occurrences"),
    ("GET", "/api/job-runs"): Call("/api/job-runs", params={"page_size": 2}),
    ("GET", "/api/job-runs/stats"): Call("/api/job-runs/stats"),
    ("GET", "/api/job-runs/recent"): Call("/api/job-runs/recent"),
    ("GET", "/api/job-runs/schedule/{schedule_id}"): Call("/api/job-runs/schedule/{schedule}"),
    ("DELETE", "/api/job-runs/cleanup"): Call("/api/job-runs/cleanup", params={"days": 1}),
    ("DELETE", "/api/job-runs/clear-filtered"): Call(
        "/api/job-runs/clear-filtered", params={"status": "failed"}
    ),
    ("GET", "/api/job-runs/{run_id}"): Call("/api/job-runs/{ended_run}"),
    ("GET", "/api/job-runs/{run_id}/logs"): Call("/api/job-runs/{ended_run}/logs"),
    ("GET", "/api/job-runs/{run_id}/attempts"): Call("/api/job-runs/{ended_run}/attempts"),
    ("GET", "/api/job-runs/{run_id}/progress"): Call("/api/job-runs/{ended_run}/progress"),
    ("POST", "/api/job-runs/{run_id}/cancel"): Call(
        "/api/job-runs/{pending_run}/cancel", json={"reason": "test"}
    ),
    ("POST", "/api/job-runs/{run_id}/retry"): Call("/api/job-runs/{ended_run}/retry"),
    ("DELETE", "/api/job-runs/{run_id}"): Call("/api/job-runs/{deletable_run}"),
    ("GET", "/api/workers"): Call("/api/workers"),
    ("GET", "/api/workers/{name}"): Call("/api/workers/local@test"),
    ("POST", "/api/workers/{name}/pool"): Call(
        "/api/workers/local@test/pool", json={"slots": 2}, check=_pool("resize")
    ),
    ("POST", "/api/workers/{name}/pause"): Call(
        "/api/workers/local@test/pause", check=_pool("pause")
    ),
    ("POST", "/api/workers/{name}/resume"): Call(
        "/api/workers/local@test/resume", check=_pool("resume")
    ),
    ("POST", "/api/workers/{name}/drain"): Call(
        "/api/workers/local@test/drain", check=_pool("drain")
    ),
    ("GET", "/api/events"): Call("/api/events"),
    ("GET", "/api/changes"): Call("/api/changes", params={"after": 0}),
    ("GET", "/api/capabilities"): Call("/api/capabilities"),
    ("GET", "/api/me"): Call("/api/me"),
    ("GET", "/api/audit"): Call("/api/audit"),
    ("GET", "/api/tokens"): Call("/api/tokens"),
    ("POST", "/api/tokens"): Call("/api/tokens", json={"name": "ci", "role": "viewer"}),
    ("DELETE", "/api/tokens/{name}"): Call("/api/tokens/viewer"),
    ("GET", "/api/health"): Call("/api/health"),
}

#: The role each route needs, as designed (docs/api.md); None = public.
EXPECTED_ROLE: dict[tuple[str, str], str | None] = {
    key: (
        None
        if key[1] == "/api/health"
        else "admin"
        if key[1].startswith("/api/tokens")
        or key == ("DELETE", "/api/job-runs/{run_id}")
        or key[1] in ("/api/job-runs/cleanup", "/api/job-runs/clear-filtered")
        or (
            key[0] in ("POST", "PUT", "DELETE")
            and key[1].startswith(("/api/job-templates", "/api/job-schedules"))
            and not key[1].endswith(("/execute", "/enable", "/disable", "/run-now", "/preview"))
        )
        else "operator"
        if key[0] in ("POST", "PUT", "DELETE") and not key[1].endswith("/preview")
        else "viewer"
    )
    for key in CALLS
}


def test_every_route_is_in_the_matrix(world: World) -> None:
    assert set(route_roles()) == set(CALLS)


def test_routes_require_the_designed_roles(world: World) -> None:
    assert route_roles() == EXPECTED_ROLE


def _request(world: World, call: Call) -> tuple[str, dict[str, Any]]:
    url = call.url.format(**world.ids)
    kwargs: dict[str, Any] = {"params": call.params}
    if call.json is not None:
        kwargs["json"] = call.json
    return url, kwargs


@pytest.mark.parametrize(("method", "path"), sorted(CALLS))
async def test_route_by_role(
    world: World, client: httpx.AsyncClient, method: str, path: str
) -> None:
    call = CALLS[(method, path)]
    role = EXPECTED_ROLE[(method, path)]
    url, kwargs = _request(world, call)
    if path == "/api/events":
        api_state_of(world).closing.set()  # the stream then ends after its first events
    if role is None:
        response = await client.request(method, url, **kwargs)
        assert response.status_code == 200, response.text
        return
    anonymous = await client.request(method, url, **kwargs)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = await client.request(
        method, url, headers={"Authorization": "Bearer jd_not-a-token"}, **kwargs
    )
    assert forged.status_code == 401
    assert forged.json() == {"detail": "Could not validate credentials"}
    for weaker in ROLES[: ROLES.index(role)]:
        denied = await client.request(method, url, headers=world.auth(weaker), **kwargs)
        assert denied.status_code == 403, (weaker, denied.text)
        assert f"{role} role required" in denied.json()["detail"]
    allowed = await client.request(method, url, headers=world.auth(role), **kwargs)
    assert 200 <= allowed.status_code < 300, allowed.text
    if call.check is not None:
        call.check(world, allowed)


def api_state_of(world: World) -> Any:
    """The app's ApiState."""
    return world.app.state.jobdeck


async def test_stronger_roles_may_do_what_weaker_ones_may(
    world: World, client: httpx.AsyncClient
) -> None:
    for role in ROLES:
        response = await client.get("/api/job-templates", headers=world.auth(role))
        assert response.status_code == 200
    assert Principal(1, "a", "admin").may("operator")
    assert not Principal(1, "v", "viewer").may("operator")


async def test_a_revoked_token_stops_working(world: World, client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/me", headers=world.auth("viewer"))).status_code == 200
    revoked = await client.delete("/api/tokens/viewer", headers=world.auth("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert (await client.get("/api/me", headers=world.auth("viewer"))).status_code == 401


async def test_me_names_the_token(world: World, client: httpx.AsyncClient) -> None:
    response = await client.get("/api/me", headers=world.auth("operator"))
    assert response.json() == {"name": "operator", "role": "operator"}
