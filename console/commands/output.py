"""Plain-text output: aligned tables, key/value details, times with offsets, and JSON."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from core.jobs.durations import format_duration

# Job output and descriptions can hold escape sequences; never send them raw to a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(value: object) -> str:
    """One table cell: None as "-", control characters shown escaped, never raw."""
    if value is None or value == "":
        return "-"
    text = str(value)
    return _CONTROL.sub(lambda m: "\\n" if m.group() == "\n" else f"\\x{ord(m.group()):02x}", text)


def emit(text: str = "") -> None:
    """Print one line (or block) to stdout."""
    sys.stdout.write(text + "\n")


def print_json(data: BaseModel | Sequence[BaseModel] | dict[str, Any] | list[Any]) -> None:
    """Machine-readable output: views dumped in JSON mode (ISO-8601 times with offsets)."""
    if isinstance(data, BaseModel):
        payload: Any = data.model_dump(mode="json")
    elif isinstance(data, list | tuple) and data and isinstance(data[0], BaseModel):
        payload = [item.model_dump(mode="json") for item in data]
    else:
        payload = data
    emit(json.dumps(payload, indent=2, ensure_ascii=False))


def table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, right: Sequence[int] = ()
) -> None:
    """An aligned plain-text table; ``right`` lists the column indexes to right-align."""
    cells = [[clean(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(widths[i]) if i in right else value.ljust(widths[i])
            for i, value in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    emit(line(headers))
    for row in cells:
        emit(line(row))


def details(pairs: Sequence[tuple[str, object]]) -> None:
    """Key/value lines with aligned values (a "show" page)."""
    width = max((len(key) for key, _ in pairs), default=0)
    for key, value in pairs:
        emit(f"{key + ':':<{width + 1}} {clean(value)}")


def block(title: str, lines: Sequence[str]) -> None:
    """A titled, indented block under a details page (config, parameters)."""
    emit(f"{title}:")
    for text in lines or ["-"]:
        emit(f"  {clean(text)}")


def when(value: datetime | None, zone: str | ZoneInfo | None = None) -> str:
    """A time in ``zone`` (default: as given) with its offset, to the second."""
    if value is None:
        return "-"
    if zone is not None:
        value = value.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    return value.isoformat(sep=" ", timespec="seconds")


def seconds(value: float | None) -> str:
    """A duration as "1h30m", or "-"."""
    return "-" if value is None else format_duration(value)


def compact(value: object) -> str:
    """A config or parameter value on one line (JSON for non-strings)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def plural(count: int, word: str) -> str:
    """ "1 run", "3 runs"."""
    return f"{count} {word}{'' if count == 1 else 's'}"
