"""Fire times of a Timing: pure functions applying jobdeck's DST rules (see ``wallclock``).

Wall-clock schedules (cron, hourly, daily, weekly, monthly) first produce nominal wall times in
the schedule's zone, walking only the days that can match (months outside the rule are skipped
whole), and then map each one to instants. Fixed-time rules (daily, weekly, monthly and cron with
a restricted hour field) move out of gaps and fire once in folds; hourly and cron whose hour field
starts with ``*`` follow real time. Interval and once schedules are plain UTC arithmetic.
"""

from __future__ import annotations

import calendar
import functools
import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.errors import ValidationFailed
from core.jobs.timing.cron import parse_cron
from core.jobs.timing.timing import Timing, time_parts, validate_timing
from core.jobs.timing.wallclock import FireTime, local_fire, wall_fires

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A later wall time never has an earlier first instant than an earlier wall time (only second
# passes through a fold come "late", and they are held in the heap), so fires below the newest
# first instant are final. The margin is slack on top of that; it is also the least look-back
# before the bound's wall time (a fold repeats up to its length of earlier wall times).
_REORDER_MARGIN = timedelta(hours=3)
_DAY = timedelta(days=1)
# Give up after this many years without a single matching day. A validated spec always matches
# sooner (Feb 29 on a given weekday recurs within ~40 years), so this only guards against bugs.
_GUARD_YEARS = 400
_LAST_DAY = date(9999, 12, 30)
_ALL_MONTHS = frozenset(range(1, 13))
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class _WallRule:
    """Nominal wall times: matching days (in allowed months) times hours times minutes."""

    months: frozenset[int]
    day_matches: Callable[[date], bool]
    hours: tuple[int, ...]
    minutes: tuple[int, ...]
    real_time: bool


def next_fire_times(t: Timing, after: datetime, n: int) -> list[FireTime]:
    """Up to ``n`` fires strictly after ``after`` (aware), in UTC order, inside the window."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValidationFailed("n", f"{n!r} must be a whole number of at least 0")
    if after.utcoffset() is None:
        raise ValidationFailed("after", "must include a timezone or UTC offset (it is naive)")
    zone, rule = _prepared(t)
    if n == 0:
        return []
    if t.schedule_type == "once":
        return _once(t, zone, after)
    if t.schedule_type == "interval":
        return _interval(t, zone, after, n)
    assert rule is not None
    return _wall(t, rule, zone, after, n)


def _prepare(t: Timing) -> tuple[ZoneInfo, _WallRule | None]:
    """Validate a Timing (it may come from ``model_construct``); its zone and wall rule."""
    validate_timing(t)
    wall = t.schedule_type not in ("once", "interval")
    return ZoneInfo(t.timezone), _rule(t) if wall else None


# A scheduler asks for the fire times of the same Timing again and again; validating it and
# building its rule each time cost more than the search itself. Timings are frozen, so one
# preparation serves every search (sized like the scheduler's trigger memo); a Timing that
# fails validation raises and is not cached.
_prepare_cached = functools.lru_cache(maxsize=32_768)(_prepare)


def _prepared(t: Timing) -> tuple[ZoneInfo, _WallRule | None]:
    try:
        hash(t)
    except TypeError:  # a model_construct'ed Timing holding an unhashable value
        return _prepare(t)
    return _prepare_cached(t)


def next_fire_time(t: Timing, after: datetime) -> datetime | None:
    """The first fire strictly after ``after``, as an aware UTC datetime, or None."""
    fires = next_fire_times(t, after, 1)
    return fires[0].utc if fires else None


def first_fire_at_or_after(t: Timing, at: datetime) -> datetime | None:
    """The first fire at or after ``at`` (aware UTC), or None; datetimes resolve to 1 us."""
    if at.utcoffset() is None:
        raise ValidationFailed("at", "must include a timezone or UTC offset (it is naive)")
    try:
        before = at - _MICROSECOND
    except OverflowError:
        before = at
    return next_fire_time(t, before)


def _in_window(t: Timing, instant: datetime, after: datetime) -> bool:
    """Strictly after ``after`` and inside [start_at, end_at]."""
    return (
        instant > after
        and (t.start_at is None or instant >= t.start_at)
        and (t.end_at is None or instant <= t.end_at)
    )


def _once(t: Timing, zone: ZoneInfo, after: datetime) -> list[FireTime]:
    """The single run_at, if it is still ahead and inside the window."""
    assert t.run_at is not None  # guaranteed by validation
    return [local_fire(t.run_at, zone)] if _in_window(t, t.run_at, after) else []


def _interval(t: Timing, zone: ZoneInfo, after: datetime, n: int) -> list[FireTime]:
    """anchor + k * interval for k >= 0, in exact integer microseconds (no DST effect)."""
    assert t.interval_seconds is not None  # guaranteed by validation
    anchor = t.anchor_at or t.start_at or _EPOCH
    step = timedelta(seconds=t.interval_seconds)
    lower = after if t.start_at is None else max(after, t.start_at - _MICROSECOND)
    index = 0 if lower < anchor else (lower - anchor) // step + 1
    fires: list[FireTime] = []
    try:
        while len(fires) < n:
            instant = (anchor + step * index).astimezone(UTC)
            index += 1
            if t.end_at is not None and instant > t.end_at:
                break
            if _in_window(t, instant, after):
                fires.append(local_fire(instant, zone))
    except OverflowError:
        pass  # ran past year 9999
    return fires


def _rule(t: Timing) -> _WallRule:
    """Express the wall-clock schedule types as one shape of rule."""
    if t.schedule_type == "cron":
        assert t.cron_expression is not None  # guaranteed by validation
        spec = parse_cron(t.cron_expression)
        return _WallRule(
            spec.months,
            spec.matches_date,
            tuple(sorted(spec.hours)),
            tuple(sorted(spec.minutes)),
            real_time=not spec.hour_restricted,
        )
    if t.schedule_type == "hourly":
        assert t.minute is not None
        return _WallRule(_ALL_MONTHS, _every_day, tuple(range(24)), (t.minute,), real_time=True)
    assert t.time_of_day is not None
    hour, minute = time_parts(t.time_of_day)
    matches: Callable[[date], bool] = _every_day
    if t.schedule_type == "weekly":
        assert t.weekday is not None
        matches = _on_weekday(t.weekday)
    elif t.schedule_type == "monthly":
        assert t.day_of_month is not None
        matches = _on_month_day(t.day_of_month)
    return _WallRule(_ALL_MONTHS, matches, (hour,), (minute,), real_time=False)


def _every_day(day: date) -> bool:
    """Daily and hourly rules match every date."""
    return True


def _on_weekday(weekday: int) -> Callable[[date], bool]:
    """Match one weekday (0 = Monday)."""
    return lambda day: day.weekday() == weekday


def _on_month_day(wanted: int) -> Callable[[date], bool]:
    """Match day ``wanted``, or the last day of a month that is shorter (the stated rule)."""
    return lambda day: day.day == min(wanted, calendar.monthrange(day.year, day.month)[1])


def _nominal_times(rule: _WallRule, start: datetime) -> Iterator[datetime]:
    """Matching naive wall times at or after ``start``, in order, skipping non-matching months."""
    year, month, day = start.year, start.month, start.day
    last_match = first = start.date()
    while (year, month) <= (_LAST_DAY.year, _LAST_DAY.month):
        if month in rule.months:
            for number in range(day, calendar.monthrange(year, month)[1] + 1):
                current = date(year, month, number)
                if current > _LAST_DAY:
                    return
                if rule.day_matches(current):
                    last_match = current
                    for hour in rule.hours:
                        if current == first and hour < start.hour:
                            continue  # earlier on the first day: skip without building times
                        for minute in rule.minutes:
                            wall = datetime(year, month, number, hour, minute)
                            if current > first or wall >= start:
                                yield wall
        if year - last_match.year > _GUARD_YEARS:
            return
        year, month, day = (year + 1, 1, 1) if month == 12 else (year, month + 1, 1)


def _look_back(lower: datetime, zone: ZoneInfo) -> timedelta:
    """How far before the bound's wall time to start: a coming fold repeats that much wall time.

    Usually 1-2 h (or Lord Howe's 30 min); some Antarctic stations shifted by 3-7 h at once.
    """
    try:
        now, later = (instant.astimezone(zone).utcoffset() for instant in (lower, lower + _DAY))
    except OverflowError:
        return _REORDER_MARGIN
    if now is None or later is None:
        return _REORDER_MARGIN
    return max(_REORDER_MARGIN, now - later)


class _SteadyOffset:
    """How far the zone keeps the UTC offset it has ``_REORDER_MARGIN`` before a start instant.

    The look-back and the reorder margin only matter near a transition: where the offset is the
    same from well before an instant to well after it, wall times map to instants one to one and
    in order. zoneinfo exposes no transition table, so the offset is probed hour by hour, only as
    far as the walk needs (no zone changes its offset twice within an hour).
    """

    _PROBE = timedelta(hours=1)
    #: Probing further ahead than this at once gives up: the margins cost a rule with hours
    #: between its fires only a nominal time or two, while probing a day ahead costs 24 probes.
    _REACH = timedelta(hours=7)

    def __init__(self, zone: ZoneInfo, start: datetime) -> None:
        self.zone = zone
        self.broken = False
        self.offset: timedelta | None = None
        try:
            self.until = start - _REORDER_MARGIN
            self.offset = self.until.astimezone(zone).utcoffset()
        except OverflowError:
            self.until = start
            self.broken = True

    def covers(self, instant: datetime, span: timedelta) -> bool:
        """True when the offset is unchanged from the start's look-back to ``instant + span``."""
        try:
            end = instant + span
            if not self.broken and end - self.until > self._REACH:
                self.broken = True
            while not self.broken and self.until < end:
                probe = self.until + self._PROBE
                if probe.astimezone(self.zone).utcoffset() != self.offset:
                    self.broken = True  # a transition lies ahead: keep the margins from here on
                else:
                    self.until = probe
        except OverflowError:
            self.broken = True
        return not self.broken


def _wall(t: Timing, rule: _WallRule, zone: ZoneInfo, after: datetime, n: int) -> list[FireTime]:
    """Map nominal times to fires, release them in UTC order, keep one fire per instant."""
    lower = after if t.start_at is None else max(after, t.start_at)
    local = lower.astimezone(zone).replace(tzinfo=None)
    back = _look_back(lower, zone)
    steady = _SteadyOffset(zone, lower)
    if steady.covers(lower, back):
        start = local  # no fold ahead can repeat wall times before the bound
    else:
        start = local - back if local > datetime.min + back else datetime.min
    pending: list[tuple[datetime, int, FireTime]] = []
    fires: list[FireTime] = []
    sequence = 0

    def release(upto: datetime | None) -> None:
        while pending and len(fires) < n and (upto is None or pending[0][0] < upto):
            fire = heapq.heappop(pending)[2]
            # Several nominal times in one gap share an instant: the first one stands for all.
            if _in_window(t, fire.utc, after) and (not fires or fire.utc != fires[-1].utc):
                fires.append(fire)

    try:
        for nominal in _nominal_times(rule, start):
            new = wall_fires(nominal, zone, real_time=rule.real_time)
            if not new:
                continue  # a real-time nominal inside a gap
            first = new[0].utc
            # Fires below the newest first instant are final; the margin is slack for the
            # irregular mappings near a transition, needless where the offset is steady.
            steady_here = steady.covers(first, _REORDER_MARGIN)
            watermark = first if steady_here else first - _REORDER_MARGIN
            release(watermark)
            if len(fires) >= n or (t.end_at is not None and watermark > t.end_at):
                break
            for fire in new:
                heapq.heappush(pending, (fire.utc, sequence, fire))
                sequence += 1
    except OverflowError:
        pass  # the edges of datetime's range (years 1 and 9999); nothing sensible lies beyond
    release(None)
    return fires
