"""A schedule's timing in words for tables: "weekdays at 09:00 Europe/Riga", "every 10 s".

Pure functions over the timing fields of a schedule (a ScheduleView, a ScheduleSpec, a form's
values). They never raise: a cron expression that does not parse, or a type whose fields are
missing, is shown as it is, so a table of schedules always has something to say.

(The module is not called describe.py: importing it would replace the package's own
``core.jobs.timing.describe`` function, which the scheduler and the views use.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from core.errors import ValidationFailed
from core.jobs.timing.cron import CronSpec, parse_cron
from core.jobs.timing.wallclock import load_zone

#: Weekday names in the timing model's numbering (0 = Monday .. 6 = Sunday).
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_ABBREVIATIONS = (
    *("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
    *("Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)
#: (seconds, unit) from the largest: intervals read as "every 1 h 30 min".
_INTERVAL_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))
_SINGULAR_INTERVALS = {1: "every second", 60: "every minute", 3600: "every hour"}
_ALL_MINUTES = frozenset(range(60))
_ALL_HOURS = frozenset(range(24))
_ALL_MONTHS = frozenset(range(1, 13))
#: More fixed times than this in a day read better as the expression itself.
_MAX_LISTED_TIMES = 4


class TimingFields(Protocol):
    """Anything carrying a schedule's timing fields (ScheduleView, ScheduleSpec, ...)."""

    @property
    def schedule_type(self) -> str: ...
    @property
    def cron_expression(self) -> str | None: ...
    @property
    def interval_seconds(self) -> int | None: ...
    @property
    def run_at(self) -> datetime | None: ...
    @property
    def minute(self) -> int | None: ...
    @property
    def time_of_day(self) -> str | None: ...
    @property
    def weekday(self) -> int | None: ...
    @property
    def day_of_month(self) -> int | None: ...
    @property
    def timezone(self) -> str | None: ...


def describe_schedule(timing: TimingFields) -> str:
    """Human text for a schedule's timing, in its own zone ("Mondays at 08:30 UTC")."""
    zone = timing.timezone or ""
    kind = timing.schedule_type
    text: str | None = None
    if kind == "cron" and timing.cron_expression:
        text = describe_cron(timing.cron_expression)
        zone_free = not text.startswith("cron ") and _zone_free_cron(timing.cron_expression)
        return _with_zone(text, zone, zone_free)
    if kind == "interval" and timing.interval_seconds:
        return describe_interval(timing.interval_seconds)
    if kind == "once" and timing.run_at is not None:
        text = f"once at {_wall_time(timing.run_at, zone)}"
    elif kind == "hourly" and timing.minute is not None:
        text = f"every hour at :{timing.minute:02d}"
    elif timing.time_of_day:
        text = _fixed_time(timing, timing.time_of_day)
    if text is None:
        return f"{kind} (incomplete)"
    return _with_zone(text, zone, zone_free=False)


def _fixed_time(timing: TimingFields, at: str) -> str | None:
    """Daily, weekly and monthly: a day rule and a wall time."""
    if timing.schedule_type == "daily":
        return f"daily at {at}"
    if timing.schedule_type == "weekly" and timing.weekday in range(7):
        return f"{DAY_NAMES[timing.weekday or 0]}s at {at}"
    if timing.schedule_type == "monthly" and timing.day_of_month is not None:
        clamp = " (or the last day)" if timing.day_of_month > 28 else ""
        return f"monthly on day {timing.day_of_month}{clamp} at {at}"
    return None


def describe_interval(seconds: int) -> str:
    """ "every 10 s", "every 1 h 30 min", "every hour"."""
    if seconds in _SINGULAR_INTERVALS:
        return _SINGULAR_INTERVALS[seconds]
    parts = []
    rest = seconds
    for size, unit in _INTERVAL_UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {unit}")
    return f"every {' '.join(parts)}"


def describe_cron(expression: str) -> str:
    """A crontab expression in words where it has a common shape, else "cron <expression>"."""
    verbatim = f"cron {' '.join(expression.split())}"
    try:
        spec = parse_cron(expression)
    except ValidationFailed:
        return verbatim
    return _cron_text(spec) or verbatim


def _cron_text(spec: CronSpec) -> str | None:
    """Compose "<days> at <times>" or "<frequency><on days>"; None for uncommon shapes."""
    days = _cron_days(spec)
    if days is None:
        return None
    before_times, after_frequency = days
    times = _fixed_times(spec)
    if times is not None:
        return f"{before_times} at {times}"
    frequency = _frequency(spec)
    return None if frequency is None else f"{frequency}{after_frequency}"


