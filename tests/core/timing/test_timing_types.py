"""Each schedule type's fire times, the window, describe() and the input helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from core.errors import ValidationFailed
from core.jobs.timing import (
    Timing,
    build_timing,
    describe,
    first_fire_at_or_after,
    next_fire_time,
    next_fire_times,
    parse_cron,
    parse_time_of_day,
    parse_weekday,
    validate_timing,
)


def utc(*args: int) -> datetime:
    """A UTC datetime."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def times(timing: Timing, after: datetime, n: int) -> list[datetime]:
    """The UTC instants of the next n fires."""
    return [f.utc for f in next_fire_times(timing, after, n)]


# --- interval -----------------------------------------------------------------------------


def test_interval_counts_from_anchor() -> None:
    timing = Timing(
        schedule_type="interval",
        timezone="UTC",
        interval_seconds=90,
        anchor_at=utc(2024, 1, 1, 0, 0, 5),
    )
    assert times(timing, utc(2024, 1, 1, 0, 3), 3) == [
        utc(2024, 1, 1, 0, 3, 5),
        utc(2024, 1, 1, 0, 4, 35),
        utc(2024, 1, 1, 0, 6, 5),
    ]


def test_interval_is_strictly_after() -> None:
    timing = Timing(
        schedule_type="interval", timezone="UTC", interval_seconds=10, anchor_at=utc(2024, 1, 1)
    )
    assert times(timing, utc(2024, 1, 1, 0, 0, 10), 1) == [utc(2024, 1, 1, 0, 0, 20)]
    assert first_fire_at_or_after(timing, utc(2024, 1, 1, 0, 0, 10)) == utc(2024, 1, 1, 0, 0, 10)


def test_interval_before_anchor_starts_at_anchor() -> None:
    timing = Timing(
        schedule_type="interval", timezone="UTC", interval_seconds=3600, anchor_at=utc(2030, 5, 5)
    )
    assert times(timing, utc(2024, 1, 1), 2) == [utc(2030, 5, 5), utc(2030, 5, 5, 1)]


def test_interval_without_anchor_uses_start_then_epoch() -> None:
    started = Timing(
        schedule_type="interval",
        timezone="UTC",
        interval_seconds=7,
        start_at=utc(2024, 1, 1, 0, 0, 3),
    )
    assert times(started, utc(2020, 1, 1), 2) == [
        utc(2024, 1, 1, 0, 0, 3),
        utc(2024, 1, 1, 0, 0, 10),
    ]
    plain = Timing(schedule_type="interval", timezone="UTC", interval_seconds=600)
    assert times(plain, utc(2024, 1, 1, 0, 1), 2) == [
        utc(2024, 1, 1, 0, 10),
        utc(2024, 1, 1, 0, 20),
    ]


def test_interval_window() -> None:
    timing = Timing(
        schedule_type="interval",
        timezone="Europe/Riga",
        interval_seconds=60,
        anchor_at=utc(2024, 1, 1),
        start_at=utc(2024, 1, 1, 0, 10, 30),
        end_at=utc(2024, 1, 1, 0, 13),
    )
    assert times(timing, utc(2024, 1, 1), 10) == [utc(2024, 1, 1, 0, m) for m in (11, 12, 13)]


# --- once ---------------------------------------------------------------------------------


def test_once_fires_once() -> None:
    run_at = datetime(2024, 6, 1, 9, 0, tzinfo=timezone(timedelta(hours=3)))
    timing = Timing(schedule_type="once", timezone="Europe/Riga", run_at=run_at)
    (fire,) = next_fire_times(timing, utc(2024, 1, 1), 5)
    assert fire.utc == utc(2024, 6, 1, 6)
    assert fire.nominal == datetime(2024, 6, 1, 9, 0) and fire.dst is None
    assert next_fire_times(timing, run_at, 5) == []
    assert next_fire_time(timing, run_at - timedelta(seconds=1)) == utc(2024, 6, 1, 6)


# --- hourly, daily, weekly, monthly -------------------------------------------------------


