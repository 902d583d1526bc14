"""What the schedule form's text means: typed values to a ScheduleSpec or SchedulePatch and back.

Pure functions (no widgets), so the rules are tested on their own. Every problem is raised as a
ValidationFailed naming the schedule field it belongs to, as the backend names its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.backend.inputs import SchedulePatch, ScheduleSpec
from core.backend.views import ScheduleView
from core.errors import ValidationFailed
from core.jobs.durations import format_duration, parse_duration
from core.jobs.timing import load_zone
from core.jobs.timing.cron import FIELD_NAMES
from core.jobs.timing.timing import REQUIRED_FIELDS

#: The timing inputs each schedule type shows (every other timing input is hidden).
TYPE_FIELDS: dict[str, tuple[str, ...]] = REQUIRED_FIELDS
#: Every type-specific timing input, in the form's order.
TIMING_INPUTS = (
    *("cron_expression", "interval_seconds", "run_at", "minute"),
    *("weekday", "day_of_month", "time_of_day"),
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: Policy inputs typed as durations, and their defaults as the form shows them.
DURATION_POLICIES = {
    "start_deadline_seconds": "5m",
    "catchup_window_seconds": "24h",
    "replace_grace_seconds": "10s",
    "jitter_seconds": "0",
}
COUNT_POLICIES = {"catchup_cap": "10", "overlap_max": "1"}
CHOICE_POLICIES = {"catchup": "latest", "overlap": "skip", "jitter": "off"}
DATETIME_FORMAT = "%Y-%m-%d %H:%M"

#: The form's values: input name -> text (selects give their value, the checkbox a bool).
Values = Mapping[str, Any]


def whole_number(text: str, field: str) -> int:
    """A typed whole number, or a ValidationFailed naming ``field``."""
    try:
        return int(str(text).strip())
    except ValueError:
        raise ValidationFailed(field, f"{str(text).strip()!r} is not a whole number") from None


def seconds_of(text: str, field: str) -> float:
    """A typed duration ("90", "5m", "1h30m"); "0" is allowed where the field takes it."""
    if text.strip() in ("0", "0s"):
        return 0.0
    return parse_duration(text, field)


def wall_time(text: str, zone_name: str, field: str) -> datetime | None:
    """ "2026-03-29 03:30" read in the schedule's zone (an explicit offset wins); "" is None."""
    value = text.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        problem = f"{value!r} is not a date and time (YYYY-MM-DD HH:MM)"
        raise ValidationFailed(field, problem) from None
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=load_zone(zone_name))


def wall_text(moment: datetime | None, zone_name: str) -> str:
    """An instant as the form shows it: wall time in the schedule's zone."""
    if moment is None:
        return ""
    return f"{moment.astimezone(load_zone(zone_name)):{DATETIME_FORMAT}}"


def timing_values(values: Values) -> dict[str, Any]:
    """The timing, zone and window of the form, for the schedule type chosen."""
    kind = values["schedule_type"]
    zone = str(values["timezone"]).strip()
    load_zone(zone)
    timing: dict[str, Any] = {"schedule_type": kind, "timezone": zone}
    for name in TYPE_FIELDS[kind]:
        text = values[name]
        if name != "weekday" and not str(text).strip():
            raise ValidationFailed(name, f"is required for {kind} schedules")
        if name == "interval_seconds":
            seconds = parse_duration(text, name)
            if seconds != int(seconds):
                raise ValidationFailed(name, f"{text.strip()!r} is not a whole number of seconds")
            timing[name] = int(seconds)
        elif name in ("minute", "day_of_month"):
            timing[name] = whole_number(text, name)
        elif name == "run_at":
            timing[name] = wall_time(text, zone, name)
        elif name == "weekday":
            if text is None:
                raise ValidationFailed(name, f"is required for {kind} schedules")
            timing[name] = int(text)
        else:
            timing[name] = text.strip()
    for name in ("start_at", "end_at"):
        timing[name] = wall_time(values[name], zone, name)
    return timing


def policy_values(values: Values) -> dict[str, Any]:
    """Deadline, catch-up, overlap and jitter as the backend takes them."""
    policies: dict[str, Any] = {name: values[name] for name in CHOICE_POLICIES}
    for name in DURATION_POLICIES:
        policies[name] = seconds_of(values[name], name)
    for name in COUNT_POLICIES:
        policies[name] = whole_number(values[name], name)
    return policies


def preview_spec(values: Values) -> ScheduleSpec:
    """Just enough of a spec to preview fire times (the backend ignores name and template)."""
    return ScheduleSpec(job_identifier="preview", template=0, **timing_values(values))


def schedule_spec(
    values: Values, template_id: int | None, overrides: dict[str, Any]
) -> ScheduleSpec:
    """A new schedule from the whole form."""
    if template_id is None:
        raise ValidationFailed("template", "choose the template this schedule runs")
    return ScheduleSpec(
        job_identifier=str(values["job_identifier"]).strip(),
        template=template_id,
        is_active=bool(values["is_active"]),
        job_parameters=overrides,
        **timing_values(values),
        **policy_values(values),
    )


def schedule_patch(
    values: Values, template_id: int | None, overrides: dict[str, Any]
) -> SchedulePatch:
    """Every field of the form as an update (the type is given, so the timing is replaced)."""
    spec = schedule_spec(values, template_id, overrides)
    fields = spec.model_dump(exclude={"template"})
    cleared = tuple(name for name in ("start_at", "end_at") if fields[name] is None)
    return SchedulePatch(**fields, template=spec.template, clear=cleared)


def initial_values(schedule: ScheduleView | None, zone: str) -> dict[str, Any]:
    """What the form starts with: the schedule's values, or the defaults of a new one."""
    if schedule is None:
        return {
            "job_identifier": "",
            "schedule_type": "cron",
            **dict.fromkeys(TIMING_INPUTS, ""),
            "weekday": 0,
            "timezone": zone,
            "is_active": True,
            "start_at": "",
            "end_at": "",
            **CHOICE_POLICIES,
            **DURATION_POLICIES,
            **COUNT_POLICIES,
        }
    s = schedule
    return {
        "job_identifier": s.job_identifier,
        "schedule_type": s.schedule_type,
        "cron_expression": s.cron_expression or "",
        "interval_seconds": format_duration(s.interval_seconds) if s.interval_seconds else "",
        "run_at": wall_text(s.run_at, s.timezone),
        "minute": "" if s.minute is None else str(s.minute),
        "time_of_day": s.time_of_day or "",
        "weekday": s.weekday if s.weekday is not None else 0,
        "day_of_month": "" if s.day_of_month is None else str(s.day_of_month),
        "timezone": s.timezone,
        "is_active": s.is_active,
        "start_at": wall_text(s.start_at, s.timezone),
        "end_at": wall_text(s.end_at, s.timezone),
        "catchup": s.catchup,
        "overlap": s.overlap,
        "jitter": s.jitter,
        **{name: _duration_text(getattr(s, name)) for name in DURATION_POLICIES},
        **{name: str(getattr(s, name)) for name in COUNT_POLICIES},
    }


def _duration_text(seconds: float) -> str:
    return "0" if not seconds else format_duration(seconds)


def problem_text(field: str, problem: str) -> str:
    """A problem as shown under its input; a cron error names the field by its position."""
    parts = field.split(".")
    if parts[0] == "cron_expression" and len(parts) > 1 and parts[1] in FIELD_NAMES:
        position = FIELD_NAMES.index(parts[1]) + 1
        return f"field {position} ({parts[1].replace('_', ' ')}): {problem}"
    return problem
