"""Steady load: 10k schedules spread over a minute on the real clock; fire lateness p99."""

# Usage: python benchmarks/scheduler_steady.py [--schedules 10000] [--seconds 70]
# (see benchmarks/README.md). Never run from pytest: it takes about two and a half minutes.

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402
from apscheduler.triggers.interval import IntervalTrigger  # noqa: E402
from sqlalchemy import select  # noqa: E402

from core.clock import SystemClock  # noqa: E402
from core.jobs.scheduler import Lease, Scheduler, SchedulerConfig  # noqa: E402
from core.storage.database import Database, sqlite_url  # noqa: E402
from core.storage.migrate import upgrade  # noqa: E402
from core.storage.tables import JobSchedule, JobTemplate, Occurrence  # noqa: E402

PERIOD = 60


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
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.worst


def anchors(count: int, start: datetime) -> list[datetime]:
    """Whole-second anchors spread evenly over one minute (count / 60 per second)."""
    base = start.replace(microsecond=0)
    return [base + timedelta(seconds=i % PERIOD) for i in range(count)]


def setup(path: Path, count: int, start: datetime) -> Database:
    """``count`` 60-second interval schedules whose anchors cover every second of a minute."""
    db = Database(sqlite_url(path))
    upgrade(db)
    with db.write() as session:
        template = JobTemplate(
            name="noop", job_type="shell", config={"argv": ["true"]}, created_at=start,
            updated_at=start,
        )  # fmt: skip
        session.add(template)
        session.flush()
        rows = []
        for i, anchor in enumerate(anchors(count, start)):
            first = anchor if anchor > start else anchor + timedelta(seconds=PERIOD)
            row = JobSchedule(
                job_identifier=f"s{i:05d}",
                job_template_id=template.id or 0,
                schedule_type="interval",
                interval_seconds=PERIOD,
                timezone="UTC",
                created_at=anchor,
                updated_at=anchor,
                overlap="allow",
                overlap_max=100,
                next_run=first,
            ).model_dump(exclude={"id"})
            rows.append(row)
        session.execute(JobSchedule.__table__.insert(), rows)  # type: ignore[attr-defined]
    return db


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def report(name: str, lateness: list[float], stall: float) -> tuple[float, float]:
    p50, p99 = percentile(lateness, 50), percentile(lateness, 99)
    print(
        f"{name:12s} n={len(lateness):6d}  p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  "
        f"max {max(lateness) * 1000:7.1f} ms  worst loop stall {stall * 1000:6.1f} ms"
    )
    return p50, p99


async def jobdeck_steady(count: int, seconds: float) -> tuple[list[float], float]:
    """The real wake-up loop for ``seconds``; lateness = recorded_at - scheduled_for."""
    with tempfile.TemporaryDirectory() as tmp:
        start = datetime.now(UTC)
        db = setup(Path(tmp) / "steady.db", count, start)
        clock = SystemClock()
        lease = Lease(db, clock=clock, owner_id="bench", host="bench", pid=0, ttl_seconds=60)
        assert lease.try_acquire()
        scheduler = Scheduler(db, clock=clock, lease=lease, config=SchedulerConfig(), secrets=None)
        meter = StallMeter()
        await scheduler.start()
        meter.start()
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(lease.renew)  # the owner's heartbeat
        stall = await meter.stop()
        await scheduler.stop()
        warm = start + timedelta(seconds=10)
        with db.read() as session:
            rows = session.execute(
                select(Occurrence.scheduled_for, Occurrence.recorded_at, Occurrence.outcome)
            ).all()
        db.dispose()
    lateness = [(rec - at).total_seconds() for at, rec, _ in rows if at >= warm]
    outcomes = {outcome for _, _, outcome in rows}
    print(f"  jobdeck recorded {len(rows)} occurrences, outcomes {sorted(outcomes)}")
    return lateness, stall


async def apscheduler_steady(count: int, seconds: float) -> tuple[list[float], float]:
    """APScheduler alone: 10k interval jobs (no-op coroutines) with the same anchors."""
    start = datetime.now(UTC)
    lateness: list[float] = []
    warm = start + timedelta(seconds=10)

    async def noop(anchor: datetime) -> None:
        now = datetime.now(UTC)
        periods = round((now - anchor).total_seconds() / PERIOD)
        nominal = anchor + timedelta(seconds=periods * PERIOD)
        if nominal >= warm:
            lateness.append((now - nominal).total_seconds())

    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 100},
    )
    for i, anchor in enumerate(anchors(count, start)):
        trigger = IntervalTrigger(seconds=PERIOD, start_date=anchor, timezone=UTC)
        scheduler.add_job(noop, trigger, args=(anchor,), id=f"j{i}")
    meter = StallMeter()
    scheduler.start()
    meter.start()
    await asyncio.sleep(seconds)
    stall = await meter.stop()
    scheduler.shutdown(wait=False)
    return lateness, stall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=70.0)
    parser.add_argument(
        "--freeze-gc",
        action="store_true",
        help="gc.freeze() after set-up, as a long-running owner should (see README)",
    )
    args = parser.parse_args()
    print(
        f"{args.schedules} schedules, one a minute each, spread over the minute; "
        f"{args.seconds:.0f} s each, the first 10 s not counted"
    )
    if args.freeze_gc:
        gc.freeze()  # start-up objects leave the collector's view: shorter full collections
    meter = StallMeter()
    meter.start()
    await asyncio.sleep(5.0)
    idle = await meter.stop()
    print(f"idle event loop, 5 s, nothing else running: worst stall {idle * 1000:.1f} ms")
    ours, our_stall = await jobdeck_steady(args.schedules, args.seconds)
    theirs, their_stall = await apscheduler_steady(args.schedules, args.seconds)
    print()
    j50, j99 = report("jobdeck", ours, our_stall)
    a50, a99 = report("apscheduler", theirs, their_stall)
    print(f"ratio jobdeck/apscheduler: p50 {j50 / a50:.2f}  p99 {j99 / a99:.2f}")
    print(f"goal p99 <= 50 ms: {'met' if j99 <= 0.05 else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
