"""Serving: loopback only unless allowed, unix sockets 0600, the embedded helper, the daemon."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.api.serve import Listen, check_listen, serve_embedded, start_api
from core.backend.local import LocalBackend
from core.clock import SystemClock
from core.errors import BackendUnavailable, ValidationFailed
from core.jobs.scheduler.lease import Lease
from core.settings.config import Settings
from core.storage.database import Database, sqlite_url

from .conftest import World

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts_are_allowed(host: str) -> None:
    check_listen(Listen(host=host, port=8765))


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.org"])
def test_other_hosts_need_allow_remote(host: str) -> None:
    with pytest.raises(ValidationFailed, match="--allow-remote") as refused:
        check_listen(Listen(host=host, port=8765))
    assert refused.value.field == "--host"
    check_listen(Listen(host=host, port=8765, allow_remote=True))


async def test_unix_socket_is_private_and_cleaned_up(world: World, tmp_path: Path) -> None:
    path = tmp_path / "api.sock"
    server = await start_api(world.app, Listen(socket_path=path))
    try:
        assert server.address == f"unix:{path}"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        transport = httpx.AsyncHTTPTransport(uds=str(path))
        async with httpx.AsyncClient(transport=transport, base_url="http://jobdeck") as http:
            response = await http.get("/api/me", headers=world.auth("viewer"))
        assert response.json()["role"] == "viewer"
        with pytest.raises(BackendUnavailable, match="another process"):
            await start_api(world.app, Listen(socket_path=path))
    finally:
        await server.stop()
    assert not path.exists()


async def test_a_stale_socket_file_is_replaced(world: World, tmp_path: Path) -> None:
    path = tmp_path / "api.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: what a killed owner leaves
    server = await start_api(world.app, Listen(socket_path=path))
    await server.stop()


async def test_a_busy_port_is_reported(world: World) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        with pytest.raises(BackendUnavailable, match="already in use"):
            await start_api(world.app, Listen(port=port))
    finally:
        taken.close()


async def test_serve_embedded_on_the_home_socket_or_a_loopback_port(
    world: World, backend: LocalBackend, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", timezone="UTC")
    server = await serve_embedded(backend, settings)
    try:
        assert server.address == f"unix:{settings.home / 'api.sock'}"
    finally:
        await server.stop()
    server = await serve_embedded(backend, settings, prefer_socket=False)
    try:
        assert server.address.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=server.address) as http:
            response = await http.get("/api/job-templates", headers=world.auth("viewer"))
        assert response.json()["total"] == 2
    finally:
        await server.stop()


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDECK_")}
    env.update(
        JOBDECK_HOME=str(home),
        JOBDECK_CONFIG=str(home / "absent.toml"),
        JOBDECK_TIMEZONE="UTC",
        JOBDECK_SCHEDULER__HEARTBEAT_SECONDS="1",
        JOBDECK_SCHEDULER__LEASE_TTL_SECONDS="4",
    )
    return env


def _jobdeck(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_daemon_refuses_a_public_host(tmp_path: Path) -> None:
    result = _jobdeck(_env(tmp_path), "daemon", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr


def test_daemon_serves_the_api_and_records_its_address(tmp_path: Path) -> None:
    env = _env(tmp_path)
    token = _jobdeck(env, "token", "create", "ops", "--role", "operator")
    assert token.returncode == 0, token.stderr
    created = _jobdeck(
        env, "template", "create", "hello", "--type", "shell", "--config", "command=echo hi"
    )
    assert created.returncode == 0, created.stderr
    daemon = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "daemon", "--port", "0", "--grace", "2s"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    db = Database(sqlite_url(tmp_path / "jobdeck.db"))
    try:
        address = None
        deadline = time.monotonic() + 30
        while address is None and time.monotonic() < deadline:
            info = Lease.current(db, SystemClock())
            address = info.api_address if info is not None and info.live else None
            time.sleep(0.2)
        assert address is not None and address.startswith("http://127.0.0.1:")
        assert httpx.get(f"{address}/api/job-templates").status_code == 401
        headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
        listed = httpx.get(f"{address}/api/job-templates", headers=headers)
        assert [t["name"] for t in listed.json()["templates"]] == ["hello"]
        run = httpx.post(f"{address}/api/job-templates/hello/execute", headers=headers)
        run_id = run.json()["job_run"]["id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = httpx.get(f"{address}/api/job-runs/{run_id}", headers=headers).json()
            if status["status"] == "completed":
                break
            time.sleep(0.2)
        assert status["status"] == "completed"
        assert status["executed_by"] == "ops"
    finally:
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
        db.dispose()
    assert daemon.returncode == 0, output
    assert "API listening on http://127.0.0.1:" in output
