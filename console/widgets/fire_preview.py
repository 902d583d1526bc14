"""Upcoming fire times of a schedule, with DST gaps and folds flagged (SCHEDULING.md rule 16)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from console.widgets.cells import theme_style
from core.backend.views import FireTimeView
from core.jobs.timing import FireTime
from core.jobs.timing.wallclock import dst_note

#: Below this width the dates lose their year and UTC shows only the time of day.
WIDE = 56
#: The theme colour of each DST flag.
FLAG_COLOURS = {"gap": "text-warning", "fold": "text-primary"}


class FirePreview(Widget):
    """Shows the next fire times (schedule zone, UTC, optionally the viewer's) or why not."""

    DEFAULT_CSS = """
    FirePreview {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fires: tuple[FireTimeView, ...] = ()
        self.zone = ""
        self.viewer_zone: str | None = None
        self.problem: str | None = "Fill in the timing to see when it fires."

    def show_fires(
        self, fires: Sequence[FireTimeView], zone: str, viewer_zone: str | None = None
    ) -> None:
        """Show these fire times; ``viewer_zone`` adds a column when it differs from both."""
        self.fires = tuple(fires)
        self.zone = zone
        self.viewer_zone = viewer_zone if _tells_more(self.fires, zone, viewer_zone) else None
        self.problem = None if fires else "It never fires again (the window has ended)."
        self.refresh(layout=True)

    def show_problem(self, problem: str) -> None:
        """Say why there is nothing to preview (the timing is invalid or incomplete)."""
        self.fires = ()
        self.problem = problem
        self.refresh(layout=True)

    @property
    def flagged(self) -> list[FireTimeView]:
        """The fires a DST transition shaped."""
        return [fire for fire in self.fires if fire.dst is not None]

    def render(self) -> RenderableType:
        theme = self.app.get_css_variables()
        if self.problem is not None:
            return Text(self.problem, style=theme_style(theme, "text-warning"))
        wide = self.size.width >= WIDE
        seconds = _needs_seconds(self.fires)
        table = Table(box=None, padding=(0, 1, 0, 0), show_edge=False, expand=False)
        table.add_column("#", justify="right", style="dim")
        table.add_column(f"Local ({self.zone})" if wide else "Local")
        table.add_column("UTC")
        if self.viewer_zone and wide:
            table.add_column(self.viewer_zone)
        table.add_column("DST")
        for index, fire in enumerate(self.fires, start=1):
            cells = [
                Text(str(index)),
                Text(_local_text(fire.local, wide, seconds)),
                Text(_utc_text(fire, wide, seconds)),
            ]
            if self.viewer_zone and wide and fire.viewer is not None:
                cells.append(Text(_local_text(fire.viewer, False, seconds)))
            cells.append(_flag(fire, theme))
            table.add_row(*cells)
        notes = [_note(fire, theme) for fire in _first_of_each_day(self.flagged)]
        return Group(table, *notes)


def _tells_more(fires: Sequence[FireTimeView], zone: str, viewer_zone: str | None) -> bool:
    """Whether the viewer's clock differs from both the schedule's zone and UTC somewhere."""
    if viewer_zone is None or viewer_zone == zone:
        return False
    return any(
        fire.viewer is not None
        and fire.viewer.utcoffset() not in (fire.local.utcoffset(), timedelta(0))
        for fire in fires
    )


def _needs_seconds(fires: Sequence[FireTimeView]) -> bool:
    """Seconds matter when a fire is off the minute or fires come less than a minute apart."""
    if any(fire.utc.second for fire in fires):
        return True
    return any(b.utc - a.utc < timedelta(minutes=1) for a, b in pairwise(fires))


def _local_text(moment: datetime, wide: bool, seconds: bool) -> str:
    clock = "%H:%M:%S" if seconds else "%H:%M"
    day = "%a %Y-%m-%d" if wide else "%a %m-%d"
    return moment.strftime(f"{day} {clock} %Z")


def _utc_text(fire: FireTimeView, wide: bool, seconds: bool) -> str:
    clock = "%H:%M:%S" if seconds else "%H:%M"
    if wide:
        return fire.utc.strftime(f"%m-%d {clock}Z")
    shift = (fire.utc.date() - fire.local.date()).days
    return fire.utc.strftime(f"{clock}Z") + (f" {shift:+d}d" if shift else "")


def _flag(fire: FireTimeView, theme: dict[str, str]) -> Text:
    if fire.dst is None:
        return Text("")
    return Text(fire.dst, style=f"bold {theme_style(theme, FLAG_COLOURS[fire.dst])}".strip())


def _first_of_each_day(fires: Sequence[FireTimeView]) -> list[FireTimeView]:
    """One note per transition day is enough (an hourly fold flags two fires)."""
    seen: set[object] = set()
    kept = []
    for fire in fires:
        if fire.nominal.date() not in seen:
            seen.add(fire.nominal.date())
            kept.append(fire)
    return kept


def _note(fire: FireTimeView, theme: dict[str, str]) -> Text:
    assert fire.dst is not None
    fire_time = FireTime(fire.utc, fire.local, fire.nominal.replace(tzinfo=None), fire.dst)
    text = Text()
    text.append(f"{fire.dst}: ", style=f"bold {theme_style(theme, FLAG_COLOURS[fire.dst])}")
    text.append(dst_note(fire_time) or "")
    return text
