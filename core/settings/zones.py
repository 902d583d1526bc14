"""Time zone helpers: validate IANA names and find this machine's zone."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def is_iana_zone(name: str) -> bool:
    """True when ``name`` is a loadable IANA zone key (not a path, not "localtime")."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return name in available_timezones() or name == "UTC"


def system_zone() -> str:
    """The machine's IANA zone (from TZ or /etc/localtime), or "UTC" when it cannot be named."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and is_iana_zone(tz):
        return tz
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        return "UTC"
    marker = "zoneinfo/"
    if marker in target:
        candidate = target.split(marker, 1)[1]
        if is_iana_zone(candidate):
            return candidate
    return "UTC"
