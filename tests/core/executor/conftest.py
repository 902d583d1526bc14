"""Executor fixtures: a `Deck` that seeds templates and runs and drives a real LocalExecutor."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from core.clock import Clock, SystemClock
from core.jobs.execution.records import new_run, run_parameters
from core.jobs.executor import ExecutorConfig, LocalExecutor
from core.jobs.executor.procs import marked_processes, processes
from core.settings.secrets import SecretBox
from core.storage.database import Database
from core.storage.tables import (
    JobRun,
    JobRunAttempt,
    JobSchedule,
    JobTemplate,
    RunLogChunk,
    Worker,
)

#: Where the python jobs of these tests live (added to the job's python_path).
HERE = Path(__file__).resolve().parent
HOST = socket.gethostname()
FINAL = ("completed", "failed", "cancelled", "timed_out", "lost")


@dataclass
class Deck:
    """Seeds templates and runs, runs a LocalExecutor over them, reads back what happened."""

    db: Database
    tmp_path: Path
    secrets: SecretBox
    clock: Clock = field(default_factory=SystemClock)
    executors: list[LocalExecutor] = field(default_factory=list)
    _names: int = 0

    def executor(self, **overrides: Any) -> LocalExecutor:
        """A fast-polling executor (not started) whose fork server and state are cleaned up."""
        values: dict[str, Any] = {
            "name": f"local@{HOST}",
            "slots": 4,
            "kill_grace_seconds": 1.0,
            "heartbeat_seconds": 0.5,
            "poll_seconds": 0.05,
            "flush_seconds": 0.05,
            "home": self.tmp_path / "home",
        }
        owner_id = overrides.pop("owner_id", "owner-under-test")
        executor = LocalExecutor(
            self.db,
            clock=overrides.pop("clock", self.clock),
            config=ExecutorConfig(**(values | overrides)),
            owner_id=owner_id,
            secrets=self.secrets,
        )
        self.executors.append(executor)
        return executor

    async def started(self, **overrides: Any) -> LocalExecutor:
        """An executor, started."""
        executor = self.executor(**overrides)
        await executor.start()
        return executor

    def template(
        self, job_type: str = "shell", config: dict[str, Any] | None = None, **kw: Any
    ) -> JobTemplate:
        """A saved template (the name is made unique)."""
        self._names += 1
        now = self.clock.now()
        row = JobTemplate(
            name=kw.pop("name", f"{job_type}-{self._names}"),
            job_type=job_type,
            config=config if config is not None else {"command": ["true"]},
            created_at=now,
            updated_at=now,
            **kw,
        )
        with self.db.write() as session:
            session.add(row)
        return row

    def shell(self, command: list[str] | str, **kw: Any) -> JobTemplate:
        """A shell template; a string runs with ``shell: true``."""
        if isinstance(command, str):
            config = {"command": [command], "shell": True}
        else:
            config = {"command": command}
        return self.template("shell", config, **kw)

    def schedule(self, template: JobTemplate, **kw: Any) -> JobSchedule:
        """A saved schedule of ``template``."""
        now = self.clock.now()
        self._names += 1
        row = JobSchedule(
            job_identifier=kw.pop("job_identifier", f"sched-{self._names}"),
            job_template_id=template.id,
            schedule_type="interval",
            interval_seconds=60,
            timezone="UTC",
            created_at=now,
            updated_at=now,
            **kw,
        )
        with self.db.write() as session:
            session.add(row)
        return row

    def run(
        self,
        template: JobTemplate,
        parameters: dict[str, Any] | None = None,
        *,
        schedule: JobSchedule | None = None,
        scheduled_for: datetime | None = None,
        **overrides: Any,
    ) -> int:
        """A pending run of ``template`` (as the scheduler or a manual run would queue it)."""
        now = self.clock.now()
        values = run_parameters(template, schedule, parameters or {}, self.secrets)
        row = new_run(
            template=template,
            schedule=schedule,
            triggered_by="schedule" if schedule else "manual",
            scheduled_for=scheduled_for,
            now=now,
            parameters=values,
            executed_by="tester",
        )
        for key, value in overrides.items():
            setattr(row, key, value)
        with self.db.write() as session:
            session.add(row)
        assert row.id is not None
        return row.id

    def many_runs(self, template: JobTemplate, count: int) -> None:
        """``count`` pending manual runs of ``template``, inserted in one transaction."""
        now = self.clock.now()
        values = run_parameters(template, None, {}, self.secrets)
        with self.db.write() as session:
            for _ in range(count):
                session.add(
                    new_run(
                        template=template,
                        schedule=None,
                        triggered_by="manual",
                        scheduled_for=None,
                        now=now,
                        parameters=values,
                        executed_by="tester",
                    )
                )

    def get(self, run_id: int) -> JobRun:
        """The run as stored now."""
        with self.db.read() as session:
            row = session.get(JobRun, run_id)
            assert row is not None
            return row

    def attempts(self, run_id: int) -> list[JobRunAttempt]:
        """The run's attempt rows, in order."""
        with self.db.read() as session:
            query = select(JobRunAttempt).where(JobRunAttempt.run_id == run_id)
            return list(session.exec(query.order_by(JobRunAttempt.attempt)))

    def chunks(self, run_id: int) -> list[RunLogChunk]:
        """The run's log chunks in order."""
        with self.db.read() as session:
            query = select(RunLogChunk).where(RunLogChunk.run_id == run_id)
            return list(session.exec(query.order_by(RunLogChunk.seq)))

    def log(self, run_id: int, stream: str | None = None, attempt: int | None = None) -> str:
        """The run's log as text (optionally one stream or one attempt)."""
        return "".join(
            c.data
            for c in self.chunks(run_id)
            if (stream is None or c.stream == stream) and (attempt is None or c.attempt == attempt)
        )

    def worker(self, name: str) -> Worker | None:
        """The worker row called ``name``."""
        with self.db.read() as session:
            return session.exec(select(Worker).where(Worker.name == name)).first()

    @staticmethod
    def group_alive(pgid: int) -> bool:
        """Any live (non-zombie) process left in group ``pgid``."""
        return any(p.pgid == pgid and not p.zombie for p in processes())

    @staticmethod
    def processes_of_run(run_id: int) -> list[int]:
        """Live processes on this host marked as the run's."""
        return [info.pid for info, marked in marked_processes() if marked == run_id]

    @staticmethod
    def zombie_children(*parents: int) -> list[int]:
        """Zombies whose parent is this test process (or one of ``parents``)."""
        wanted = {os.getpid(), *parents}
        return [p.pid for p in processes() if p.ppid in wanted and p.zombie]

    async def wait_for(
        self, run_id: int, statuses: tuple[str, ...] = FINAL, within: float = 30.0
    ) -> JobRun:
        """Poll until the run has one of ``statuses``; fails after ``within`` seconds."""
        return await self.wait_until(
            lambda: self.get(run_id), lambda r: r.status in statuses, within
        )

    async def wait_until(
        self, read: Callable[[], Any], ok: Callable[[Any], bool], within: float = 30.0
    ) -> Any:
        """Poll ``read`` until ``ok(value)``; fails after ``within`` seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        while True:
            value = await asyncio.to_thread(read)
            if ok(value):
                return value
            if loop.time() > end:
                raise AssertionError(f"timed out after {within} s waiting; last value {value!r}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def deck(database: Database, tmp_path: Path) -> AsyncIterator[Deck]:
    """A Deck on each backend; every executor it made is stopped afterwards."""
    deck = Deck(database, tmp_path, SecretBox(tmp_path / "secret.key"))
    yield deck
    for executor in deck.executors:
        await executor.stop(0, "test over")


@pytest.fixture
async def sqlite_deck(fresh_sqlite_database: Database, tmp_path: Path) -> AsyncIterator[Deck]:
    """A Deck on SQLite only (process-heavy tests that do not depend on the database)."""
    deck = Deck(fresh_sqlite_database, tmp_path, SecretBox(tmp_path / "secret.key"))
    yield deck
    for executor in deck.executors:
        await executor.stop(0, "test over")
