"""`jobdeck run ...` against runs seeded straight into the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.storage.database import Database, sqlite_url
from core.storage.tables import JobRun

from .helpers import Run

NOW = datetime.now(UTC).replace(microsecond=0)


def seed_runs(home: Path, rows: list[dict[str, object]]) -> list[int]:
    """Insert runs (template `hello` id 1, schedule `nightly` id 1 exist); returns their ids."""
    db = Database(sqlite_url(home / "jobdeck.db"))
    try:
        with db.write() as session:
            runs = []
            for row in rows:
                data: dict[str, object] = {
                    "job_template_id": 1,
                    "job_name": "hello",
                    "job_type": "shell",
                    "status": "completed",
                    "triggered_by": "manual",
                    "queued_at": NOW,
                    **row,
                }
                run = JobRun(**data)
                session.add(run)
                runs.append(run)
            session.flush()
            return [run.id for run in runs if run.id is not None]
    finally:
        db.dispose()


@pytest.fixture
def runs(seeded: Path) -> list[int]:
    """Ten runs: mixed statuses, triggers, types and ages (newest has the highest id)."""
    rows: list[dict[str, object]] = []
    for age in range(10, 0, -1):
        queued = NOW - timedelta(days=age)
        rows.append(
            {
                "queued_at": queued,
                "started_at": queued + timedelta(seconds=1),
                "completed_at": queued + timedelta(seconds=61),
                "duration_seconds": 60.0,
                "status": "failed" if age % 3 == 0 else "completed",
                "exit_code": 1 if age % 3 == 0 else 0,
                "triggered_by": "schedule" if age % 2 == 0 else "manual",
                "job_schedule_id": 1 if age % 2 == 0 else None,
                "scheduled_for": queued if age % 2 == 0 else None,
                "job_type": "shell" if age != 1 else "http",
                "parameters": {"who": "world"},
                "error_message": "boom\x1b[31m\nline two" if age % 3 == 0 else None,
            }
        )
    rows.append({"status": "running", "queued_at": NOW, "started_at": NOW})
    return seed_runs(seeded, rows)


def ids(result_out: str) -> list[int]:
    return [item["id"] for item in json.loads(result_out)["items"]]


def test_list_newest_first_with_total_and_human_table(runs: list[int], ok: Run) -> None:
    page = json.loads(ok("run", "list", "--json").out)
    assert page["total"] == 11
    assert [r["id"] for r in page["items"]] == list(reversed(runs))
    assert page["next_cursor"] is None
    assert page["items"][1]["queued_at"].endswith(("Z", "+00:00"))
    lines = ok("run", "list").out.splitlines()
    assert lines[0].split() == ["ID", "JOB", "TYPE", "STATUS", "TRIGGER", "QUEUED", "DURATION",
                                "EXIT"]  # fmt: skip
    assert "running" in lines[1] and "1m" in lines[2]
    assert lines[-1] == "11 of 11 runs"


def test_filters(runs: list[int], ok: Run) -> None:
    assert len(ids(ok("run", "list", "--status", "failed", "--json").out)) == 3
    assert len(ids(ok("run", "list", "--status", "failed,running", "--json").out)) == 4
    assert (
        len(ids(ok("run", "list", "--status", "failed", "--status", "running", "--json").out)) == 4
    )
    assert len(ids(ok("run", "list", "--trigger", "schedule", "--json").out)) == 5
    assert len(ids(ok("run", "list", "--schedule", "nightly", "--json").out)) == 5
    assert len(ids(ok("run", "list", "--template", "hello", "--json").out)) == 11
    assert ids(ok("run", "list", "--type", "http", "--json").out) == [runs[9]]
    assert len(ids(ok("run", "list", "--since", "3d12h", "--json").out)) == 4
    until = (NOW - timedelta(days=8, hours=12)).isoformat()
    assert ids(ok("run", "list", "--until", until, "--json").out) == [runs[1], runs[0]]
    assert ids(ok("run", "list", "--search", "HELL", "--limit", "1", "--json").out) == [runs[10]]
    assert ok("run", "list", "--search", "nothing-like-it").out == "no runs\n"


def test_cursor_paging_visits_every_run_once(runs: list[int], ok: Run) -> None:
    seen: list[int] = []
    cursor: list[str] = []
    for _ in range(10):
        page = json.loads(ok("run", "list", "--limit", "4", "--json", *cursor).out)
        seen += [r["id"] for r in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = ["--cursor", page["next_cursor"]]
    assert seen == list(reversed(runs))
    human = ok("run", "list", "--limit", "4", "--sort", "id", "--asc").out.splitlines()
    assert human[-2] == "4 of 11 runs"
    assert human[-1].startswith("next page: --cursor ")
    next_page = ok("run", "list", "--limit", "4", "--sort", "id", "--asc", "--json",
                   "--cursor", human[-1].split()[-1]).out  # fmt: skip
    assert ids(next_page) == runs[4:8]


def test_show_run_json_and_human(runs: list[int], ok: Run) -> None:
    run_id = runs[4]  # 6 days old: failed, schedule-triggered, escape sequence in the error
    shown = json.loads(ok("run", "show", str(run_id), "--json").out)
    assert shown["status"] == "failed" and shown["schedule_name"] == "nightly"
    assert shown["template_name"] == "hello"
    human = ok("run", "show", str(run_id)).out
    assert "status:        failed" in human
    assert "schedule:      nightly" in human
    assert "error:\n  boom\\x1b[31m\n  line two\n" in human  # escaped, never raw to the terminal
    assert "\x1b" not in human
    assert "who = world" in human


def test_delete_cleanup_and_clear(runs: list[int], ok: Run, jd: Run) -> None:
    assert ok("run", "delete", str(runs[0])).out == f"deleted run {runs[0]}\n"
    refused = jd("run", "delete", str(runs[10]))
    assert refused.code == 2 and "running" in refused.err
    # ages left: 9..1 days (9, 6, 3 failed) and the running run
    assert ok("run", "cleanup", "--days", "8").out == "deleted 2 finished runs older than 8 days\n"
    assert ok("run", "clear", "--status", "failed").out == "deleted 2 finished runs\n"
    assert ok("run", "clear", "--before", "4d").out == "deleted 3 finished runs\n"
    assert ok("run", "clear", "--type", "http").out == "deleted 1 finished run\n"
    assert ok("run", "clear", "--all").out == "deleted 1 finished run\n"
    assert ids(ok("run", "list", "--json").out) == [runs[10]]  # the running one survives
