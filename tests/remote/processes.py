"""Real `jobdeck` processes for the attach tests: a daemon (or another owner) and the CLI."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select

from core.clock import SystemClock
from core.jobs.audit import Actor
from core.jobs.tokens import TokenService
from core.storage.database import Database, sqlite_url
from core.storage.tables import AuditRecord

ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"API listening on (\S+)")


def jobdeck_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with its own JOBDECK_HOME, no user config, and a quick lease."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDECK_")}
    env.update(
        JOBDECK_HOME=str(home),
        JOBDECK_CONFIG=str(home / "absent.toml"),
        JOBDECK_TIMEZONE="UTC",
        JOBDECK_SCHEDULER__HEARTBEAT_SECONDS="1",
        JOBDECK_SCHEDULER__LEASE_TTL_SECONDS="4",
    )
    env.update(extra)
    return env


def jd(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Server:
    """A process serving the API, and where."""

    process: subprocess.Popen[bytes]
    address: str
    log: Path

    def stop(self) -> None:
        """SIGTERM, and wait for a graceful exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def start_server(argv: list[str], env: dict[str, str], log: Path, timeout: float = 60) -> Server:
    """Start ``python argv...`` and wait until it logs the address its API listens on."""
    with log.open("ab") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _LISTENING.findall(log.read_text(errors="replace"))
        if found:
            return Server(process, found[-1], log)
        if process.poll() is not None:
            raise AssertionError(f"{argv} exited {process.returncode}:\n{log.read_text()}")
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise AssertionError(f"{argv} did not start its API:\n{log.read_text()}")


def start_daemon(home: Path, env: dict[str, str], port: int = 0) -> Server:
    """`jobdeck daemon --port PORT` (0: any free port)."""
    argv = [sys.executable, "-m", "console.cli", "daemon", "--port", str(port), "--grace", "2s"]
    return start_server(argv, env, home / "daemon.log")


def seed_template(home: Path, name: str) -> None:
    """A shell template in the home's database (created, and migrated, as the CLI would)."""
    from core.backend.inputs import TemplateSpec
    from core.jobs.templates import TemplateService
    from core.storage.migrate import upgrade

    db = Database(sqlite_url(home / "jobdeck.db"))
    try:
        upgrade(db)
        service = TemplateService(db, SystemClock(), Actor("test", "test"), None)
        service.create(TemplateSpec(name=name, job_type="shell", config={"command": "true"}))
    finally:
        db.dispose()


def admin_token(home: Path, name: str = "me") -> str:
    """An admin token in the home's database (as `jobdeck token create NAME --role admin`)."""
    db = Database(sqlite_url(home / "jobdeck.db"))
    try:
        return TokenService(db, SystemClock(), Actor("test", "test")).create(name, "admin").token
    finally:
        db.dispose()


def audit_trail(home: Path) -> list[tuple[str, str, str, str | None]]:
    """(action, actor, source, target name) of every audit record, oldest first."""
    db = Database(sqlite_url(home / "jobdeck.db"))
    try:
        with db.read() as session:
            rows = session.exec(select(AuditRecord).order_by(col(AuditRecord.id))).all()
            return [(r.action, r.actor, r.source, r.target_name) for r in rows]
    finally:
        db.dispose()
