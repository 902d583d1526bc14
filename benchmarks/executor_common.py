"""Shared set-up of the executor benchmarks: a fresh SQLite database and a warm LocalExecutor."""

# Not a benchmark itself: executor_shell.py, executor_python.py and executor_logs.py use it.

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# The project is not installed into the venv; run from a checkout.
sys.path.insert(0, str(REPO_ROOT))

from core.clock import SystemClock  # noqa: E402
from core.jobs.execution.records import new_run  # noqa: E402
from core.jobs.executor import ExecutorConfig, LocalExecutor  # noqa: E402
from core.storage.database import Database, sqlite_url  # noqa: E402
from core.storage.migrate import upgrade  # noqa: E402
from core.storage.tables import JobRun, JobTemplate, RunLogChunk  # noqa: E402


@dataclass
class Bench:
    """A database with one template, and an executor over it."""

    db: Database
    template: JobTemplate
    executor: LocalExecutor

    def queue(self, count: int) -> None:
        """``count`` pending manual runs of the template, in one transaction."""
        now = SystemClock().now()
        with self.db.write() as session:
            for _ in range(count):
                session.add(
                    new_run(
                        template=self.template,
                        schedule=None,
                        triggered_by="manual",
                        scheduled_for=None,
                        now=now,
                        parameters={},
                        executed_by="bench",
                    )
                )

    async def run_all(self, count: int) -> float:
        """Queue ``count`` runs while paused, then time them from resume until all ended."""
        await self.executor.pause()
        self.queue(count)
        started = time.perf_counter()
        await self.executor.resume()
        await self.executor.wait_idle()
        return time.perf_counter() - started

    def statuses(self) -> dict[str, int]:
        """How many runs ended how."""
        from sqlalchemy import func, select

        with self.db.read() as session:
            rows = session.execute(select(JobRun.status, func.count()).group_by(JobRun.status))
            return {status: int(count) for status, count in rows}


@contextmanager
def database() -> Iterator[Database]:
    """A migrated SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="jobdeck-bench-") as folder:
        db = Database(sqlite_url(Path(folder) / "jobdeck.db"))
        upgrade(db)
        try:
            yield db
        finally:
            db.dispose()


async def bench(
    db: Database, job_type: str, config: dict[str, Any], *, slots: int, **settings: Any
) -> Bench:
    """A template and a started executor; one run first, so the fork server is warm."""
    now = SystemClock().now()
    template = JobTemplate(
        name=f"bench-{job_type}", job_type=job_type, config=config, created_at=now, updated_at=now
    )
    with db.write() as session:
        session.add(template)
    executor = LocalExecutor(
        db,
        clock=SystemClock(),
        config=ExecutorConfig(name="bench", slots=slots, **settings),
        owner_id="bench-owner",
        secrets=None,
    )
    await executor.start()
    result = Bench(db, template, executor)
    await result.run_all(1)
    return result


def cpu_seconds(*pids: int | None) -> float:
    """CPU used so far by these processes and their reaped children (the jobs themselves)."""
    total = 0
    for pid in pids:
        if pid is None:
            continue
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()
        total += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Rounds:
    """Wall time and CPU time (of the owner and its helpers) of each round."""

    wall: list[float]
    cpu: list[float]


async def alternate(
    rounds: int,
    ours: Callable[[], Awaitable[float]],
    baseline: Callable[[], Awaitable[float]],
    helpers: Callable[[], list[int | None]] = list,
) -> tuple[Rounds, Rounds]:
    """Run ours and the baseline in turns (the machine's load drifts); their timings.

    CPU is counted for this process plus ``helpers()`` (the fork server), with their reaped
    children (the jobs): unlike wall time, it barely moves when other work shares the machine.
    """
    mine, base = Rounds([], []), Rounds([], [])
    for _ in range(rounds):
        for target, measure, extra in ((mine, ours, helpers), (base, baseline, list)):
            before = cpu_seconds(os.getpid(), *extra())
            target.wall.append(await measure())
            target.cpu.append(cpu_seconds(os.getpid(), *extra()) - before)
    return mine, base


def _duration(milliseconds: float) -> str:
    if milliseconds >= 1:
        return f"{milliseconds:.2f} ms"
    return f"{milliseconds * 1000:.2f} µs"


def report(label: str, unit: str, count: int, mine: Rounds, base: Rounds) -> None:
    """Print medians, rates and ratios (higher is better for us), and CPU per item."""
    ours_rate = count / statistics.median(mine.wall)
    base_rate = count / statistics.median(base.wall)
    ours_cpu = statistics.median(mine.cpu) / count * 1000
    base_cpu = statistics.median(base.cpu) / count * 1000
    print(
        f"{label}: jobdeck {ours_rate:,.0f} {unit}/s (rounds: "
        + ", ".join(f"{count / t:,.0f}" for t in mine.wall)
        + f") | baseline {base_rate:,.0f} {unit}/s (rounds: "
        + ", ".join(f"{count / t:,.0f}" for t in base.wall)
        + f") | ratio {ours_rate / base_rate:.2f}"
        + f" | CPU per {unit[:-1]}: jobdeck {_duration(ours_cpu)}, baseline {_duration(base_cpu)}"
    )


def log_stats(db: Database, run_id: int) -> tuple[int, int]:
    """(characters, chunks) stored for one run."""
    from sqlalchemy import func, select

    with db.read() as session:
        query = select(func.sum(func.length(RunLogChunk.data)), func.count()).where(
            RunLogChunk.run_id == run_id
        )
        characters, chunks = session.execute(query).one()
    return int(characters or 0), int(chunks)


def cpu_count() -> int:
    """CPUs this process may use."""
    return len(os.sched_getaffinity(0))
