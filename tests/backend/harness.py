"""The contract harness: one Backend implementation under test, its clock and a run seeder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.backend.fake import DEFAULT_START, FakeBackend
from core.backend.inputs import ScheduleSpec, TemplateSpec
from core.backend.protocol import Backend
from core.backend.views import OwnerView, ScheduleView, TemplateView
from core.clock import ManualClock
from core.jobs.audit import Actor
from core.storage.database import Database
from core.storage.tables import JobRun, OwnerLease, Worker

ACTOR = Actor("tester", "test")
ZONE = "UTC"
NOW = DEFAULT_START  # a Monday morning, 09:30 UTC


#: add_run(template=None, schedule=None, **JobRun columns) -> the new run's id
RunSeeder = Callable[..., int]
#: add_worker(name, **Worker columns): store a worker as its executor would have
WorkerSeeder = Callable[..., None]
#: update_run(run_id, **JobRun columns): change a stored run as an executor would
RunUpdater = Callable[..., None]
#: hold_lease(OwnerView): store the lease row as its holder would have written it
LeaseHolder = Callable[[OwnerView], None]


@dataclass
class Harness:
    """One implementation under test: the backend, its clock, and how to seed runs into it."""

    kind: str
    backend: Backend
    clock: ManualClock
    add_run: RunSeeder
    #: a read-only backend over the same data (for the fake: over no data; writes fail first)
    read_only: Backend
    add_worker: WorkerSeeder
    update_run: RunUpdater
    hold_lease: LeaseHolder


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


def _worker_values(name: str, clock: ManualClock, fields: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": name,
        "kind": "local",
        "status": "running",
        "slots": 4,
        "heartbeat_at": clock.now(),
    }
    values.update(fields)
    return values


def db_worker_seeder(db: Database, clock: ManualClock) -> WorkerSeeder:
    """Insert Worker rows through the database, as an executor would."""

    def add_worker(name: str, **fields: Any) -> None:
        with db.write() as session:
            session.add(Worker(**_worker_values(name, clock, fields)))

    return add_worker


def fake_worker_seeder(fake: FakeBackend, clock: ManualClock) -> WorkerSeeder:
    """Keep Worker rows in the fake's memory."""

    def add_worker(name: str, **fields: Any) -> None:
        worker_id = fake.store.next_id("worker")
        fake.actions.workers[name] = Worker(id=worker_id, **_worker_values(name, clock, fields))

    return add_worker


def db_run_updater(db: Database) -> RunUpdater:
    """Change JobRun rows through the database, as the executor would."""

    def update_run(run_id: int, **fields: Any) -> None:
        with db.write() as session:
            row = session.get(JobRun, run_id)
            assert row is not None, f"no run {run_id}"
            for name, value in fields.items():
                setattr(row, name, value)
            session.add(row)

    return update_run


def fake_run_updater(fake: FakeBackend) -> RunUpdater:
    """Change runs through FakeBackend.update_run."""

    def update_run(run_id: int, **fields: Any) -> None:
        fake.update_run(run_id, **fields)

    return update_run


def db_lease_holder(db: Database) -> LeaseHolder:
    """Write the lease row through the database, as its holder's renewals would."""

    def hold_lease(owner: OwnerView) -> None:
        with db.write() as session:
            row = session.get(OwnerLease, "scheduler") or OwnerLease(
                name="scheduler",
                **{
                    "owner_id": owner.owner_id,
                    "host": owner.host,
                    "pid": owner.pid,
                    "acquired_at": owner.acquired_at,
                    "heartbeat_at": owner.heartbeat_at,
                    "expires_at": owner.expires_at,
                },
            )
            for name, value in owner.model_dump().items():
                setattr(row, name, value)
            session.add(row)

    return hold_lease


def fake_lease_holder(fake: FakeBackend) -> LeaseHolder:
    """Keep the lease in the fake's memory."""

    def hold_lease(owner: OwnerView) -> None:
        fake.owner = owner

    return hold_lease


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
