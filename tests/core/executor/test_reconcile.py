"""Reconcile (F9, F10, rule 15): runs of a dead owner, our previous life, leftover groups."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from core.storage.tables import JobRun, JobRunAttempt

TREE = "sleep 1000 & sleep 1000 & wait"


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test spawned as a dead owner's jobs; reaped (and killed if left) after."""
    children: list[subprocess.Popen[bytes]] = []
    yield children
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def orphan(
    spawned: list[subprocess.Popen[bytes]], run_id: int, *, marked: bool = True, tree: bool = False
) -> subprocess.Popen[bytes]:
    """A job left behind by a dead owner: its own session and group, marked with its run id."""
    env = {k: v for k, v in os.environ.items() if k != "JOBDECK_RUN_ID"}
    if marked:
        env["JOBDECK_RUN_ID"] = str(run_id)
        env["JOBDECK_ATTEMPT"] = "1"
    argv = ["sh", "-c", TREE] if tree else ["sleep", "1000"]
    child = subprocess.Popen(argv, start_new_session=True, env=env)
    spawned.append(child)
    return child


def strand(
    deck: Any,
    run_id: int,
    *,
    owner_id: str = "dead-owner-0001",
    host: str | None = None,
    pgid: int | None = None,
    silent_for: float = 60.0,
) -> None:
    """Make the run look like a dead owner's: running, owned elsewhere, heartbeat stale."""
    now = deck.clock.now()
    with deck.db.write() as session:
        run = session.get(JobRun, run_id)
        run.status = "running"
        run.owner_id = owner_id
        run.host = host or socket.gethostname()
        run.worker = "local@elsewhere"
        run.pid = run.pgid = pgid
        run.attempts = 1
        run.started_at = now - timedelta(seconds=silent_for + 5)
        run.heartbeat_at = now - timedelta(seconds=silent_for)
        session.add(
            JobRunAttempt(
                run_id=run_id,
                attempt=1,
                status="running",
                started_at=now - timedelta(seconds=silent_for + 5),
                pid=pgid,
                worker="local@elsewhere",
            )
        )


def wait_dead(child: subprocess.Popen[bytes]) -> int:
    """The child's return code once it died (fails if it does not within 10 s)."""
    return child.wait(timeout=10)


async def test_a_dead_owners_run_is_killed_marked_lost_and_retried(deck: Any, spawned: Any) -> None:
    template = deck.shell(["echo", "second attempt"], retries=1, retry_delay_seconds=0.1)
    run_id = deck.run(template)
    child = orphan(spawned, run_id, tree=True)
    strand(deck, run_id, pgid=child.pid)
    executor = deck.executor()
    await executor.start()  # reconciles at start

    assert wait_dead(child) == -signal.SIGTERM
    assert not deck.group_alive(child.pid)
    run = await deck.wait_for(run_id, ("completed",))
    assert run.attempts == 2
    first, second = deck.attempts(run_id)
    assert first.status == "lost"
    assert first.error_message.startswith("lost: owner dead-own on ")
    assert second.status == "completed"
    lost_note = deck.log(run_id, "system", attempt=1)
    assert "silent for 60 s" in lost_note
    assert f"killed its process group {child.pid} (SIGTERM)" in lost_note
    assert "attempt 2 of 2 will follow" in lost_note
    assert deck.log(run_id, "stdout", attempt=2) == "second attempt\n"


async def test_without_retries_the_run_ends_lost(deck: Any, spawned: Any) -> None:
    run_id = deck.run(deck.shell(["true"]))
    child = orphan(spawned, run_id)
    strand(deck, run_id, pgid=child.pid)
    executor = deck.executor()
    report = await executor.reconcile()
    assert report.lost == (run_id,) and report.retried == ()
    assert child.pid in report.killed_groups
    wait_dead(child)
    run = deck.get(run_id)
    assert run.status == "lost"
    assert run.completed_at is not None
    assert run.error_message.startswith("lost: ")
    assert deck.chunks(run_id)[-1].stream == "system"


