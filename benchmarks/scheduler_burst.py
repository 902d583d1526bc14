"""10k cron schedules due in the same second: time until all are recorded, vs APScheduler alone."""

# Usage: python benchmarks/scheduler_burst.py [--schedules 10000] [--repeat 10] [--distinct]
# (see benchmarks/README.md). Never run from pytest: it takes a few minutes.

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402
from apscheduler.triggers.cron import CronTrigger  # noqa: E402
from sqlalchemy import delete, func, select, update  # noqa: E402

from core.jobs.scheduler import Lease, Scheduler, SchedulerConfig  # noqa: E402
from core.storage.database import Database, sqlite_url  # noqa: E402
from core.storage.migrate import upgrade  # noqa: E402
from core.storage.tables import JobRun, JobSchedule, JobTemplate, Occurrence  # noqa: E402

#: The shifted clock's due instant: Monday 2026-06-01 12:00:00 UTC. Every expression below
#: fires then, in its own zone (June: Riga and Cairo +03:00, New York -04:00, Lord Howe +10:30).
DUE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EXPRESSIONS = [
    ("* * * * *", "UTC"),
    ("0 * * * *", "UTC"),
    ("0 12 * * *", "UTC"),
    ("*/5 * * * *", "UTC"),
    ("*/15 * * * *", "UTC"),
    ("0,30 * * * *", "UTC"),
    ("0 */2 * * *", "UTC"),
    ("0 12 * * 1", "UTC"),
    ("0 12 1 * *", "UTC"),
    ("0 9-17 * * 1-5", "UTC"),
    ("0 12 * 6 *", "UTC"),
    ("0 0-23/4 * * *", "UTC"),
    ("0 15 * * *", "Europe/Riga"),
    ("*/10 15 * * *", "Europe/Riga"),
    ("0 8 * * *", "America/New_York"),
    ("0 8 * * mon-fri", "America/New_York"),
    ("30 22 * * *", "Australia/Lord_Howe"),
    ("0 15 * * *", "Africa/Cairo"),
    ("0 12-14 * * *", "UTC"),
    ("0 12 */2 * *", "UTC"),
]


class ShiftedClock:
    """The real clocks, with the wall clock moved so that DUE comes a few seconds from now."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def aim(self, seconds_ahead: float) -> None:
        self.offset = DUE - timedelta(seconds=seconds_ahead) - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        return time.monotonic()


def setup(path: Path, count: int, distinct: bool) -> Database:
    """A migrated SQLite file with one template and ``count`` cron schedules."""
    db = Database(sqlite_url(path))
    upgrade(db)
    created = DUE - timedelta(days=30)
    with db.write() as session:
        template = JobTemplate(
            name="noop",
            job_type="shell",
            config={"argv": ["true"], "shell": False},
            created_at=created,
            updated_at=created,
        )
        session.add(template)
        session.flush()
        proto = JobSchedule(
            job_identifier="x",
            job_template_id=template.id or 0,
            schedule_type="cron",
            timezone="UTC",
            created_at=created,
            updated_at=created,
            overlap="allow",
            overlap_max=100,
        ).model_dump(exclude={"id"})
        rows = []
        for i in range(count):
            expression, zone = EXPRESSIONS[i % len(EXPRESSIONS)]
            row = dict(proto, job_identifier=f"s{i:05d}", cron_expression=expression, timezone=zone)
            if distinct:  # a different window start makes every Timing distinct
                row["start_at"] = created + timedelta(seconds=i)
            rows.append(row)
        session.execute(JobSchedule.__table__.insert(), rows)  # type: ignore[attr-defined]
    return db


def reset(db: Database) -> None:
    """Forget the previous repetition: no runs, no ledger, every schedule due at DUE."""
    with db.write() as session:
        session.execute(delete(Occurrence))
        session.execute(delete(JobRun))
        session.execute(update(JobSchedule).values(next_run=DUE, last_run=None))


class StallMeter:
    """A 1 ms ticker task: the longest time it was late is the longest event-loop stall."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, loop.time() - before - 0.001)

    def start(self) -> None:
        self.worst = 0.0
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.worst


