"""Shared argument parsing: the error-raising parser, option values, and field-to-option names."""

from __future__ import annotations

import argparse
import os
import re
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from core.errors import ValidationFailed
from core.jobs.durations import parse_duration

M = TypeVar("M", bound=BaseModel)


class UsageError(Exception):
    """A command line argparse rejected; the CLI prints it as one line and exits 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage, so errors stay one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise UsageError naming the subcommand and pointing at its --help."""
        command = self.prog.removeprefix("jobdeck").strip()
        where = f"{command}: " if command else ""
        raise UsageError(f"{where}{message} (see '{self.prog} --help')")


#: Where the daemon's API token comes from when --token is not given.
TOKEN_ENV = "JOBDECK_TOKEN"


def add_attach_options(parser: argparse.ArgumentParser) -> None:
    """The global options that attach the TUI and every command to a jobdeck daemon."""
    parser.add_argument(
        "--backend",
        metavar="URL|NAME",
        help="talk to this jobdeck daemon instead of the database: http(s)://host:port, "
        "unix:/path/api.sock, or a profile of the config file's [backends] table",
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help=f"the daemon's API token (default: ${TOKEN_ENV}, else the profile's; prefer "
        "the variable: a command line is visible to other users)",
    )
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify the daemon's TLS certificate"
    )


def attach_token(args: argparse.Namespace) -> str | None:
    """The API token given: --token, else $JOBDECK_TOKEN (None when neither)."""
    token: str | None = getattr(args, "token", None) or os.environ.get(TOKEN_ENV, "").strip()
    return token or None


# Schedule/template/run field names (as core reports them) -> the option a CLI user typed.
FIELD_OPTIONS: dict[str, str] = {
    "name": "NAME",
    "job_identifier": "NAME",
    "job_type": "--type",
    "config": "--config",
    "description": "--description",
    "tags": "--tag",
    "timeout_seconds": "--timeout",
    "deadline_seconds": "--deadline",
    "retries": "--retries",
    "retry_backoff": "--retry-backoff",
    "retry_delay_seconds": "--retry-delay",
    "overlap": "--overlap",
    "parameters": "--param",
    "job_parameters": "--param",
    "template": "--template",
    "cron_expression": "--cron",
    "interval_seconds": "--every",
    "run_at": "--at",
    "minute": "--hourly",
    "time_of_day": "--daily",
    "weekday": "--weekly",
    "day_of_month": "--monthly",
    "timezone": "--tz",
    "viewer_zone": "--viewer-tz",
    "start_at": "--start",
    "end_at": "--end",
    "anchor_at": "--start",
    "start_deadline_seconds": "--deadline",
    "catchup": "--catchup",
    "catchup_cap": "--catchup-cap",
    "overlap_max": "--overlap-max",
    "jitter": "--jitter",
    "jitter_seconds": "--jitter",
    "n": "-n",
    "status": "--status",
    "triggered_by": "--trigger",
    "cursor": "--cursor",
    "days": "--days",
    "since": "--since",
    "until": "--until",
    "before": "--before",
    "limit": "--limit",
}
# Sub-fields of these read "--cron: day-of-month"; of the others "--config command".
_COLON_SUBFIELDS = {"cron_expression"}


def option_for(field: str, overrides: dict[str, str] | None = None) -> str:
    """Translate a core field path ("cron_expression.day_of_month") into CLI words."""
    if not field or field.startswith(("-", "/")) or field.isupper():
        return field  # already CLI words, a config file path, or a positional name
    names = {**FIELD_OPTIONS, **(overrides or {})}
    head, _, rest = field.partition(".")
    option = names.get(head)
    if option is None:
        return field
    if not rest:
        return option
    if head in _COLON_SUBFIELDS:
        return f"{option}: {rest.replace('_', '-')}"
    sub, _, detail = rest.partition(".")
    return f"{option} {sub}" + (f" ({detail})" if detail else "")


def build(model: type[M], **data: Any) -> M:
    """Build an input model; a pydantic error becomes ValidationFailed naming the field."""
    try:
        return model(**data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise ValidationFailed(field, str(error["msg"])) from None


def split_pair(text: str, option: str) -> tuple[str, str]:
    """Split KEY=VALUE, failing with the option's name when there is no '=' or no key."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValidationFailed(option, f"{text!r} is not KEY=VALUE")
    return key.strip(), value


def duration(text: str | None, option: str) -> float | None:
    """A duration option in seconds (None when not given)."""
    return None if text is None else parse_duration(text, option)


def zone_or_fail(name: str, option: str) -> ZoneInfo:
    """The ZoneInfo of an IANA name, or ValidationFailed naming the option."""
    from core.jobs.timing import load_zone

    return load_zone(name, option)


def instant(text: str, zone: str, option: str) -> datetime:
    """An ISO-8601 instant; without an offset it is a wall time in ``zone`` (gaps refused)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            option, f"{text!r} is not an ISO-8601 time (e.g. 2030-01-31T09:00 or ...+02:00)"
        ) from None
    if value.utcoffset() is not None:
        return value
    tz = zone_or_fail(zone, "--tz")
    aware = value.replace(tzinfo=tz)
    # A wall time inside a DST gap does not exist; zoneinfo would silently shift it.
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)
    if round_trip != value:
        raise ValidationFailed(option, f"{text} does not exist in {zone} (DST gap); pick another")
    return aware


def point_in_time(text: str, zone: str, option: str, now: datetime) -> datetime:
    """A point in time: an ISO-8601 instant, or a duration meaning that long ago ("2h", "7d")."""
    if re.fullmatch(r"[\d.]+(ms|s|m|h|d|w)?([\d.]+(ms|s|m|h|d|w))*", text.strip().lower()):
        return now - timedelta(seconds=parse_duration(text, option))
    return instant(text, zone, option)


def param_values(pairs: list[str]) -> dict[str, str]:
    """--param KEY=VALUE overrides as strings; the template's declared types coerce them."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, value = split_pair(pair, "--param")
        if key in values:
            raise ValidationFailed(f"--param {key}", "given twice")
        values[key] = value
    return values


def split_values(values: list[str] | None) -> tuple[str, ...]:
    """Values of a repeatable option that also accepts commas: --status failed,lost."""
    return tuple(part.strip() for value in values or () for part in value.split(",") if part)
