"""Time zone helpers: validate IANA names and find this machine's zone."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from zoneinfo import available_timezones

# Path separators, dots and absolute paths never reach zoneinfo ("../etc/passwd", "/etc/localtime").
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*", re.ASCII)
# Present in some zoneinfo directories but not real zones: they mean "whatever this host uses".
_NOT_ZONES = frozenset({"Local", "localtime", "posixrules", "Factory"})


@functools.cache
def _known_zones() -> frozenset[str]:
    """The zone names zoneinfo can load (walks the zone database once, on first use)."""
    return frozenset(available_timezones())


def is_iana_zone(name: str) -> bool:
    """True when ``name`` is a loadable IANA zone key (not a path, not "localtime")."""
    return (
        0 < len(name) <= 64
        and name not in _NOT_ZONES
        and _ZONE_NAME.fullmatch(name) is not None
        and name in _known_zones()
    )


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
