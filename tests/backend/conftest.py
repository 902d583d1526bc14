"""The contract fixture: every Backend implementation in turn, empty, on a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.backend.fake import DEFAULT_START, FakeBackend
from core.backend.local import LocalBackend
from core.clock import ManualClock
from core.settings.secrets import SecretBox
from core.storage.database import Database

from .harness import ACTOR, ZONE, Harness, db_run_seeder, fake_run_seeder


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="local-sqlite"),
        pytest.param("postgres", id="local-postgres", marks=pytest.mark.postgres),
        pytest.param("fake", id="fake"),
    ]
)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """Each implementation in turn, empty, with a ManualClock at DEFAULT_START."""
    clock = ManualClock(DEFAULT_START)
    if request.param == "fake":
        fake = FakeBackend(clock=clock, actor=ACTOR, default_zone=ZONE)
        read_only = FakeBackend(clock=clock, actor=ACTOR, default_zone=ZONE, read_only=True)
        yield Harness("fake", fake, clock, fake_run_seeder(fake), read_only)
        return
    # The per-backend fixtures behind tests/conftest.py's `database` (itself parametrized,
    # so it cannot be requested per parameter here).
    db: Database = request.getfixturevalue(
        "fresh_sqlite_database" if request.param == "sqlite" else "fresh_postgres_database"
    )
    secrets = SecretBox(request.getfixturevalue("tmp_path") / "secret.key")
    local = LocalBackend(db, actor=ACTOR, default_zone=ZONE, clock=clock, secrets=secrets)
    read_only = LocalBackend(db, actor=ACTOR, default_zone=ZONE, clock=clock, read_only=True)
    try:
        yield Harness(f"local-{request.param}", local, clock, db_run_seeder(db, clock), read_only)
    finally:
        await local.close()
