"""Python jobs through the warm fork server: results, failures, parameters, one reused server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

#: The functions these jobs call live beside the tests.
FUNCS = str(Path(__file__).resolve().parent)


def python(deck: Any, target: str, kwargs: dict[str, Any] | None = None, **kw: Any) -> Any:
    """A python template calling ``executor_jobfuncs:<target>``."""
    config = {
        "callable": f"executor_jobfuncs:{target}",
        "kwargs": kwargs or {},
        "python_path": [FUNCS],
    }
    return deck.template("python", config, **kw)


async def test_return_value_is_the_result_and_the_server_is_reused(deck: Any) -> None:
    first = deck.run(python(deck, "whoami"))
    second = deck.run(python(deck, "whoami"))
    added = deck.run(python(deck, "add", {"a": 2, "b": 40}))
    executor = await deck.started()
    await executor.wait_idle()

    assert deck.get(added).result == 42
    server_pid = executor.snapshot().fork_server_pid
    assert server_pid is not None
    results = [deck.get(run_id).result for run_id in (first, second)]
    for run_id, result in zip((first, second), results, strict=True):
        assert deck.get(run_id).status == "completed"
        # Forked from the one warm server, each in a session and process group of its own.
        assert result["ppid"] == server_pid
        assert result["pid"] == result["pgid"] == result["sid"]
        assert result["pid"] != os.getpid()
        assert result["attempt"] == "1"
        assert result["run_id"] == str(run_id)
        assert deck.get(run_id).pid == result["pid"]
    assert results[0]["pid"] != results[1]["pid"]

    # A later run still goes through the same server.
    third = deck.run(python(deck, "whoami"))
    executor.wake()
    await executor.wait_idle()
    assert deck.get(third).result["ppid"] == server_pid == executor.snapshot().fork_server_pid


async def test_parameters_become_keyword_arguments_and_environment(deck: Any) -> None:
    template = python(
        deck,
        "echo",
        {"fixed": 1, "region": "overridden"},
        parameters=[
            {"name": "region", "type": "string", "default": "eu"},
            {"name": "retries", "type": "int", "default": 3},
            {"name": "token", "type": "secret"},
        ],
    )
    run_id = deck.run(template, {"token": "s3cret-value"})
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "completed"
    # The job got the real secret; the stored result masks it.
    assert run.result["kwargs"] == {
        "fixed": 1,
        "region": "eu",
        "retries": 3,
        "token": "********",
    }
    assert run.result["env"] == {
        "JOBDECK_PARAM_REGION": "eu",
        "JOBDECK_PARAM_RETRIES": "3",
        "JOBDECK_PARAM_TOKEN": "********",
    }


async def test_an_exception_fails_the_run_with_its_traceback_in_the_log(deck: Any) -> None:
    run_id = deck.run(python(deck, "boom"))
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "failed"
    assert run.exit_code == 1
    assert run.error_message == "ValueError: boom at the end"
    assert deck.log(run_id, "stdout") == "about to fail\n"
    stderr = deck.log(run_id, "stderr")
    assert stderr.startswith("Traceback (most recent call last):")
    assert 'in boom\n    raise ValueError("boom at the end")' in stderr
    assert deck.log(run_id, "system") == "[jobdeck] failed: ValueError: boom at the end\n"


@pytest.mark.parametrize(
    ("target", "kwargs", "status", "error"),
    [
        ("not_json", {}, "failed", "is not JSON-serialisable"),
        ("missing_function", {}, "failed", "has no 'missing_function'"),
        ("add", {"a": 1}, "failed", "missing 1 required positional argument: 'b'"),
        ("async_job", {"value": "loud"}, "completed", None),
    ],
)
async def test_results_and_errors(
    deck: Any, target: str, kwargs: dict[str, Any], status: str, error: str | None
) -> None:
    run_id = deck.run(python(deck, target, kwargs))
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == status
    if error is None:
        assert run.result == "LOUD"
    else:
        assert error in (run.error_message or "")


async def test_a_module_that_no_longer_exists_fails_clearly(deck: Any) -> None:
    template = deck.template("python", {"callable": "no_such_module_xyz:main"})
    run_id = deck.run(template)
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "failed"
    assert run.error_message.startswith("cannot import module 'no_such_module_xyz'")


async def test_output_of_both_streams_is_captured(deck: Any) -> None:
    run_id = deck.run(python(deck, "chatty", {"lines": 3}))
    executor = await deck.started()
    await executor.wait_idle()
    assert deck.get(run_id).result == 3
    assert deck.log(run_id, "stdout") == "out 0\nout 1\nout 2\n"
    assert deck.log(run_id, "stderr") == "err 0\nerr 1\nerr 2\n"


async def test_children_inherit_a_warm_server_with_the_job_libraries(deck: Any) -> None:
    names = ["httpx", "git", "pydantic", "core.jobs.types.run_git", "sqlalchemy"]
    run_id = deck.run(python(deck, "loaded", {"names": names}))
    executor = await deck.started()
    await executor.wait_idle()
    # Imported once by the server; the storage layer never (the server needs no database).
    assert deck.get(run_id).result == ["httpx", "git", "pydantic", "core.jobs.types.run_git"]