def _cron_days(spec: CronSpec) -> tuple[str, str] | None:
    """The day rule, worded to go before fixed times and after a frequency.

    ("daily", ""), ("weekdays", " on weekdays"), ("monthly on day 1", " on day 1 of the
    month"), ... ; None when the rule has no short wording (crontab's OR of both day fields).
    """
    if spec.dom_restricted and spec.dow_restricted:
        return None
    if spec.dow_restricted:
        if spec.months != _ALL_MONTHS:
            return None
        days = _weekday_set(spec.days_of_week)
        return ("daily", "") if not days else (days, f" on {days}")
    if spec.dom_restricted:
        if len(spec.days_of_month) != 1:
            return None
        (day,) = spec.days_of_month
        # cron never moves a day to the month's end (the monthly type does)
        note = " (skipped in shorter months)" if day > 28 else ""
        if spec.months == _ALL_MONTHS:
            return f"monthly on day {day}{note}", f" on day {day} of the month{note}"
        if len(spec.months) == 1:
            (month,) = spec.months
            date = f"{MONTH_ABBREVIATIONS[month - 1]} {day}"
            return f"yearly on {date}", f" on {date}"
        return None
    return ("daily", "") if spec.months == _ALL_MONTHS else None


def _weekday_set(cron_days: frozenset[int]) -> str:
    """Cron weekdays (0 = Sunday) as "weekdays", "weekends", "Mondays and Thursdays"."""
    if cron_days == frozenset(range(1, 6)):
        return "weekdays"
    if cron_days == frozenset({0, 6}):
        return "weekends"
    if len(cron_days) == 7:
        return ""
    # Monday first, as the week is read in the timing model.
    names = [f"{DAY_NAMES[(day - 1) % 7]}s" for day in sorted(cron_days, key=lambda d: (d - 1) % 7)]
    return _join(names)


def _fixed_times(spec: CronSpec) -> str | None:
    """ "09:00" or "09:00 and 17:00" when the expression fires at a few wall times a day."""
    if len(spec.minutes) != 1 or not spec.hour_restricted:
        return None
    hours = sorted(spec.hours)
    if len(hours) > _MAX_LISTED_TIMES or (len(hours) > 2 and _step_of(hours, 24)):
        return None  # "every 6 hours at :00" says it better than four times
    (minute,) = spec.minutes
    return _join([f"{hour:02d}:{minute:02d}" for hour in sorted(spec.hours)])


def _frequency(spec: CronSpec) -> str | None:
    """ "every minute", "every 5 minutes", "every hour at :15", "every 2 hours at :00", ..."""
    minutes, hours = sorted(spec.minutes), sorted(spec.hours)
    if len(minutes) == 1:
        at = f":{minutes[0]:02d}"
        if spec.hours == _ALL_HOURS:
            return f"every hour at {at}"
        step = _step_of(hours, 24)
        if step is not None:
            return f"every {step} hours at {at}"
        if hours == list(range(hours[0], hours[-1] + 1)):
            return f"every hour from {hours[0]:02d}{at} to {hours[-1]:02d}{at}"
        return None
    step = _step_of(minutes, 60)
    if step is None:
        return None
    every = "every minute" if step == 1 else f"every {step} minutes"
    if spec.hours == _ALL_HOURS:
        return every
    if hours == list(range(hours[0], hours[-1] + 1)):
        return f"{every} from {hours[0]:02d}:00 to {hours[-1]:02d}:{minutes[-1]:02d}"
    return None


def _step_of(values: Sequence[int], cycle: int) -> int | None:
    """N when ``values`` are 0, N, 2N... filling a cycle that N divides (so it never drifts)."""
    step = values[1] - values[0] if len(values) > 1 else 0
    if not step or cycle % step:
        return None
    return step if list(values) == list(range(0, cycle, step)) else None


def _zone_free_cron(expression: str) -> bool:
    """ "every 5 minutes" (on every day, every hour) is true in any zone, so it needs none."""
    try:
        spec = parse_cron(expression)
    except ValidationFailed:
        return False
    every_day = not spec.dom_restricted and not spec.dow_restricted and spec.months == _ALL_MONTHS
    return every_day and spec.hours == _ALL_HOURS and len(spec.minutes) > 1


def _with_zone(text: str, zone: str, zone_free: bool) -> str:
    return text if zone_free or not zone else f"{text} {zone}"


def _wall_time(instant: datetime, zone: str) -> str:
    """An instant as wall time in ``zone`` (as given when the zone is not a valid one)."""
    try:
        local = instant.astimezone(load_zone(zone)) if instant.tzinfo else instant
    except ValidationFailed:
        local = instant
    return f"{local:%Y-%m-%d %H:%M}"


def _join(words: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
