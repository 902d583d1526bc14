"""Fixtures of the remote backend's tests: a database, its local backend and a live API on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.api.serve import ApiServer
from core.backend.fake import DEFAULT_START
from core.backend.local import LocalBackend
from core.clock import ManualClock
from core.jobs.audit import Actor
from core.remote.backend import JobdeckRemoteBackend
from core.remote.transport import RetryPolicy
from core.settings.secrets import SecretBox
from core.storage.database import Database

from .server import live_api, seed_token

ACTOR = Actor("tester", "test")
FAST_RETRY = RetryPolicy(budget_seconds=2.0, first_delay=0.02, max_delay=0.2)


@dataclass
class Live:
    """A LocalBackend on a fresh database, served on loopback, and an admin token for it."""

    db: Database
    local: LocalBackend
    clock: ManualClock
    server: ApiServer
    token: str

    @property
    def address(self) -> str:
        return self.server.address

    async def connect(self, **options: object) -> JobdeckRemoteBackend:
        """A remote backend on this server (admin token, fast retries)."""
        options.setdefault("retry", FAST_RETRY)
        return await JobdeckRemoteBackend.connect(self.address, self.token, **options)  # type: ignore[arg-type]


@pytest.fixture
def local(fresh_sqlite_database: Database, tmp_path: Path) -> LocalBackend:
    clock = ManualClock(DEFAULT_START)
    secrets = SecretBox(tmp_path / "secret.key")
    return LocalBackend(
        fresh_sqlite_database, actor=ACTOR, default_zone="UTC", clock=clock, secrets=secrets
    )


@pytest.fixture
async def live(local: LocalBackend) -> AsyncIterator[Live]:
    """The daemon's API (as `jobdeck daemon` builds it) over ``local`` on an ephemeral port."""
    clock = local.clock
    assert isinstance(clock, ManualClock)
    token = seed_token(local.db, "tester", "admin", clock)
    async with live_api(local, local.db, clock) as server:
        yield Live(local.db, local, clock, server, token)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Wait until ``check()`` is true (polling), failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds}s")
        await asyncio.sleep(0.05)
