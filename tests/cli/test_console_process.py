"""The real console in a pseudo-terminal: it owns the database, and leaves cleanly on a signal."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.jobs.scheduler.lease import Lease
from core.storage.database import Database, sqlite_url

from .test_process import REPO, env_for

pytestmark = pytest.mark.slow


def _read_until(master: int, seconds: float, done: object) -> None:
    """Drain the terminal's output until ``done()`` or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():  # type: ignore[operator]
            return
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 1 << 16)
            except OSError:
                return
    raise AssertionError(f"not done within {seconds}s")


#: A jobdeck process as the console script starts it.
JOBDECK = [sys.executable, "-c", "from console.entry import main; raise SystemExit(main())"]


def _console_on_pty(home: Path, *args: str) -> tuple[int, subprocess.Popen[bytes]]:
    """The console on a new pseudo-terminal of its own (its session leader): the master end
    and the process."""
    master, slave = pty.openpty()
    console = subprocess.Popen(
        [*JOBDECK, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env_for(home), "TERM": "xterm-256color"},
        cwd=REPO,
        start_new_session=True,
    )
    os.close(slave)
    return master, console


@pytest.mark.parametrize(
    ("signum", "hang_up", "code"),
    [
        (signal.SIGTERM, False, 0),  # `kill`: quits as `q` would
        (signal.SIGHUP, True, 129),  # the terminal went away: no UI to restore
    ],
)
def test_a_signal_ends_the_console_and_releases_the_database(
    tmp_path: Path, signum: signal.Signals, hang_up: bool, code: int
) -> None:
    master, console = _console_on_pty(tmp_path)
    socket_path = tmp_path / "api.sock"
    try:
        # It owns the database once its socket is bound and its credential published.
        _read_until(master, 60, lambda: (tmp_path / "owner.token").exists())
        assert socket_path.exists()
        if hang_up:
            os.close(master)
            master = -1
        console.send_signal(signum)
        if master >= 0:
            _read_until(master, 30, lambda: console.poll() is not None)
        else:
            console.wait(30)
    finally:
        if console.poll() is None:
            console.kill()
        console.wait()
        if master >= 0:
            os.close(master)
    assert console.returncode == code
    assert not socket_path.exists()
    assert not (tmp_path / "owner.token").exists()
    db = Database(sqlite_url(tmp_path / "jobdeck.db"))
    try:
        lease = Lease.current(db, SystemClock())
        assert lease is None or not lease.live  # released: the next owner need not wait
    finally:
        db.dispose()


def _cli(home: Path, *args: str) -> None:
    subprocess.run(
        [*JOBDECK, *args], env=env_for(home), cwd=REPO, check=True, capture_output=True, timeout=60
    )


def test_a_hang_up_while_a_log_is_followed_ends_the_console(tmp_path: Path) -> None:
    """The terminal goes away while the run detail repaints a live log: the console still
    stops its owner (the run is cancelled after its grace) and exits, instead of blocking on
    output for a terminal that is gone."""
    master, console = _console_on_pty(tmp_path, "-c", "runs")
    seen = bytearray()

    def shows(text: bytes) -> bool:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            seen.extend(os.read(master, 1 << 16))
            del seen[: max(0, len(seen) - (1 << 16))]
        return text in seen

    try:
        _read_until(master, 60, lambda: (tmp_path / "owner.token").exists())
        script = "while true; do echo tick; sleep 0.01; done"
        _cli(
            tmp_path,
            "template",
            "create",
            "ticker",
            "--type",
            "shell",
            "--config",
            "command=sh",
            "--config",
            "command=-c",
            "--config",
            f"command={script}",
        )
        _cli(tmp_path, "template", "run", "ticker")
        deadline = time.monotonic() + 30
        while not shows(b"ticker") and time.monotonic() < deadline:
            pass
        os.write(master, b"g")
        time.sleep(0.3)
        os.write(master, b"o")  # the run detail, following the log
        while not shows(b"tick\r") and time.monotonic() < deadline + 30:
            pass
        assert b"tick" in seen
        os.close(master)
        master = -1
        console.send_signal(signal.SIGHUP)
        console.wait(30)
    finally:
        if console.poll() is None:
            console.kill()
        console.wait()
        if master >= 0:
            os.close(master)
    assert console.returncode == 129
    assert not (tmp_path / "owner.token").exists()
