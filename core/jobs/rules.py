"""Pure validation rules for templates and schedules, shared by every backend implementation."""

from __future__ import annotations

import re
from typing import Any

from core.errors import ValidationFailed
from core.jobs.parameters import ParameterSpec, resolve, validate_specs
from core.jobs.types import job_type_names, lookup_job_type

NAME_MAX = 255
_TAG = re.compile(r"^[\w.:/-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_name(name: str, field: str = "name") -> str:
    """A display name: trimmed, 1..255 characters, no control characters."""
    cleaned = name.strip()
    if not cleaned:
        raise ValidationFailed(field, "must not be empty")
    if len(cleaned) > NAME_MAX:
        raise ValidationFailed(field, f"is {len(cleaned)} characters long; the limit is {NAME_MAX}")
    if _CONTROL.search(cleaned):
        raise ValidationFailed(field, "must not contain control characters")
    if cleaned.isdigit():
        raise ValidationFailed(field, "must not be all digits (it would read as an id)")
    return cleaned


def check_tags(tags: tuple[str, ...] | list[str]) -> list[str]:
    """Tags: short words (letters, digits, . : / - _), de-duplicated, order kept."""
    result: list[str] = []
    for tag in tags:
        cleaned = tag.strip()
        if not _TAG.match(cleaned):
            raise ValidationFailed(
                "tags", f"{tag!r} is not a tag (1-64 letters, digits, '.', ':', '/', '-', '_')"
            )
        if cleaned not in result:
            result.append(cleaned)
    return result


def check_job_type(job_type: str) -> None:
    """The job type must be installed."""
    if lookup_job_type(job_type) is None:
        raise ValidationFailed(
            "job_type", f"unknown job type {job_type!r} (installed: {', '.join(job_type_names())})"
        )


def check_config(job_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """Validate a config with its job type's model; returns the normalised config."""
    found = lookup_job_type(job_type)
    if found is None:
        check_job_type(job_type)
        raise AssertionError("unreachable")
    return found.validate_config(config)


def check_policies(
    *,
    timeout_seconds: float | None,
    deadline_seconds: float | None,
    retries: int,
    retry_delay_seconds: float,
) -> None:
    """Timeouts positive, the deadline no shorter than the timeout, retries 0..100."""
    if timeout_seconds is not None and timeout_seconds <= 0:
        raise ValidationFailed("timeout_seconds", "must be greater than zero")
    if deadline_seconds is not None and deadline_seconds <= 0:
        raise ValidationFailed("deadline_seconds", "must be greater than zero")
    if timeout_seconds and deadline_seconds and deadline_seconds < timeout_seconds:
        raise ValidationFailed(
            "deadline_seconds", "the overall deadline is shorter than one attempt's timeout"
        )
    if not 0 <= retries <= 100:
        raise ValidationFailed("retries", f"{retries} is outside 0..100")
    if retry_delay_seconds < 0:
        raise ValidationFailed("retry_delay_seconds", "must not be negative")


def check_parameters(specs: tuple[ParameterSpec, ...] | list[ParameterSpec]) -> list[ParameterSpec]:
    """Parameter declarations: unique names."""
    return validate_specs(list(specs))


def check_overrides(
    specs: list[ParameterSpec], overrides: dict[str, Any], field: str = "job_parameters"
) -> dict[str, Any]:
    """Schedule parameter overrides: known names, values of the declared types."""
    try:
        resolved = resolve(specs, overrides)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.field.replace("parameters", field, 1), exc.problem) from None
    return {name: resolved[name] for name in overrides if name in resolved}


def check_schedule_policies(
    *,
    start_deadline_seconds: float,
    catchup_cap: int,
    catchup_window_seconds: float,
    overlap_max: int,
    replace_grace_seconds: float,
    jitter: str,
    jitter_seconds: float,
) -> None:
    """Policy numbers in sane ranges (SCHEDULING.md rules 2-4, 9)."""
    if start_deadline_seconds <= 0:
        raise ValidationFailed("start_deadline_seconds", "must be greater than zero")
    if not 1 <= catchup_cap <= 1000:
        raise ValidationFailed("catchup_cap", f"{catchup_cap} is outside 1..1000")
    if catchup_window_seconds <= 0:
        raise ValidationFailed("catchup_window_seconds", "must be greater than zero")
    if not 1 <= overlap_max <= 100:
        raise ValidationFailed("overlap_max", f"{overlap_max} is outside 1..100")
    if replace_grace_seconds < 0:
        raise ValidationFailed("replace_grace_seconds", "must not be negative")
    if jitter_seconds < 0 or jitter_seconds > 86400:
        raise ValidationFailed("jitter_seconds", "must be within 0..86400")
    if jitter != "off" and jitter_seconds == 0:
        raise ValidationFailed("jitter_seconds", f"jitter {jitter} needs a number of seconds")
