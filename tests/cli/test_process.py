"""The real `jobdeck` console script and a fresh interpreter: start-up cost and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "jobdeck"


def env_for(home: Path) -> dict[str, str]:
    """The environment of a child jobdeck: its own home, no config file, UTC."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBDECK_")}
    env.update(
        JOBDECK_HOME=str(home),
        JOBDECK_CONFIG=str(home / "absent.toml"),
        JOBDECK_TIMEZONE="UTC",
        PYTHONPATH=str(REPO),
    )
    return env


def test_cli_does_not_import_textual_or_rich(tmp_path: Path) -> None:
    code = (
        "import sys; from console.cli import main; rc = main(['template', 'list']); "
        "loaded = sorted(m for m in ('textual', 'rich') if m in sys.modules); "
        "print('LOADED', loaded, rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env_for(tmp_path),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "LOADED [] 0"


@pytest.fixture
def jobdeck_script() -> Path:
    if not SCRIPT.exists():
        pytest.fail(f"{SCRIPT} is missing: run `.venv/bin/pip install -e .`", pytrace=False)
    return SCRIPT


def run(script: Path, home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(script), *argv],
        env=env_for(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_console_script_done_when_sequence(jobdeck_script: Path, tmp_path: Path) -> None:
    created = run(
        jobdeck_script, tmp_path, "template", "create", "hello", "--type", "shell",
        "--config", "command=echo hello",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    listed = run(jobdeck_script, tmp_path, "template", "list", "--json")
    assert json.loads(listed.stdout)[0]["config"]["command"] == ["echo", "hello"]
    bad = run(jobdeck_script, tmp_path, "schedule", "create", "x", "--template", "hello",
              "--cron", "0 0 30 2 *")  # fmt: skip
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("jobdeck: error: --cron: day-of-month")
    preview = run(jobdeck_script, tmp_path, "schedule", "preview", "--cron", "0 9 * * 1",
                  "--tz", "UTC", "-n", "3", "--json")  # fmt: skip
    assert preview.returncode == 0
    assert len(json.loads(preview.stdout)) == 3


def test_console_script_version_and_help(jobdeck_script: Path, tmp_path: Path) -> None:
    version = run(jobdeck_script, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("jobdeck ")
    usage = run(jobdeck_script, tmp_path, "schedule", "create", "--help")
    assert usage.returncode == 0
    assert "--weekly DAY@HH:MM" in usage.stdout and "--tz zone" in usage.stdout.lower()
