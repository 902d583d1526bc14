"""Contract: schedules of every type, enable/disable, preview and timing errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.backend.inputs import (
    SchedulePatch,
    ScheduleSpec,
)
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.parameters import ParameterSpec

from .harness import NOW, Harness, shell, weekly_cron

TIMINGS: list[tuple[dict[str, Any], datetime]] = [
    ({"schedule_type": "cron", "cron_expression": "0 9 * * 1"}, datetime(2026, 3, 9, 9, 0)),
    ({"schedule_type": "interval", "interval_seconds": 3600}, datetime(2026, 3, 2, 10, 30)),
    (
        {"schedule_type": "once", "run_at": datetime.fromisoformat("2026-03-05T12:00+02:00")},
        datetime(2026, 3, 5, 10, 0),
    ),
    ({"schedule_type": "hourly", "minute": 45}, datetime(2026, 3, 2, 9, 45)),
    (
        {"schedule_type": "daily", "time_of_day": "02:30", "timezone": "Europe/Riga"},
        datetime(2026, 3, 3, 0, 30),
    ),
    (
        {
            "schedule_type": "weekly",
            "weekday": 4,
            "time_of_day": "18:00",
            "timezone": "America/New_York",
        },
        datetime(2026, 3, 6, 23, 0),
    ),
    (  # day 31 in Riga comes after the EU switch to summer time (UTC+3) on March 29th
        {
            "schedule_type": "monthly",
            "day_of_month": 31,
            "time_of_day": "06:00",
            "timezone": "Europe/Riga",
        },
        datetime(2026, 3, 31, 3, 0),
    ),
]


@pytest.mark.parametrize(
    ("timing", "next_utc"), TIMINGS, ids=[timing["schedule_type"] for timing, _ in TIMINGS]
)
async def test_create_schedule_of_every_type(
    harness: Harness, timing: dict[str, Any], next_utc: datetime
) -> None:
    b = harness.backend
    await b.create_template(shell())
    fields = {"timezone": "UTC", **timing}
    created = await b.create_schedule(ScheduleSpec(job_identifier="s1", template="hello", **fields))
    assert created.next_run == next_utc.replace(tzinfo=UTC)
    assert (created.schedule_type, created.timezone) == (
        timing["schedule_type"],
        fields["timezone"],
    )
    assert (created.template_name, created.template_job_type) == ("hello", "shell")
    assert created.description
    fetched = await b.get_schedule("s1")
    assert fetched == await b.get_schedule(created.id)
    assert fetched.next_run == created.next_run
    assert [s.job_identifier for s in await b.list_schedules(template="hello")] == ["s1"]


async def test_schedule_zone_defaults_and_names_are_unique(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    spec = ScheduleSpec(job_identifier="s", template="hello", schedule_type="hourly", minute=0)
    assert (await b.create_schedule(spec)).timezone == "UTC"
    with pytest.raises(Conflict, match="'s' already exists"):
        await b.create_schedule(spec)


async def test_disable_clears_next_run_and_enable_restores_it(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    created = await b.create_schedule(weekly_cron("w"))
    disabled = await b.set_schedule_active("w", False)
    assert (disabled.is_active, disabled.next_run) == (False, None)
    assert [s.job_identifier for s in await b.list_schedules(is_active=False)] == ["w"]
    assert await b.list_schedules(is_active=True) == []
    enabled = await b.set_schedule_active("w", True)
    assert (enabled.is_active, enabled.next_run) == (True, created.next_run)
    paused = await b.create_schedule(weekly_cron("paused", is_active=False))
    assert paused.next_run is None


async def test_update_schedule_replaces_timing(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell(parameters=(ParameterSpec(name="n", type="int", default=1),)))
    await b.create_template(shell("other"))
    await b.create_schedule(weekly_cron("w", job_parameters={"n": "5"}))
    assert (await b.get_schedule("w")).job_parameters == {"n": 5}
    updated = await b.update_schedule(
        "w", SchedulePatch(schedule_type="daily", time_of_day="07:05", job_identifier="d")
    )
    assert (updated.job_identifier, updated.cron_expression) == ("d", None)
    assert (updated.time_of_day, updated.next_run) == (
        "07:05",
        datetime(2026, 3, 3, 7, 5, tzinfo=UTC),
    )
    await b.create_schedule(weekly_cron("w2"))
    with pytest.raises(Conflict, match="'w2' already exists"):
        await b.update_schedule("d", SchedulePatch(job_identifier="w2"))
    with pytest.raises(ValidationFailed) as caught:
        await b.update_schedule("d", SchedulePatch(template="other"))
    assert caught.value.field == "job_parameters.n"
    moved = await b.update_schedule("d", SchedulePatch(template="other", job_parameters={}))
    assert (moved.template_name, moved.job_parameters) == ("other", {})


async def test_time_of_day_is_stored_normalised(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    spec = ScheduleSpec(
        job_identifier="d", template="hello", schedule_type="daily", time_of_day="7:05"
    )
    assert (await b.create_schedule(spec)).time_of_day == "07:05"
    await b.update_schedule("d", SchedulePatch(time_of_day="8:15"))
    assert (await b.get_schedule("d")).time_of_day == "08:15"


async def test_preview_stored_and_unsaved_timing(harness: Harness) -> None:
    b = harness.backend
    await b.create_template(shell())
    await b.create_schedule(weekly_cron("w"))
    mondays = [datetime(2026, 3, day, 9, 0, tzinfo=UTC) for day in (9, 16, 23)]
    assert [f.utc for f in await b.preview_schedule("w", 3)] == mondays
    viewed = await b.preview_schedule("w", 1, viewer_zone="Asia/Tokyo")
    assert viewed[0].viewer is not None and viewed[0].viewer.hour == 18
    spec = ScheduleSpec(
        job_identifier="draft",
        template="hello",
        schedule_type="daily",
        time_of_day="02:30",
        timezone="America/New_York",
    )
    fires = await b.preview_timing(spec, 7)
    assert [f.dst for f in fires] == [None] * 5 + ["gap", None]  # 2026-03-08: 02:30 is skipped
    assert await b.list_schedules() != [] and len(await b.list_schedules()) == 1
    with pytest.raises(ValidationFailed) as caught:
        await b.preview_schedule("w", 0)
    assert caught.value.field == "n"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (
            {"schedule_type": "cron", "cron_expression": "0 0 30 2 *"},
            "cron_expression.day_of_month",
        ),
        ({"schedule_type": "cron", "cron_expression": "61 * * * *"}, "cron_expression.minute"),
        ({"schedule_type": "cron"}, "cron_expression"),
        ({"schedule_type": "interval", "interval_seconds": 0}, "interval_seconds"),
        ({"schedule_type": "hourly", "minute": 60}, "minute"),
        ({"schedule_type": "daily", "time_of_day": "25:00"}, "time_of_day"),
        ({"schedule_type": "weekly", "weekday": 7, "time_of_day": "09:00"}, "weekday"),
        ({"schedule_type": "monthly", "day_of_month": 32, "time_of_day": "09:00"}, "day_of_month"),
        (
            {"schedule_type": "hourly", "minute": 5, "cron_expression": "* * * * *"},
            "cron_expression",
        ),
        ({"schedule_type": "hourly", "minute": 5, "timezone": "Mars/Olympus"}, "timezone"),
        (
            {"schedule_type": "hourly", "minute": 5, "start_at": NOW, "end_at": NOW - timedelta(1)},
            "end_at",
        ),
        ({"schedule_type": "once", "run_at": NOW - timedelta(hours=1)}, "run_at"),
        ({"schedule_type": "hourly", "minute": 5, "end_at": NOW - timedelta(hours=1)}, "end_at"),
        ({"schedule_type": "hourly", "minute": 5, "jitter": "random"}, "jitter_seconds"),
        ({"schedule_type": "hourly", "minute": 5, "catchup_cap": 0}, "catchup_cap"),
        ({"schedule_type": "hourly", "minute": 5, "job_parameters": {"x": 1}}, "job_parameters.x"),
        ({"schedule_type": "hourly", "minute": 5, "job_identifier": ""}, "job_identifier"),
    ],
)
async def test_bad_schedule_is_rejected_naming_the_field(
    harness: Harness, fields: dict[str, Any], field: str
) -> None:
    b = harness.backend
    await b.create_template(shell())
    spec = ScheduleSpec(**{"job_identifier": "s", "template": "hello", "timezone": "UTC", **fields})
    with pytest.raises(ValidationFailed) as caught:
        await b.create_schedule(spec)
    assert caught.value.field == field
    assert await b.list_schedules() == []


async def test_delete_schedule_keeps_its_runs(harness: Harness) -> None:
    b = harness.backend
    template = await b.create_template(shell())
    schedule = await b.create_schedule(weekly_cron("w"))
    run_id = harness.add_run(template=template, schedule=schedule, scheduled_for=NOW)
    assert (await b.get_schedule("w")).last_run_status == "completed"
    report = await b.delete_schedule("w")
    assert (report.kind, report.name, report.removed_schedules) == ("schedule", "w", ())
    with pytest.raises(NotFound):
        await b.get_schedule(schedule.id)
    run = await b.get_run(run_id)
    assert (run.job_schedule_id, run.schedule_name, run.template_name) == (None, None, "hello")
