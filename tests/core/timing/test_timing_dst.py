"""DST rules 6 and 7: fixed-time schedules run once per local day; hourly ones follow real time."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.jobs.timing import FireTime, Timing, next_fire_times

HOUR = timedelta(hours=1)


def utc(*args: int) -> datetime:
    """A UTC datetime."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def daily(zone: str, at: str, **window: datetime) -> Timing:
    """A daily schedule, optionally with start_at/end_at."""
    return Timing(schedule_type="daily", timezone=zone, time_of_day=at, **window)


def cron(zone: str, expression: str) -> Timing:
    """A cron schedule."""
    return Timing(schedule_type="cron", timezone=zone, cron_expression=expression)


def hourly(zone: str, minute: int) -> Timing:
    """An hourly schedule."""
    return Timing(schedule_type="hourly", timezone=zone, minute=minute)


def summary(fires: list[FireTime]) -> list[tuple[str, str, str | None]]:
    """(UTC, local wall time with offset, dst flag) per fire, for readable assertions."""
    return [(f"{f.utc:%m-%d %H:%M}", f"{f.local:%m-%d %H:%M%z}", f.dst) for f in fires]


def test_zone_data_has_the_transitions_these_tests_use() -> None:
    # If a tzdata update moves these, the dates below need updating too; fail clearly here.
    def offset(zone: str, instant: datetime) -> timedelta | None:
        return instant.astimezone(ZoneInfo(zone)).utcoffset()

    assert offset("Europe/Riga", utc(2024, 3, 31, 0, 59)) == 2 * HOUR
    assert offset("Europe/Riga", utc(2024, 3, 31, 1)) == 3 * HOUR
    assert offset("Europe/Riga", utc(2024, 10, 27, 1)) == 2 * HOUR
    assert offset("Australia/Lord_Howe", utc(2024, 10, 5, 15, 30)) == timedelta(hours=11)
    assert offset("Australia/Lord_Howe", utc(2024, 4, 6, 15)) == timedelta(hours=10, minutes=30)
    assert offset("Africa/Cairo", utc(2026, 4, 23, 21, 59)) == 2 * HOUR
    assert offset("Africa/Cairo", utc(2026, 4, 23, 22)) == 3 * HOUR
    assert offset("Africa/Cairo", utc(2026, 10, 29, 21)) == 2 * HOUR


# (zone, time, after, expected fires around the transition)
FIXED_CASES = [
    # Riga spring forward: 03:00 -> 04:00 on the last Sunday of March.
    ("Europe/Riga", "03:30", utc(2024, 3, 30), [
        ("03-30 01:30", "03-30 03:30+0200", None),
        ("03-31 01:00", "03-31 04:00+0300", "gap"),
        ("04-01 00:30", "04-01 03:30+0300", None),
    ]),
    # Riga fall back: 04:00 -> 03:00 on the last Sunday of October; 03:30 happens twice.
    ("Europe/Riga", "03:30", utc(2024, 10, 26), [
        ("10-26 00:30", "10-26 03:30+0300", None),
        ("10-27 00:30", "10-27 03:30+0300", "fold"),
        ("10-28 01:30", "10-28 03:30+0200", None),
    ]),
    ("America/New_York", "02:30", utc(2024, 3, 9), [
        ("03-09 07:30", "03-09 02:30-0500", None),
        ("03-10 07:00", "03-10 03:00-0400", "gap"),
        ("03-11 06:30", "03-11 02:30-0400", None),
    ]),
    ("America/New_York", "01:30", utc(2024, 11, 2), [
        ("11-02 05:30", "11-02 01:30-0400", None),
        ("11-03 05:30", "11-03 01:30-0400", "fold"),
        ("11-04 06:30", "11-04 01:30-0500", None),
    ]),
    # Lord Howe moves by 30 minutes: 02:00 -> 02:30 on the first Sunday of October ...
    ("Australia/Lord_Howe", "02:15", utc(2024, 10, 4), [
        ("10-04 15:45", "10-05 02:15+1030", None),
        ("10-05 15:30", "10-06 02:30+1100", "gap"),
        ("10-06 15:15", "10-07 02:15+1100", None),
    ]),
    # ... and 02:00 -> 01:30 on the first Sunday of April.
    ("Australia/Lord_Howe", "01:45", utc(2024, 4, 5), [
        ("04-05 14:45", "04-06 01:45+1100", None),
        ("04-06 14:45", "04-07 01:45+1100", "fold"),
        ("04-07 15:15", "04-08 01:45+1030", None),
    ]),
    # Cairo springs forward at midnight (00:00 -> 01:00, last Friday of April) ...
    ("Africa/Cairo", "00:30", utc(2026, 4, 22, 20), [
        ("04-22 22:30", "04-23 00:30+0200", None),
        ("04-23 22:00", "04-24 01:00+0300", "gap"),
        ("04-24 21:30", "04-25 00:30+0300", None),
    ]),
    # ... and falls back at the end of the last Thursday of October (24:00 -> 23:00).
    ("Africa/Cairo", "23:30", utc(2026, 10, 28), [
        ("10-28 20:30", "10-28 23:30+0300", None),
        ("10-29 20:30", "10-29 23:30+0300", "fold"),
        ("10-30 21:30", "10-30 23:30+0200", None),
    ]),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "at", "after", "expected"), FIXED_CASES)
