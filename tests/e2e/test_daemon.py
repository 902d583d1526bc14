"""End to end, as an operator would: the CLI and a real `jobdeck daemon` process."""

from __future__ import annotations

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
        [sys.executable, "-m", "console.cli", "daemon", "--grace", "5s"],
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
