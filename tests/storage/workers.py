"""Work that threads and child processes start at the same moment, and helpers to start it."""

# Run as a script (python workers.py upgrade|write URL [ACTOR COUNT]) it prints "ready", waits
# for a line on stdin, then works, so a test can release several processes at once.

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from core.storage.database import Database
from core.storage.migrate import current_revision, upgrade
from core.storage.tables import AuditRecord, SystemState

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Guards against a hung child; the tests never assert on time.
HANG_TIMEOUT_SECONDS = 300
COUNTER_KEY = "ticks"


def add_tick(session: Session, actor: str, number: int) -> None:
    """Bump the shared counter read-modify-write style and record one audit row."""
    now = datetime.now(UTC)
    # Reading first, then writing, is what fails a deferred SQLite transaction at once
    # ("database is locked", no busy wait) when another writer got in between; BEGIN
    # IMMEDIATE must make it safe and keep the increments from getting lost.
    counter = session.get_one(SystemState, COUNTER_KEY)
    counter.value = {"n": counter.value["n"] + 1}
    counter.updated_at = now
    session.add(
        AuditRecord(
            at=now,
            actor=actor,
            source="test",
            action="tick",
            target_type="counter",
            target_id=number,
        )
    )


def write_ticks(db: Database, actor: str, count: int) -> None:
    """``count`` short write transactions, one tick each."""
    for number in range(count):
        with db.write() as session:
            add_tick(session, actor, number)


def start_worker(*args: str) -> subprocess.Popen[str]:
    """Start this module as a child process and wait until it says it is ready."""
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line != "ready\n":
        _, stderr = process.communicate(timeout=HANG_TIMEOUT_SECONDS)
        raise AssertionError(f"worker {args} did not start: {line!r}\n{stderr}")
    return process


def release(process: subprocess.Popen[str]) -> None:
    """Tell a ready worker to go."""
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def finish(process: subprocess.Popen[str]) -> str:
    """Wait for a worker; fail with its stderr unless it exited cleanly; return its stdout."""
    stdout, stderr = process.communicate(timeout=HANG_TIMEOUT_SECONDS)
    assert process.returncode == 0, f"worker failed ({process.returncode}):\n{stderr}"
    return stdout


def main(argv: list[str]) -> None:
    """Entry point of a child process."""
    command, url, *rest = argv
    db = Database(url)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        if command == "upgrade":
            upgrade(db)
            print(current_revision(db), flush=True)
        elif command == "write":
            actor, count = rest
            write_ticks(db, actor, int(count))
        else:
            raise SystemExit(f"unknown command {command!r}")
    finally:
        db.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
