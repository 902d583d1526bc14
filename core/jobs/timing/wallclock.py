"""Timezones and wall clocks: strict IANA zone loading, and jobdeck's DST rules (6 and 7).

A rule asks for a *nominal* wall time in the schedule's zone. Three things can happen to it:

* it exists once: it fires at that instant (``dst`` is None);
* it falls in a gap (spring forward) and does not exist. A fixed-time rule fires once at the first
  valid instant after the gap, i.e. the transition itself (Vixie cron); several nominal times in
  one gap all map to that instant and the caller keeps one fire. An hourly-or-finer rule follows
  real time: the clock jumps over the time, so there is no fire (``dst="gap"`` never appears);
* it falls in a fold (fall back) and exists twice. A fixed-time rule fires once, at the first
  instant (fold=0); an hourly-or-finer rule fires at both instants. Both carry ``dst="fold"``.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from core.errors import ValidationFailed
from core.settings.zones import is_iana_zone

DstFlag = Literal["gap", "fold"] | None
_SECOND = timedelta(seconds=1)
_EXAMPLES = "e.g. Europe/Riga, America/New_York or UTC"


def load_zone(name: str | None, field: str = "timezone") -> ZoneInfo:
    """Return the ZoneInfo for an IANA name; raise ValidationFailed(field) for anything else."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(field, f"is required: give an IANA timezone name ({_EXAMPLES})")
    if not is_iana_zone(name):
        raise ValidationFailed(field, f"{name[:64]!r} is not an IANA timezone name ({_EXAMPLES})")
    try:
        return ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationFailed(field, f"timezone {name!r} could not be loaded ({exc})") from exc


def is_valid_zone(name: str) -> bool:
    """True when ``name`` is an IANA timezone name jobdeck accepts."""
    try:
        load_zone(name)
    except ValidationFailed:
        return False
    return True


@dataclass(frozen=True)
class FireTime:
    """One computed fire: the instant, its local time, the wall time asked for, any DST note."""

    #: The instant, aware, in UTC.
    utc: datetime
    #: The same instant, aware, in the schedule's zone (``fold`` set on the second pass of a fold).
    local: datetime
    #: The naive wall time the rule asked for; differs from ``local`` after a gap shift.
    nominal: datetime
    #: "gap" when the nominal time did not exist and the fire moved, "fold" when it was ambiguous.
    dst: DstFlag = None


def wall_fires(nominal: datetime, zone: ZoneInfo, *, real_time: bool) -> list[FireTime]:
    """Map one naive wall time to zero, one or two fires (``real_time`` = hourly and finer)."""
    first = nominal.replace(tzinfo=zone, fold=0)
    second = nominal.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return [FireTime(first.astimezone(UTC), first, nominal)]
    first_utc = first.astimezone(UTC)
    if first_utc.astimezone(zone).replace(tzinfo=None) == nominal:
        # The wall time round-trips, so it exists: it is ambiguous (a fold).
        fires = [FireTime(first_utc, first, nominal, "fold")]
        if real_time:
            fires.append(FireTime(second.astimezone(UTC), second, nominal, "fold"))
        return fires
    if real_time:
        return []
    moved = gap_end(nominal, zone)
    return [FireTime(moved, moved.astimezone(zone), nominal, "gap")]


def gap_end(nominal: datetime, zone: ZoneInfo) -> datetime:
    """The transition instant (UTC) that ends the gap containing the naive ``nominal``.

    zoneinfo exposes no transition table, but the two readings of a missing time (the offsets
    before and after) bracket the transition, so a binary search over seconds finds it.
    """
    readings = [
        nominal.replace(tzinfo=zone, fold=fold).astimezone(UTC).replace(microsecond=0)
        for fold in (0, 1)
    ]
    low, high = min(readings), max(readings)
    target = high.astimezone(zone).utcoffset()
    while high - low > _SECOND:
        middle = low + _SECOND * ((high - low) // _SECOND // 2)
        if middle.astimezone(zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return high


def dst_note(fire: FireTime) -> str | None:
    """Explain a DST adjustment in words for previews, or None when there was none."""
    wall = fire.nominal.strftime("%H:%M")
    if fire.dst == "gap":
        moved = fire.local.strftime("%H:%M")
        return f"{wall} does not exist on {fire.nominal:%Y-%m-%d} (DST gap); runs at {moved}"
    if fire.dst == "fold":
        which = "second" if fire.local.fold else "first"
        return f"{wall} happens twice on {fire.nominal:%Y-%m-%d} (DST fold); this is the {which}"
    return None


def local_fire(instant: datetime, zone: ZoneInfo) -> FireTime:
    """A fire at an exact instant (interval, once): no DST adjustment applies."""
    local = instant.astimezone(zone)
    return FireTime(instant.astimezone(UTC), local, local.replace(tzinfo=None, fold=0))
