"""The contract harness: one Backend implementation under test, its clock and a run seeder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.backend.fake import DEFAULT_START, FakeBackend
from core.backend.inputs import ScheduleSpec, TemplateSpec
from core.backend.protocol import Backend
from core.backend.views import ScheduleView, TemplateView
from core.clock import ManualClock
from core.jobs.audit import Actor
from core.storage.database import Database
from core.storage.tables import JobRun

ACTOR = Actor("tester", "test")
ZONE = "UTC"
NOW = DEFAULT_START  # a Monday morning, 09:30 UTC


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


def db_run_seeder(db: Database, clock: ManualClock) -> RunSeeder:
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


def fake_run_seeder(fake: FakeBackend) -> RunSeeder:
    """Store runs through FakeBackend.add_run."""

    def add_run(
        template: TemplateView | None = None, schedule: ScheduleView | None = None, **fields: Any
    ) -> int:
        return fake.add_run(
            template=template.id if template else None,
            schedule=schedule.id if schedule else None,
            **fields,
        ).id

    return add_run


def shell(name: str = "hello", **fields: Any) -> TemplateSpec:
    """A valid shell template spec."""
    return TemplateSpec(name=name, job_type="shell", config={"command": "echo hello"}, **fields)


def weekly_cron(name: str, template: str = "hello", **fields: Any) -> ScheduleSpec:
    """A valid schedule spec: Mondays 09:00 UTC."""
    return ScheduleSpec(
        job_identifier=name,
        template=template,
        schedule_type="cron",
        cron_expression="0 9 * * 1",
        timezone="UTC",
        **fields,
    )