async def test_a_live_owners_run_is_left_alone(deck: Any, spawned: Any) -> None:
    run_id = deck.run(deck.shell(["true"]))
    child = orphan(spawned, run_id)
    strand(deck, run_id, pgid=child.pid, silent_for=0.5)  # heartbeat within 3 periods of 0.5 s? no
    with deck.db.write() as session:
        session.get(JobRun, run_id).heartbeat_at = deck.clock.now()
    report = await deck.executor(heartbeat_seconds=5).reconcile()
    assert report.empty
    assert deck.get(run_id).status == "running"
    assert child.poll() is None


async def test_runs_of_a_previous_life_with_our_owner_id_are_reconciled_at_once(
    deck: Any, spawned: Any
) -> None:
    run_id = deck.run(deck.shell(["true"]))
    child = orphan(spawned, run_id)
    executor = deck.executor(owner_id="same-id-after-restart")
    strand(deck, run_id, owner_id="same-id-after-restart", pgid=child.pid, silent_for=0)
    report = await executor.reconcile()
    assert report.lost == (run_id,)
    wait_dead(child)
    assert "this owner restarted and no longer runs it" in deck.log(run_id, "system")


async def test_a_group_not_marked_as_the_runs_own_is_never_killed(deck: Any, spawned: Any) -> None:
    # The recorded group id now belongs to something else (pid reuse): hands off.
    run_id = deck.run(deck.shell(["true"]))
    stranger = orphan(spawned, run_id, marked=False)
    strand(deck, run_id, pgid=stranger.pid)
    report = await deck.executor().reconcile()
    assert report.lost == (run_id,)
    assert report.killed_groups == ()
    assert stranger.poll() is None
    assert "not marked as this run's" in deck.log(run_id, "system")


async def test_a_group_the_dead_owner_never_recorded_is_found_by_its_marker(
    deck: Any, spawned: Any
) -> None:
    run_id = deck.run(deck.shell(["true"]))
    strand(deck, run_id, pgid=None)
    child = orphan(spawned, run_id, tree=True)
    report = await deck.executor().reconcile()
    assert report.lost == (run_id,)
    assert report.killed_groups == (child.pid,)
    wait_dead(child)
    assert deck.processes_of_run(run_id) == []


async def test_a_run_on_another_host_is_marked_lost_without_killing(deck: Any) -> None:
    run_id = deck.run(deck.shell(["true"]))
    strand(deck, run_id, host="some-other-host", pgid=4242)
    report = await deck.executor().reconcile()
    assert report.lost == (run_id,) and report.killed_groups == ()
    assert "could not be checked from" in deck.log(run_id, "system")


async def test_leftover_groups_of_finished_runs_are_killed(deck: Any, spawned: Any) -> None:
    run_id = deck.run(deck.shell(["true"]))
    child = orphan(spawned, run_id, tree=True)
    strand(deck, run_id, pgid=child.pid)
    with deck.db.write() as session:  # it ended, but its group outlived it
        session.get(JobRun, run_id).status = "completed"
        attempt = session.get(JobRunAttempt, deck.attempts(run_id)[0].id)
        attempt.status = "completed"
    report = await deck.executor().reconcile()
    assert report.lost == ()
    assert report.killed_groups == (child.pid,)
    wait_dead(child)
    assert deck.get(run_id).status == "completed"


async def test_no_process_leaks_after_many_kill_cycles_f10(sqlite_deck: Any, spawned: Any) -> None:
    deck = sqlite_deck
    template = deck.shell(["true"])
    executor = deck.executor(kill_grace_seconds=0.5)
    run_ids = []
    for cycle in range(10):
        batch = []
        for _ in range(3):
            run_id = deck.run(template)
            child = orphan(spawned, run_id, tree=True)
            strand(deck, run_id, owner_id=f"dead-{cycle}", pgid=child.pid)
            batch.append(run_id)
        report = await executor.reconcile()
        assert sorted(report.lost) == batch
        run_ids += batch
    for child in spawned:
        wait_dead(child)
    assert all(deck.processes_of_run(run_id) == [] for run_id in run_ids)
    assert all(deck.get(run_id).status == "lost" for run_id in run_ids)
