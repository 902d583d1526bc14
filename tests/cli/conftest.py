"""CLI test fixtures: an isolated JOBDECK_HOME per test and an in-process `jobdeck` runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from console.cli import main

from .helpers import Result, Run, isolate


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty JOBDECK_HOME for this test."""
    isolate(monkeypatch, tmp_path)
    return tmp_path


@pytest.fixture
def jd(home: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `jobdeck ARGS...` in-process; returns exit code, stdout and stderr."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def ok(jd: Run) -> Run:
    """Like ``jd`` but asserts the command succeeded."""

    def run(*argv: str) -> Result:
        result = jd(*argv)
        assert result.code == 0, f"jobdeck {' '.join(argv)} failed: {result.err}"
        assert result.err == ""
        return result

    return run


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built once: template `hello` (parameter who) and schedule `nightly`."""
    home = tmp_path_factory.mktemp("seed")
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, home)
        for argv in (
            [
                "template",
                "create",
                "hello",
                "--type",
                "shell",
                "--config",
                "command=echo hi",
                "--param",
                "who:string=world",
            ],
            ["schedule", "create", "nightly", "--template", "hello", "--daily", "02:00"],
        ):
            assert main(argv) == 0
    return home / "jobdeck.db"


@pytest.fixture
def seeded(home: Path, seeded_db: Path) -> Path:
    """This test's JOBDECK_HOME holding a copy of the seeded database."""
    for suffix in ("", "-wal", "-shm"):
        source = seeded_db.with_name(seeded_db.name + suffix)
        if source.exists():
            shutil.copy(source, home / source.name)
    return home