def test_hourly() -> None:
    timing = Timing(schedule_type="hourly", timezone="Asia/Kolkata", minute=15)
    assert times(timing, utc(2024, 1, 1), 3) == [
        utc(2024, 1, 1, 0, 45),
        utc(2024, 1, 1, 1, 45),
        utc(2024, 1, 1, 2, 45),
    ]


def test_daily_in_zone() -> None:
    timing = Timing(schedule_type="daily", timezone="Asia/Tokyo", time_of_day="9:05")
    assert timing.time_of_day == "09:05"
    assert times(timing, utc(2024, 1, 1), 2) == [utc(2024, 1, 1, 0, 5), utc(2024, 1, 2, 0, 5)]


def test_weekly_uses_monday_zero() -> None:
    timing = Timing(schedule_type="weekly", timezone="UTC", weekday=0, time_of_day="09:00")
    fires = times(timing, utc(2024, 1, 1, 9), 3)
    assert fires == [utc(2024, 1, 8, 9), utc(2024, 1, 15, 9), utc(2024, 1, 22, 9)]
    sunday = Timing(schedule_type="weekly", timezone="UTC", weekday=6, time_of_day="00:00")
    assert times(sunday, utc(2024, 1, 1), 1) == [utc(2024, 1, 7)]


@pytest.mark.parametrize(
    ("day", "after", "expected"),
    [
        (31, utc(2024, 4, 1), ["2024-04-30", "2024-05-31", "2024-06-30"]),
        (31, utc(2024, 2, 1), ["2024-02-29", "2024-03-31"]),
        (31, utc(2023, 2, 1), ["2023-02-28", "2023-03-31"]),
        (30, utc(2100, 2, 1), ["2100-02-28", "2100-03-30"]),
        (29, utc(2023, 1, 30), ["2023-02-28", "2023-03-29"]),
        (29, utc(2024, 1, 30), ["2024-02-29", "2024-03-29"]),
        (15, utc(2024, 1, 15, 12), ["2024-02-15", "2024-03-15"]),
        (1, utc(2024, 12, 31), ["2025-01-01", "2025-02-01"]),
    ],
)
def test_monthly_short_months_use_the_last_day(
    day: int, after: datetime, expected: list[str]
) -> None:
    timing = Timing(schedule_type="monthly", timezone="UTC", day_of_month=day, time_of_day="09:00")
    fires = times(timing, after, len(expected))
    assert [f"{f:%Y-%m-%d}" for f in fires] == expected
    assert all(f.hour == 9 for f in fires)


def test_cron_day_31_does_not_clamp() -> None:
    timing = Timing(schedule_type="cron", timezone="UTC", cron_expression="0 9 31 * *")
    assert [f"{f:%m-%d}" for f in times(timing, utc(2024, 4, 1), 3)] == ["05-31", "07-31", "08-31"]


# --- window and bounds --------------------------------------------------------------------


def test_window_bounds_are_inclusive() -> None:
    timing = Timing(
        schedule_type="daily",
        timezone="UTC",
        time_of_day="09:00",
        start_at=utc(2024, 1, 2, 9),
        end_at=utc(2024, 1, 4, 9),
    )
    assert times(timing, utc(2024, 1, 1), 10) == [utc(2024, 1, d, 9) for d in (2, 3, 4)]
    assert next_fire_time(timing, utc(2024, 1, 4, 9)) is None


def test_start_at_in_the_future_of_after() -> None:
    timing = Timing(
        schedule_type="cron",
        timezone="UTC",
        cron_expression="*/10 * * * *",
        start_at=utc(2024, 1, 1, 12, 5),
    )
    assert times(timing, utc(2020, 1, 1), 2) == [utc(2024, 1, 1, 12, 10), utc(2024, 1, 1, 12, 20)]


