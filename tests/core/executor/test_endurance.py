"""Endurance and crashes: 10,000 short jobs (F24), kill -9 of the owner with 20 jobs (F9, F10)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.jobs.executor.procs import processes
from core.storage.tables import JobRun

REPO = Path(__file__).resolve().parents[3]
FUNCS = str(Path(__file__).resolve().parent)
#: F24 wants 10,000 jobs (about 45 s here); JOBDECK_TEST_F24_JOBS=2000 for a quicker run.
F24_JOBS = int(os.environ.get("JOBDECK_TEST_F24_JOBS", "10000"))


def fd_count() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
async def test_many_short_jobs_leave_no_zombies_fds_or_memory_behind_f24(
    sqlite_deck: Any,
) -> None:
    deck = sqlite_deck
    template = deck.shell(["true"])
    executor = await deck.started(slots=16)
    # Warm up (fork server, statement caches, first allocations) before measuring.
    deck.many_runs(template, 200)
    executor.wake()
    await executor.wait_idle()
    fds, rss = fd_count(), rss_bytes()

    await executor.pause()
    deck.many_runs(template, F24_JOBS)
    await executor.resume()
    await executor.wait_idle()

    with deck.db.read() as session:
        by_status = dict(
            session.execute(select(JobRun.status, func.count()).group_by(JobRun.status)).all()
        )
    assert by_status == {"completed": F24_JOBS + 200}
    server = executor.snapshot().fork_server_pid
    assert deck.zombie_children(server) == []
    assert abs(fd_count() - fds) <= 5
    assert rss_bytes() - rss < 64 * 1024 * 1024
    assert not [p for p in processes() if p.ppid == os.getpid() and p.comm == "true"]


VICTIM = textwrap.dedent(
    """
    import asyncio, sys
    sys.path[:0] = [{repo!r}]
    from core.clock import SystemClock
    from core.jobs.executor import ExecutorConfig, LocalExecutor
    from core.storage.database import Database

    async def main():
        executor = LocalExecutor(
            Database({url!r}),
            clock=SystemClock(),
            config=ExecutorConfig(
                name="victim", slots=25, heartbeat_seconds={beat}, poll_seconds=0.05,
                flush_seconds={flush}, kill_grace_seconds=1.0, home={home!r},
            ),
            owner_id="victim-owner",
            secrets=None,
        )
        await executor.start()
        while len(executor.snapshot().active) < {jobs} or any(
            a.pid is None for a in executor.snapshot().active
        ):
            await asyncio.sleep(0.05)
        print("ready", executor.snapshot().fork_server_pid, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("also_kill_server", [False, True], ids=["owner", "owner-and-server"])
async def test_kill_9_of_the_owner_with_20_running_jobs_f9(
    sqlite_deck: Any, tmp_path: Path, also_kill_server: bool
) -> None:
    deck = sqlite_deck
    shell = deck.shell(["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    python = deck.template(
        "python",
        {
            "callable": "executor_jobfuncs:sleeper",
            "kwargs": {"seconds": 1000},
            "python_path": [FUNCS],
        },
    )
    run_ids = [deck.run(shell) for _ in range(10)] + [deck.run(python) for _ in range(10)]
    script = tmp_path / "victim.py"
    script.write_text(
        VICTIM.format(
            repo=str(REPO),
            url=deck.db.url,
            home=str(tmp_path / "home"),
            jobs=len(run_ids),
            flush=0.05,
            beat=0.5,
        )
    )
    victim = subprocess.Popen(  # noqa: ASYNC220 (a quick fork+exec; the test owns the loop)
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(victim.stdout.readline), 60)
        assert line.startswith("ready "), line
        server_pid = int(line.split()[1])
        # The victim records each group with its next batch of writes.
        await deck.wait_until(
            lambda: [deck.get(r).pgid for r in run_ids], lambda pgids: None not in pgids, 10
        )
        groups = {deck.get(r).pgid for r in run_ids}
        assert len(groups) == 20
        assert all(deck.group_alive(g) for g in groups)

        victim.send_signal(signal.SIGKILL)
        victim.wait()
        if also_kill_server:
            os.kill(server_pid, signal.SIGKILL)
        died = time.monotonic()

        # A new owner on the same database reconciles within 3 heartbeat periods.
        await deck.started(heartbeat_seconds=0.5, kill_grace_seconds=1.0)
        for run_id in run_ids:
            run = await deck.wait_for(run_id, ("lost",), within=30)
            assert run.error_message.startswith("lost: owner victim-o")
        # 3 periods (1.5 s) + one reconcile pass + the kill grace, generously bounded.
        assert time.monotonic() - died < 1.5 + 0.5 + 1.0 + 5
        for group in groups:
            await deck.wait_until(lambda g=group: deck.group_alive(g), lambda alive: not alive, 10)
        assert all(deck.processes_of_run(r) == [] for r in run_ids)
        assert deck.log(run_ids[0], "system").startswith("[jobdeck] lost: owner victim-o")
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()


@pytest.mark.slow
async def test_kill_9_of_the_job_then_the_owner_loses_at_most_a_second_of_output_f25(
    sqlite_deck: Any, tmp_path: Path
) -> None:
    deck = sqlite_deck
    # Every line carries the wall time it was printed at.
    talker = deck.shell(
        'i=0; while :; do echo "line $i $(date +%s.%N)"; i=$((i+1)); sleep 0.05; done'
    )
    run_id = deck.run(talker)
    script = tmp_path / "victim.py"
    home = str(tmp_path / "home")
    # The default flush interval (0.5 s) and heartbeat (5 s): what a real owner loses at most.
    script.write_text(
        VICTIM.format(repo=str(REPO), url=deck.db.url, home=home, jobs=1, flush=0.5, beat=5.0)
    )
    victim = subprocess.Popen(  # noqa: ASYNC220 (a quick fork+exec; the test owns the loop)
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(victim.stdout.readline), 60)
        assert line.startswith("ready "), line
        pgid = (await deck.wait_until(lambda: deck.get(run_id), lambda r: r.pgid, 10)).pgid
        await asyncio.sleep(2.0)  # two seconds of output
        killed = time.time()
        os.killpg(pgid, signal.SIGKILL)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    # Restart: a new owner reconciles the run; its log is readable and ends saying why.
    await deck.started(heartbeat_seconds=0.5)
    run = await deck.wait_for(run_id, ("failed", "lost"), within=30)
    stored = deck.log(run_id, "stdout").splitlines()
    assert len(stored) >= 10
    assert stored == [f"line {i} {text.split()[2]}" for i, text in enumerate(stored)]
    last_printed = float(stored[-1].split()[2])
    assert killed - last_printed <= 1.0, f"{killed - last_printed:.2f} s of output lost"
    marker = deck.chunks(run_id)[-1]
    assert marker.stream == "system"
    assert marker.data.startswith(
        ("[jobdeck] lost: owner victim-o", "[jobdeck] killed by signal 9")
    )
    assert run.error_message
