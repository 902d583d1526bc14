"""An embedded console's API: bound at once, loaded and served at the first connection."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import httpx

from core.api.listen import bind_unix
from core.api.on_demand import OnDemandApiServer, serve_embedded_on_demand
from core.backend.local import LocalBackend
from core.settings.config import Settings
from tests.fresh_process import packages_loaded

from .conftest import World


async def test_the_server_loads_at_the_first_request_and_answers_it(
    world: World, backend: LocalBackend, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", timezone="UTC")
    server = serve_embedded_on_demand(backend, settings)
    path = settings.home / "api.sock"
    try:
        assert server.address == f"unix:{path}"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        await asyncio.sleep(0.05)
        assert not server.loaded  # nobody connected: nothing served, nothing loaded
        transport = httpx.AsyncHTTPTransport(uds=str(path))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://jobdeck", timeout=30
        ) as http:
            first = await http.get("/api/job-templates", headers=world.auth("viewer"))
            assert first.json()["total"] == 2
            assert server.loaded
            again = await http.get("/api/me", headers=world.auth("operator"))
            assert again.json()["role"] == "operator"
    finally:
        await server.stop()
    assert not path.exists()


async def test_stopping_before_anyone_connected_removes_the_socket(
    backend: LocalBackend, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", timezone="UTC")
    server = serve_embedded_on_demand(backend, settings, prefer_socket=False)
    assert server.address.startswith("http://127.0.0.1:")
    await server.stop()
    assert not server.loaded
    async with httpx.AsyncClient(base_url=server.address) as http:
        refused = False
        try:
            await http.get("/api/health")
        except httpx.ConnectError:
            refused = True
    assert refused


async def test_a_server_that_fails_to_load_refuses_connections(tmp_path: Path) -> None:
    """Clients are refused (and fall back to the database), never left hanging."""
    path = tmp_path / "api.sock"

    def broken(_sock: object) -> object:
        raise RuntimeError("no routes today")

    server = OnDemandApiServer(bind_unix(path), broken)  # type: ignore[arg-type]
    server.start()
    transport = httpx.AsyncHTTPTransport(uds=str(path))
    async with httpx.AsyncClient(transport=transport, base_url="http://jobdeck", timeout=10) as h:
        try:
            await h.get("/api/health")
            answered = True
        except (httpx.RemoteProtocolError, httpx.ConnectError, httpx.ReadError):
            answered = False
    assert not answered
    assert not path.exists()
    await server.stop()


def test_importing_it_loads_no_web_framework() -> None:
    web = ("fastapi", "uvicorn", "starlette")
    assert packages_loaded("import core.api.on_demand", web) == []
