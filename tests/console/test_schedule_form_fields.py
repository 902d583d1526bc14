"""The schedule form's reading rules: typed text to specs and patches, and back again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from console.screens.schedule_fields import (
    initial_values,
    policy_values,
    preview_spec,
    problem_text,
    schedule_patch,
    schedule_spec,
    timing_values,
    wall_time,
)
from core.backend.fake import FakeBackend
from core.errors import ValidationFailed


def form(**changes: Any) -> dict[str, Any]:
    """A new form's values with some typed in."""
    return {**initial_values(None, "Europe/Riga"), **changes}


def test_a_new_form_starts_with_the_viewers_zone_and_the_default_policies() -> None:
    values = form()
    assert values["timezone"] == "Europe/Riga"
    assert policy_values(values) == {
        "catchup": "latest",
        "overlap": "skip",
        "jitter": "off",
        "start_deadline_seconds": 300.0,
        "catchup_window_seconds": 86400.0,
        "replace_grace_seconds": 10.0,
        "jitter_seconds": 0.0,
        "catchup_cap": 10,
        "overlap_max": 1,
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"schedule_type": "interval", "interval_seconds": "10s"}, {"interval_seconds": 10}),
        ({"schedule_type": "interval", "interval_seconds": "1h30m"}, {"interval_seconds": 5400}),
        ({"schedule_type": "hourly", "minute": " 15 "}, {"minute": 15}),
        ({"schedule_type": "weekly", "weekday": 4, "time_of_day": "9:00"}, {"weekday": 4}),
        ({"schedule_type": "monthly", "day_of_month": "31", "time_of_day": "02:00"},
         {"day_of_month": 31}),
        ({"schedule_type": "cron", "cron_expression": " 0 9 * * 1-5 "},
         {"cron_expression": "0 9 * * 1-5"}),
    ],
)  # fmt: skip
def test_timing_values_per_type(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    timing = timing_values(form(**changes))
    assert timing.items() >= expected.items()
    assert timing["timezone"] == "Europe/Riga"
    assert preview_spec(form(**changes)).schedule_type == changes["schedule_type"]


def test_wall_times_are_read_in_the_schedules_zone() -> None:
    moment = wall_time("2026-03-29 03:30", "Europe/Riga", "run_at")
    assert moment is not None and moment.utcoffset() is not None
    assert wall_time("2026-03-02 09:30+00:00", "Europe/Riga", "run_at") == datetime(
        2026, 3, 2, 9, 30, tzinfo=UTC
    )
    assert wall_time("  ", "UTC", "start_at") is None


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"interval_seconds": "10s"}, "cron_expression", "is required for cron schedules"),
        ({"schedule_type": "interval", "interval_seconds": "soon"}, "interval_seconds", "not a duration"),
        ({"schedule_type": "interval", "interval_seconds": "1.5"}, "interval_seconds", "whole number"),
        ({"schedule_type": "hourly", "minute": "x"}, "minute", "not a whole number"),
        ({"schedule_type": "once", "run_at": "tomorrow"}, "run_at", "not a date and time"),
        ({"cron_expression": "@daily", "timezone": "Mars/Base"}, "timezone", "not an IANA"),
        ({"cron_expression": "@daily", "end_at": "31.12.2026"}, "end_at", "not a date and time"),
    ],
)  # fmt: skip
def test_typos_name_their_field(changes: dict[str, Any], field: str, problem: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        timing_values(form(**changes))
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_policy_typos_name_their_field() -> None:
    with pytest.raises(ValidationFailed, match="start_deadline_seconds"):
        policy_values(form(start_deadline_seconds="later"))
    with pytest.raises(ValidationFailed, match="overlap_max: 'two' is not a whole number"):
        policy_values(form(overlap_max="two"))


def test_a_spec_needs_a_template() -> None:
    with pytest.raises(ValidationFailed, match="template"):
        schedule_spec(form(cron_expression="@daily"), None, {})
    spec = schedule_spec(form(job_identifier=" x ", cron_expression="@daily"), 3, {"n": "1"})
    assert (spec.job_identifier, spec.template, spec.job_parameters) == ("x", 3, {"n": "1"})


async def test_every_seeded_schedule_round_trips_through_the_form() -> None:
    backend = FakeBackend.seeded()
    for view in await backend.list_schedules():
        values = initial_values(view, "UTC")
        patch = schedule_patch(values, view.job_template_id, dict(view.job_parameters))
        for name in ("schedule_type", "cron_expression", "interval_seconds", "minute",
                     "time_of_day", "weekday", "day_of_month", "timezone", "is_active",
                     "catchup", "overlap", "start_deadline_seconds"):  # fmt: skip
            assert getattr(patch, name) == getattr(view, name), (view.job_identifier, name)
        assert patch.run_at == view.run_at
        assert set(patch.clear) == {"start_at", "end_at"}
        saved = await backend.update_schedule(view.id, patch)
        assert saved.next_run == view.next_run


def test_cron_problems_name_the_field_by_position() -> None:
    assert problem_text("cron_expression.hour", "'25' is out of range 0-23") == (
        "field 2 (hour): '25' is out of range 0-23"
    )
    assert problem_text("cron_expression", "has 4 fields") == "has 4 fields"
    assert problem_text("minute", "99 is out of range") == "99 is out of range"
