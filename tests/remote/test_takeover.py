"""An attached console takes over when its owner goes away, and follows a new owner: real
daemons and consoles on one home, killed, stopped and restarted (review M3)."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.jobs.scheduler.lease import Lease, LeaseInfo
from core.storage.database import Database, sqlite_url

from .processes import Server, jobdeck_env, seed_template, start_daemon, start_server
from .pty_console import PtyConsole, until

pytestmark = pytest.mark.slow

#: A short lease, so that takeovers happen within the tests' patience.
TTL = 6.0
#: However loaded the machine, each condition is polled this long before the test fails.
PATIENCE = 60.0
HOST = socket.gethostname()


def env_of(home: Path) -> dict[str, str]:
    return jobdeck_env(home, JOBDECK_SCHEDULER__LEASE_TTL_SECONDS=str(TTL))


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lease(home: Path) -> LeaseInfo | None:
    db = Database(sqlite_url(home / "jobdeck.db"))
    try:
        return Lease.current(db, SystemClock())
    finally:
        db.dispose()


def owner_pid(home: Path) -> int | None:
    """The pid of the live lease holder, or None."""
    info = lease(home)
    return info.pid if info is not None and info.live else None


def attached_to(pid: int) -> str:
    """What the status line says attached to ``pid``."""
    return rf"attached to {HOST} pid {pid}\b"


def kill(*processes: Server | PtyConsole) -> None:
    for process in processes:
        if process.process.poll() is None:
            process.process.send_signal(signal.SIGCONT)
            process.process.kill()
            process.process.wait(30)


def test_a_daemon_killed_the_console_takes_over_within_the_lease(tmp_path: Path) -> None:
    home, env = tmp_path, env_of(tmp_path)
    seed_template(home, "hello")
    daemon = start_daemon(home, env)
    console = PtyConsole(env)
    try:
        console.wait_for(attached_to(daemon.process.pid), PATIENCE)
        mark = console.mark()
        daemon.kill()
        took = until(lambda: owner_pid(home) == console.pid, PATIENCE, "the console owns")
        # noticed at the console's next look after the lease lapsed: TTL and a heartbeat,
        # with room for a loaded machine
        assert took < TTL + 15, f"took {took:.1f}s"
        print(f"took over {took:.1f}s after the kill (lease TTL {TTL}s)")
        console.wait_for(r"embedded", PATIENCE, after=mark)
        console.wait_for(r"went away: this console now owns", PATIENCE, after=mark)
        console.wait_for(r"live · tick \d+s ago", PATIENCE, after=mark)
    finally:
        kill(console, daemon)


@pytest.mark.parametrize("port", ["another", "the same"])
def test_a_restarted_daemon_is_attached_to_and_named_by_its_pid(tmp_path: Path, port: str) -> None:
    home, env = tmp_path, env_of(tmp_path)
    seed_template(home, "hello")
    first = start_daemon(home, env)
    console = PtyConsole(env)
    second: Server | None = None
    try:
        console.wait_for(attached_to(first.process.pid), PATIENCE)
        # The console looks away (stopped) while the daemon restarts elsewhere: the new
        # daemon holds the lease before the console could take it.
        console.process.send_signal(signal.SIGSTOP)
        first.stop()
        number = free_port() if port == "another" else int(first.address.rsplit(":", 1)[1])
        argv = [sys.executable, "-m", "console.cli", "daemon", "--port", str(number)]
        second = start_server([*argv, "--grace", "2s"], env, home / "daemon-2.log")
        assert (second.address != first.address) == (port == "another")
        until(lambda: owner_pid(home) == second.process.pid, PATIENCE, "the new daemon owns")
        mark = console.mark()
        console.process.send_signal(signal.SIGCONT)
        console.wait_for(
            attached_to(second.process.pid) + rf" \({second.address}\)", PATIENCE, after=mark
        )
        console.wait_for(rf"pid {second.process.pid} owns the database now", PATIENCE, after=mark)
        assert owner_pid(home) == second.process.pid  # it re-attached, it did not take over
    finally:
        kill(console, first, *([second] if second else []))


def test_the_owner_console_quits_and_the_attached_one_takes_over(tmp_path: Path) -> None:
    home, env = tmp_path, env_of(tmp_path)
    seed_template(home, "hello")
    owner = PtyConsole(env)
    attached: PtyConsole | None = None
    try:
        until(
            lambda: owner_pid(home) == owner.pid and (home / "owner.token").exists(),
            PATIENCE,
            "the first console owns",
        )
        attached = PtyConsole(env)
        attached.wait_for(attached_to(owner.pid), PATIENCE)
        mark = attached.mark()
        owner.type(b"q")
        until(lambda: owner.process.poll() is not None, PATIENCE, "the owner console quits")
        until(lambda: owner_pid(home) == attached.pid, PATIENCE, "the attached console owns")
        attached.wait_for(r"embedded", PATIENCE, after=mark)
        attached.wait_for(r"went away: this console now owns", PATIENCE, after=mark)
    finally:
        kill(owner, *([attached] if attached else []))


def test_a_stopped_daemon_turns_the_status_line_to_a_warning(tmp_path: Path) -> None:
    home, env = tmp_path, env_of(tmp_path)
    seed_template(home, "hello")
    daemon = start_daemon(home, env)
    console = PtyConsole(env)
    try:
        console.wait_for(attached_to(daemon.process.pid), PATIENCE)
        console.wait_for(r"● live · tick \d+s ago", PATIENCE)
        mark = console.mark()
        os.kill(daemon.process.pid, signal.SIGSTOP)
        stopped_at = time.monotonic()
        found = console.wait_for(
            r"⚠ (lease not renewed|owner late)[^\n]*?\d+s", PATIENCE, after=mark
        )
        took = time.monotonic() - stopped_at
        print(f"warned {took:.1f}s after SIGSTOP: {found.group(0)!r} (lease TTL {TTL}s)")
        assert took < TTL, f"the warning came {took:.1f}s after the stop"
        # before the lease lapsed: the console had not taken over yet
        assert "embedded" not in console.text(mark)[: found.start()]
    finally:
        kill(console, daemon)
