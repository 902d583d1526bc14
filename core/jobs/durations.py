"""Human durations ("90s", "5m", "1h30m", "2d") to seconds and back."""

from __future__ import annotations

import re

from core.errors import ValidationFailed

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)", re.ASCII)
_MAX_SECONDS = 10 * 365 * 86400


def parse_duration(text: str, field: str = "duration") -> float:
    """Parse ``text`` ("45", "45s", "1h30m", "1.5h") into seconds; the unit defaults to seconds."""
    value = text.strip().lower()
    if not value:
        raise ValidationFailed(field, "empty duration")
    if len(value) > 64:
        raise ValidationFailed(field, "duration is too long")
    if re.fullmatch(r"\d+(?:\.\d+)?", value, re.ASCII):
        seconds = float(value)
    else:
        pos = 0
        seconds = 0.0
        for match in _PART.finditer(value):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            pos = match.end()
        if pos != len(value) or pos == 0:
            raise ValidationFailed(
                field, f"{text!r} is not a duration (use e.g. 30s, 5m, 1h30m, 2d)"
            )
    if seconds <= 0:
        raise ValidationFailed(field, f"{text!r} must be greater than zero")
    if seconds > _MAX_SECONDS:
        raise ValidationFailed(field, f"{text!r} is longer than 10 years")
    return seconds


def format_duration(seconds: float) -> str:
    """Format seconds compactly ("1h30m", "45s", "250ms")."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    whole = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
