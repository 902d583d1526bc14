"""The Timing model (when a schedule fires), its validation and the user-input helpers.

Rules stated here and relied on everywhere else:

* every wall-clock time is read in ``timezone`` (an IANA name, required);
* ``monthly`` on day N runs on the month's last day when the month is shorter
  (day 31 runs on Apr 30, Feb 28 and Feb 29 in leap years); a cron day-of-month never clamps;
* ``interval`` fires at ``anchor_at + k * interval_seconds`` (k >= 0) in pure UTC arithmetic;
  without ``anchor_at`` it counts from ``start_at``, else from 1970-01-01T00:00Z. Other types
  accept and ignore ``anchor_at`` (the service passes the schedule's start or creation time);
* ``start_at`` and ``end_at`` bound the fire times, both inclusive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from core.errors import ValidationFailed
from core.jobs.durations import format_duration
from core.jobs.timing.cron import CronSpec, parse_cron
from core.jobs.timing.wallclock import load_zone

ScheduleType = Literal["cron", "interval", "once", "hourly", "daily", "weekly", "monthly"]
SCHEDULE_TYPES: tuple[str, ...] = get_args(ScheduleType)

#: The fields each schedule type needs; every other type-specific field must be left out.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "cron": ("cron_expression",),
    "interval": ("interval_seconds",),
    "once": ("run_at",),
    "hourly": ("minute",),
    "daily": ("time_of_day",),
    "weekly": ("weekday", "time_of_day"),
    "monthly": ("day_of_month", "time_of_day"),
}
# anchor_at is not listed: the service passes it for every schedule and only interval uses it.
_TYPE_FIELDS = (
    "cron_expression",
    "interval_seconds",
    "run_at",
    "minute",
    "time_of_day",
    "weekday",
    "day_of_month",
)
_MAX_INTERVAL = 10 * 365 * 86400
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ALIASES = {"tues": 1, "thur": 3, "thurs": 3}


class Timing(BaseModel):
    """When a schedule fires: one schedule type, its fields, an IANA zone and an optional window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schedule_type: ScheduleType
    timezone: str
    cron_expression: str | None = None
    interval_seconds: int | None = None
    run_at: datetime | None = None
    minute: int | None = None
    time_of_day: str | None = None
    weekday: int | None = None
    day_of_month: int | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    anchor_at: datetime | None = None

    @field_validator("time_of_day")
    @classmethod
    def _normalise_time(cls, value: str | None) -> str | None:
        """Store times as HH:MM so equal times compare equal."""
        return None if value is None else parse_time_of_day(value)

    @model_validator(mode="after")
    def _check(self) -> Timing:
        """Run the cross-field rules; ValidationFailed propagates through pydantic unchanged."""
        _check_timing(self)
        return self


def validate_timing(t: Timing) -> Timing:
    """Re-check a Timing (also one built with ``model_construct``) and return it."""
    if t.time_of_day is not None:
        parse_time_of_day(t.time_of_day)
    _check_timing(t)
    return t


