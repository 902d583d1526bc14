"""`main()` itself: the TUI branch, global options, read-only mode and exit code 1 paths."""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path

import pytest

from console import cli
from console.commands import templates

from .helpers import Run

#: the ``start`` command each fake run_tui call received
starts: list[object] = []


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, bool]]:
    """A stand-in console.app whose run_tui records its calls."""
    calls: list[tuple[object, bool]] = []
    starts.clear()
    module = types.ModuleType("console.app")

    def run_tui(settings: object, read_only: bool, **options: object) -> int:
        calls.append((settings, read_only))
        starts.append(options.get("start"))
        return 7

    module.run_tui = run_tui  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "console.app", module)
    return calls


def test_no_command_starts_the_tui(home: Path, fake_app: list[tuple[object, bool]]) -> None:
    assert cli.main([]) == 7
    assert cli.main(["--read-only"]) == 7
    assert cli.main(["-c", "runs failed"]) == 7
    assert [read_only for _, read_only in fake_app] == [False, True, False]
    assert starts == ["templates", "templates", "runs failed"]
    settings = fake_app[0][0]
    assert Path(settings.home) == home  # type: ignore[attr-defined]


def test_read_only_refuses_writes_but_reads(jd: Run) -> None:
    refused = jd("--read-only", "template", "create", "t", "--type", "shell",
                 "--config", "command=true")  # fmt: skip
    assert refused.code == 1
    assert refused.err == (
        "jobdeck: error: read-only mode: 'jobdeck template create' would change data "
        "(drop --read-only, or read_only in the config)\n"
    )
    assert jd("--read-only", "template", "list").code == 0
    assert jd("--read-only", "run", "clear", "--all").code == 1


def test_read_only_from_the_config_file(jd: Run, home: Path) -> None:
    config = home / "jobdeck.toml"
    config.write_text("read_only = true\n", encoding="utf-8")
    result = jd("--config", str(config), "schedule", "delete", "x")
    assert result.code == 1 and "read-only mode" in result.err


def test_bad_config_file_names_file_and_key(jd: Run, home: Path) -> None:
    config = home / "jobdeck.toml"
    config.write_text("[executor]\nslots = 0\n", encoding="utf-8")
    result = jd("--config", str(config), "template", "list")
    assert result.code == 2
    assert str(config) in result.err and "executor.slots" in result.err
    config.write_text("this is = = not toml", encoding="utf-8")
    result = jd("--config", str(config), "template", "list")
    assert result.code == 2 and "not valid TOML" in result.err
    assert result.err.count("\n") == 1


def test_unreachable_database_is_one_line_and_exit_1(
    jd: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBDECK_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/x")
    started = time.monotonic()
    result = jd("template", "list")
    assert time.monotonic() - started < 20
    assert result.code == 1
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert result.err.startswith("jobdeck: error: ")
    assert "127.0.0.1" in result.err and "Traceback" not in result.err


def test_unexpected_error_is_one_line_and_exit_1(jd: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(templates, "list_templates", broken)
    result = jd("template", "list")
    assert result.code == 1
    assert result.err == (
        "jobdeck: error: unexpected RuntimeError: disk on fire (JOBDECK_DEBUG=1 for details)\n"
    )


def test_help_and_version_exit_0(jd: Run) -> None:
    version = jd("--version")
    assert version.code == 0 and version.out.startswith("jobdeck ")
    helped = jd("run", "list", "--help")
    assert helped.code == 0 and "--cursor" in helped.out and helped.err == ""
    top = jd("--help")
    assert all(noun in top.out for noun in ("template", "schedule", "run", "--read-only"))


def test_noun_without_verb_is_a_usage_error(jd: Run) -> None:
    result = jd("schedule")
    assert result.code == 2
    assert result.err.startswith("jobdeck: error: schedule: ")
    assert "COMMAND" in result.err


def test_starting_the_console_parses_only_the_global_options() -> None:
    """No command: the console starts without building every command's parser."""
    args = cli.parse_arguments(["--read-only", "-c", "runs failed", "--backend", "prod"])
    assert (args.noun, args.read_only, args.start_command, args.backend) == (
        None,
        True,
        "runs failed",
        "prod",
    )
    listed = cli.parse_arguments(["--read-only", "template", "list", "--json"])
    assert (listed.noun, listed.read_only) == ("template", True)
