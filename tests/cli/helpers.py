"""Helpers shared by the CLI tests: the runner's result type and the environment isolation."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Result:
    """What one `jobdeck ...` invocation did."""

    code: int
    out: str
    err: str


Run = Callable[..., Result]


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Point jobdeck at ``home``: its own SQLite file, no config file, UTC, no env leaks."""
    for name in list(os.environ):
        if name.startswith("JOBDECK_") and not name.startswith("JOBDECK_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JOBDECK_HOME", str(home))
    monkeypatch.setenv("JOBDECK_CONFIG", str(home / "absent-config.toml"))
    monkeypatch.setenv("JOBDECK_TIMEZONE", "UTC")
