"""The real console on a terminal, keys written in one write as an SSH link delivers them:
they do what they do typed slowly, and nothing typed ahead deletes a run (review B1)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.remote.processes import jobdeck_env
from tests.remote.pty_console import JOBDECK, PtyConsole, until

pytestmark = pytest.mark.slow


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*JOBDECK, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _run_ids(env: dict[str, str]) -> list[int]:
    page = json.loads(_cli(env, "run", "list", "--json"))
    return sorted(run["id"] for run in page["items"])


def test_a_command_line_written_at_once_switches_screens_and_deletes_nothing(
    tmp_path: Path,
) -> None:
    env = jobdeck_env(tmp_path)
    _cli(env, "template", "create", "hello", "--type", "shell", "--config", "command=true")
    for _ in range(3):
        _cli(env, "template", "run", "hello", "--wait")
    runs = _run_ids(env)
    with PtyConsole(env, "-c", "runs", columns=120, rows=40) as console:
        console.wait_for(r"Runs 1-3 of 3", 60)
        until(lambda: (tmp_path / "owner.token").exists(), 60, "the console owns the database")
        for sequence, shows in [
            (b":schedules\r", r"Schedules \("),
            (b":runs\r", r"Runs 1-3 of 3"),
            (b":templates\r", r"Templates \("),
            (b":runs\r/hel\rjj", r"/ hel|name=hel|hel"),
        ]:
            mark = console.mark()
            console.type(sequence)
            console.wait_for(shows, 60, after=mark)
        # `d` asks; the tab and enter that came with it were typed before it was drawn
        mark = console.mark()
        console.type(b"Gd\t\r")
        console.wait_for(r"Delete run", 60, after=mark)
        assert _run_ids(env) == runs
        mark = console.mark()
        console.type(b"\r:schedules\r")  # enter on the focused answer (no), then a command
        console.wait_for(r"Schedules \(", 60, after=mark)
        assert _run_ids(env) == runs
