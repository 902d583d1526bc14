"""The CLI attached to real daemon processes: --backend URL|NAME, JOBDECK_TOKEN, auto-attach."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.cli import main

from .processes import (
    Server,
    admin_token,
    audit_trail,
    jd,
    jobdeck_env,
    seed_template,
    start_daemon,
    start_server,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The daemon's JOBDECK_HOME, holding template `hello` (shared by this module's tests)."""
    path = tmp_path_factory.mktemp("daemon-home")
    seed_template(path, "hello")
    return path


@pytest.fixture(scope="module")
def daemon(home: Path) -> Iterator[Server]:
    server = start_daemon(home, jobdeck_env(home))
    yield server
    server.stop()


Cli = Callable[..., tuple[int, str, str]]


def runner(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`jobdeck ARGS...` in this process, with the home's environment (and ``env`` extras)."""

    def run(*argv: str, **env: str) -> tuple[int, str, str]:
        wanted = jobdeck_env(home, **env)
        for name in list(os.environ):
            if name.startswith("JOBDECK_") and name not in wanted:
                monkeypatch.delenv(name)
        for name, value in wanted.items():
            if name.startswith("JOBDECK_"):
                monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def cli(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The CLI on the daemon's home."""
    return runner(home, monkeypatch, capsys)


def test_backend_url_with_jobdeck_token_lists_the_daemons_templates(
    home: Path, daemon: Server
) -> None:
    token = jd(jobdeck_env(home), "token", "create", "cli-user", "--role", "admin")
    assert token.returncode == 0, token.stderr
    env = jobdeck_env(home, JOBDECK_TOKEN=token.stdout.strip())
    listed = jd(env, "--backend", daemon.address, "template", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "hello" in [t["name"] for t in json.loads(listed.stdout)]
    assert listed.stderr == ""


def test_commands_act_through_the_daemons_api(cli: Cli, home: Path, daemon: Server) -> None:
    token = admin_token(home, "me")
    code, out, err = cli(
        "--backend", daemon.address, "--token", token,
        "template", "create", "web", "--type", "shell", "--config", "command=true",
    )  # fmt: skip
    assert (code, err) == (0, "")
    code, out, _ = cli("--backend", daemon.address, "schedule", "create", "web-daily",
                       "--template", "web", "--daily", "06:30", JOBDECK_TOKEN=token)  # fmt: skip
    assert code == 0
    code, out, _ = cli("--backend", daemon.address, "schedule", "list", "--json",
                       JOBDECK_TOKEN=token)  # fmt: skip
    assert [s["job_identifier"] for s in json.loads(out)] == ["web-daily"]
    trail = audit_trail(home)
    assert ("template.create", "me", "api", "web") in trail
    assert ("schedule.create", "me", "api", "web-daily") in trail


def test_refusals_are_one_clear_line(cli: Cli, home: Path, daemon: Server) -> None:
    code, _, err = cli("--backend", daemon.address, "template", "list")
    assert code == 1 and "Not authenticated" in err and "JOBDECK_TOKEN" in err
    code, _, err = cli("--backend", daemon.address, "token", "list", JOBDECK_TOKEN="jd_x")
    assert code == 2 and "works on the database directly" in err
    code, _, err = cli("--backend", "staging", "template", "list")
    assert code == 2 and "no backend profile named 'staging'" in err
    code, _, err = cli(
        "--backend", daemon.address, "--read-only", "template", "delete", "hello",
        JOBDECK_TOKEN=admin_token(home, "refusals"),
    )  # fmt: skip
    assert code == 1 and "read-only mode" in err


def test_a_profile_of_the_config_file(cli: Cli, home: Path, daemon: Server) -> None:
    config = home / "jobdeck.toml"
    token = admin_token(home, "profile")
    config.write_text(f'[backends.here]\nurl = "{daemon.address}"\ntoken = "{token}"\n')
    code, out, err = cli("--backend", "here", "template", "list", "--json",
                         JOBDECK_CONFIG=str(config))  # fmt: skip
    assert (code, err) == (0, "")
    assert "hello" in [t["name"] for t in json.loads(out)]


def test_with_a_live_daemon_commands_attach_to_it_automatically(
    cli: Cli, home: Path, daemon: Server
) -> None:
    token = admin_token(home, "auto")
    code, _, err = cli("template", "create", "via-api", "--type", "shell",
                       "--config", "command=true", JOBDECK_TOKEN=token)  # fmt: skip
    assert (code, err) == (0, "")
    # Without a token of its own, the CLI uses the one the daemon published for this user.
    code, _, err = cli(
        "template", "create", "via-owner", "--type", "shell", "--config", "command=true"
    )
    assert (code, err) == (0, "")
    # With no token at all (the file gone), it says so once and writes the database itself.
    (home / "owner.token").unlink()
    code, _, err = cli(
        "template", "create", "direct", "--type", "shell", "--config", "command=true"
    )
    assert code == 0
    assert err.count("\n") == 1 and err.startswith("jobdeck: warning: ")
    assert daemon.address in err and "using the database directly" in err
    trail = audit_trail(home)
    assert ("template.create", "auto", "api", "via-api") in trail
    owner_entry = next(t for t in trail if t[3] == "via-owner")
    assert owner_entry[2] == "api" and ".via-owner-" in owner_entry[1]
    assert next(t for t in trail if t[3] == "direct")[2] == "cli"


def test_an_owner_that_publishes_its_token_is_attached_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path
    cli = runner(home, monkeypatch, capsys)
    env = jobdeck_env(home)
    argv = [sys.executable, "-m", "tests.remote.owner_proc"]
    owner = start_server(argv, env, home / "owner.log")
    try:
        assert owner.address == f"unix:{home / 'api.sock'}"  # as an embedded TUI serves it
        token_file = home / "owner.token"
        assert token_file.exists() and (token_file.stat().st_mode & 0o777) == 0o600
        code, _, err = cli("template", "create", "t", "--type", "shell", "--config", "command=true")
        assert (code, err) == (0, "")
        action, actor, source, _ = audit_trail(home)[-1]
        assert (action, source) == ("template.create", "api")
        assert ".via-owner-" in actor
    finally:
        owner.stop()
    assert not (home / "owner.token").exists()
    # The owner is gone: the CLI uses the database, quietly (no lease, nothing to warn about).
    code, out, err = cli("template", "list", "--json")
    assert (code, err) == (0, "") and [t["name"] for t in json.loads(out)] == ["t"]


def test_every_command_works_through_the_daemon(cli: Cli, home: Path, daemon: Server) -> None:
    token = admin_token(home, "sweep")

    def ok(*argv: str) -> str:
        code, out, err = cli("--backend", daemon.address, *argv, JOBDECK_TOKEN=token)
        assert (code, err) == (0, ""), f"jobdeck {' '.join(argv)}: {err}"
        return out

    ok("template", "create", "sweep", "--type", "shell", "--config", "command=echo swept")
    assert json.loads(ok("template", "show", "sweep", "--json"))["name"] == "sweep"
    ok("template", "update", "sweep", "--description", "swept by the CLI")
    assert [r["revision"] for r in json.loads(ok("template", "revisions", "sweep", "--json"))] == [
        2,
        1,
    ]
    ok("template", "copy", "sweep", "sweep-2")
    ok(
        "schedule",
        "create",
        "sweep-hourly",
        "--template",
        "sweep",
        "--hourly",
        ":05",
        "--tz",
        "UTC",
    )
    ok("schedule", "update", "sweep-hourly", "--hourly", ":07")
    ok("schedule", "disable", "sweep-hourly")
    ok("schedule", "enable", "sweep-hourly")
    shown = json.loads(ok("schedule", "show", "sweep-hourly", "--json"))
    assert (shown["minute"], shown["is_active"]) == (7, True)
    assert len(json.loads(ok("schedule", "preview", "sweep-hourly", "-n", "3", "--json"))) == 3
    unsaved = ok("schedule", "preview", "--cron", "0 9 * * 1", "--tz", "UTC", "-n", "2", "--json")
    assert len(json.loads(unsaved)) == 2
    finished = json.loads(ok("template", "run", "sweep", "--wait", "--json"))  # the daemon runs it
    assert finished["status"] == "completed"
    run_id = str(finished["id"])
    assert json.loads(ok("run", "show", run_id, "--json"))["id"] == finished["id"]
    assert "swept" in ok("run", "logs", run_id)
    retry_id = int(ok("run", "retry", run_id))
    listed = json.loads(ok("run", "list", "--json", "--template", "sweep"))["items"]
    assert {run["id"] for run in listed} == {finished["id"], retry_id}
    ok("ledger", "--json")
    ok("run", "delete", run_id)
    ok("run", "cleanup", "--days", "30")
    ok("run", "clear", "--template", "sweep-2")
    ok("schedule", "delete", "sweep-hourly")
    ok("template", "delete", "sweep-2")
