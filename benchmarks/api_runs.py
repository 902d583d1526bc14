"""Request rate of `GET /api/job-runs?page_size=100` against a bare FastAPI hello route."""

# Usage: python benchmarks/api_runs.py [--rows N] [--seconds S] [--concurrency C] [--path FILE]
# Never run from pytest: loading 1M runs takes a minute or two (--path keeps the file).
#
# All apps are served the same way (uvicorn, h11, 127.0.0.1) by one server process, as the
# daemon serves its API; this process is the client: one httpx.AsyncClient, C requests in
# flight, the same number of seconds for each route, in the same run. On Linux each route's
# line also shows the server process's CPU time per request (user + system, from /proc):
# the hello route is bound by this client, the runs route by the server, so that figure says
# how far the server is from the goal even on a machine busy with other work.
#
# The API keeps pages until the database changes (core/api/page_cache.py), so a repeated
# request on a quiet database is a kept page. A third line measures the same API with no
# pages kept: every request reads and encodes its page, as the first request after a change.

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# The project is not installed into the venv; run from a checkout.
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import text  # noqa: E402

from core.storage.database import Database, sqlite_url  # noqa: E402
from core.storage.migrate import upgrade  # noqa: E402

RUNS_URL = "/api/job-runs?page_size=100"


def prepare(path: Path, rows: int) -> str:
    """A SQLite file with ``rows`` runs (loaded once; reused when it already has them) and an
    admin token; returns the token."""
    from runs_paging import fill  # the loader of benchmarks/runs_paging.py

    from core.clock import SystemClock
    from core.jobs.audit import Actor
    from core.jobs.tokens import TokenService

    db = Database(sqlite_url(path))
    upgrade(db)
    with db.engine.connect() as connection:
        have = connection.execute(text("SELECT count(*) FROM job_runs")).scalar_one()
    if have != rows:
        if have:
            raise SystemExit(f"{path} holds {have:,} runs, not {rows:,}: use another --path")
        began = time.perf_counter()
        fill(db, rows, seed=1)
        print(f"loaded {rows:,} runs in {time.perf_counter() - began:.1f} s", flush=True)
    name = f"bench-{int(time.time() * 1000)}"
    token = TokenService(db, SystemClock(), Actor("bench", "cli")).create(name, "viewer").token
    began = time.perf_counter()
    with db.engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM job_runs")).scalar_one()
    print(f"unfiltered COUNT(*) of job_runs: {(time.perf_counter() - began) * 1000:.0f} ms")
    db.dispose()
    return token


async def serve(path: Path) -> None:
    """Server process: the jobdeck API and a hello app on two loopback ports, until stdin ends."""
    from fastapi import FastAPI

    from core.api.app import create_app
    from core.api.serve import Listen, start_api
    from core.backend.local import LocalBackend
    from core.jobs.audit import Actor

    db = Database(sqlite_url(path))
    backend = LocalBackend(db, actor=Actor("api", "api"), default_zone="UTC")
    hello = FastAPI()

    @hello.get("/hello")
    async def say_hello() -> dict[str, str]:
        return {"hello": "world"}

    api = await start_api(create_app(backend, db), Listen(port=0))
    # The same API keeping no pages: every request reads its page, as after each change.
    reading = create_app(backend, db)
    reading.state.jobdeck.pages.max_pages = 0
    fresh = await start_api(reading, Listen(port=0))
    bare = await start_api(hello, Listen(port=0))
    print(
        json.dumps({"api": api.address, "fresh": fresh.address, "hello": bare.address}), flush=True
    )
    await asyncio.to_thread(sys.stdin.read)  # the client closes stdin when it is done
    await api.stop()
    await fresh.stop()
    await bare.stop()
    await backend.close()


async def hammer(
    client: Any, url: str, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[float, list[float]]:
    """Requests per second and latencies (s) of ``url`` for ``seconds``, ``concurrency`` at once."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            response = await client.get(url, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - began), latencies


def server_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process ``pid`` has used so far; None off Linux."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def measure(
    addresses: dict[str, str], token: str, seconds: float, concurrency: int, server_pid: int
) -> None:
    """Warm both routes, then measure each for ``seconds`` with the same client."""
    import httpx

    auth = {"Authorization": f"Bearer {token}"}
    targets = [
        ("bare FastAPI hello", f"{addresses['hello']}/hello", {}),
        (f"jobdeck {RUNS_URL}", f"{addresses['api']}{RUNS_URL}", auth),
        ("  the same, every page read afresh", f"{addresses['fresh']}{RUNS_URL}", auth),
    ]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for _, url, headers in targets:
            await hammer(client, url, headers, 1.0, concurrency)  # warm-up
        page = (await client.get(targets[1][1], headers=auth)).json()
        print(f"page: {len(page['items'])} runs of total {page['total']:,}")
        rates = []
        for name, url, headers in targets:
            cpu_before = server_cpu_seconds(server_pid)
            rate, latencies = await hammer(client, url, headers, seconds, concurrency)
            cpu_after = server_cpu_seconds(server_pid)
            rates.append(rate)
            mean = statistics.mean(latencies) * 1000
            cpu = ""
            if cpu_before is not None and cpu_after is not None:
                cpu = f"   server CPU {(cpu_after - cpu_before) / len(latencies) * 1000:.2f} ms/req"
            print(
                f"{name:<40} {rate:8.1f} req/s   p50 {_ms(latencies, 0.5):7.1f} ms"
                f"   p95 {_ms(latencies, 0.95):7.1f} ms   mean {mean:.1f} ms{cpu}"
            )
    print(f"ratio runs/hello: {rates[1] / rates[0]:.3f} (goal >= 0.5)")
    print(f"ratio runs/hello, every page read afresh: {rates[2] / rates[0]:.3f}")


def main() -> None:
    """Parse arguments, load, serve in a child process, measure from this one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per route")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--path", type=Path, help="SQLite file to reuse (loaded when empty)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    with tempfile.TemporaryDirectory(prefix="jobdeck-api-bench-") as tmp:
        path = args.path or Path(tmp) / "runs.db"
        token = prepare(path, args.rows)
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            addresses = json.loads(server.stdout.readline())
            asyncio.run(measure(addresses, token, args.seconds, args.concurrency, server.pid))
        finally:
            if server.stdin:
                server.stdin.close()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
