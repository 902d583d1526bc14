"""The pool: slots, resize, pause, drain, overlap=queue, the worker row and heartbeats."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

SLEEP = ["sleep", "0.4"]


async def max_active(executor: Any, until: Any) -> int:
    """The most runs seen active at once, sampling until ``until()`` is true."""
    most = 0
    while not until():
        most = max(most, len(executor.snapshot().active))
        await asyncio.sleep(0.01)
    return most


async def test_slots_bound_concurrency_and_resize_raises_it(sqlite_deck: Any) -> None:
    deck = sqlite_deck
    template = deck.shell(SLEEP)
    first = [deck.run(template) for _ in range(3)]
    executor = await deck.started(slots=1)
    done = lambda ids: all(deck.get(i).status == "completed" for i in ids)  # noqa: E731
    assert await max_active(executor, lambda: done(first)) == 1

    await executor.resize(3)
    second = [deck.run(template) for _ in range(3)]
    executor.wake()
    assert await max_active(executor, lambda: done(second)) >= 2
    assert executor.snapshot().slots == 3
    assert deck.worker(executor.config.name).slots == 3


async def test_pause_and_drain_claim_nothing_until_resumed(deck: Any) -> None:
    template = deck.shell(["true"])
    executor = await deck.started()
    await executor.pause()
    assert deck.worker(executor.config.name).paused is True
    paused_run = deck.run(template)
    executor.wake()
    await executor.wait_idle()  # paused: idle at once, the run waits
    await asyncio.sleep(0.3)
    assert deck.get(paused_run).status == "pending"
    assert executor.snapshot().status == "paused"

    await executor.resume()
    await deck.wait_for(paused_run, ("completed",))

    await executor.drain()
    row = deck.worker(executor.config.name)
    assert (row.draining, row.status) == (True, "draining")
    drained_run = deck.run(template)
    executor.wake()
    await asyncio.sleep(0.3)
    assert deck.get(drained_run).status == "pending"
    await executor.resume()
    await deck.wait_for(drained_run, ("completed",))
    assert deck.worker(executor.config.name).draining is False


async def test_draining_lets_running_runs_finish(deck: Any) -> None:
    run_id = deck.run(deck.shell(SLEEP))
    executor = await deck.started()
    await deck.wait_for(run_id, ("running",))
    await executor.drain()
    assert (await deck.wait_for(run_id)).status == "completed"


async def test_overlap_queue_runs_a_schedules_runs_one_at_a_time(deck: Any) -> None:
    template = deck.shell(["sleep", "0.3"])
    queued = deck.schedule(template, overlap="queue")
    free = deck.schedule(template, overlap="allow", overlap_max=5)
    now = deck.clock.now()
    queued_runs = [
        deck.run(template, schedule=queued, scheduled_for=now.replace(microsecond=i))
        for i in range(3)
    ]
    free_runs = [
        deck.run(template, schedule=free, scheduled_for=now.replace(microsecond=i))
        for i in range(2)
    ]
    executor = await deck.started(slots=4)
    await executor.wait_idle()
    intervals = [deck.attempts(run_id)[0] for run_id in queued_runs]
    for before, after in itertools.pairwise(intervals):
        assert after.started_at >= before.completed_at  # serialised, in queue order
    assert all(deck.get(r).status == "completed" for r in queued_runs + free_runs)
    # The other schedule's runs were not held back behind the queue.
    free_start = max(deck.attempts(r)[0].started_at for r in free_runs)
    assert free_start < intervals[1].started_at


async def test_heartbeats_stamp_running_runs_and_the_worker(deck: Any) -> None:
    run_id = deck.run(deck.shell(["sleep", "1.6"]))
    executor = await deck.started(heartbeat_seconds=0.3)
    running = await deck.wait_for(run_id, ("running",))
    first_beat = running.heartbeat_at
    later = await deck.wait_until(
        lambda: deck.get(run_id), lambda r: r.heartbeat_at > first_beat, within=10
    )
    assert later.status == "running"
    row = deck.worker(executor.config.name)
    assert (row.kind, row.status, row.active, row.slots) == ("local", "running", 1, 4)
    assert row.owner_id == "owner-under-test"
    assert row.heartbeat_at is not None
    snapshot = executor.snapshot()
    assert [a.run_id for a in snapshot.active] == [run_id]
    assert snapshot.active[0].pid == later.pid
    await deck.wait_for(run_id)
    await executor.wait_idle()
    await asyncio.sleep(0.7)
    row = deck.worker(executor.config.name)
    assert (row.active, row.processed, row.failed) == (0, 1, 0)


async def test_counters_count_attempts_and_failures(deck: Any) -> None:
    template_ok, template_bad = deck.shell(["true"]), deck.shell(["false"])
    for _ in range(3):
        deck.run(template_ok)
    deck.run(template_bad)
    executor = await deck.started()
    await executor.wait_idle()
    snapshot = executor.snapshot()
    assert (snapshot.processed, snapshot.failed) == (4, 1)


async def test_wake_from_another_thread(deck: Any) -> None:
    executor = await deck.started(poll_seconds=30)  # only a wake-up can make it look now
    await asyncio.sleep(0.2)
    run_id = deck.run(deck.shell(["true"]))
    await asyncio.to_thread(executor.wake)
    assert (await deck.wait_for(run_id, within=10)).status == "completed"


async def test_the_worker_row_counts_what_the_snapshot_counts(deck: Any) -> None:
    # A run whose process has exited while its outcome is still being written holds no slot:
    # neither the snapshot nor the stored worker row counts it as active.
    run_id = deck.run(deck.shell(["true"]))
    executor = deck.executor(heartbeat_seconds=0.2)
    pool = executor._pool
    written = asyncio.Event()
    finish = pool._finish

    async def slow_finish(attempt: Any, result: Any) -> None:
        await written.wait()
        await finish(attempt, result)

    pool._finish = slow_finish
    await executor.start()
    try:
        await deck.wait_until(
            lambda: [entry.finishing for entry in pool.active.values()], lambda f: f == [True]
        )
        seen = deck.worker(executor.config.name).heartbeat_at
        row = await deck.wait_until(
            lambda: deck.worker(executor.config.name), lambda r: r.heartbeat_at > seen
        )
        assert pool.active  # still finishing
        assert row.active == len(executor.snapshot().active) == 0
    finally:
        written.set()
    assert (await deck.wait_for(run_id)).status == "completed"
