"""Shell `true` runs end to end through the LocalExecutor, against raw asyncio spawns."""

# Usage: python benchmarks/executor_shell.py [--runs 2000] [--slots 4,16] [--rounds 3]
# (see benchmarks/README.md). Never run from pytest.

from __future__ import annotations

import argparse
import asyncio

from executor_common import alternate, bench, cpu_count, database, report


async def raw_spawns(count: int, concurrency: int) -> float:
    """Seconds for ``count`` `true` processes, ``concurrency`` at a time, plain asyncio."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            process = await asyncio.create_subprocess_exec("true")
            await process.wait()

    started = loop.time()
    await asyncio.gather(*(one() for _ in range(count)))
    return loop.time() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--slots", default="4,16", help="comma-separated concurrencies")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.runs} runs per round, {args.rounds} rounds, {cpu_count()} CPUs, SQLite")
    for slots in (int(part) for part in args.slots.split(",")):
        with database() as db:
            setup = await bench(db, "shell", {"command": ["true"]}, slots=slots)
            mine, base = await alternate(
                args.rounds,
                lambda setup=setup: setup.run_all(args.runs),
                lambda slots=slots: raw_spawns(args.runs, slots),
                lambda setup=setup: [setup.executor.snapshot().fork_server_pid],
            )
            statuses = setup.statuses()
            await setup.executor.stop(5, "benchmark over")
        assert statuses == {"completed": 1 + args.runs * args.rounds}, statuses
        report(f"concurrency {slots:>3}", "runs", args.runs, mine, base)


if __name__ == "__main__":
    asyncio.run(main())
