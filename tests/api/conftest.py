"""API test fixtures: a LocalBackend on a fresh SQLite database, a token per role, the app
over ASGI, a real uvicorn on a loopback port, and a small seeded world."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from core.api.app import create_app
from core.api.config import ApiSettings
from core.api.serve import ApiServer, Listen, start_api
from core.backend.inputs import ScheduleSpec, TemplateSpec
from core.backend.local import LocalBackend
from core.clock import SystemClock
from core.jobs.audit import Actor
from core.jobs.tokens import TokenService
from core.settings.secrets import SecretBox
from core.storage.database import Database
from core.storage.tables import JobRun, RunLogChunk, Worker

ROLES = ("viewer", "operator", "admin")
#: Streams and caches made quick for tests.
FAST = ApiSettings(heartbeat_seconds=0.3, poll_seconds=0.05, token_cache_seconds=0.0)


class FakePool:
    """An ExecutorHandle that records what it was told (the owner's pool in the daemon)."""

    def __init__(self, name: str, db: Database) -> None:
        self._name = name
        self.db = db
        self.calls: list[tuple[str, Any]] = []

    @property
    def name(self) -> str:
        return self._name

    def _set(self, **values: Any) -> None:
        with self.db.write() as session:
            row = session.exec(select(Worker).where(Worker.name == self._name)).one()
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)

    async def resize(self, slots: int) -> None:
        self.calls.append(("resize", slots))
        self._set(slots=slots)

    async def pause(self) -> None:
        self.calls.append(("pause", None))
        self._set(paused=True)

    async def resume(self) -> None:
        self.calls.append(("resume", None))
        self._set(paused=False, draining=False)

    async def drain(self) -> None:
        self.calls.append(("drain", None))
        self._set(draining=True)


@dataclass
class World:
    """The seeded objects and one token per role."""

    db: Database
    backend: LocalBackend
    app: FastAPI
    tokens: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)
    pool: FakePool | None = None

    def auth(self, role: str) -> dict[str, str]:
        """The Authorization header of the role's token."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def add_run(self, **values: Any) -> int:
        """A run row (as the executor writes them)."""
        fields: dict[str, Any] = {
            "job_template_id": self.ids.get("template"),
            "job_name": "hello",
            "job_type": "shell",
            "status": "completed",
            "triggered_by": "manual",
            "queued_at": datetime.now(UTC),
        }
        row = JobRun(**{**fields, **values})
        with self.db.write() as session:
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    def add_log(self, run_id: int, seq: int, data: str) -> None:
        """A log chunk of a run."""
        with self.db.write() as session:
            session.add(
                RunLogChunk(
                    run_id=run_id,
                    seq=seq,
                    stream="stdout",
                    created_at=datetime.now(UTC),
                    data=data,
                )
            )


def make_tokens(db: Database) -> dict[str, str]:
    """One token per role, named after it."""
    service = TokenService(db, SystemClock(), Actor("tester", "test"))
    return {role: service.create(role, role).token for role in ROLES}


@pytest.fixture
def backend(fresh_sqlite_database: Database, tmp_path: Path) -> LocalBackend:
    """A LocalBackend as the daemon builds it."""
    return LocalBackend(
        fresh_sqlite_database,
        actor=Actor("api", "api"),
        default_zone="UTC",
        secrets=SecretBox(tmp_path / "secret.key"),
    )


def make_world(backend: LocalBackend, settings: ApiSettings = FAST) -> World:
    """The app over ``backend`` with tokens and seeded objects."""
    db = backend.db
    world = World(db, backend, create_app(backend, db, settings), make_tokens(db))
    return world


async def seed(world: World) -> None:
    """Templates hello (with schedule nightly) and spare; runs: ended, pending; a worker."""
    backend = world.backend
    hello = await backend.create_template(
        TemplateSpec(name="hello", job_type="shell", config={"command": "echo hello"})
    )
    spare = await backend.create_template(
        TemplateSpec(name="spare", job_type="shell", config={"command": "true"})
    )
    nightly = await backend.create_schedule(
        ScheduleSpec(
            job_identifier="nightly",
            template="hello",
            schedule_type="daily",
            time_of_day="02:00",
            timezone="UTC",
        )
    )
    world.ids.update(template=hello.id, spare=spare.id, schedule=nightly.id)
    ended = world.add_run(
        job_schedule_id=nightly.id,
        started_at=datetime.now(UTC) - timedelta(seconds=5),
        completed_at=datetime.now(UTC),
    )
    world.add_log(ended, 1, "hello\n")
    world.ids["ended_run"] = ended
    world.ids["deletable_run"] = world.add_run(status="failed")
    world.ids["pending_run"] = world.add_run(status="pending")
    with world.db.write() as session:
        session.add(
            Worker(name="local@test", kind="local", status="running", slots=4, queues=["default"])
        )
    world.pool = FakePool("local@test", world.db)
    backend.attach_executor(world.pool)


@pytest.fixture
async def world(backend: LocalBackend) -> AsyncIterator[World]:
    """A seeded world served over ASGI (see ``client``)."""
    made = make_world(backend)
    await seed(made)
    yield made
    await backend.close()


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling the app in-process."""
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jobdeck") as http:
        yield http


@pytest.fixture
async def live(world: World) -> AsyncIterator[tuple[ApiServer, httpx.AsyncClient]]:
    """The seeded world on a real uvicorn on 127.0.0.1:<free port>, and a client for it."""
    server = await start_api(world.app, Listen(host="127.0.0.1", port=0), graceful_seconds=1)
    try:
        async with httpx.AsyncClient(base_url=server.address, timeout=10) as http:
            yield server, http
    finally:
        await server.stop()


Requester = Callable[..., Any]
