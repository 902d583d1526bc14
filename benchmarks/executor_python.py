"""Python-callable runs (fork server) against a fresh `python -c` per call, same concurrency."""

# Usage: python benchmarks/executor_python.py [--runs 500] [--slots 4] [--rounds 3]
# (see benchmarks/README.md). Never run from pytest.

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from executor_common import alternate, bench, cpu_count, database, report

HERE = str(Path(__file__).resolve().parent)
#: What a scheduler without a warm fork server does per run: a new interpreter that imports
#: the job's module, calls it and prints the JSON result.
FRESH = (
    f"import sys, json; sys.path.insert(0, {HERE!r}); "
    "from executor_funcs import work; print(json.dumps(work(100)))"
)


async def fresh_interpreters(count: int, concurrency: int) -> float:
    """Seconds for ``count`` fresh interpreters calling the function, ``concurrency`` at once."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", FRESH, stdout=asyncio.subprocess.PIPE
            )
            output, _ = await process.communicate()
            assert process.returncode == 0
            assert output.startswith(b'{"rounds": 100')

    started = loop.time()
    await asyncio.gather(*(one() for _ in range(count)))
    return loop.time() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.runs} runs per round, {args.rounds} rounds, {cpu_count()} CPUs, SQLite")
    config = {"callable": "executor_funcs:work", "kwargs": {"rounds": 100}, "python_path": [HERE]}
    with database() as db:
        setup = await bench(db, "python", config, slots=args.slots)
        mine, base = await alternate(
            args.rounds,
            lambda: setup.run_all(args.runs),
            lambda: fresh_interpreters(args.runs, args.slots),
            lambda: [setup.executor.snapshot().fork_server_pid],
        )
        statuses = setup.statuses()
        await setup.executor.stop(5, "benchmark over")
    assert statuses == {"completed": 1 + args.runs * args.rounds}, statuses
    report(f"concurrency {args.slots:>3}", "runs", args.runs, mine, base)


if __name__ == "__main__":
    asyncio.run(main())
