"""Time until a moment, in the two largest units an operator reads at a glance ("in 4m 10s")."""

from __future__ import annotations

import math
from datetime import datetime

#: (seconds, suffix) from the largest unit down.
_UNITS = ((86400, "d"), (3600, "h"), (60, "m"), (1, "s"))
#: A next run this far in the past is still "due" (the owner is about to record it).
DUE_GRACE_SECONDS = 5


def span_text(seconds: float) -> str:
    """A span in at most two units: "42s", "4m 10s", "3h 5m", "2d 4h" (rounded up)."""
    whole = max(0, math.ceil(seconds))
    if whole < 60:
        return f"{whole}s"
    parts: list[str] = []
    for size, suffix in _UNITS:
        count, whole = divmod(whole, size)
        if count or parts:
            parts.append(f"{count}{suffix}")
        if len(parts) == 2:
            break
    return " ".join(parts)


def countdown_text(target: datetime | None, now: datetime) -> str:
    """ "in 4m 10s" until ``target``; "due" just after it; "late 3m 2s" once well past it."""
    if target is None:
        return "—"
    remaining = (target - now).total_seconds()
    if remaining > 0:
        return f"in {span_text(remaining)}"
    if -remaining <= DUE_GRACE_SECONDS:
        return "due"
    return f"late {span_text(-remaining)}"


def lateness_text(seconds: float | None) -> str:
    """How late an occurrence started: "0.4s", "12s", "4m 10s"; a dash when unknown."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f}s"
    return span_text(seconds)
