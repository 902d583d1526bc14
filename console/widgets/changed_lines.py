"""Repaint only what changed: a Line API widget whose whole-widget repaints send the changed
cells of each line, not every line.

Textual writes every cell of a region it repaints, and widgets ask for their whole region on
most changes (DataTable on any added, removed or moved row; a ScrollView on every scroll).
Over a slow SSH link that is a screenful of bytes for a new run arriving above the rows on
screen, or for a followed log moving up a few lines. ``ChangedLinesOnly`` takes such a
request, draws the lines on screen once the widget has settled (after the next refresh),
compares them with what it last drew there and asks Textual to repaint only the span of each
line that differs, through the public ``refresh(*regions)``.

What the comparison cannot see is repainted whole, as before: a change of size or of styles
(a theme, focus), a recompose. The border is outside the lines: a new border title repaints
its top and bottom rows only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from rich.cells import cell_len, get_character_cell_size
from textual.geometry import Region, Size
from textual.strip import Strip

if TYPE_CHECKING:
    from textual.widget import Widget as _Base
else:
    _Base = object  # a plain mixin: Textual takes CSS and component classes from the first
    # DOMNode base, which must stay the widget's own

#: A cell as drawn: its character and style.
Cell = tuple[str, object]
#: The right half of a wide character, and a cell past the end of a line.
WIDE_HALF = "\x00"
PAST_END: Cell = ("", None)


class ChangedLinesOnly(_Base):
    """Mix in before a Line API widget (``render_line``): whole repaints send changed cells."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: the cells last drawn, by content row, and the size they were drawn at (None: not
        #: known, the next repaint is whole)
        self._drawn_lines: dict[int, list[Cell]] = {}
        #: each row's line as last drawn, with its meta (where mouse clicks and selections
        #: land: it must follow the line even where the cells look the same)
        self._drawn_strips: dict[int, Strip] = {}
        self._drawn_size: Size | None = None
        self._drawn_titles: tuple[object, object] = (None, None)
        self._diff_pending = False
        super().__init__(*args, **kwargs)

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if recompose or not self.is_mounted:
            self._drawn_size = None
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        lines = Region(0, 0, *self.scrollable_content_region.size)
        if repaint and regions and not any(r.contains_region(lines) for r in regions):
            # A few cells (a cursor moved, a cell changed): repainted at once, as asked, and
            # kept as drawn (those cells only: a pending comparison still sees the rest).
            for region in regions:
                self._keep_drawn(region)
            return super().refresh(*regions, repaint=repaint, layout=layout)
        if not repaint:
            return super().refresh(repaint=False, layout=layout)
        if layout:
            super().refresh(repaint=False, layout=True)
        if not self._diff_pending:
            self._diff_pending = True
            # After the refresh: whatever else changes meanwhile (rows measured on idle, the
            # cursor scrolled into view) is drawn by then.
            self.call_after_refresh(self._repaint_changed)
        return self

    def _keep_drawn(self, region: Region) -> None:
        for y in range(max(region.y, 0), region.bottom):
            drawn = self._drawn_lines.get(y)
            if drawn is None:
                continue
            start, end = max(region.x, 0), region.right
            strip = self.render_line(y)
            self._drawn_strips[y] = strip  # a repainted row is drawn again whole, meta and all
            now = cells_of(strip)
            if len(drawn) < end:
                drawn += [PAST_END] * (end - len(drawn))
            drawn[start:end] = now[start:end] + [PAST_END] * (end - start - len(now[start:end]))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn_size = None  # every line may look different: the next repaint is whole

    def _repaint_changed(self) -> None:
        """Draw the lines on screen, keep them, and repaint the cells that differ."""
        self._diff_pending = False
        if not self.is_mounted:
            return
        size = self.scrollable_content_region.size
        titles = (self.border_title, self.border_subtitle)
        if size != self._drawn_size:
            self._drawn_size, self._drawn_titles = size, titles
            self._drawn_strips = {y: self.render_line(y) for y in range(size.height)}
            self._drawn_lines = {y: cells_of(line) for y, line in self._drawn_strips.items()}
            super().refresh()
            return
        regions = []
        if titles != self._drawn_titles:
            regions += self._title_regions(self._drawn_titles, titles)
            self._drawn_titles = titles
        for y in range(size.height):
            strip = self.render_line(y)
            if strip == self._drawn_strips.get(y):
                continue
            self._drawn_strips[y] = strip
            line = cells_of(strip)
            drawn = self._drawn_lines.get(y)
            self._drawn_lines[y] = line
            if drawn is None:
                regions.append(Region(0, y, size.width, 1))
            elif (span := changed_span(drawn, line)) is not None:
                start, end = span
                regions.append(Region(start, y, end - start, 1))
            else:
                # The same cells with other meta (another row under them): one cell repainted
                # has Textual draw the whole line again where clicks are looked up.
                regions.append(Region(0, y, 1, 1))
        if regions:
            super().refresh(*regions)

    def _title_regions(
        self, drawn: tuple[object, object], titles: tuple[object, object]
    ) -> list[Region]:
        """Where the titles that changed are, on the border's top and bottom rows (outside
        the lines): as wide as the longer of the old and new text, from the side it is
        aligned to."""
        left, top = self.content_offset
        width, height = self.outer_size
        styles = self.styles
        regions = []
        rows = (-top, height - top - 1)
        aligns = (styles.border_title_align, styles.border_subtitle_align)
        for old, new, y, align in zip(drawn, titles, rows, aligns, strict=True):
            if old == new:
                continue
            # The text, a space either side, and the corner and edge before it.
            wide = min(width, max(cell_len(str(old or "")), cell_len(str(new or ""))) + 6)
            if align == "left":
                regions.append(Region(-left, y, wide, 1))
            elif align == "right":
                regions.append(Region(width - wide - left, y, wide, 1))
            else:
                regions.append(Region(-left, y, width, 1))
        return regions


def cells_of(strip: Strip) -> list[Cell]:
    """The cells of a line as the terminal shows them (no meta), left to right."""
    cells: list[Cell] = []
    for segment in strip.discard_meta():
        text, style, control = segment
        if control:
            continue
        for character in text:
            cells.append((character, style))
            if get_character_cell_size(character) == 2:
                cells.append((WIDE_HALF, style))
    return cells


def changed_span(before: list[Cell], after: list[Cell]) -> tuple[int, int] | None:
    """The cells [start, end) from the first to the last that differ (None: none do)."""
    length = max(len(before), len(after))
    old = before + [PAST_END] * (length - len(before))
    new = after + [PAST_END] * (length - len(after))
    start = next((x for x in range(length) if old[x] != new[x]), None)
    if start is None:
        return None
    end = next(x for x in range(length - 1, start - 1, -1) if old[x] != new[x]) + 1
    # A wide character is repainted whole.
    if start and WIDE_HALF in (old[start][0], new[start][0]):
        start -= 1
    if end < length and WIDE_HALF in (old[end][0], new[end][0]):
        end += 1
    return start, end
