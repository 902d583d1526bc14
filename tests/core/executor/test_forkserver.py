"""The fork server: it dies with its owner, a dead server loses only its own runs, fallbacks."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from core.jobs.executor import forkclient
from core.jobs.executor.forkclient import ForkServer, ForkServerGone
from core.jobs.executor.processes import ExecProcess
from core.jobs.executor.store import write_batch

FUNCS = str(Path(__file__).resolve().parent)


def sleeper(deck: Any) -> Any:
    """A python template that sleeps for a long time."""
    config = {
        "callable": "executor_jobfuncs:sleeper",
        "kwargs": {"seconds": 1000},
        "python_path": [FUNCS],
    }
    return deck.template("python", config)


async def test_a_dead_fork_server_loses_its_runs_and_is_restarted(deck: Any) -> None:
    first = deck.run(sleeper(deck))
    executor = await deck.started()
    run = await deck.wait_until(lambda: deck.get(first), lambda r: r.pgid is not None)
    old_server = executor.snapshot().fork_server_pid
    os.kill(old_server, signal.SIGKILL)
    run = await deck.wait_for(first)
    assert run.status == "lost"
    assert "the fork server died while the job ran" in run.error_message
    await deck.wait_until(lambda: deck.group_alive(run.pgid), lambda alive: not alive, 10)

    second = deck.run(
        deck.template(
            "python",
            {
                "callable": "executor_jobfuncs:add",
                "kwargs": {"a": 1, "b": 2},
                "python_path": [FUNCS],
            },
        )
    )
    executor.wake()
    assert (await deck.wait_for(second)).result == 3
    assert executor.snapshot().fork_server_pid not in (None, old_server)


async def test_shell_jobs_need_no_fork_server_and_python_jobs_say_it_is_missing(
    deck: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(self: ForkServer, *args: Any, **kwargs: Any) -> Any:
        raise ForkServerGone("not today")

    monkeypatch.setattr(ForkServer, "spawn", unavailable)
    direct: list[int] = []
    original = ExecProcess.__init__

    def spy(self: ExecProcess, popen: Any) -> None:
        direct.append(popen.pid)
        original(self, popen)

    monkeypatch.setattr(ExecProcess, "__init__", spy)
    shell = deck.run(deck.shell('echo "direct $JOBDECK_ATTEMPT"; exit 2'))
    python = deck.run(sleeper(deck))
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(shell)
    assert (run.status, run.exit_code) == ("failed", 2)
    assert deck.log(shell, "stdout") == "direct 1\n"
    assert direct == [run.pid]  # spawned by the owner itself, reaped through its pidfd
    assert deck.zombie_children() == []
    python_run = deck.get(python)
    assert python_run.status == "failed"
    assert python_run.error_message == "the fork server is unavailable: not today"


async def test_the_fork_server_exits_and_kills_its_jobs_when_its_owner_goes(
    deck: Any, tmp_path: Path
) -> None:
    server = ForkServer(grace=1.0)
    server.start()
    read_fd, write_fd = os.pipe()
    request = {
        "run_id": 1,
        "attempt": 1,
        "job_type": "python",
        "config": {"callable": "executor_jobfuncs:sleeper", "python_path": [FUNCS]},
        "parameters": {"seconds": 1000},
        "env": dict(os.environ),
        "scheduled_for": "2026-03-02T08:00:00Z",
        "job_name": "sleeper",
        "template_name": None,
        "home": str(tmp_path),
    }
    child = await server.spawn(request, [write_fd, write_fd, write_fd])
    os.close(write_fd)
    server_pid = server.pid
    # The child makes its own group first thing; give it that instant.
    await deck.wait_until(lambda: deck.group_alive(child.pid), bool, 10)
    await server.stop()  # closing the socket is what an owner's death looks like
    await deck.wait_until(lambda: deck.group_alive(child.pid), lambda alive: not alive, 10)
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)
    assert os.read(read_fd, 10) == b""
    os.close(read_fd)


async def test_only_run_ids_limits_what_is_claimed(deck: Any) -> None:
    template = deck.shell(["true"])
    mine, other = deck.run(template), deck.run(template)
    executor = await deck.started(only_run_ids=frozenset({mine}))
    await deck.wait_for(mine)
    await asyncio.sleep(0.3)
    assert deck.get(other).status == "pending"
    await executor.stop(1, "done")


async def test_runs_finish_once_the_database_is_back(
    deck: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # F18: the writes of a finished run fail for a while; nothing is lost, nothing doubles.
    failures = {"left": 3}

    def flaky(session: Any, batch: Any) -> Any:
        if batch.finishes and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database is locked (injected)")
        return write_batch(session, batch)

    monkeypatch.setattr("core.jobs.executor.writer.write_batch", flaky)
    run_id = deck.run(deck.shell(["echo", "survived"]))
    executor = await deck.started()
    run = await deck.wait_for(run_id, within=30)
    assert run.status == "completed"
    assert failures["left"] == 0
    assert deck.log(run_id) == "survived\n"
    assert [a.status for a in deck.attempts(run_id)] == ["completed"]
    await executor.wait_idle()


def test_the_server_module_imports_no_storage_layer() -> None:
    # The fork server must start warm and small: no SQLAlchemy, no storage layer.
    import subprocess
    import sys

    code = (
        "import sys; import core.jobs.executor.forkserver, core.jobs.executor.forkchild; "
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'core.storage'))))"
    )
    repo = str(Path(__file__).resolve().parents[3])
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert forkclient.READY_TIMEOUT_SECONDS > 0


async def test_a_server_dying_while_starting_a_job_never_runs_it_twice(
    sqlite_deck: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck = sqlite_deck
    marks = tmp_path / "started.txt"
    original = ForkServer._dispatch

    def die_before_reporting(self: ForkServer, message: dict[str, Any]) -> None:
        if message.get("t") == "started" and self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)  # the job runs; nobody hears of it
            return
        original(self, message)

    monkeypatch.setattr(ForkServer, "_dispatch", die_before_reporting)
    template = deck.template(
        "python",
        {
            "callable": "executor_jobfuncs:mark_then_sleep",
            "kwargs": {"path": str(marks)},
            "python_path": [FUNCS],
        },
    )
    run_id = deck.run(template)
    await deck.started()
    run = await deck.wait_for(run_id)
    assert run.status == "lost"
    assert run.error_message.startswith("the fork server died while starting the job")
    await deck.wait_until(lambda: deck.processes_of_run(run_id), lambda pids: pids == [], 10)
    # Killed before or after its first line, but never started a second time.
    assert (marks.read_text() if marks.exists() else "") in ("", "started\n")