def test_daily_across_transition(
    zone: str, at: str, after: datetime, expected: list[tuple[str, str, str | None]]
) -> None:
    assert summary(next_fire_times(daily(zone, at), after, 3)) == expected


@pytest.mark.parametrize(("zone", "at", "after", "expected"), FIXED_CASES)
def test_cron_with_fixed_hour_across_transition(
    zone: str, at: str, after: datetime, expected: list[tuple[str, str, str | None]]
) -> None:
    hour, minute = at.split(":")
    timing = cron(zone, f"{int(minute)} {int(hour)} * * *")
    assert summary(next_fire_times(timing, after, 3)) == expected


@pytest.mark.parametrize("zone", ["Europe/Riga", "America/New_York", "Australia/Lord_Howe"])
@pytest.mark.parametrize("year", [2024, 2026])
@pytest.mark.parametrize("at", ["00:30", "01:30", "02:00", "02:15", "02:30", "03:00", "03:30"])
def test_fixed_time_runs_exactly_once_every_local_day(zone: str, year: int, at: str) -> None:
    tz = ZoneInfo(zone)
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz) - timedelta(microseconds=1)
    timing = daily(zone, at, start_at=start, end_at=end)
    fires = next_fire_times(timing, start - timedelta(seconds=1), 1000)
    days = Counter(f.local.date() for f in fires)
    expected_days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    assert len(fires) == expected_days
    assert len(days) == expected_days and set(days.values()) == {1}
    assert all(a.utc < b.utc for a, b in itertools.pairwise(fires))
    assert Counter(f.dst for f in fires)[None] >= expected_days - 2


@pytest.mark.parametrize("zone", ["Africa/Cairo"])
@pytest.mark.parametrize("at", ["00:00", "00:30", "00:59", "23:00", "23:30"])
def test_cairo_midnight_transitions_once_per_day(zone: str, at: str) -> None:
    tz = ZoneInfo(zone)
    start = datetime(2026, 1, 1, tzinfo=tz)
    end = datetime(2027, 1, 1, tzinfo=tz) - timedelta(microseconds=1)
    timing = daily(zone, at, start_at=start, end_at=end)
    fires = next_fire_times(timing, start - timedelta(seconds=1), 1000)
    assert len(fires) == 365
    assert len({f.nominal.date() for f in fires}) == 365
    assert len({f.local.date() for f in fires}) == 365


def test_several_nominal_times_in_one_gap_collapse_into_one_fire() -> None:
    fires = next_fire_times(cron("Europe/Riga", "0,20,40 3 * * *"), utc(2024, 3, 30, 12), 4)
    assert summary(fires) == [
        ("03-31 01:00", "03-31 04:00+0300", "gap"),
        ("04-01 00:00", "04-01 03:00+0300", None),
        ("04-01 00:20", "04-01 03:20+0300", None),
        ("04-01 00:40", "04-01 03:40+0300", None),
    ]
    assert fires[0].nominal == datetime(2024, 3, 31, 3, 0)


def test_gap_fire_and_a_real_fire_at_the_same_instant_run_once() -> None:
    fires = next_fire_times(cron("Europe/Riga", "0,30 3,4 * * *"), utc(2024, 3, 30, 12), 3)
    assert summary(fires) == [
        ("03-31 01:00", "03-31 04:00+0300", "gap"),
        ("03-31 01:30", "03-31 04:30+0300", None),
        ("04-01 00:00", "04-01 03:00+0300", None),
    ]


