"""The timing options shared by `schedule create`, `update` and `preview`, and their parsing."""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from typing import Any

from console.commands.options import duration, instant
from core.errors import ValidationFailed
from core.jobs.timing import parse_time_of_day, parse_weekday

TIMING_OPTIONS = ("--cron", "--every", "--at", "--hourly", "--daily", "--weekly", "--monthly")
_JITTER = re.compile(r"(random|hash):(.+)", re.IGNORECASE)


def add_timing_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """The mutually exclusive timing options, plus --tz, --start and --end."""
    group = parser.add_argument_group("timing (exactly one)" if required else "timing")
    exclusive = group.add_mutually_exclusive_group(required=required)
    exclusive.add_argument(
        "--cron", metavar="EXPR", help="five-field crontab expression, e.g. '0 9 * * 1-5'"
    )
    exclusive.add_argument(
        "--every", metavar="DURATION", help="fixed interval in whole seconds, e.g. 90s, 15m, 1h30m"
    )
    exclusive.add_argument(
        "--at",
        metavar="ISO-INSTANT",
        help="run once at this instant; without an offset it is read in the --tz zone",
    )
    exclusive.add_argument("--hourly", metavar=":MM", help="every hour at minute MM (:00-:59)")
    exclusive.add_argument("--daily", metavar="HH:MM", help="every day at HH:MM")
    exclusive.add_argument(
        "--weekly", metavar="DAY@HH:MM", help="every week, e.g. mon@09:00 (mon..sun or full names)"
    )
    exclusive.add_argument(
        "--monthly",
        metavar="N@HH:MM",
        help="every month on day N (1-31; a shorter month uses its last day)",
    )
    group.add_argument(
        "--tz", metavar="ZONE", help="IANA timezone, e.g. Europe/Riga (default: the local zone)"
    )
    group.add_argument(
        "--start", metavar="ISO", help="first allowed fire time (no offset: read in --tz)"
    )
    group.add_argument("--end", metavar="ISO", help="last allowed fire time (no offset: in --tz)")


def chosen_timing(args: argparse.Namespace) -> str | None:
    """The timing option given on the command line ("--daily"), or None."""
    for option in TIMING_OPTIONS:
        if getattr(args, option.lstrip("-"), None) is not None:
            return option
    return None


def timing_fields(args: argparse.Namespace, zone: str) -> dict[str, Any]:
    """Schedule fields for the timing option given (empty when none was given)."""
    option = chosen_timing(args)
    if option is None:
        return {}
    value: str = getattr(args, option.lstrip("-"))
    # Errors core reports on the time of day should name the option the user typed.
    args.field_overrides = {**getattr(args, "field_overrides", {}), "time_of_day": option}
    if option == "--cron":
        return {"schedule_type": "cron", "cron_expression": value}
    if option == "--every":
        return {"schedule_type": "interval", "interval_seconds": _whole_seconds(value)}
    if option == "--at":
        return {"schedule_type": "once", "run_at": instant(value, zone, "--at")}
    if option == "--hourly":
        return {"schedule_type": "hourly", "minute": _minute(value)}
    if option == "--daily":
        return {"schedule_type": "daily", "time_of_day": parse_time_of_day(value, "--daily")}
    day, at = _split_at(value, option)
    if option == "--weekly":
        return {
            "schedule_type": "weekly",
            "weekday": parse_weekday(day, "--weekly"),
            "time_of_day": parse_time_of_day(at, "--weekly"),
        }
    return {
        "schedule_type": "monthly",
        "day_of_month": _day_of_month(day),
        "time_of_day": parse_time_of_day(at, "--monthly"),
    }


def window_fields(args: argparse.Namespace, zone: str) -> dict[str, datetime]:
    """--start/--end as aware instants (only the ones given)."""
    fields = {}
    if getattr(args, "start", None):
        fields["start_at"] = instant(args.start, zone, "--start")
    if getattr(args, "end", None):
        fields["end_at"] = instant(args.end, zone, "--end")
    return fields


def jitter_fields(text: str | None) -> dict[str, Any]:
    """--jitter random:30s | hash:30s | off."""
    if text is None:
        return {}
    if text.strip().lower() == "off":
        return {"jitter": "off", "jitter_seconds": 0.0}
    match = _JITTER.fullmatch(text.strip())
    if match is None:
        raise ValidationFailed("--jitter", f"{text!r} is not random:DURATION, hash:DURATION or off")
    return {
        "jitter": match.group(1).lower(),
        "jitter_seconds": duration(match.group(2), "--jitter"),
    }


def _whole_seconds(text: str) -> int:
    seconds = duration(text, "--every")
    assert seconds is not None
    if not float(seconds).is_integer():
        raise ValidationFailed("--every", f"{text!r} is not a whole number of seconds")
    return int(seconds)


def _minute(text: str) -> int:
    match = re.fullmatch(r":?(\d{1,2})", text.strip())
    if match is None or int(match.group(1)) > 59:
        raise ValidationFailed("--hourly", f"{text!r} is not a minute past the hour (:00-:59)")
    return int(match.group(1))


def _split_at(text: str, option: str) -> tuple[str, str]:
    day, sep, at = text.partition("@")
    if not sep or not day.strip() or not at.strip():
        form = "DAY@HH:MM (e.g. mon@09:00)" if option == "--weekly" else "N@HH:MM (e.g. 1@06:00)"
        raise ValidationFailed(option, f"{text!r} is not {form}")
    return day.strip(), at.strip()


def _day_of_month(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 31:
        raise ValidationFailed("--monthly", f"day {text!r} is not a day of the month (1-31)")
    return int(text)
