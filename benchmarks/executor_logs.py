"""A job printing 1M lines: lines/s captured and stored, against a raw readline loop."""

# Usage: python benchmarks/executor_logs.py [--lines 1000000] [--rounds 3]
# (see benchmarks/README.md). Never run from pytest.

from __future__ import annotations

import argparse
import asyncio

from executor_common import alternate, bench, cpu_count, database, log_stats, report


async def raw_readline(lines: int) -> float:
    """Seconds to read the same job's output line by line, storing nothing."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    process = await asyncio.create_subprocess_exec(
        "seq", "1", str(lines), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    seen = 0
    while await process.stdout.readline():
        seen += 1
    await process.wait()
    assert seen == lines
    return loop.time() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.lines:,} lines per round, {args.rounds} rounds, {cpu_count()} CPUs, SQLite")
    with database() as db:
        # A cap well above the output: every line is stored (the cap has its own test).
        setup = await bench(
            db,
            "shell",
            {"command": ["seq", "1", str(args.lines)]},
            slots=1,
            max_log_bytes=256 * 1024 * 1024,
        )
        mine, base = await alternate(
            args.rounds,
            lambda: setup.run_all(1),
            lambda: raw_readline(args.lines),
            lambda: [setup.executor.snapshot().fork_server_pid],
        )
        stored, chunks = log_stats(db, run_id=2)
        statuses = setup.statuses()
        await setup.executor.stop(5, "benchmark over")
    assert statuses == {"completed": 1 + args.rounds}, statuses
    expected = sum(len(str(n)) + 1 for n in range(1, args.lines + 1))
    assert stored == expected, (stored, expected)
    print(f"one run stored {stored:,} characters in {chunks} chunks")
    report("capture and store", "lines", args.lines, mine, base)


if __name__ == "__main__":
    asyncio.run(main())
