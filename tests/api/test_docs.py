"""docs/api.md and the OpenAPI document describe exactly the routes served, with their roles."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Depends

from core.api.app import check_roles, route_roles
from core.api.auth import VIEWER

from .conftest import World

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| (GET|POST|PUT|DELETE) \| `([^`]+)` \| (\w+) \|", re.MULTILINE)


def test_the_route_table_matches_the_app() -> None:
    documented = {(m, p): role for m, p, role in ROW.findall(DOC.read_text())}
    served = {key: role or "public" for key, role in route_roles().items()}
    assert documented == served


async def test_openapi_publishes_every_route_with_its_role(
    world: World, client: httpx.AsyncClient
) -> None:
    spec = (await client.get("/openapi.json")).json()
    published = {
        (method.upper(), path): operation.get("x-required-role") or "public"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    }
    assert published == {key: role or "public" for key, role in route_roles().items()}
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


async def test_trailing_slash_redirects_like_cockpit(
    world: World, client: httpx.AsyncClient
) -> None:
    response = await client.get("/api/job-templates/", headers=world.auth("viewer"))
    assert response.status_code == 307
    assert response.headers["location"].endswith("/api/job-templates")


def test_a_route_without_a_role_is_refused() -> None:
    router = APIRouter()

    @router.get("/api/open")
    async def open_route() -> int:
        return 1

    with pytest.raises(RuntimeError, match="/api/open must require exactly one role"):
        check_roles(router)

    guarded = APIRouter()

    @guarded.get("/api/guarded", dependencies=[Depends(VIEWER)])
    async def guarded_route() -> int:
        return 1

    check_roles(guarded)
    assert guarded.routes[0].openapi_extra == {"x-required-role": "viewer"}  # type: ignore[attr-defined]