@dataclass
class Sample:
    latency: float
    stall: float


async def jobdeck_burst(db: Database, count: int, repeat: int) -> list[Sample]:
    """Real wake-up loop on a shifted clock; time from DUE to the last batch's commit."""
    clock = ShiftedClock()
    clock.aim(3.0)
    lease = Lease(db, clock=clock, owner_id="bench", host="bench", pid=0, ttl_seconds=60)
    assert lease.try_acquire()
    commits: list[datetime] = []
    samples: list[Sample] = []
    meter = StallMeter()
    for index in range(repeat + 1):  # the first repetition warms up and is not counted
        reset(db)
        clock.aim(1.5)
        lease.renew()
        commits.clear()
        # A fresh scheduler each time (a restarted owner): it sleeps until DUE, then fires.
        scheduler = Scheduler(
            db, clock=clock, lease=lease, config=SchedulerConfig(heartbeat_seconds=5), secrets=None
        )
        scheduler.fault_hook = lambda point: (
            commits.append(clock.now()) if point == "committed" else None
        )
        await scheduler.start()
        meter.start()
        # Watch the scheduler's own reports (no polling queries competing with it).
        while not _burst_done(scheduler, count):
            await asyncio.sleep(0.05)
            if clock.now() > DUE + timedelta(seconds=30):
                raise RuntimeError("the burst was not recorded within 30 s")
        assert _recorded(db) == count
        stall = await meter.stop()
        await scheduler.stop()
        latency = (max(commits) - DUE).total_seconds()
        print(
            f"  jobdeck rep {index}: {latency * 1000:7.1f} ms, stall {stall * 1000:5.1f} ms"
            + ("  (warm-up)" if index == 0 else "")
        )
        if index:
            samples.append(Sample(latency, stall))
    return samples


def _burst_done(scheduler: Scheduler, count: int) -> bool:
    report = scheduler.last_report
    return report is not None and report.at >= DUE and report.recorded >= count


def _recorded(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(Occurrence)).scalar() or 0)


async def apscheduler_burst(count: int, repeat: int) -> list[Sample]:
    """APScheduler alone: 10k no-op cron jobs due at the same second, in memory."""
    samples: list[Sample] = []
    meter = StallMeter()
    for index in range(repeat + 1):
        # Adding 10k jobs takes seconds; a cron target already past when the scheduler starts
        # would silently move to the next day, so leave ample room and check.
        target = (datetime.now(UTC) + timedelta(seconds=12)).replace(microsecond=0)
        ran: list[float] = []
        done = asyncio.Event()

        async def noop(ran: list[float] = ran, done: asyncio.Event = done) -> None:
            ran.append(time.time())
            if len(ran) == count:
                done.set()

        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        )
        trigger_args: dict[str, Any] = {
            "hour": target.hour, "minute": target.minute, "second": target.second, "timezone": UTC,
        }  # fmt: skip
        for i in range(count):
            scheduler.add_job(noop, CronTrigger(**trigger_args), id=f"j{i}")
        if datetime.now(UTC) > target - timedelta(seconds=2):
            raise RuntimeError("adding the jobs took too long for the chosen target")
        scheduler.start()
        meter.start()
        await asyncio.wait_for(done.wait(), 60)
        stall = await meter.stop()
        scheduler.shutdown(wait=False)
        latency = max(ran) - target.timestamp()
        print(
            f"  apscheduler rep {index}: {latency * 1000:7.1f} ms, stall {stall * 1000:5.1f} ms"
            + ("  (warm-up)" if index == 0 else "")
        )
        if index:
            samples.append(Sample(latency, stall))
        await asyncio.sleep(0.2)
    return samples


