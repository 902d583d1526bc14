"""Counts in words: `1 run`, `3 runs` (never `run(s)`)."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, in the plural (``many``, else noun + s) unless it is one."""
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"
