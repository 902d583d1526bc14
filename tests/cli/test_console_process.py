"""The real console in a pseudo-terminal: it owns the database, and leaves cleanly on a signal."""

from __future__ import annotations

import os
import pty
import re
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


class PtyConsole:
    """The console on a new pseudo-terminal of its own (its session leader); as a context
    manager it is killed and its terminal closed at the end, whatever happened."""

    def __init__(self, home: Path, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [*JOBDECK, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env_for(home), "TERM": "xterm-256color"},
            cwd=REPO,
            start_new_session=True,
        )
        os.close(slave)

    def hang_up(self) -> None:
        """Close the terminal (as a dropped SSH session does) and send SIGHUP."""
        os.close(self.master)
        self.master = -1
        self.process.send_signal(signal.SIGHUP)

    def __enter__(self) -> PtyConsole:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.master >= 0:
            os.close(self.master)


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
    socket_path = tmp_path / "api.sock"
    with PtyConsole(tmp_path) as console:
        # It owns the database once its socket is bound and its credential published.
        _read_until(console.master, 60, lambda: (tmp_path / "owner.token").exists())
        assert socket_path.exists()
        if hang_up:
            console.hang_up()
            console.process.wait(30)
        else:
            console.process.send_signal(signum)
            _read_until(console.master, 30, lambda: console.process.poll() is not None)
    assert console.process.returncode == code
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
    seen = bytearray()
    with PtyConsole(tmp_path, "-c", "runs") as console:

        def shows(text: bytes) -> bool:
            ready, _, _ = select.select([console.master], [], [], 0.1)
            if ready:
                seen.extend(os.read(console.master, 1 << 16))
                del seen[: max(0, len(seen) - (1 << 16))]
            return text in seen

        _read_until(console.master, 60, lambda: (tmp_path / "owner.token").exists())
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
        os.write(console.master, b"g")
        time.sleep(0.3)
        os.write(console.master, b"o")  # the run detail, following the log

        # a log line `tick` (the runs table shows the template's name, `ticker`); the view
        # repaints only what changed, so what follows the word is not always a line end
        def log_line_drawn() -> bool:
            shows(b"")  # (reads what the console drew since)
            return re.search(rb"tick(?!er)", seen) is not None

        while not log_line_drawn() and time.monotonic() < deadline + 30:
            pass
        assert log_line_drawn(), "the followed log was never drawn"
        console.hang_up()
        console.process.wait(30)
    assert console.process.returncode == 129
    assert not (tmp_path / "owner.token").exists()
