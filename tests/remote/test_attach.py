"""Choosing the daemon and its token: --backend, profiles, the lease, and owner.token."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.backend.factory import open_backend_for
from core.backend.local import LocalBackend
from core.clock import SystemClock
from core.errors import BackendUnavailable, Unsupported, ValidationFailed
from core.jobs.audit import Actor
from core.jobs.scheduler.lease import Lease, LeaseInfo
from core.jobs.tokens import TokenService
from core.remote.attach import listening, owner_target, target_for
from core.remote.backend import JobdeckRemoteBackend
from core.remote.credentials import OwnerCredential, owner_token_path, read_owner_token
from core.settings.config import BackendProfile, Settings, load_settings
from core.storage.database import Database
from tests.cli.helpers import isolate

from .server import live_api

HERE = socket.gethostname()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    isolate(monkeypatch, tmp_path)
    return load_settings(
        backends={
            "prod": BackendProfile(url="https://jobs.example.com:8765/", token="jd_profile"),
            "lab": BackendProfile(url="http://10.0.0.5:8765", verify_tls=False),
            "cockpit": BackendProfile(kind="cockpit", url="https://cockpit.example.com"),
        }
    )


def lease(address: str | None, host: str = HERE) -> LeaseInfo:
    now = datetime.now(UTC)
    return LeaseInfo("owner-1", host, 4242, address, now, now, now + timedelta(seconds=20), True)


def test_backend_takes_addresses(settings: Settings) -> None:
    for address in ("http://127.0.0.1:8765", "https://jobs:443/", "unix:/run/jobdeck/api.sock"):
        target = target_for(settings, address, "jd_given")
        assert (target.address, target.token, target.verify_tls) == (
            address.rstrip("/"),
            "jd_given",
            True,
        )
    assert target_for(settings, "https://h:1", None, insecure=True).verify_tls is False
    for bad in ("ftp://h:1", "http://", "unix:"):
        with pytest.raises(ValidationFailed) as raised:
            target_for(settings, bad, None)
        assert raised.value.field == "--backend"


def test_backend_names_a_profile(settings: Settings) -> None:
    prod = target_for(settings, "prod", None)
    assert (prod.address, prod.token, prod.verify_tls) == (
        "https://jobs.example.com:8765",
        "jd_profile",
        True,
    )
    assert prod.label == "prod (https://jobs.example.com:8765)"
    assert target_for(settings, "prod", "jd_flag").token == "jd_flag"  # --token/env win
    assert target_for(settings, "lab", None).verify_tls is False
    with pytest.raises(ValidationFailed, match="known: cockpit, lab, prod") as raised:
        target_for(settings, "staging", None)
    assert raised.value.field == "--backend"
    with pytest.raises(Unsupported, match="cockpit server"):
        target_for(settings, "cockpit", None)


def write_owner_file(settings: Settings, address: str, token: str, mode: int = 0o600) -> Path:
    path = owner_token_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'{{"address": "{address}", "token": "{token}", "name": "x"}}')
    path.chmod(mode)
    return path


def test_owner_target_uses_the_owners_file_for_its_own_address(settings: Settings) -> None:
    address = "http://127.0.0.1:8765"
    missing = owner_target(settings, lease(address), None)
    assert missing.target is None and missing.problem
    assert str(owner_token_path(settings)) in missing.problem
    write_owner_file(settings, address, "jd_owner")
    found = owner_target(settings, lease(address), None)
    assert found.target is not None and found.target.token == "jd_owner"
    assert owner_target(settings, lease(address), "jd_env").target.token == "jd_env"  # type: ignore[union-attr]
    assert owner_target(settings, lease("http://127.0.0.1:9999"), None).target is None


def test_a_file_others_can_read_is_ignored(settings: Settings) -> None:
    address = "unix:/tmp/api.sock"
    write_owner_file(settings, address, "jd_owner", mode=0o644)
    assert read_owner_token(settings, address) is None
    owner_token_path(settings).chmod(0o600)
    assert read_owner_token(settings, address) == "jd_owner"


def test_another_hosts_loopback_api_is_not_tried(settings: Settings) -> None:
    quiet = owner_target(settings, lease("http://127.0.0.1:8765", host="elsewhere"), "jd")
    assert (quiet.target, quiet.problem) == (None, None)
    remote = owner_target(settings, lease("http://10.1.2.3:8765", host="elsewhere"), "jd")
    assert remote.target is not None and remote.target.address == "http://10.1.2.3:8765"
    wildcard = owner_target(settings, lease("http://0.0.0.0:8765"), "jd")
    assert wildcard.target is not None and wildcard.target.address == "http://127.0.0.1:8765"


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    from core.backend.factory import open_database

    database = open_database(settings)
    yield database
    database.dispose()


def test_publish_and_withdraw_the_owners_credential(settings: Settings, db: Database) -> None:
    tokens = TokenService(db, SystemClock(), Actor("test", "test"))
    first = OwnerCredential.publish(settings, db, "http://127.0.0.1:1")
    path = owner_token_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_owner_token(settings, "http://127.0.0.1:1") == first.token
    verified = tokens.verify(first.token)
    assert verified is not None and verified.role == "admin" and ".via-owner-" in verified.name
    # A successor finds the file of an owner that died without withdrawing: it revokes it.
    second = OwnerCredential.publish(settings, db, "http://127.0.0.1:2")
    assert tokens.verify(first.token) is None
    assert read_owner_token(settings, "http://127.0.0.1:2") == second.token
    first.withdraw()  # the dead owner's late withdraw leaves the successor's file alone
    assert path.exists() and tokens.verify(second.token) is not None
    second.withdraw()
    assert not path.exists() and tokens.verify(second.token) is None


def take_lease(db: Database, address: str) -> Lease:
    held = Lease(
        db,
        clock=SystemClock(),
        owner_id="test-owner",
        host=HERE,
        pid=os.getpid(),
        ttl_seconds=60,
        api_address=address,
    )
    assert held.try_acquire()
    return held


async def test_no_owner_means_the_local_backend(settings: Settings) -> None:
    backend, mode = await open_backend_for(settings, "cli")
    try:
        assert isinstance(backend, LocalBackend) and mode == "starting"
    finally:
        await backend.close()


async def test_a_live_owners_api_is_attached_to(settings: Settings, db: Database) -> None:
    owner_db = Database(settings.resolved_database_url())
    local = LocalBackend(owner_db, actor=Actor("owner", "test"), default_zone="UTC")
    async with live_api(local, owner_db, local.clock) as server:
        take_lease(db, server.address)
        credential = OwnerCredential.publish(settings, db, server.address)
        warnings: list[str] = []
        backend, mode = await open_backend_for(settings, "cli", warn=warnings.append)
        try:
            assert isinstance(backend, JobdeckRemoteBackend)
            assert backend.address == server.address
            assert mode == f"attached to {HERE} pid {os.getpid()} ({server.address})"
            assert warnings == []
        finally:
            await backend.close()
            credential.withdraw()
    owner_db.dispose()


async def test_an_unreachable_owner_api_falls_back_with_one_warning(
    settings: Settings, db: Database
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"http://127.0.0.1:{probe.getsockname()[1]}"
    take_lease(db, address)
    warnings: list[str] = []
    backend, _ = await open_backend_for(settings, "cli", token="jd_env", warn=warnings.append)
    try:
        assert isinstance(backend, LocalBackend)
        assert len(warnings) == 1
        assert address in warnings[0] and "using the database directly" in warnings[0]
    finally:
        await backend.close()


async def test_an_explicit_backend_that_is_down_fails(settings: Settings) -> None:
    with pytest.raises(BackendUnavailable, match=r"127\.0\.0\.1:9"):
        await open_backend_for(settings, "cli", "http://127.0.0.1:9", "jd")


def test_listening_tells_a_live_address_from_a_dead_one(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        live = f"http://127.0.0.1:{server.getsockname()[1]}"
        assert listening(live)
    assert not listening(live)  # closed: refused
    path = tmp_path / "api.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        assert listening(f"unix:{path}")
    assert not listening(f"unix:{path}")  # the file is left, nobody listens
    assert not listening(f"unix:{tmp_path / 'missing.sock'}")
