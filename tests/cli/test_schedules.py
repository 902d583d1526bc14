"""`jobdeck schedule ...` happy paths: every timing type, enable/disable, update, preview."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from .helpers import Run


@pytest.fixture
def hello(ok: Run) -> Run:
    """A template `hello` with a parameter `who`; returns the ok runner."""
    ok("template", "create", "hello", "--type", "shell", "--config", "command=echo hello",
       "--param", "who:string=world", "--param", "times:int=1")  # fmt: skip
    return ok


FUTURE = (datetime.now(UTC) + timedelta(days=400)).replace(microsecond=0)

TIMINGS = [
    # (options, expected schedule fields, words of the human description)
    (["--cron", "0 9 * * 1-5", "--tz", "Europe/Riga"],
     {"schedule_type": "cron", "cron_expression": "0 9 * * 1-5", "timezone": "Europe/Riga"},
     "weekdays at 09:00 Europe/Riga"),
    (["--every", "1h30m"], {"schedule_type": "interval", "interval_seconds": 5400}, "every 1h30m"),
    (["--at", FUTURE.strftime("%Y-%m-%dT%H:%M"), "--tz", "America/New_York"],
     {"schedule_type": "once", "timezone": "America/New_York"}, "once at"),
    (["--hourly", ":15"], {"schedule_type": "hourly", "minute": 15}, "hourly at :15"),
    (["--hourly", "7"], {"schedule_type": "hourly", "minute": 7}, "hourly at :07"),
    (["--daily", "6:30", "--tz", "Asia/Tokyo"],
     {"schedule_type": "daily", "time_of_day": "06:30"}, "daily at 06:30 Asia/Tokyo"),
    (["--weekly", "fri@17:00"], {"schedule_type": "weekly", "weekday": 4, "time_of_day": "17:00"},
     "on Fridays at 17:00"),
    (["--weekly", "Sunday@08:00"], {"schedule_type": "weekly", "weekday": 6}, "on Sundays"),
    (["--monthly", "31@23:00"], {"schedule_type": "monthly", "day_of_month": 31},
     "monthly on day 31 (or the last day) at 23:00"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "fields", "text"), TIMINGS, ids=lambda v: str(v)[:30])
def test_create_every_timing_type(
    hello: Run, options: list[str], fields: dict[str, object], text: str
) -> None:
    created = hello("schedule", "create", "job", "--template", "hello", *options)
    assert created.out.startswith("created schedule job (id 1): ")
    assert text in created.out and "next run" in created.out
    shown = json.loads(hello("schedule", "show", "job", "--json").out)
    for key, value in fields.items():
        assert shown[key] == value
    assert shown["is_active"] is True
    assert shown["next_run"] is not None
    listed = hello("schedule", "list").out
    assert text in listed and "enabled" in listed and "hello" in listed


def test_at_without_offset_is_read_in_the_tz_zone(hello: Run) -> None:
    hello("schedule", "create", "once", "--template", "hello", "--at", "2040-07-01T09:00",
          "--tz", "Europe/Riga")  # fmt: skip
    shown = json.loads(hello("schedule", "show", "once", "--json").out)
    assert datetime.fromisoformat(shown["run_at"]) == datetime(2040, 7, 1, 6, 0, tzinfo=UTC)
    assert "2040-07-01 09:00:00+03:00" in hello("schedule", "show", "once").out


def test_create_with_policies_params_and_window(hello: Run) -> None:
    hello(
        "schedule", "create", "busy", "--template", "hello", "--every", "10m",
        "--param", "who=ops", "--param", "times=4", "--disabled",
        "--start", "2040-01-01T00:00", "--end", "2041-01-01T00:00+00:00",
        "--deadline", "2m", "--catchup", "all", "--catchup-cap", "5",
        "--overlap", "queue", "--overlap-max", "3", "--jitter", "hash:30s",
    )  # fmt: skip
    s = json.loads(hello("schedule", "show", "busy", "--json").out)
    assert s["job_parameters"] == {"who": "ops", "times": 4}
    assert s["is_active"] is False and s["next_run"] is None
    assert s["start_at"].startswith("2040-01-01T00:00:00")
    assert (s["start_deadline_seconds"], s["catchup"], s["catchup_cap"]) == (120, "all", 5)
    assert (s["overlap"], s["overlap_max"], s["jitter"], s["jitter_seconds"]) == (
        "queue",
        3,
        "hash",
        30,
    )
    human = hello("schedule", "show", "busy").out
    assert "state:          disabled" in human
    assert "jitter:         hash 30s" in human
    assert "who = ops" in human


def test_enable_disable_and_list_filters(hello: Run) -> None:
    hello("schedule", "create", "a", "--template", "hello", "--daily", "09:00")
    hello("schedule", "create", "b", "--template", "hello", "--daily", "10:00", "--disabled")
    disabled = hello("schedule", "disable", "a")
    assert disabled.out.startswith("disabled schedule a (id 1): daily at 09:00 UTC; disabled")
    enabled = hello("schedule", "enable", "b")
    assert "enabled schedule b" in enabled.out and "next run" in enabled.out

    def names(*filters: str) -> list[str]:
        listed = json.loads(hello("schedule", "list", *filters, "--json").out)
        return [s["job_identifier"] for s in listed]

    assert names("--enabled") == ["b"]
    assert names("--disabled") == ["a"]
    assert names("--template", "hello") == ["a", "b"]
    lines = hello("schedule", "list").out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "TEMPLATE", "STATE", "WHEN", "NEXT", "RUN", "LAST"]
    assert "disabled" in lines[1] and "enabled" in lines[2]


def test_update_timing_params_and_name(hello: Run) -> None:
    hello("schedule", "create", "s", "--template", "hello", "--daily", "09:00", "--param", "who=a")
    result = hello("schedule", "update", "s", "--weekly", "mon@08:15", "--tz", "Europe/Riga",
                   "--param", "times=2", "--name", "renamed")  # fmt: skip
    assert (
        "updated schedule renamed" in result.out and "on Mondays at 08:15 Europe/Riga" in result.out
    )
    s = json.loads(hello("schedule", "show", "renamed", "--json").out)
    assert (s["schedule_type"], s["weekday"], s["time_of_day"]) == ("weekly", 0, "08:15")
    assert s["job_parameters"] == {"who": "a", "times": 2}
    hello("schedule", "update", "renamed", "--unset-param", "who", "--overlap", "allow")
    s = json.loads(hello("schedule", "show", "renamed", "--json").out)
    assert s["job_parameters"] == {"times": 2}
    assert s["overlap"] == "allow"
    assert s["timezone"] == "Europe/Riga"


def test_delete(hello: Run) -> None:
    hello("schedule", "create", "s", "--template", "hello", "--every", "1h")
    assert hello("schedule", "delete", "s").out == (
        "deleted schedule s (its runs stay in the history)\n"
    )
    assert hello("schedule", "list").out == "no schedules\n"


def test_preview_cron_lists_the_next_three_mondays(ok: Run) -> None:
    """Done when: schedule preview --cron '0 9 * * 1' --tz UTC -n 3 --json."""
    result = ok("schedule", "preview", "--cron", "0 9 * * 1", "--tz", "UTC", "-n", "3", "--json")
    fires = json.loads(result.out)
    assert len(fires) == 3
    times = [datetime.fromisoformat(f["local"]) for f in fires]
    for moment in times:
        assert moment.utcoffset() == timedelta(0)
        assert (moment.weekday(), moment.hour, moment.minute) == (0, 9, 0)
    assert times[0] > datetime.now(UTC)
    assert times[0] - datetime.now(UTC) <= timedelta(days=7)
    assert [b - a for a, b in itertools.pairwise(times)] == [timedelta(days=7)] * 2
    assert [datetime.fromisoformat(f["utc"]) for f in fires] == times


def test_preview_human_shows_local_utc_viewer_and_dst(ok: Run) -> None:
    out = ok("schedule", "preview", "--daily", "02:30", "--tz", "Europe/Riga", "-n", "400",
             "--viewer-tz", "America/New_York").out  # fmt: skip
    lines = out.splitlines()
    assert lines[0] == "--daily 02:30 (Europe/Riga)"
    assert lines[1].split()[:4] == ["#", "LOCAL", "(Europe/Riga)", "UTC"]
    assert "VIEWER (America/New_York)" in lines[1]
    # Riga skips 03:00-04:00 in spring; 02:30 exists, so look at a gap-hitting time instead.
    gap = ok("schedule", "preview", "--daily", "03:30", "--tz", "Europe/Riga", "-n", "400").out
    assert "gap: 03:30 does not exist (clocks jump forward)" in gap
    assert "+03:00" in gap and "+02:00" in gap


def test_preview_stored_schedule_and_every_timing_flag(hello: Run) -> None:
    hello("schedule", "create", "s", "--template", "hello", "--monthly", "31@12:00", "--tz", "UTC")
    fires = json.loads(hello("schedule", "preview", "s", "-n", "4", "--json").out)
    assert len(fires) == 4
    assert all(datetime.fromisoformat(f["local"]).hour == 12 for f in fires)
    human = hello("schedule", "preview", "s", "-n", "2").out
    assert human.splitlines()[0] == "s: monthly on day 31 (or the last day) at 12:00 UTC"
    for options in (["--every", "15m"], ["--hourly", ":00"], ["--weekly", "tue@10:00"],
                    ["--at", "2040-01-01T00:00Z"], ["--cron", "@daily"]):  # fmt: skip
        fires = json.loads(hello("schedule", "preview", *options, "-n", "2", "--json").out)
        assert 1 <= len(fires) <= 2
