"""End to end, as an operator would: the CLI and a real `jobdeck daemon` process."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def jobdeck_env(home: Path) -> dict[str, str]:
    """An environment with its own JOBDECK_HOME and no user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDECK_")}
    env.update(
        JOBDECK_HOME=str(home),
        JOBDECK_CONFIG=str(home / "absent.toml"),
        JOBDECK_TIMEZONE="UTC",
        JOBDECK_SCHEDULER__HEARTBEAT_SECONDS="1",
        JOBDECK_SCHEDULER__LEASE_TTL_SECONDS="4",
    )
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


def sleeps_alive(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_daemon_runs_an_every_2s_schedule_and_stops_cleanly(tmp_path: Path) -> None:
    env = jobdeck_env(tmp_path)
    assert (
        jd(
            env, "template", "create", "hello", "--type", "shell", "--config", "command=echo hello"
        ).returncode
        == 0
    )
    assert (
        jd(env, "schedule", "create", "every2s", "--template", "hello", "--every", "2s").returncode
        == 0
    )
    daemon = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "daemon", "--grace", "5s", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(10)
    finally:
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, output
    listed = jd(env, "run", "list", "--json", "--status", "completed", "--limit", "100")
    runs = json.loads(listed.stdout)["items"]
    assert len(runs) >= 4, output
    assert len({r["scheduled_for"] for r in runs}) == len(runs)
    for run in runs:
        logs = jd(env, "run", "logs", str(run["id"]))
        assert logs.returncode == 0
        assert "hello" in logs.stdout


@pytest.mark.slow
def test_timeout_kills_the_whole_tree(tmp_path: Path) -> None:
    env = jobdeck_env(tmp_path)
    marker = f"sleep 1000{os.getpid() % 97}"  # unique enough to find our own sleeps
    script = f"sh -c '{marker} & {marker} & wait'"
    created = jd(
        env,
        "template",
        "create",
        "tree",
        "--type",
        "shell",
        "--config",
        f"command={script}",
        "--timeout",
        "2s",
    )
    assert created.returncode == 0, created.stderr
    started = time.monotonic()
    result = jd(env, "template", "run", "tree", "--wait", timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert "timed_out" in result.stderr
    assert elapsed < 2 + 10 + 5  # timeout + kill grace + slack
    time.sleep(0.5)
    assert sleeps_alive(marker) == []


def start_daemon(env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """A `jobdeck daemon` on a free API port, its output in ``log`` (readable while it runs)."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "console.cli", "daemon", "--grace", "2s", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


def wait_for_line(log: Path, words: str, timeout: float) -> float:
    """When ``words`` first appeared in ``log`` (polled); fails after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while words not in log.read_text():
        assert time.monotonic() < end, f"no {words!r} in {log.name}:\n{log.read_text()}"
        time.sleep(0.05)
    return time.monotonic()


@pytest.mark.slow
def test_f1_f2_a_second_daemon_waits_as_standby_and_takes_over_after_kill_9(
    tmp_path: Path,
) -> None:
    from sqlmodel import select

    from core.storage.database import Database, sqlite_url
    from core.storage.tables import JobRun, Occurrence

    env = jobdeck_env(tmp_path)  # heartbeat 1 s, lease TTL 4 s
    created = jd(env, "template", "create", "hello", "--type", "shell", "--config", "command=true")
    assert created.returncode == 0, created.stderr
    assert (
        jd(env, "schedule", "create", "tick", "--template", "hello", "--every", "1s").returncode
        == 0
    )
    first = start_daemon(env, tmp_path / "first.log")
    second: subprocess.Popen[str] | None = None
    try:
        wait_for_line(tmp_path / "first.log", "took the lease", 30)
        second = start_daemon(env, tmp_path / "second.log")
        wait_for_line(tmp_path / "second.log", "standby:", 30)
        time.sleep(4 + 1)  # past the TTL: a live, renewed lease is never taken
        assert "took the lease" not in (tmp_path / "second.log").read_text()
        killed = time.monotonic()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        taken = wait_for_line(tmp_path / "second.log", "took the lease", 30)
        assert taken - killed <= 4 + 1 + 2  # F2: the TTL plus one heartbeat (and slack)
        time.sleep(3)
    finally:
        for daemon in (first, second):
            if daemon is not None and daemon.poll() is None:
                daemon.send_signal(signal.SIGTERM)
                daemon.wait(30)
    assert second is not None and second.returncode == 0, (tmp_path / "second.log").read_text()
    db = Database(sqlite_url(tmp_path / "jobdeck.db"))
    try:
        with db.read() as session:
            keys = [
                run.scheduled_for
                for run in session.exec(select(JobRun).where(JobRun.triggered_by == "schedule"))
            ]
            ledger = sorted(o.scheduled_for for o in session.exec(select(Occurrence)))
    finally:
        db.dispose()
    assert len(keys) == len(set(keys)) >= 5  # 0 duplicate run keys
    # Every second from the first occurrence to the last is recorded once, across the gap.
    assert len(ledger) == len(set(ledger))
    steps = {(b - a).total_seconds() for a, b in itertools.pairwise(ledger)}
    assert steps == {1.0}
