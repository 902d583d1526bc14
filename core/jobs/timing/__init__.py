"""When schedules fire: crontab parsing, the Timing model, DST-aware fire times and previews."""

from core.jobs.timing.cron import CronSpec, parse_cron
from core.jobs.timing.firetimes import first_fire_at_or_after, next_fire_time, next_fire_times
from core.jobs.timing.preview import PreviewRow, preview, preview_text
from core.jobs.timing.timing import (
    SCHEDULE_TYPES,
    ScheduleType,
    Timing,
    build_timing,
    describe,
    parse_time_of_day,
    parse_weekday,
    validate_timing,
)
from core.jobs.timing.trigger import JobdeckTrigger
from core.jobs.timing.wallclock import DstFlag, FireTime, is_valid_zone, load_zone

__all__ = [
    "SCHEDULE_TYPES",
    "CronSpec",
    "DstFlag",
    "FireTime",
    "JobdeckTrigger",
    "PreviewRow",
    "ScheduleType",
    "Timing",
    "build_timing",
    "describe",
    "first_fire_at_or_after",
    "is_valid_zone",
    "load_zone",
    "next_fire_time",
    "next_fire_times",
    "parse_cron",
    "parse_time_of_day",
    "parse_weekday",
    "preview",
    "preview_text",
    "validate_timing",
]