def build_timing(data: Mapping[str, object]) -> Timing:
    """Build a Timing from loose data, turning pydantic errors into ValidationFailed(field)."""
    try:
        return Timing.model_validate(dict(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "timing"
        if error["type"] == "literal_error":
            raise ValidationFailed(field, f"must be one of {', '.join(SCHEDULE_TYPES)}") from None
        if error["type"] == "extra_forbidden":
            raise ValidationFailed(field, "is not a timing field") from None
        raise ValidationFailed(field, str(error["msg"])) from None


def _check_timing(t: Timing) -> None:
    """Raise ValidationFailed for the first broken rule, naming its field."""
    load_zone(t.timezone, "timezone")
    kind = t.schedule_type
    required = REQUIRED_FIELDS[kind]
    for name in required:
        if getattr(t, name) is None:
            raise ValidationFailed(name, f"is required for {kind} schedules")
    for name in _TYPE_FIELDS:
        if name not in required and getattr(t, name) is not None:
            raise ValidationFailed(name, f"does not apply to {kind} schedules")
    if t.cron_expression is not None:
        parse_cron(t.cron_expression, "cron_expression")
    _check_range("interval_seconds", t.interval_seconds, 1, _MAX_INTERVAL, "seconds")
    _check_range("minute", t.minute, 0, 59, "(minute past the hour)")
    _check_range("weekday", t.weekday, 0, 6, "(0 = Monday .. 6 = Sunday)")
    _check_range("day_of_month", t.day_of_month, 1, 31, "(a shorter month uses its last day)")
    for name in ("run_at", "start_at", "end_at", "anchor_at"):
        value: datetime | None = getattr(t, name)
        if value is not None and value.utcoffset() is None:
            raise ValidationFailed(name, "must include a timezone or UTC offset (it is naive)")
    if t.start_at is not None and t.end_at is not None and t.end_at <= t.start_at:
        raise ValidationFailed("end_at", "must be after start_at")
    if t.run_at is not None:
        if t.start_at is not None and t.run_at < t.start_at:
            raise ValidationFailed("run_at", "is before start_at, so it would never run")
        if t.end_at is not None and t.run_at > t.end_at:
            raise ValidationFailed("run_at", "is after end_at, so it would never run")


def _check_range(name: str, value: int | None, low: int, high: int, unit: str) -> None:
    """Reject ints outside low..high (bool is an int subclass, so refuse it explicitly)."""
    if value is None:
        return
    if isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed(name, f"{value!r} is out of range {low}-{high} {unit}")


def parse_time_of_day(text: str, field: str = "time_of_day") -> str:
    """Parse "H:MM" or "HH:MM" (00:00-23:59) and return it as "HH:MM"."""
    value = text.strip() if isinstance(text, str) else ""
    match = _TIME.fullmatch(value)
    if match is None:
        raise ValidationFailed(
            field, f"{str(text)[:32]!r} is not a time of day (use HH:MM, 00:00-23:59)"
        )
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def time_parts(text: str) -> tuple[int, int]:
    """Split a validated "HH:MM" into (hour, minute)."""
    hour, minute = parse_time_of_day(text).split(":")
    return int(hour), int(minute)


def parse_weekday(text: str, field: str = "weekday") -> int:
    """Parse "mon", "Monday" or a number and return 0 = Monday .. 6 = Sunday.

    Numbers follow cron and ISO 8601, the conventions users type: 1 = Monday .. 6 = Saturday,
    and both 0 and 7 mean Sunday. (Python's ``date.weekday()`` numbering is only the result.)
    """
    value = text.strip().lower() if isinstance(text, str) else ""
    if value.isascii() and value.isdigit() and len(value) == 1 and value <= "7":
        return (int(value) - 1) % 7
    for index, name in enumerate(WEEKDAYS):
        if value in (name, name[:3]):
            return index
    if value in _WEEKDAY_ALIASES:
        return _WEEKDAY_ALIASES[value]
    raise ValidationFailed(
        field, f"{str(text)[:32]!r} is not a weekday (use mon..sun, monday..sunday or 1-7)"
    )


def describe(t: Timing) -> str:
    """Human text for a Timing: "every 10s", "weekdays at 09:00 Europe/Riga", ..."""
    zone = t.timezone
    if t.schedule_type == "interval" and t.interval_seconds is not None:
        text = f"every {format_duration(t.interval_seconds)}"
    elif t.schedule_type == "once" and t.run_at is not None:
        text = f"once at {_local_text(t.run_at, zone)} {zone}"
    elif t.schedule_type == "hourly" and t.minute is not None:
        text = f"hourly at :{t.minute:02d} ({zone})"
    elif t.schedule_type == "cron" and t.cron_expression is not None:
        text = _describe_cron(parse_cron(t.cron_expression), zone)
    else:
        at = f"at {t.time_of_day} {zone}"
        if t.schedule_type == "weekly" and t.weekday is not None:
            text = f"on {WEEKDAYS[t.weekday].title()}s {at}"
        elif t.schedule_type == "monthly" and t.day_of_month is not None:
            clamp = " (or the last day)" if t.day_of_month > 28 else ""
            text = f"monthly on day {t.day_of_month}{clamp} {at}"
        else:
            text = f"daily {at}"
    if t.start_at is not None:
        text += f", from {_local_text(t.start_at, zone)}"
    if t.end_at is not None:
        text += f", until {_local_text(t.end_at, zone)}"
    return text


def _local_text(instant: datetime, zone: str) -> str:
    """An instant as wall time in the schedule's zone."""
    return f"{instant.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}"


def _describe_cron(spec: CronSpec, zone: str) -> str:
    """Recognise the common cron shapes; anything else is quoted as the expression."""
    fallback = f'cron "{spec.expression}" ({zone})'
    if spec.months != frozenset(range(1, 13)):
        return fallback
    all_dom = spec.days_of_month == frozenset(range(1, 32))
    all_dow = spec.days_of_week == frozenset(range(7))
    either = spec.dom_restricted and spec.dow_restricted  # Vixie OR rule
    every_day = (all_dom or all_dow) if either else (all_dom and all_dow)
    minutes, hours = sorted(spec.minutes), sorted(spec.hours)
    all_hours = len(hours) == 24
    if every_day and all_hours:
        step = minutes[1] - minutes[0] if len(minutes) > 1 else 60
        if len(minutes) == 1:
            return f"hourly at :{minutes[0]:02d} ({zone})"
        if minutes == list(range(0, 60, step)) and 60 % step == 0:
            return f"every minute ({zone})" if step == 1 else f"every {step} minutes ({zone})"
        return fallback
    if len(hours) != 1 or len(minutes) != 1:
        return fallback
    at = f"at {hours[0]:02d}:{minutes[0]:02d} {zone}"
    if every_day:
        return f"daily {at}"
    if either:
        return fallback
    if all_dom and spec.days_of_week == frozenset(range(1, 6)):
        return f"weekdays {at}"
    if all_dom and spec.days_of_week == frozenset({0, 6}):
        return f"weekends {at}"
    if all_dom and len(spec.days_of_week) == 1:
        (day,) = spec.days_of_week
        return f"on {WEEKDAYS[(day - 1) % 7].title()}s {at}"
    if all_dow and len(spec.days_of_month) == 1:
        (day,) = spec.days_of_month
        skipped = " (skipped in months without it)" if day > 28 else ""
        return f"monthly on day {day} {at}{skipped}"
    return fallback
