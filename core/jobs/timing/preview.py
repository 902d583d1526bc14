"""Preview of upcoming fire times (SCHEDULING.md rule 16): schedule zone, viewer zone, DST notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import ValidationFailed
from core.jobs.timing.firetimes import next_fire_times
from core.jobs.timing.timing import Timing
from core.jobs.timing.wallclock import DstFlag, FireTime, dst_note, load_zone

MAX_PREVIEW = 1000


@dataclass(frozen=True)
class PreviewRow:
    """One upcoming fire, plus the same instant in the viewer's zone (None if none was given)."""

    fire: FireTime
    viewer: datetime | None = None

    @property
    def utc(self) -> datetime:
        """The instant in UTC."""
        return self.fire.utc

    @property
    def local(self) -> datetime:
        """The instant in the schedule's zone."""
        return self.fire.local

    @property
    def dst(self) -> DstFlag:
        """ "gap" or "fold" when a DST transition shaped this fire, else None."""
        return self.fire.dst

    @property
    def note(self) -> str | None:
        """A sentence explaining the DST adjustment, or None."""
        return dst_note(self.fire)


def preview(t: Timing, n: int, after: datetime, viewer_zone: str | None = None) -> list[PreviewRow]:
    """The next ``n`` (1..1000) fires strictly after ``after``, each also in ``viewer_zone``."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PREVIEW:
        raise ValidationFailed("n", f"{n!r} is out of range 1-{MAX_PREVIEW}")
    viewer = None if viewer_zone is None else load_zone(viewer_zone, "viewer_zone")
    return [
        PreviewRow(fire, None if viewer is None else fire.utc.astimezone(viewer))
        for fire in next_fire_times(t, after, n)
    ]


def preview_text(rows: list[PreviewRow]) -> list[dict[str, str]]:
    """Rows as plain strings (local, viewer, utc, note) for interfaces that just print them."""
    return [
        {
            "local": f"{row.local:%Y-%m-%d %H:%M %Z}",
            "viewer": "" if row.viewer is None else f"{row.viewer:%Y-%m-%d %H:%M %Z}",
            "utc": f"{row.utc:%Y-%m-%d %H:%M}Z",
            "note": row.note or "",
        }
        for row in rows
    ]
