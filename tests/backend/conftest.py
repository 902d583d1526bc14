"""The contract harness: every Backend implementation behind one fixture, with a run seeder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from core.backend.fake import DEFAULT_START, FakeBackend
from core.backend.local import LocalBackend
from core.backend.protocol import Backend
from core.backend.views import ScheduleView, TemplateView
from core.clock import ManualClock
from core.jobs.audit import Actor
from core.storage.database import Database
from core.storage.migrate import upgrade
from core.storage.tables import JobRun

ACTOR = Actor("tester", "test")
ZONE = "UTC"

#: add_run(template=None, schedule=None, **JobRun columns) -> the new run's id
RunSeeder = Callable[..., int]


@dataclass
class Harness:
    """One implementation under test: the backend, its clock, and how to seed runs into it."""

    kind: str
    backend: Backend
    clock: ManualClock
    add_run: RunSeeder
    #: a read-only backend over the same data (for the fake: over no data; writes fail first)
    read_only: Backend


def _db_run_seeder(db: Database, clock: ManualClock) -> RunSeeder:
    """Insert JobRun rows through the database, as the executor would."""

    def add_run(
        template: TemplateView | None = None, schedule: ScheduleView | None = None, **fields: Any
    ) -> int:
        values: dict[str, Any] = {
            "job_template_id": template.id if template else None,
            "job_schedule_id": schedule.id if schedule else None,
            "job_name": template.name if template else "adhoc",
            "job_type": template.job_type if template else "shell",
            "status": "completed",
            "triggered_by": "schedule" if schedule else "manual",
            "queued_at": clock.now(),
        }
        values.update(fields)
        started, completed = values.get("started_at"), values.get("completed_at")
        if started and completed and values.get("duration_seconds") is None:
            values["duration_seconds"] = (completed - started).total_seconds()
        row = JobRun(**values)
        with db.write() as session:
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    return add_run


def _fake_run_seeder(fake: FakeBackend) -> RunSeeder:
    def add_run(
        template: TemplateView | None = None, schedule: ScheduleView | None = None, **fields: Any
    ) -> int:
        return fake.add_run(
            template=template.id if template else None,
            schedule=schedule.id if schedule else None,
            **fields,
        ).id

    return add_run


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
        yield Harness("fake", fake, clock, _fake_run_seeder(fake), read_only)
        return
    # The URL fixtures behind tests/conftest.py's `database`, which is parametrized itself
    # and so cannot be requested per parameter here.
    url = request.getfixturevalue("sqlite_db_url" if request.param == "sqlite" else "postgres_db_url")
    db = Database(url)
    upgrade(db)
    local = LocalBackend(db, actor=ACTOR, default_zone=ZONE, clock=clock)
    read_only = LocalBackend(db, actor=ACTOR, default_zone=ZONE, clock=clock, read_only=True)
    try:
        yield Harness(f"local-{request.param}", local, clock, _db_run_seeder(db, clock), read_only)
    finally:
        await local.close()
