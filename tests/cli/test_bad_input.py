"""Bad input: exit code 2 and one stderr line naming what was wrong (field, option or name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import Run

TEMPLATE = ["template", "create", "t2", "--type", "shell", "--config", "command=true"]
SCHEDULE = ["schedule", "create", "s2", "--template", "hello"]
PREVIEW = ["schedule", "preview"]

CASES: list[tuple[str, list[str], list[str]]] = [
    # (case id, argv, substrings stderr must contain)
    ("unknown template", ["template", "show", "nope"], ["template 'nope' not found"]),
    ("unknown template update", ["template", "update", "nope", "--retries", "1"], ["'nope'"]),
    ("duplicate template", [*TEMPLATE[:2], "hello", *TEMPLATE[3:]], ["'hello'", "already"]),
    ("all-digit name", [*TEMPLATE[:2], "123", *TEMPLATE[3:]], ["NAME", "digits"]),
    ("bad config key", [*TEMPLATE, "--config", "colour=red"], ["--config colour", "command"]),
    ("config without =", [*TEMPLATE, "--config", "cwd"], ["--config", "'cwd'", "KEY=VALUE"]),
    ("config bool", [*TEMPLATE, "--config", "shell=maybe"], ["--config shell", "bool"]),
    (
        "config repeated",
        [*TEMPLATE, "--config", "cwd=/a", "--config", "cwd=/b"],
        ["--config cwd", "twice"],
    ),
    ("config missing", ["template", "create", "t2", "--type", "shell"], ["--config command"]),
    ("param name", [*TEMPLATE, "--param", "9lives:int"], ["--param 9lives", "name"]),
    ("param type", [*TEMPLATE, "--param", "n:widget"], ["--param n:widget", "widget"]),
    ("param default", [*TEMPLATE, "--param", "n:int=abc"], ["--param n", "default", "'abc'"]),
    ("param choice", [*TEMPLATE, "--param", "c:choice(a|b)=z"], ["--param", "'z'"]),
    ("timeout garbage", [*TEMPLATE, "--timeout", "soon"], ["--timeout", "'soon'"]),
    ("negative retries", [*TEMPLATE, "--retries", "-1"], ["--retries", "-1"]),
    ("retries not int", [*TEMPLATE, "--retries", "two"], ["--retries", "'two'"]),
    ("unknown type", ["template", "create", "t2", "--type", "cobol"], ["--type", "'cobol'"]),
    ("missing type", ["template", "create", "t2"], ["--type"]),
    ("deadline < timeout", [*TEMPLATE, "--timeout", "1h", "--deadline", "5m"], ["--deadline"]),
    (
        "drop unknown param",
        ["template", "update", "hello", "--drop-param", "nope"],
        ["--drop-param nope"],
    ),
    ("update nothing", ["template", "update", "hello"], ["nothing to change"]),
    ("delete in use", ["template", "delete", "hello"], ["nightly", "--force"]),
    ("missing timing", SCHEDULE, ["--cron", "--every", "required"]),
    ("two timings", [*SCHEDULE, "--cron", "* * * * *", "--every", "5m"], ["--every", "--cron"]),
    ("bad tz", [*SCHEDULE, "--daily", "09:00", "--tz", "Mars/Olympus"], ["--tz", "Mars/Olympus"]),
    ("daily 25:00", [*SCHEDULE, "--daily", "25:00"], ["--daily", "'25:00'"]),
    ("weekly funday", [*SCHEDULE, "--weekly", "funday@09:00"], ["--weekly", "'funday'"]),
    ("weekly no @", [*SCHEDULE, "--weekly", "mon"], ["--weekly", "DAY@HH:MM"]),
    ("weekly bad time", [*SCHEDULE, "--weekly", "mon@9am"], ["--weekly", "'9am'"]),
    ("monthly 32", [*SCHEDULE, "--monthly", "32@09:00"], ["--monthly", "'32'"]),
    ("hourly 75", [*SCHEDULE, "--hourly", "75"], ["--hourly", "'75'"]),
    ("every 0s", [*SCHEDULE, "--every", "0s"], ["--every", "greater than zero"]),
    ("every 1.5s", [*SCHEDULE, "--every", "1.5s"], ["--every", "whole number of seconds"]),
    ("every garbage", [*SCHEDULE, "--every", "often"], ["--every", "'often'"]),
    ("at garbage", [*SCHEDULE, "--at", "tomorrow-ish"], ["--at", "'tomorrow-ish'"]),
    ("at in the past", [*SCHEDULE, "--at", "2001-01-01T00:00:00+00:00"], ["--at", "past"]),
    (
        "at in a DST gap",
        [*SCHEDULE, "--at", "2031-03-30T03:30", "--tz", "Europe/Riga"],
        ["--at", "DST gap"],
    ),
    ("cron step 0", [*SCHEDULE, "--cron", "*/0 * * * *"], ["--cron: minute", "step 0"]),
    ("cron 6 fields", [*SCHEDULE, "--cron", "0 0 9 * * 1"], ["--cron", "6 fields"]),
    ("cron dead day", [*SCHEDULE, "--cron", "0 0 30 2 *"], ["--cron: day-of-month", "February"]),
    ("cron hour 24", [*SCHEDULE, "--cron", "0 24 * * *"], ["--cron: hour", "'24'"]),
    (
        "unknown schedule template",
        ["schedule", "create", "s2", "--template", "nope", "--daily", "09:00"],
        ["template 'nope' not found"],
    ),
    (
        "duplicate schedule",
        ["schedule", "create", "nightly", "--template", "hello", "--daily", "09:00"],
        ["'nightly'", "already exists"],
    ),
    (
        "undeclared param",
        [*SCHEDULE, "--daily", "09:00", "--param", "colour=red"],
        ["--param colour", "unknown parameter", "who"],
    ),
    ("param without =", [*SCHEDULE, "--daily", "09:00", "--param", "who"], ["--param", "'who'"]),
    (
        "end before start",
        [*SCHEDULE, "--every", "1h", "--start", "2031-01-02T00:00", "--end", "2031-01-01T00:00"],
        ["--end", "--start"],
    ),
    ("jitter form", [*SCHEDULE, "--daily", "09:00", "--jitter", "random"], ["--jitter"]),
    ("start deadline 0", [*SCHEDULE, "--daily", "09:00", "--deadline", "0s"], ["--deadline"]),
    ("overlap max 0", [*SCHEDULE, "--daily", "09:00", "--overlap-max", "0"], ["--overlap-max"]),
    ("catchup cap 0", [*SCHEDULE, "--daily", "09:00", "--catchup-cap", "0"], ["--catchup-cap"]),
    ("overlap choice", [*SCHEDULE, "--daily", "09:00", "--overlap", "pile"], ["--overlap", "pile"]),
    ("schedule update nothing", ["schedule", "update", "nightly"], ["nothing to change"]),
    ("preview unknown", [*PREVIEW, "nope"], ["schedule 'nope' not found"]),
    ("preview nothing", PREVIEW, ["NAME", "--cron"]),
    ("preview both", [*PREVIEW, "nightly", "--cron", "* * * * *"], ["not both"]),
    ("preview n 0", [*PREVIEW, "--cron", "0 9 * * 1", "--tz", "UTC", "-n", "0"], ["-n", "0"]),
    ("preview n 5000", [*PREVIEW, "nightly", "-n", "5000"], ["-n", "5000"]),
    ("preview viewer tz", [*PREVIEW, "nightly", "--viewer-tz", "Nowhere"], ["--viewer-tz"]),
    ("run show missing", ["run", "show", "999999"], ["run 999999 not found"]),
    ("run id not int", ["run", "show", "abc"], ["RUN_ID", "'abc'"]),
    ("run status bogus", ["run", "list", "--status", "bogus"], ["--status", "'bogus'"]),
    ("run trigger bogus", ["run", "list", "--trigger", "cosmic"], ["--trigger", "'cosmic'"]),
    ("run cursor", ["run", "list", "--cursor", "not-a-cursor"], ["--cursor"]),
    ("run since", ["run", "list", "--since", "last tuesday"], ["--since", "'last tuesday'"]),
    ("run limit", ["run", "list", "--limit", "0"], ["--limit", "0"]),
    ("run unknown template", ["run", "list", "--template", "nope"], ["template 'nope'"]),
    ("run clear running", ["run", "clear", "--status", "running"], ["--status", "running"]),
    ("run clear no filter", ["run", "clear"], ["--all"]),
    ("run cleanup 0 days", ["run", "cleanup", "--days", "0"], ["--days", "0"]),
    ("unknown verb", ["template", "frobnicate"], ["template", "'frobnicate'"]),
    ("unknown noun", ["worker-bee"], ["'worker-bee'"]),
    (
        "missing config file",
        ["--config", "/nonexistent/jobdeck.toml", "template", "list"],
        ["/nonexistent/jobdeck.toml", "does not exist"],
    ),
]


@pytest.mark.parametrize(("argv", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_and_names_the_problem(
    seeded: Path, jd: Run, argv: list[str], expected: list[str]
) -> None:
    result = jd(*argv)
    assert result.code == 2, result
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("jobdeck: error: ")
    for text in expected:
        assert text in lines[0]
    assert "Traceback" not in result.err


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