def test_n_zero_and_bad_arguments() -> None:
    timing = Timing(schedule_type="hourly", timezone="UTC", minute=0)
    assert next_fire_times(timing, utc(2024, 1, 1), 0) == []
    with pytest.raises(ValidationFailed) as info:
        next_fire_times(timing, datetime(2024, 1, 1), 1)
    assert info.value.field == "after"
    with pytest.raises(ValidationFailed) as info:
        next_fire_times(timing, utc(2024, 1, 1), -1)
    assert info.value.field == "n"


def test_end_of_datetime_range_terminates() -> None:
    timing = Timing(
        schedule_type="cron", timezone="Pacific/Kiritimati", cron_expression="0 0 29 2 *"
    )
    fires = times(timing, utc(9990, 1, 1), 10)
    assert [f.year for f in fires] == [9992, 9996]


def test_rare_and_expression_is_found_far_away() -> None:
    # Feb 29 that is also a Sunday ("*/7" keeps the AND rule): decades apart, never a loop.
    timing = Timing(schedule_type="cron", timezone="UTC", cron_expression="0 0 29 2 */7")
    fires = times(timing, utc(2024, 3, 1), 4)
    assert [f.year for f in fires] == [2032, 2060, 2088, 2128]
    assert all(f.weekday() == 6 for f in fires)


def test_fire_time_fields() -> None:
    timing = Timing(schedule_type="daily", timezone="Europe/Riga", time_of_day="09:00")
    (fire,) = next_fire_times(timing, utc(2024, 7, 1), 1)
    assert fire.utc.tzinfo is UTC and fire.utc == utc(2024, 7, 1, 6)
    assert fire.local.tzinfo is not None and str(fire.local.tzinfo) == "Europe/Riga"
    assert fire.local.hour == 9 and fire.nominal == datetime(2024, 7, 1, 9)
    assert fire.nominal.tzinfo is None and fire.dst is None


# --- the model ----------------------------------------------------------------------------


def test_timing_is_frozen_and_hashable() -> None:
    timing = Timing(schedule_type="hourly", timezone="UTC", minute=5)
    with pytest.raises(ValidationError):
        timing.minute = 6  # type: ignore[misc]
    assert hash(timing) == hash(Timing(schedule_type="hourly", timezone="UTC", minute=5))


def test_anchor_at_is_accepted_and_ignored_outside_interval() -> None:
    # The schedule service passes its start/creation time as anchor_at for every schedule.
    timing = Timing(
        schedule_type="daily", timezone="UTC", time_of_day="09:00", anchor_at=utc(2024, 1, 1, 3)
    )
    assert times(timing, utc(2024, 1, 1), 1) == [utc(2024, 1, 1, 9)]


def test_build_timing_round_trips_json() -> None:
    timing = Timing(
        schedule_type="once",
        timezone="America/New_York",
        run_at=utc(2030, 1, 1),
        end_at=utc(2031, 1, 1),
    )
    assert build_timing(timing.model_dump(mode="json")) == timing
    assert validate_timing(timing) is timing


def test_validate_timing_catches_model_construct() -> None:
    broken = Timing.model_construct(schedule_type="daily", timezone="UTC", time_of_day="24:00")
    with pytest.raises(ValidationFailed) as info:
        validate_timing(broken)
    assert info.value.field == "time_of_day"


def test_cron_spec_fields() -> None:
    spec = parse_cron("0 9 * * 7")
    assert spec.days_of_week == {0} and spec.dow_restricted and not spec.dom_restricted
    assert spec.hour_restricted and spec.minutes == {0} and spec.hours == {9}
    assert parse_cron("@hourly").hour_restricted is False
    assert parse_cron("0 0 * * 1/2").days_of_week == {0, 1, 3, 5}
    assert parse_cron("0 0 * * SUN-sat").days_of_week == set(range(7))


# --- helpers and describe() ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("mon", 0), ("Monday", 0), ("1", 0), ("tue", 1), ("Thurs", 3), ("sat", 5), ("6", 5),
     ("sun", 6), ("SUNDAY", 6), ("0", 6), ("7", 6), (" fri ", 4)],
)  # fmt: skip
def test_parse_weekday(text: str, expected: int) -> None:
    assert parse_weekday(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00", "09:00"),
        ("9:00", "09:00"),
        ("0:00", "00:00"),
        ("23:59", "23:59"),
        (" 7:30 ", "07:30"),
    ],
)
def test_parse_time_of_day(text: str, expected: str) -> None:
    assert parse_time_of_day(text) == expected


