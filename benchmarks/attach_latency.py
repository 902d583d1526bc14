"""From a run finishing in a daemon to an attached console having it on screen.

A real `jobdeck daemon` (subprocess, temporary JOBDECK_HOME) runs short shell jobs; this
process attaches as the TUI does — the remote backend, `changes()` read when the event
stream brings news (`wait_for_changes`, at least every console.app.POLL_SECONDS), then the
runs page reloaded — and records, for each run, the time
from its ``completed_at`` (stamped by the daemon) to the reloaded page showing it finished.
The baseline in the same run is the same chain with the page read straight after the run's
own API call returns (no event stream, no poll): what the network and the page cost alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.app import MIN_POLL_SECONDS, POLL_SECONDS  # noqa: E402
from core.backend.inputs import RunQuery, TemplateSpec  # noqa: E402
from core.remote.backend import JobdeckRemoteBackend  # noqa: E402

JOBDECK = str(ROOT / ".venv" / "bin" / "jobdeck")


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def measure(url: str, token: str, runs: int) -> tuple[list[float], list[float]]:
    """Seconds from completed_at to the console's page showing it; and the baseline."""
    remote = await JobdeckRemoteBackend.connect(url, token)
    try:
        await remote.create_template(
            TemplateSpec(name="tick", job_type="shell", config={"command": ["true"]})
        )
        cursor = (await remote.changes(None)).cursor
        seen: list[float] = []
        baseline: list[float] = []
        for _ in range(runs):
            run = await remote.run_template("tick")
            shown = None
            while shown is None:  # the console's loop: wait for news, read the feed, reload
                await asyncio.sleep(MIN_POLL_SECONDS)
                await remote.wait_for_changes(cursor, POLL_SECONDS - MIN_POLL_SECONDS)
                batch = await remote.changes(cursor)
                cursor = batch.cursor
                if any(c.kind == "run" and c.ref_id == run.id for c in batch.items):
                    page = await remote.list_runs(RunQuery(limit=200, with_total=False))
                    mine = next(r for r in page.items if r.id == run.id)
                    if mine.status == "completed" and mine.completed_at is not None:
                        shown = datetime.now(UTC)
                        seen.append((shown - mine.completed_at).total_seconds())
            began = time.perf_counter()
            await remote.list_runs(RunQuery(limit=200, with_total=False))
            baseline.append(time.perf_counter() - began)
        return seen, baseline
    finally:
        await remote.close()


def main() -> None:
    """Start a daemon, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jobdeck-attach-") as home:
        env = dict(os.environ, JOBDECK_HOME=home)
        token = subprocess.run(
            [JOBDECK, "token", "create", "bench", "--role", "admin"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        port = free_port()
        daemon = subprocess.Popen(
            [JOBDECK, "daemon", "--port", str(port), "--grace", "1s"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(4)
            seen, baseline = asyncio.run(measure(f"http://127.0.0.1:{port}", token, args.runs))
        finally:
            daemon.terminate()
            daemon.wait(30)
    print(
        f"{len(seen)} runs; console woken by the event stream (poll at most every "
        f"{POLL_SECONDS * 1000:.0f} ms)"
    )
    print(
        f"run finished -> attached console shows it: p50 {statistics.median(seen) * 1000:.0f} ms"
        f"  p95 {percentile(seen, 0.95) * 1000:.0f} ms  max {max(seen) * 1000:.0f} ms"
    )
    print(
        f"baseline (reading the page alone): p50 {statistics.median(baseline) * 1000:.1f} ms"
        f"  p95 {percentile(baseline, 0.95) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
