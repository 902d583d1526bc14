"""Ending a console that runs a job, every way it can end: the job is cancelled and recorded,
no process of it is left, the lease is released and the socket removed (review B2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.jobs.scheduler.lease import Lease
from core.storage.database import Database, sqlite_url
from tests.remote.processes import jobdeck_env
from tests.remote.pty_console import JOBDECK, PtyConsole, until

pytestmark = pytest.mark.slow

#: The console with `?` made to raise: an unexpected error inside the app.
CRASHING = [
    sys.executable,
    "-c",
    "import console.app as a\n"
    "def boom(self): raise RuntimeError('injected crash')\n"
    "a.JobdeckApp.action_toggle_keys = boom\n"
    "from console.entry import main; raise SystemExit(main())",
]


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*JOBDECK, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _processes_of(home: Path, but: int) -> list[str]:
    """Live processes started for ``home`` (they carry its JOBDECK_HOME), but ``but``."""
    marker = f"JOBDECK_HOME={home}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == but:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in environ and state != b"Z":
            found.append(f"{entry}: {cmdline}")
    return found


def _run_status(home: Path) -> list[str]:
    db = Database(sqlite_url(home / "jobdeck.db"))
    try:
        with db.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT status FROM job_runs").fetchall()
        return [row[0] for row in rows]
    finally:
        db.dispose()


def _ask_and_confirm(console: PtyConsole, keys: bytes) -> None:
    mark = console.mark()
    console.type(keys)
    console.wait_for(r"Quit and cancel 1 run\?", 60, after=mark)
    console.wait_for(r"Keep running", 60, after=mark)
    for _ in range(50):
        # `y` answers it; a `y` the dialog took as typed before it was drawn rings the bell
        mark = console.mark()
        console.type(b"y")
        until(
            lambda mark=mark: console.process.poll() is not None or "\a" in console.text(mark),
            90,
            "the console quits, or rings the bell for a key typed too early",
        )
        if console.process.poll() is not None:
            return
    raise AssertionError("the quit dialog never took a `y`")


ENDINGS = ["q", ":q", "ctrl+c", "SIGTERM", "SIGINT", "SIGHUP", "crash"]


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_way_of_ending_the_console_cancels_its_run_and_leaves_nothing(
    tmp_path: Path, ending: str
) -> None:
    home = tmp_path
    env = jobdeck_env(home)
    program = CRASHING if ending == "crash" else None
    with PtyConsole(env, "-c", "runs", columns=120, rows=40, program=program) as console:
        until(lambda: (home / "owner.token").exists(), 60, "the console owns the database")
        _cli(
            env, "template", "create", "sleeper", "--type", "shell", "--config", "command=sleep 600"
        )
        _cli(env, "template", "run", "sleeper")
        until(
            lambda: any("sleep 600" in p for p in _processes_of(home, console.pid)),
            60,
            "the job runs",
        )
        console.wait_for(r"sleeper", 60)
        if ending == "q":
            _ask_and_confirm(console, b"q")
        elif ending == ":q":
            _ask_and_confirm(console, b":q\r")
        elif ending == "ctrl+c":
            _ask_and_confirm(console, b"\x03")
        elif ending == "crash":
            console.type(b"?")
        elif ending == "SIGHUP":
            console.process.send_signal(signal.SIGHUP)
            os.close(console.master)  # the terminal went away with it
            console.master = os.open(os.devnull, os.O_RDONLY)
        else:
            console.process.send_signal(getattr(signal, ending))
        console.process.wait(90)
    until(lambda: not _processes_of(home, console.pid), 30, "every process of the run ended")
    assert _run_status(home) == ["cancelled"]
    assert not (home / "api.sock").exists()
    assert not (home / "owner.token").exists()
    db = Database(sqlite_url(home / "jobdeck.db"))
    try:
        lease = Lease.current(db, SystemClock())
        assert lease is None or not lease.live
    finally:
        db.dispose()


def test_keep_running_answers_no_and_the_console_stays(tmp_path: Path) -> None:
    home = tmp_path
    env = jobdeck_env(home)
    with PtyConsole(env, "-c", "runs", columns=120, rows=40) as console:
        until(lambda: (home / "owner.token").exists(), 60, "the console owns the database")
        _cli(
            env, "template", "create", "sleeper", "--type", "shell", "--config", "command=sleep 600"
        )
        _cli(env, "template", "run", "sleeper")
        until(lambda: _run_status(home) == ["running"], 60, "the job runs")
        mark = console.mark()
        console.type(b"q")
        console.wait_for(r"Keep running", 60, after=mark)
        console.type(b"\r")  # the focused answer: keep running
        mark = console.mark()
        console.type(b"3")
        console.wait_for(r"sleeper", 60, after=mark)
        assert console.process.poll() is None
        assert _run_status(home) == ["running"]
        console.process.send_signal(signal.SIGTERM)  # (a kill -9 would leave the job behind)
        console.process.wait(90)
    until(lambda: not _processes_of(home, console.pid), 30, "every process of the run ended")