DESCRIBE = [
    ({"schedule_type": "interval", "interval_seconds": 10}, "UTC", "every 10s"),
    ({"schedule_type": "interval", "interval_seconds": 5400}, "UTC", "every 1h30m"),
    ({"schedule_type": "hourly", "minute": 15}, "UTC", "hourly at :15 (UTC)"),
    ({"schedule_type": "daily", "time_of_day": "9:00"}, "Europe/Riga", "daily at 09:00 Europe/Riga"),
    ({"schedule_type": "weekly", "weekday": 0, "time_of_day": "09:00"}, "Europe/Riga", "on Mondays at 09:00 Europe/Riga"),
    ({"schedule_type": "monthly", "day_of_month": 31, "time_of_day": "09:00"}, "Europe/Riga",
     "monthly on day 31 (or the last day) at 09:00 Europe/Riga"),
    ({"schedule_type": "monthly", "day_of_month": 15, "time_of_day": "09:00"}, "UTC", "monthly on day 15 at 09:00 UTC"),
    ({"schedule_type": "once", "run_at": utc(2030, 1, 1, 7)}, "Europe/Riga", "once at 2030-01-01 09:00 Europe/Riga"),
    ({"schedule_type": "cron", "cron_expression": "* * * * *"}, "UTC", "every minute (UTC)"),
    ({"schedule_type": "cron", "cron_expression": "*/10 * * * *"}, "UTC", "every 10 minutes (UTC)"),
    ({"schedule_type": "cron", "cron_expression": "15 * * * *"}, "UTC", "hourly at :15 (UTC)"),
    ({"schedule_type": "cron", "cron_expression": "@hourly"}, "UTC", "hourly at :00 (UTC)"),
    ({"schedule_type": "cron", "cron_expression": "30 6 * * *"}, "Asia/Tokyo", "daily at 06:30 Asia/Tokyo"),
    ({"schedule_type": "cron", "cron_expression": "0 9 * * 1-5"}, "Europe/Riga", "weekdays at 09:00 Europe/Riga"),
    ({"schedule_type": "cron", "cron_expression": "0 9 * * mon-fri"}, "Europe/Riga", "weekdays at 09:00 Europe/Riga"),
    ({"schedule_type": "cron", "cron_expression": "0 9 * * 1"}, "Europe/Riga", "on Mondays at 09:00 Europe/Riga"),
    ({"schedule_type": "cron", "cron_expression": "0 9 * * 7"}, "UTC", "on Sundays at 09:00 UTC"),
    ({"schedule_type": "cron", "cron_expression": "0 9 1 * *"}, "UTC", "monthly on day 1 at 09:00 UTC"),
    ({"schedule_type": "cron", "cron_expression": "0 9 13 * 5"}, "UTC", 'cron "0 9 13 * 5" (UTC)'),
    ({"schedule_type": "cron", "cron_expression": "*/7 * * * *"}, "UTC", 'cron "*/7 * * * *" (UTC)'),
    ({"schedule_type": "cron", "cron_expression": "0 9 * 6 *"}, "UTC", 'cron "0 9 * 6 *" (UTC)'),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "zone", "text"), DESCRIBE, ids=lambda v: str(v)[:30])
def test_describe(fields: dict[str, object], zone: str, text: str) -> None:
    assert describe(build_timing({**fields, "timezone": zone})) == text


def test_describe_window() -> None:
    timing = Timing(
        schedule_type="daily",
        timezone="Europe/Riga",
        time_of_day="09:00",
        start_at=utc(2025, 1, 1, 10),
        end_at=utc(2025, 6, 30, 21),
    )
    assert describe(timing) == (
        "daily at 09:00 Europe/Riga, from 2025-01-01 12:00, until 2025-07-01 00:00"
    )
