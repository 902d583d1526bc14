"""Service fixtures over the migrated `database` fixture, with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.jobs.audit import Actor
from core.jobs.runs import RunService
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.settings.secrets import SecretBox
from core.storage.database import Database

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> ManualClock:
    """A clock fixed at Monday 2026-03-02 08:00 UTC."""
    return ManualClock(START)


@pytest.fixture
def actor() -> Actor:
    """The operator the tests act as."""
    return Actor("tester", "cli")


@pytest.fixture
def templates(
    database: Database, clock: ManualClock, actor: Actor, tmp_path: Path
) -> TemplateService:
    """The template service on each backend, with a key file for secrets."""
    return TemplateService(database, clock, actor, SecretBox(tmp_path / "secret.key"))


@pytest.fixture
def schedules(
    database: Database, clock: ManualClock, actor: Actor, tmp_path: Path
) -> ScheduleService:
    """The schedule service on each backend (default zone Europe/Riga)."""
    return ScheduleService(
        database, clock, actor, "Europe/Riga", SecretBox(tmp_path / "secret.key")
    )


@pytest.fixture
def runs(database: Database, clock: ManualClock, actor: Actor) -> RunService:
    """The run service on each backend."""
    return RunService(database, clock, actor)