def test_hourly_across_fold_fires_at_both_instants() -> None:
    fires = next_fire_times(hourly("Europe/Riga", 15), utc(2024, 10, 26, 23), 4)
    assert summary(fires) == [
        ("10-26 23:15", "10-27 02:15+0300", None),
        ("10-27 00:15", "10-27 03:15+0300", "fold"),
        ("10-27 01:15", "10-27 03:15+0200", "fold"),
        ("10-27 02:15", "10-27 04:15+0200", None),
    ]
    assert [f.local.fold for f in fires] == [0, 0, 1, 0]
    assert fires[1].nominal == fires[2].nominal == datetime(2024, 10, 27, 3, 15)


def test_hourly_across_gap_skips_the_missing_hour() -> None:
    fires = next_fire_times(hourly("Europe/Riga", 15), utc(2024, 3, 31), 3)
    assert summary(fires) == [
        ("03-31 00:15", "03-31 02:15+0200", None),
        ("03-31 01:15", "03-31 04:15+0300", None),
        ("03-31 02:15", "03-31 05:15+0300", None),
    ]


@pytest.mark.parametrize(
    ("zone", "after", "has_fold"),
    [
        ("Europe/Riga", utc(2024, 3, 30, 12), False),
        ("Europe/Riga", utc(2024, 10, 26, 12), True),
        ("America/New_York", utc(2024, 3, 9, 12), False),
        ("America/New_York", utc(2024, 11, 2, 12), True),
        ("Australia/Lord_Howe", utc(2024, 4, 6), True),
        ("Australia/Lord_Howe", utc(2024, 10, 5), False),
        ("Africa/Cairo", utc(2026, 4, 23, 12), False),
        ("Africa/Cairo", utc(2026, 10, 29, 12), True),
    ],
)
def test_real_time_schedules_follow_the_clock(zone: str, after: datetime, has_fold: bool) -> None:
    # Every 30 minutes by the wall clock is every 30 minutes of real time across a
    # 1-hour shift, and also across Lord Howe's 30-minute shift.
    fires = next_fire_times(cron(zone, "*/30 * * * *"), after, 60)
    gaps = {b.utc - a.utc for a, b in itertools.pairwise(fires)}
    assert gaps == {timedelta(minutes=30)}
    assert any(f.dst == "fold" for f in fires) == has_fold
    assert all(f.dst != "gap" for f in fires)
    # Across a gap the wall clock jumps: one day of local time has fewer slots.
    shift = fires[-1].local.utcoffset() - fires[0].local.utcoffset()  # type: ignore[operator]
    assert (shift < timedelta(0)) == has_fold


def test_lord_howe_every_minute_in_fold_is_ordered_by_utc() -> None:
    fires = next_fire_times(cron("Australia/Lord_Howe", "* * * * *"), utc(2024, 4, 6, 14, 29), 62)
    assert [f.utc for f in fires] == [
        utc(2024, 4, 6, 14, 30) + timedelta(minutes=i) for i in range(62)
    ]
    folds = [f for f in fires if f.dst == "fold"]
    assert len(folds) == 60  # 01:30..01:59 twice
    assert sum(f.local.fold for f in folds) == 30


def test_weekly_and_monthly_on_a_gap_day() -> None:
    weekly = Timing(schedule_type="weekly", timezone="Europe/Riga", weekday=6, time_of_day="03:15")
    monthly = Timing(
        schedule_type="monthly", timezone="Europe/Riga", day_of_month=31, time_of_day="03:15"
    )
    for timing in (weekly, monthly):
        (fire,) = next_fire_times(timing, utc(2024, 3, 30), 1)
        assert (fire.utc, fire.dst) == (utc(2024, 3, 31, 1), "gap")
        assert fire.nominal == datetime(2024, 3, 31, 3, 15)


def test_interval_ignores_dst() -> None:
    timing = Timing(
        schedule_type="interval",
        timezone="Europe/Riga",
        interval_seconds=3600,
        anchor_at=utc(2024, 10, 26, 22, 30),
    )
    fires = next_fire_times(timing, utc(2024, 10, 26, 23), 4)
    assert [f.utc for f in fires] == [utc(2024, 10, 26, 23, 30) + i * HOUR for i in range(4)]
    assert all(f.dst is None for f in fires)
    assert [f"{f.local:%H:%M%z}" for f in fires] == [
        "02:30+0300",
        "03:30+0300",
        "03:30+0200",
        "04:30+0200",
    ]
