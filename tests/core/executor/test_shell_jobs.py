"""Shell jobs end to end: output, exit codes, the job's environment, no injection, broken types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.storage.tables import JobRun

SCHEDULED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def test_output_exit_code_and_job_environment(deck: Any) -> None:
    template = deck.shell(
        'echo "attempt=$JOBDECK_ATTEMPT run=$JOBDECK_RUN_ID at=$JOBDECK_SCHEDULED_FOR"\n'
        'echo "region=$JOBDECK_PARAM_REGION count=$JOBDECK_PARAM_COUNT"\n'
        "echo oops >&2\n"
        "exit 3",
        parameters=[
            {"name": "region", "type": "string", "default": "eu"},
            {"name": "count", "type": "int", "default": 2},
        ],
    )
    run_id = deck.run(template, {"region": "us-east"}, scheduled_for=SCHEDULED)
    executor = await deck.started()
    await executor.wait_idle()

    run = deck.get(run_id)
    assert run.status == "failed"
    assert run.exit_code == 3
    assert run.error_message == "exit status 3"
    assert deck.log(run_id, "stdout") == (
        f"attempt=1 run={run_id} at=2026-03-02T08:00:00Z\nregion=us-east count=2\n"
    )
    assert deck.log(run_id, "stderr") == "oops\n"
    assert run.log_size == len(deck.log(run_id).encode())
    assert run.worker == executor.config.name
    assert run.pid is not None and run.pgid == run.pid
    assert run.started_at is not None and run.completed_at is not None
    assert run.duration_seconds is not None and run.duration_seconds >= 0
    [attempt] = deck.attempts(run_id)
    assert (attempt.attempt, attempt.status, attempt.exit_code) == (1, "failed", 3)
    assert attempt.pid == run.pid


async def test_a_successful_argv_command_completes(deck: Any) -> None:
    run_id = deck.run(deck.shell(["printf", "%s|", "a b", "$HOME"]))
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert (run.status, run.exit_code, run.error_message) == ("completed", 0, None)
    # argv is never given to a shell: "$HOME" is a literal word.
    assert deck.log(run_id) == "a b|$HOME|"


@pytest.mark.parametrize("shell", [True, False], ids=["shell-true", "argv"])
async def test_parameter_values_never_execute(deck: Any, tmp_path: Any, shell: bool) -> None:
    evil = "$(touch pwned) `touch pwned2`; touch pwned3"
    parameters = [{"name": "name", "type": "string"}]
    if shell:
        template = deck.shell('echo "hello $JOBDECK_PARAM_NAME"', parameters=parameters)
    else:
        template = deck.shell(
            ["sh", "-c", 'echo "hello $JOBDECK_PARAM_NAME"'], parameters=parameters
        )
    template_config = dict(template.config, cwd=str(tmp_path))
    with deck.db.write() as session:
        row = session.get(type(template), template.id)
        row.config = template_config
    template.config = template_config
    run_id = deck.run(template, {"name": evil})
    executor = await deck.started()
    await executor.wait_idle()
    assert deck.get(run_id).status == "completed"
    assert deck.log(run_id) == f"hello {evil}\n"
    assert not any((tmp_path / name).exists() for name in ("pwned", "pwned2", "pwned3"))
    # Parameters reach the job only through its environment, never its argv.
    with deck.db.read() as session:
        assert evil not in str(session.get(JobRun, run_id).template_snapshot)


async def test_secret_parameters_are_decrypted_for_the_job_and_masked_in_its_log(
    deck: Any,
) -> None:
    template = deck.shell(
        '[ "$JOBDECK_PARAM_TOKEN" = "hunter2-secret" ] && echo match; '
        'echo "token is $JOBDECK_PARAM_TOKEN"; printf "%s" "$JOBDECK_PARAM_TOKEN" >&2; '
        "exit 4",
        parameters=[{"name": "token", "type": "secret"}],
    )
    run_id = deck.run(template, {"token": "hunter2-secret"})
    stored = deck.get(run_id).parameters["token"]
    assert stored.startswith("enc:v1:")  # sealed at rest
    executor = await deck.started()
    await executor.wait_idle()
    log = deck.log(run_id)
    assert "match\n" in log
    assert "token is ********\n" in log
    assert deck.log(run_id, "stderr") == "********"
    assert "hunter2" not in log


async def test_jobdeck_settings_do_not_leak_into_the_job(
    deck: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBDECK_DATABASE_URL", "postgresql://admin:s3cret@db/prod")
    monkeypatch.setenv("JOBDECK_BACKENDS__PROD__TOKEN", "tok-123")
    monkeypatch.setenv("JOBDECK_HOME", "/srv/jobdeck")
    monkeypatch.setenv("UNRELATED_VAR", "kept")
    run_id = deck.run(deck.shell(["env"]))
    executor = await deck.started()
    await executor.wait_idle()
    env = dict(line.split("=", 1) for line in deck.log(run_id).splitlines() if "=" in line)
    assert "JOBDECK_DATABASE_URL" not in env
    assert "JOBDECK_BACKENDS__PROD__TOKEN" not in env
    assert env["JOBDECK_HOME"] == "/srv/jobdeck"
    assert env["UNRELATED_VAR"] == "kept"
    assert env["JOBDECK_RUN_ID"] == str(run_id)
    assert env["JOBDECK_ATTEMPT"] == "1"


async def test_config_env_and_cwd_apply(deck: Any, tmp_path: Any) -> None:
    template = deck.template(
        "shell",
        {
            "command": ["sh", "-c", 'echo "$GREETING from $(pwd)"'],
            "env": {"GREETING": "hi"},
            "cwd": str(tmp_path),
        },
    )
    run_id = deck.run(template)
    executor = await deck.started()
    await executor.wait_idle()
    assert deck.log(run_id) == f"hi from {tmp_path}\n"


@pytest.mark.parametrize(
    ("config", "exit_code", "message"),
    [
        ({"command": ["/no/such/program"]}, 127, "command not found: /no/such/program"),
        ({"command": ["true"], "cwd": "/no/such/dir"}, 127, "working directory '/no/such/dir'"),
    ],
)
async def test_a_program_that_cannot_start_fails_clearly(
    deck: Any, config: dict[str, Any], exit_code: int, message: str
) -> None:
    run_id = deck.run(deck.template("shell", config))
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert (run.status, run.exit_code) == ("failed", exit_code)
    assert message in (run.error_message or "")
    assert message in deck.log(run_id, "system")


async def test_a_template_whose_job_type_is_gone_fails_its_runs_and_stays(deck: Any) -> None:
    # F20: the plug-in that provided the type was uninstalled after the run was queued.
    template = deck.shell(["true"])
    run_id = deck.run(template)
    with deck.db.write() as session:
        run = session.get(JobRun, run_id)
        run.job_type = "vanished"
        run.template_snapshot = {**run.template_snapshot, "job_type": "vanished"}
        run.max_attempts = 4
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "failed"
    assert run.error_message == "job type 'vanished' is not installed"
    assert run.attempts == 1  # a missing type is not worth retrying
    assert "job type 'vanished' is not installed" in deck.log(run_id, "system")
    with deck.db.read() as session:
        assert session.get(type(template), template.id) is not None


async def test_lateness_is_recorded_for_scheduled_runs(deck: Any) -> None:
    template = deck.shell(["true"])
    schedule = deck.schedule(template)
    scheduled_for = deck.clock.now().replace(microsecond=0)
    run_id = deck.run(template, schedule=schedule, scheduled_for=scheduled_for)
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "completed"
    assert run.lateness_seconds is not None and 0 <= run.lateness_seconds < 30


async def test_an_invalid_config_fails_the_run_naming_the_key(deck: Any) -> None:
    template = deck.template("shell", {"command": ["true"]})
    run_id = deck.run(template)
    with deck.db.write() as session:  # edited behind the service's back
        run = session.get(JobRun, run_id)
        run.template_snapshot = {**run.template_snapshot, "config": {"command": []}}
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "failed"
    assert run.error_message == "invalid config: command: Value error, command is empty"
