"""Real processes contending for one database (F1, F2, F3), on SQLite and PostgreSQL.

Each process is tests/core/scheduler/owner_proc.py: a standby until it holds the lease, then a
scheduler with a 2 s lease TTL. Afterwards a final catch-up tick records what fell between
owners, and the ledger must hold every occurrence exactly once with no duplicate run keys.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from core.backend.inputs import ScheduleSpec, TemplateSpec
from core.clock import SystemClock
from core.jobs.audit import Actor
from core.jobs.scheduler import Lease, Scheduler, SchedulerConfig
from core.jobs.schedules import ScheduleService
from core.jobs.templates import TemplateService
from core.storage.database import Database
from core.storage.migrate import upgrade

from .conftest import assert_ledger_complete

pytestmark = pytest.mark.slow

HELPER = Path(__file__).with_name("owner_proc.py")
ROOT = Path(__file__).resolve().parents[3]
TTL = 1.5
HEARTBEAT = 0.2


class Owner:
    """One owner process and the events it printed."""

    def __init__(self, url: str, owner: str, seconds: float = 60.0) -> None:
        self.name = owner
        self.popen = subprocess.Popen(
            [sys.executable, str(HELPER), url, owner, str(TTL), str(HEARTBEAT), str(seconds)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            with self._changed:
                self.events.append(json.loads(line))
                self._changed.notify_all()

    def wait_for(self, event: str, timeout: float, after: float = 0.0) -> dict[str, Any]:
        """The first ``event`` printed at or after ``after`` (epoch seconds)."""
        end = time.monotonic() + timeout
        with self._changed:
            while True:
                for item in self.events:
                    if item["event"] == event and item["t"] >= after:
                        return item
                left = end - time.monotonic()
                if left <= 0 or (self.popen.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"{self.name}: no {event!r}; saw {self.events}")
                self._changed.wait(min(left, 0.1))

    def count(self, event: str, after: float = 0.0) -> int:
        with self._changed:
            return sum(1 for e in self.events if e["event"] == event and e["t"] >= after)

    def signal(self, number: int) -> float:
        sent = time.time()
        self.popen.send_signal(number)
        return sent

    def finish(self) -> int:
        """Ask it to stop (SIGTERM) and wait for it."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGCONT)
            self.popen.send_signal(signal.SIGTERM)
        code = self.popen.wait(20)
        self._reader.join(5)
        return code


def freeze_between_batches(a: Owner) -> dict[str, Any]:
    """SIGSTOP ``a`` right after a batch commits, holding no lock (its heartbeat paused first,
    so only its batches, a second apart, touch the database)."""
    a.signal(signal.SIGUSR1)
    quiet = a.wait_for("quiet", 5)
    committed = a.wait_for("committed", 5, after=quiet["t"])
    a.signal(signal.SIGSTOP)
    return committed


@pytest.fixture
def prepared(db_url: str) -> Iterator[tuple[Database, dict[int, datetime]]]:
    """A migrated database with three 1-second interval schedules."""
    db = Database(db_url)
    upgrade(db)
    clock, actor = SystemClock(), Actor("tester", "cli")
    TemplateService(db, clock, actor).create(
        TemplateSpec(name="job", job_type="shell", config={"command": "true"})
    )
    service = ScheduleService(db, clock, actor, "UTC")
    firsts = {}
    for i in range(3):
        view = service.create(
            ScheduleSpec(
                job_identifier=f"s{i}", template="job", schedule_type="interval",
                interval_seconds=1, overlap="allow", overlap_max=100,
            )
        )  # fmt: skip
        assert view.next_run is not None
        firsts[view.id] = view.next_run
    yield db, firsts
    db.dispose()


def verify(db: Database, firsts: dict[int, datetime]) -> None:
    """A last owner records what fell between owners; then every occurrence is there once."""
    lease = Lease(db, clock=SystemClock(), owner_id="verifier", host="t", pid=0, ttl_seconds=TTL)
    deadline = time.monotonic() + TTL + 5
    while not lease.try_acquire():
        assert time.monotonic() < deadline, "the lease never became free"
        time.sleep(0.1)
    scheduler = Scheduler(
        db, clock=SystemClock(), lease=lease, config=SchedulerConfig(), secrets=None
    )
    report = asyncio.run(scheduler.tick())
    assert report.error is None
    assert_ledger_complete(db, firsts, report.at)
    lease.release()


def test_f1_f2_a_standby_never_schedules_until_the_owner_dies(
    prepared: tuple[Database, dict[int, datetime]],
) -> None:
    db, firsts = prepared
    a = Owner(db.url, "a")
    b: Owner | None = None
    try:
        a.wait_for("acquired", 30)
        b = Owner(db.url, "b")
        b.wait_for("started", 30)
        time.sleep(TTL + 0.5)  # longer than the TTL: a live, renewed lease is never taken
        assert b.count("acquired") == 0
        assert a.count("committed") >= 2
        killed = a.signal(signal.SIGKILL)
        a.popen.wait(10)
        taken = b.wait_for("acquired", TTL + 10)
        assert taken["t"] - killed <= TTL + 1.0  # F2: within the TTL plus one tick
        b.wait_for("committed", 5, after=taken["t"])
        assert b.finish() == 0
    finally:
        a.finish()
        if b is not None:
            b.finish()
    verify(db, firsts)


def test_f3_a_frozen_owner_notices_it_lost_the_lease_and_stops(
    prepared: tuple[Database, dict[int, datetime]],
) -> None:
    db, firsts = prepared
    a = Owner(db.url, "a")
    b: Owner | None = None
    try:
        a.wait_for("acquired", 30)
        b = Owner(db.url, "b")
        b.wait_for("started", 30)
        committed = freeze_between_batches(a)
        taken = b.wait_for("acquired", TTL + 10)
        assert taken["t"] > committed["t"]
        b.wait_for("committed", 5, after=taken["t"])
        resumed = a.signal(signal.SIGCONT)
        a.wait_for("lost", 10, after=resumed)
        assert a.popen.wait(10) == 3
        # It never started another batch after waking up: its lease check never passed again.
        assert a.count("lease_checked", after=resumed) == 0
        assert a.count("committed", after=resumed) == 0
        b.wait_for("committed", 5, after=resumed)
        assert b.finish() == 0
    finally:
        a.finish()
        if b is not None:
            b.finish()
    verify(db, firsts)


def test_the_helper_is_executable() -> None:
    assert HELPER.exists() and os.access(HELPER, os.R_OK)
