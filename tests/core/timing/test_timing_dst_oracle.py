"""Fire times around every DST transition of several zones, against a brute-force oracle.

The oracle scans real time minute by minute and reads the wall clock, which needs no DST logic:

* a fixed-time occurrence at wall time W fires at the first instant whose wall clock has
  reached W (the first pass in a fold, the end of the gap in a gap); equal instants count once;
* a real-time (hourly and finer) schedule fires at every instant whose wall clock matches.
"""

from __future__ import annotations

import bisect
import functools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.jobs.timing import Timing, next_fire_times

MINUTE = timedelta(minutes=1)
# Zones with unusual transitions: 30- and 60-minute shifts, midnight gaps and folds (Cairo,
# Santiago, Havana), negative DST (Dublin), a 2-hour shift (Troll), a 3-hour fold (Casey 2010).
ZONES = [
    ("Europe/Riga", 2024),
    ("America/New_York", 2024),
    ("Australia/Lord_Howe", 2024),
    ("Africa/Cairo", 2026),
    ("America/Santiago", 2024),
    ("America/Havana", 2024),
    ("Europe/Dublin", 2024),
    ("Antarctica/Troll", 2024),
    ("Pacific/Chatham", 2024),
    ("Antarctica/Casey", 2010),
]


def transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """The instants (to the hour) where the zone's UTC offset changes in ``year``."""
    found = []
    instant = datetime(year, 1, 1, tzinfo=UTC)
    offset = instant.astimezone(zone).utcoffset()
    while instant.year == year:
        instant += timedelta(hours=1)
        current = instant.astimezone(zone).utcoffset()
        if current != offset:
            found.append(instant)
            offset = current
    return found


@functools.cache
def scans(name: str, year: int, hours_before: int) -> list[Scan]:
    """One scan per transition of the zone in ``year``, starting ``hours_before`` it (cached)."""
    zone = ZoneInfo(name)
    found = transitions(zone, year)
    assert found, f"{name} has no transitions in {year}"
    return [Scan(zone, t - timedelta(hours=hours_before)) for t in found]


class Scan:
    """Every minute from ``start`` for four days, with its wall-clock reading."""

    def __init__(self, zone: ZoneInfo, start: datetime) -> None:
        self.start = start
        self.end = start + timedelta(days=4)
        self.instants = [start + i * MINUTE for i in range(4 * 1440 + 1)]
        self.walls = [i.astimezone(zone).replace(tzinfo=None) for i in self.instants]
        self.reached = list(self.walls)
        for index in range(1, len(self.reached)):
            self.reached[index] = max(self.reached[index], self.reached[index - 1])

    def fixed(self, times: list[time]) -> list[datetime]:
        """Fires of a fixed-time rule at ``times`` on every day the scan covers."""
        fires = set()
        day = self.walls[0].date()
        while day <= self.walls[-1].date():
            for at in times:
                index = bisect.bisect_left(self.reached, datetime.combine(day, at))
                if 0 < index < len(self.instants):  # inside the scan on both sides
                    fires.add(self.instants[index])
            day += timedelta(days=1)
        return sorted(f for f in fires if f > self.start)

    def real_time(self, minutes: set[int]) -> list[datetime]:
        """Fires of an every-hour rule at ``minutes`` past each hour."""
        return [
            i for i, w in zip(self.instants[1:], self.walls[1:], strict=True) if w.minute in minutes
        ]


def check(timing: Timing, scan: Scan, oracle: list[datetime]) -> None:
    """jobdeck's fires equal the oracle's, up to six hours before the end of the scan."""
    expected = [f for f in oracle if f <= scan.end - timedelta(hours=6)]
    fires = [f.utc for f in next_fire_times(timing, scan.start, len(expected) + 1)]
    assert fires[: len(expected)] == expected
    assert len(fires) == len(expected) + 1 and fires[-1] > expected[-1]


@pytest.mark.parametrize(("name", "year"), ZONES)
def test_daily_matches_oracle_at_every_quarter_hour(name: str, year: int) -> None:
    for scan in scans(name, year, 48):
        for quarter in range(96):
            at = time(quarter // 4, 15 * (quarter % 4))
            timing = Timing(schedule_type="daily", timezone=name, time_of_day=f"{at:%H:%M}")
            check(timing, scan, scan.fixed([at]))


@pytest.mark.parametrize(("name", "year"), ZONES)
def test_fixed_cron_lists_match_oracle(name: str, year: int) -> None:
    timing = Timing(schedule_type="cron", timezone=name, cron_expression="*/20 0-4,22-23 * * *")
    times = [time(h, m) for h in (0, 1, 2, 3, 4, 22, 23) for m in (0, 20, 40)]
    for scan in scans(name, year, 48):
        check(timing, scan, scan.fixed(times))


@pytest.mark.parametrize(("name", "year"), ZONES)
@pytest.mark.parametrize(
    ("expression", "minutes"),
    [("*/15 * * * *", {0, 15, 30, 45}), ("45 * * * *", {45}), ("0,30 * * * *", {0, 30})],
)
def test_real_time_cron_matches_oracle(
    name: str, year: int, expression: str, minutes: set[int]
) -> None:
    timing = Timing(schedule_type="cron", timezone=name, cron_expression=expression)
    for scan in scans(name, year, 30):
        check(timing, scan, scan.real_time(minutes))


@pytest.mark.parametrize(("name", "year"), ZONES)
@pytest.mark.parametrize("minute", [0, 15, 30, 59])
def test_hourly_matches_oracle(name: str, year: int, minute: int) -> None:
    timing = Timing(schedule_type="hourly", timezone=name, minute=minute)
    for scan in scans(name, year, 30):
        check(timing, scan, scan.real_time({minute}))


@pytest.mark.parametrize(("name", "year"), ZONES)
@pytest.mark.parametrize(
    ("expression", "minutes", "times"),
    [
        ("*/15 * * * *", {0, 15, 30, 45}, None),
        (
            "*/20 0-4,22-23 * * *",
            None,
            [time(h, m) for h in (0, 1, 2, 3, 4, 22, 23) for m in (0, 20, 40)],
        ),
    ],
)
def test_searches_starting_near_a_transition_match_oracle(
    name: str, year: int, expression: str, minutes: set[int] | None, times: list[time] | None
) -> None:
    # A search far from a transition skips the DST look-back and reorder margin; one that
    # starts a few hours (or minutes) before or after a transition must still keep them.
    timing = Timing(schedule_type="cron", timezone=name, cron_expression=expression)
    for scan in scans(name, year, 48):
        oracle = scan.real_time(minutes) if minutes is not None else scan.fixed(times or [])
        transition = scan.start + timedelta(hours=48)
        after = transition - timedelta(hours=8)
        while after < transition + timedelta(hours=8):
            expected = [f for f in oracle if f > after][:3]
            fires = [f.utc for f in next_fire_times(timing, after, 3)]
            assert fires == expected, f"searching after {after}"
            after += timedelta(minutes=7)
