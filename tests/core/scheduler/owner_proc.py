"""A minimal owner process for the real-process lease tests (F1, F2, F3).

Usage: python owner_proc.py DB_URL OWNER_ID TTL_SECONDS HEARTBEAT_SECONDS RUN_SECONDS

It waits as a standby until it holds the lease, then runs the scheduler and renews the lease
every heartbeat, as core/owner.py does. It prints one JSON line per event on stdout: started,
acquired, lease_checked (a batch passed the lease check), committed, quiet, lost, exit. Exit
code 3 means it lost the lease and stopped. SIGTERM stops it; SIGUSR1 pauses its separate
heartbeat (see below).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from core.clock import SystemClock
from core.jobs.scheduler import Lease, Scheduler, SchedulerConfig
from core.storage.database import Database


def emit(event: str, **data: Any) -> None:
    """One event as a JSON line (print is atomic per line, even from the worker thread)."""
    print(json.dumps({"event": event, "t": time.time(), "pid": os.getpid(), **data}), flush=True)


async def main(url: str, owner: str, ttl: float, heartbeat: float, seconds: float) -> int:
    db = Database(url)
    clock = SystemClock()
    lease = Lease(db, clock=clock, owner_id=owner, host="test", pid=os.getpid(), ttl_seconds=ttl)
    config = SchedulerConfig(heartbeat_seconds=heartbeat, max_sleep_seconds=heartbeat)
    scheduler = Scheduler(db, clock=clock, lease=lease, config=config, secrets=None)

    def hook(point: str) -> None:
        if point in ("lease_checked", "committed"):
            emit(point)

    scheduler.fault_hook = hook
    emit("started")
    deadline = time.monotonic() + seconds
    while True:
        try:
            if await asyncio.to_thread(lease.try_acquire):
                break
        except Exception as exc:  # the store may be busy; a standby keeps trying
            emit("acquire_error", error=repr(exc))
        if time.monotonic() > deadline:
            emit("exit")
            return 0
        await asyncio.sleep(heartbeat)
    emit("acquired")
    stop, quiet = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    # SIGUSR1: pause the separate heartbeat for 1.2 s (the batches still renew the lease), so a
    # test can freeze this process between two batches without it holding any row lock.
    loop.add_signal_handler(signal.SIGUSR1, quiet.set)
    quiet_until: float | None = None
    await scheduler.start()
    while time.monotonic() < deadline and not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), heartbeat)
        if quiet.is_set() and quiet_until is None:
            quiet_until = time.monotonic() + 1.2
            emit("quiet")
        if quiet_until is not None and time.monotonic() < quiet_until:
            continue
        try:
            held = await asyncio.to_thread(lease.renew)
        except Exception as exc:
            emit("renew_error", error=repr(exc))
            continue
        if not held:
            emit("lost")
            await scheduler.stop()
            emit("exit")
            return 3
    await scheduler.stop()
    await asyncio.to_thread(lease.release)
    emit("exit")
    return 0


if __name__ == "__main__":
    url, owner, ttl, heartbeat, seconds = sys.argv[1:6]
    sys.exit(asyncio.run(main(url, owner, float(ttl), float(heartbeat), float(seconds))))
