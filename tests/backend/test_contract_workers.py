"""Contract: workers list the runs they execute; steering them works or says why it cannot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.backend.views import ActiveRunView, WorkerView
from core.errors import NotFound, PermissionDenied, Unsupported, ValidationFailed

from .harness import NOW, Harness, shell


def by_name(workers: list[WorkerView]) -> dict[str, WorkerView]:
    """Workers keyed by name."""
    return {worker.name: worker for worker in workers}


async def test_workers_list_their_running_runs_oldest_first(harness: Harness) -> None:
    template = await harness.backend.create_template(shell())
    harness.add_worker("pool-a", active=2)
    harness.add_worker("pool-b", active=1)
    harness.add_worker("idle")
    started = NOW - timedelta(minutes=5)
    newer_a = harness.add_run(
        template, status="running", worker="pool-a", attempts=1, started_at=started
    )
    older_a = harness.add_run(
        template,
        status="running",
        worker="pool-a",
        attempts=2,
        started_at=started.replace(minute=1),
    )
    only_b = harness.add_run(template, status="running", worker="pool-b", started_at=NOW)
    # Not active on any listed worker: ended, waiting, or on a worker with no row.
    harness.add_run(
        template, status="completed", worker="pool-a", started_at=started, completed_at=NOW
    )
    harness.add_run(template, status="pending")
    harness.add_run(template, status="running", worker="ghost", started_at=started)

    workers = by_name(await harness.backend.list_workers())

    assert list(workers) == ["idle", "pool-a", "pool-b"]
    assert workers["pool-a"].active_runs == (
        ActiveRunView(
            run_id=older_a, job_name="hello", attempt=2, started_at=started.replace(minute=1)
        ),
        ActiveRunView(run_id=newer_a, job_name="hello", attempt=1, started_at=started),
    )
    assert [run.run_id for run in workers["pool-b"].active_runs] == [only_b]
    assert workers["idle"].active_runs == ()
    assert (workers["pool-a"].active, workers["pool-a"].slots) == (2, 4)


async def test_a_run_leaves_its_worker_when_it_ends(harness: Harness) -> None:
    template = await harness.backend.create_template(shell())
    harness.add_worker("pool-a")
    run_id = harness.add_run(template, status="running", worker="pool-a", started_at=NOW)
    assert len(by_name(await harness.backend.list_workers())["pool-a"].active_runs) == 1
    harness.update_run(run_id, status="completed", completed_at=NOW)
    assert by_name(await harness.backend.list_workers())["pool-a"].active_runs == ()


async def test_steering_an_unknown_worker_is_not_found(harness: Harness) -> None:
    harness.add_worker("pool-a")
    with pytest.raises(NotFound, match="ghost"):
        await harness.backend.pause_worker("ghost")
    with pytest.raises(NotFound, match="ghost"):
        await harness.backend.resize_worker("ghost", 2)


async def test_read_only_cannot_steer_workers(harness: Harness) -> None:
    harness.add_worker("pool-a")
    for steer in (
        harness.read_only.pause_worker,
        harness.read_only.resume_worker,
        harness.read_only.drain_worker,
    ):
        with pytest.raises(PermissionDenied, match="read-only"):
            await steer("pool-a")
    with pytest.raises(PermissionDenied, match="read-only"):
        await harness.read_only.resize_worker("pool-a", 2)


async def test_fake_steers_its_workers_in_memory(harness: Harness) -> None:
    if harness.kind != "fake":
        pytest.skip("only the fake steers in memory; local and remote need the owner's executor")
    b = harness.backend
    harness.add_worker("pool-a", slots=4)
    template = await b.create_template(shell())
    running = harness.add_run(template, status="running", worker="pool-a", started_at=NOW)

    resized = await b.resize_worker("pool-a", 2)
    assert (resized.slots, [run.run_id for run in resized.active_runs]) == (2, [running])
    paused = await b.pause_worker("pool-a")
    assert (paused.paused, paused.draining) == (True, False)
    resumed = await b.resume_worker("pool-a")
    assert (resumed.paused, resumed.draining) == (False, False)
    draining = await b.drain_worker("pool-a")
    assert (draining.paused, draining.draining) == (False, True)
    assert (await b.resume_worker("pool-a")).draining is False
    assert by_name(await b.list_workers())["pool-a"].slots == 2

    actions = [(a.action, a.target_type, a.target_name) for a in await b.audit_log(limit=5)]
    assert actions == [
        ("worker.resume", "worker", "pool-a"),
        ("worker.drain", "worker", "pool-a"),
        ("worker.resume", "worker", "pool-a"),
        ("worker.pause", "worker", "pool-a"),
        ("worker.resize", "worker", "pool-a"),
    ]
    changes = await b.changes(0)
    assert [c.kind for c in changes.items].count("worker") == 5


@pytest.mark.parametrize("slots", [0, -1, 1025, True, 2.5, "3"])
async def test_resize_rejects_what_is_not_a_slot_count(harness: Harness, slots: Any) -> None:
    harness.add_worker("pool-a", slots=4)
    with pytest.raises(ValidationFailed) as raised:
        await harness.backend.resize_worker("pool-a", slots)
    assert raised.value.field == "slots"
    assert "from 1 to 1024" in raised.value.problem
    assert by_name(await harness.backend.list_workers())["pool-a"].slots == 4


async def test_local_without_an_executor_cannot_steer_a_worker(harness: Harness) -> None:
    if harness.kind == "fake":
        pytest.skip("the fake steers its workers in memory")
    b = harness.backend
    harness.add_worker("pool-a")
    assert b.capabilities.worker_control is False
    for steer in (b.pause_worker, b.resume_worker, b.drain_worker):
        with pytest.raises(Unsupported) as raised:
            await steer("pool-a")
        assert str(raised.value) == (
            "worker 'pool-a' is not run by this process: steer it through its owner"
            " (jobdeck --backend URL of the daemon that owns the database)"
        )
    with pytest.raises(Unsupported, match="not run by this process"):
        await b.resize_worker("pool-a", 2)
    assert await b.audit_log(limit=5) == []
