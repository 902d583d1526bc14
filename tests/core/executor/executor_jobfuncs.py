"""Functions the python-job tests run in the fork server's children (not a test module)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any


def add(a: int, b: int) -> int:
    """A plain result."""
    return a + b


def whoami() -> dict[str, Any]:
    """Where the job runs: its parent (the fork server), its own session and group."""
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
        "attempt": os.environ.get("JOBDECK_ATTEMPT"),
        "run_id": os.environ.get("JOBDECK_RUN_ID"),
    }


def echo(**kwargs: Any) -> dict[str, Any]:
    """The keyword arguments it was called with, and the parameter environment."""
    params = {k: v for k, v in os.environ.items() if k.startswith("JOBDECK_PARAM_")}
    return {"kwargs": kwargs, "env": params}


def boom() -> None:
    """A job that raises."""
    print("about to fail", flush=True)
    raise ValueError("boom at the end")


def not_json() -> object:
    """A result that cannot be stored."""
    return object()


def chatty(lines: int) -> int:
    """Prints to stdout and stderr."""
    for index in range(lines):
        print(f"out {index}")
        print(f"err {index}", file=sys.stderr)
    return lines


def sleeper(seconds: float) -> str:
    """Sleeps (for cancels and timeouts)."""
    time.sleep(seconds)
    return "woke"


async def async_job(value: str) -> str:
    """An async function: the child runs it on its own loop."""
    await asyncio.sleep(0)
    return value.upper()


def loaded(names: list[str]) -> list[str]:
    """Which of ``names`` were imported before the job ran (inherited from the fork server)."""
    return [name for name in names if name in sys.modules]


def mark_then_sleep(path: str) -> None:
    """Appends a line to ``path`` (to count starts), then sleeps."""
    with open(path, "a") as marks:
        marks.write("started\n")
    time.sleep(1000)
