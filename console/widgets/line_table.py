"""A DataTable that measures and draws one-line rows of plain Text itself, much faster.

DataTable measures and draws every cell through Rich's general layout, and keys its caches
by the cursor's coordinate, so a page down draws every line of the screen afresh at ~0.7 ms a
line (24 ms for a screenful of the runs table). The overrides here take the common case, a
one-line row of simple Text under a row cursor with no labels or fixed columns, and produce
exactly the segments DataTable would (``tests/console/test_cell_lines.py`` compares both, cell
by cell and line by line); anything else is left to DataTable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from console.widgets.cell_lines import cell_line, simple


class LineTable(DataTable[Text]):
    """DataTable, with one-line rows of simple Text measured and drawn the short way."""

    #: per drawing pass: the widget's style and the zebra rows' styles (each a walk up the
    #: DOM when asked for; DataTable asks for them once or twice per line)
    _pass_style: Style | None = None
    _pass_row_styles: dict[int, Style] | None = None

    def __init__(self, **options: Any) -> None:
        #: rows drawn by _render_line_in_row, by whether the cursor and hover are on them
        #: (made first: DataTable clears its caches while it initialises)
        self._rows_drawn: LRUCache[tuple[object, ...], tuple[SegmentLines, SegmentLines]]
        self._rows_drawn = LRUCache(1000)
        super().__init__(**options)

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._rows_drawn.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rows_drawn.clear()  # where DataTable drops its drawn rows (a theme change)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pass_style = None
        self._pass_row_styles = {}
        try:
            return super().render_lines(crop)
        finally:
            self._pass_style = self._pass_row_styles = None

    @property
    def rich_style(self) -> Style:
        """The widget's style, looked up once per drawing pass."""
        if self._pass_row_styles is None:  # outside a pass
            return super().rich_style
        if self._pass_style is None:
            self._pass_style = super().rich_style
        return self._pass_style

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        styles = self._pass_row_styles
        if styles is None or row_index < max(self.fixed_rows, 0) or not self.zebra_stripes:
            return super()._get_row_style(row_index, base_style)
        parity = row_index % 2
        if parity not in styles:
            styles[parity] = super()._get_row_style(row_index, base_style)
        return styles[parity]

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[SegmentLines, SegmentLines]:
        """A one-line body row under a row cursor, drawn in one pass and kept by whether the
        cursor and the hover are on it (DataTable keys it by where they are, so every move
        drew every row again); anything else as DataTable draws it."""
        row_index = self._row_locations.get(row_key)
        row = self.rows.get(row_key)
        if (
            row_index is None
            or row is None
            or row.height != 1
            or self.cursor_type != "row"
            or self.fixed_columns
            or row_index < self.fixed_rows
            or self._should_render_row_labels
        ):
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        cursor = cursor_location.row == row_index
        hover = hover_location.row == row_index
        show_cursor, show_hover = self.show_cursor, self._show_hover_cursor
        key = (
            row_key,
            line_no,
            base_style,
            cursor,
            hover,
            show_cursor,
            show_hover,
            self._update_count,
            self._pseudo_class_state,
        )
        drawn = self._rows_drawn.get(key)
        if drawn is not None:
            return drawn
        row_style = self._get_row_style(row_index, base_style)
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            show_cursor,
            show_hover,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        console, padding = self.app.console, self.cell_padding
        values = self._data[row_key]
        cells: list[list[Segment]] = []
        table_width = 0
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            table_width += width
            cell = values.get(column.key)
            if cell is not None and simple(cell) and width > 2 * padding:
                meta = Style.from_meta({"row": row_index, "column": column_index})
                pre = row_style + meta + component
                cells.append(cell_line(console, cell, width, padding, pre, post))
            else:
                lines = self._render_cell(row_index, column_index, row_style, width, cursor, hover)
                cells.append(lines[line_no])
        extend, _ = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, show_cursor, show_hover, False, False
        )
        extend = row_style + extend
        extend += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        remaining = max(0, self.size.width - table_width - self._row_label_column_width)
        cells.append([Segment(" " * remaining, extend)])
        drawn = ([], cells)
        self._rows_drawn[key] = drawn
        return drawn

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        """A body cell of a one-line row is drawn by cell_lines (the same segments, several
        times faster); headers, labels, fixed cells and anything else as DataTable draws them.
        Kept in DataTable's own cell cache, under its own key."""
        if row_index < self.fixed_rows or column_index < self.fixed_columns:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        row = self.rows.get(row_key) if row_key is not None else None
        narrow = width <= 2 * self.cell_padding  # no room for text: Rich drops the padding too
        if row_key is None or column_key is None or row is None or row.height != 1 or narrow:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cell = self._data[row_key].get(column_key)
        if cell is None or not simple(cell):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        lines = self._cell_render_cache.get(key)
        if lines is None:
            component, post = self._get_styles_to_render_cell(
                False,
                False,
                False,
                hover,
                cursor,
                self.show_cursor,
                self._show_hover_cursor,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css",
            )
            meta = Style.from_meta({"row": row_index, "column": column_index})
            pre = base_style + meta + component
            lines = [cell_line(self.app.console, cell, width, self.cell_padding, pre, post)]
            self._cell_render_cache[key] = lines
        return lines

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Widen the columns for new rows, then size the table as DataTable does.

        DataTable measures every cell of every new row through Rich (``measure`` builds the
        console's options for each one): ~15 us a cell, 12 ms for a window of 100 runs. A
        one-line row of simple cells is measured here from the cells' text, which is what
        Rich's measure of such a cell comes to; other rows are measured by DataTable.
        """
        columns = self.ordered_columns
        measured_by_table = []
        for row_key in new_rows:
            row = self.rows.get(row_key)
            cells = self._data.get(row_key)
            if row is None or cells is None:
                continue  # removed before the table was idle
            values = [cells.get(column.key) for column in columns]
            if row.height != 1 or row.label is not None or not all(map(_measurable, values)):
                measured_by_table.append(row_key)
                continue
            for column, cell in zip(columns, values, strict=True):
                if cell is not None:
                    width = max(map(cell_len, cell.plain.splitlines()), default=0)
                    if width > column.content_width:
                        column.content_width = width
        super()._update_dimensions(measured_by_table)


def _measurable(cell: object) -> bool:
    """Whether the width of ``cell`` can be told from its text (see _update_dimensions)."""
    return cell is None or simple(cell)