def raw_floor(path: Path, count: int, repeat: int) -> list[float]:
    """The database's share alone: the same reads and writes through sqlite3 with prebuilt
    values, 1000 schedules a transaction, no decisions at all."""
    import json
    import sqlite3

    due = "2026-06-01 12:00:00.000000"
    snapshot = json.dumps({"job_type": "shell", "config": {"argv": ["true"]}, "retries": 0})
    samples = []
    db = Database(sqlite_url(path))
    for _ in range(repeat):
        reset(db)
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA synchronous = NORMAL")
        started = time.perf_counter()
        for _ in range(0, count, 1000):
            connection.execute("BEGIN IMMEDIATE")
            ids = [
                row[0]
                for row in connection.execute(
                    "SELECT * FROM job_schedules WHERE next_run <= ? AND is_active = 1 "
                    "ORDER BY next_run, id LIMIT 1000",
                    (due,),
                )
            ]
            connection.executemany(
                "INSERT INTO job_runs (job_schedule_id, job_name, parameters, scheduled_for, "
                "job_template_id, job_type, status, triggered_by, queued_at, attempts, "
                "max_attempts, template_revision, template_snapshot, log_size, cancel_requested) "
                "VALUES (?, ?, '{}', ?, 1, 'shell', 'pending', 'schedule', ?, 0, 1, 1, ?, 0, 0)",
                [(i, f"s{i}", due, due, snapshot) for i in ids],
            )
            connection.executemany(
                "INSERT INTO occurrences (schedule_id, scheduled_for, outcome, run_id, "
                "lateness_seconds, recorded_at) VALUES (?, ?, 'ran', NULL, 0.0, ?)",
                [(i, due, due) for i in ids],
            )
            connection.executemany(
                "UPDATE job_schedules SET next_run = '2026-06-01 12:05:00.000000', "
                "last_run = ? WHERE id = ?",
                [(due, i) for i in ids],
            )
            connection.execute("COMMIT")
        samples.append(time.perf_counter() - started)
        connection.close()
    db.dispose()
    return samples


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(name: str, samples: list[Sample]) -> tuple[float, float, float]:
    latencies = [s.latency for s in samples]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    stall = max(s.stall for s in samples)
    print(
        f"{name:12s} p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  "
        f"mean {statistics.mean(latencies) * 1000:7.1f} ms  worst stall {stall * 1000:5.1f} ms"
    )
    return p50, p99, stall


async def idle_stall(seconds: float) -> float:
    """The stall meter with nothing else running: what the machine itself adds."""
    meter = StallMeter()
    meter.start()
    await asyncio.sleep(seconds)
    return await meter.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="give every schedule its own Timing (worst case for the memo)",
    )
    parser.add_argument(
        "--freeze-gc",
        action="store_true",
        help="gc.freeze() after set-up, as a long-running owner should (see README)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        db = setup(Path(tmp) / "burst.db", args.schedules, args.distinct)
        print(f"set-up: {args.schedules} schedules in {time.perf_counter() - started:.1f} s")
        if args.freeze_gc:
            gc.freeze()  # start-up objects leave the collector's view: shorter full collections
        print("jobdeck (SQLite, ledger + pending runs committed):")
        ours = await jobdeck_burst(db, args.schedules, args.repeat)
        db.dispose()
        floor = raw_floor(Path(tmp) / "burst.db", args.schedules, args.repeat)
    idle = await idle_stall(5.0)
    print(f"idle event loop, 5 s, nothing else running: worst stall {idle * 1000:.1f} ms")
    print("APScheduler 3 AsyncIOScheduler, in memory, no-op coroutines:")
    theirs = await apscheduler_burst(args.schedules, args.repeat)
    print()
    j50, j99, jstall = summary("jobdeck", ours)
    a50, a99, _ = summary("apscheduler", theirs)
    f50, f99 = percentile(floor, 50), percentile(floor, 99)
    print(
        f"{'sqlite floor':12s} p50 {f50 * 1000:7.1f} ms  p99 {f99 * 1000:7.1f} ms  "
        "(the same statements via sqlite3, prebuilt values, no decisions)"
    )
    print(f"ratio jobdeck/apscheduler: p50 {j50 / a50:.2f}  p99 {j99 / a99:.2f}")
    print(f"ratio jobdeck/sqlite floor: p50 {j50 / f50:.2f}  p99 {j99 / f99:.2f}")
    print(
        f"goals: p99 <= 500 ms: {'met' if j99 <= 0.5 else 'NOT met'}; "
        f"stall <= 50 ms: {'met' if jstall <= 0.05 else 'NOT met'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
