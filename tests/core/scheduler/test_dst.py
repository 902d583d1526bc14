"""DST end to end through the scheduler (rules 5-7, F11, F12), on a ManualClock.

Expectations are computed independently of the timing package, from zoneinfo alone: a fixed-time
daily job runs once per local day (in a gap: at the first valid instant after it; in a fold: at
the first instant); an hourly job follows real time (every real instant whose wall clock reads
:MM, so none inside a gap and two in a fold).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.clock import ManualClock

from .conftest import World

ZONES = ["Europe/Riga", "America/New_York", "Australia/Lord_Howe", "Africa/Cairo"]


def transitions(zone: ZoneInfo, year: int = 2026) -> list[tuple[datetime, timedelta]]:
    """(instant, offset change) of every DST transition in ``year``."""
    found = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    previous = t.astimezone(zone).utcoffset()
    while t.year == year:
        t += timedelta(minutes=15)
        offset = t.astimezone(zone).utcoffset()
        assert offset is not None and previous is not None
        if offset != previous:
            found.append((t, offset - previous))
        previous = offset
    return found


def transition(name: str, kind: str) -> tuple[datetime, datetime, datetime]:
    """(instant, local wall time just before, local wall time just after) of a gap or fold."""
    zone = ZoneInfo(name)
    for instant, change in transitions(zone):
        if (change > timedelta(0)) == (kind == "gap"):
            before = (instant - timedelta(microseconds=1)).astimezone(zone)
            return instant, before, instant.astimezone(zone)
    raise AssertionError(f"no {kind} in {name}")


def daily_expected(
    zone: ZoneInfo, at: time, days: list[date], gap_instant: datetime
) -> list[datetime]:
    """Once per local day: the instant itself, the gap's end, or the fold's first instant."""
    found = []
    for day in days:
        local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first instant
        instant = local.astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            instant = gap_instant  # the wall time does not exist
        found.append(instant)
    return found


def hourly_expected(zone: ZoneInfo, minute: int, start: datetime, end: datetime) -> list[datetime]:
    """Every real instant in (start, end] whose wall clock shows :minute:00."""
    found = []
    t = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t <= end:
        if t.astimezone(zone).minute == minute:
            found.append(t)
        t += timedelta(minutes=1)
    return found


def world_at(sqlite_world: World, start: datetime) -> World:
    """The world with its clock moved to ``start`` (a fresh clock, lease and scheduler)."""
    sqlite_world.clock = ManualClock(start)
    sqlite_world.templates.clock = sqlite_world.schedules.clock = sqlite_world.clock
    sqlite_world.lease = sqlite_world.new_lease("owner-dst")
    assert sqlite_world.lease.try_acquire()
    sqlite_world.scheduler = sqlite_world.new_scheduler()
    return sqlite_world


@pytest.mark.parametrize("name", ZONES)
@pytest.mark.parametrize("kind", ["gap", "fold"])
async def test_dst_transitions_end_to_end(sqlite_world: World, name: str, kind: str) -> None:
    zone = ZoneInfo(name)
    instant, before, after = transition(name, kind)
    if kind == "gap":  # wall times [before, after) do not exist; pick one inside
        wall = before + (after.replace(tzinfo=None) - before.replace(tzinfo=None)) / 2
    else:  # wall times [after, before) happen twice; pick one inside
        wall = after + (before.replace(tzinfo=None) - after.replace(tzinfo=None)) / 2
    at = time(wall.hour, wall.minute)
    start = instant - timedelta(hours=30)
    end = instant + timedelta(hours=30)
    world = world_at(sqlite_world, start)
    many = {"overlap": "allow", "overlap_max": 100}
    daily = world.schedule(
        "daily", schedule_type="daily", time_of_day=at.strftime("%H:%M"), timezone=name, **many
    )
    hourly = world.schedule(
        "hourly", schedule_type="hourly", minute=at.minute, timezone=name, **many
    )
    await world.run_until(end)

    days = sorted({d.date() for d in daily_times(world, daily.id, zone)})
    expected_days = [
        d for d in (start.astimezone(zone).date() + timedelta(days=i) for i in range(6))
        if start < daily_expected(zone, at, [d], instant)[0] <= end
    ]  # fmt: skip
    assert days == expected_days  # one run per local day, none skipped
    assert daily_times(world, daily.id, zone) == [
        t.astimezone(zone) for t in daily_expected(zone, at, expected_days, instant)
    ]
    hourly_fires = [o.scheduled_for for o in world.ledger(hourly.id)]
    assert hourly_fires == hourly_expected(zone, at.minute, start, end)
    assert {o.outcome for o in world.ledger(daily.id) + world.ledger(hourly.id)} == {"ran"}
    world.assert_complete(daily.id, hourly.id)
    if kind == "gap":
        [on_the_day] = [
            o
            for o in world.ledger(daily.id)
            if o.scheduled_for.astimezone(zone).date() == after.date()
        ]
        assert on_the_day.scheduled_for == instant  # the first valid instant after the gap
    else:  # the repeated wall time fires twice for the hourly job (real time), once daily
        walls = [f.astimezone(zone).replace(tzinfo=None) for f in hourly_fires]
        assert len(walls) - len(set(walls)) == 1


def daily_times(world: World, schedule_id: int, zone: ZoneInfo) -> list[datetime]:
    return [o.scheduled_for.astimezone(zone) for o in world.ledger(schedule_id)]
