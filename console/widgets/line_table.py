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
from itertools import chain
from typing import Any, Self, TypeGuard

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.content import Content
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from console.widgets.cell_lines import cell_line, simple
from console.widgets.column_fit import fitted_widths

#: The lines of a row, each a list of segments (Textual's own alias is private).
SegmentLines = list[list[Segment]]


class LineTable(DataTable[Text]):
    """DataTable, with one-line rows of simple Text measured and drawn the short way."""

    #: per drawing pass: the widget's style and the zebra rows' styles (each a walk up the
    #: DOM when asked for; DataTable asks for them once or twice per line)
    _pass_style: Style | None = None
    _pass_row_styles: dict[int, Style] | None = None
    #: the width of each column (the label column first) when the table was last drawn
    _drawn_widths: tuple[int, ...] = ()
    #: keys of the columns fit_columns never narrows (a status must read whole)
    whole_columns: frozenset[str] = frozenset()

    def __init__(self, **options: Any) -> None:
        # Made first: DataTable clears its caches while it initialises.
        #: rows drawn by _render_line_in_row, by whether the cursor and hover are on them
        self._rows_drawn: LRUCache[tuple[object, ...], tuple[SegmentLines, SegmentLines]]
        self._rows_drawn = LRUCache(1000)
        #: lines drawn by _render_line, likewise
        self._lines_drawn: LRUCache[tuple[object, ...], Strip] = LRUCache(1000)
        #: how many times each row's cells were changed in place (see update_cell)
        self._row_versions: dict[RowKey, int] = {}
        #: the columns fit_columns narrowed below their content
        self._fitted: set[ColumnKey] = set()
        #: the border title and subtitle last set by set_titles
        self._titles: tuple[str | None, str | Content | None] = (None, None)
        super().__init__(**options)

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._rows_drawn.clear()
        self._lines_drawn.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # where DataTable drops its drawn rows (a theme change)
        self._rows_drawn.clear()
        self._lines_drawn.clear()

    def add_column(
        self,
        label: str | Text,
        *,
        width: int | None = None,
        key: str | None = None,
        default: Text | None = None,
    ) -> ColumnKey:
        """Add a column; a label given as a string is literal text (never markup) that ends
        in an ellipsis when its column is narrowed (see fit_columns)."""
        if isinstance(label, str):
            label = Text(label, no_wrap=True, overflow="ellipsis")
        return super().add_column(label, width=width, key=key, default=default)

    def fit_columns(self) -> bool:
        """Narrow the widest columns until the table fits its width (cells that no longer
        fit end in `…`), or widen them back as far as it allows; whether any changed.

        Only columns sized by their content are fitted: one given a width keeps it.
        """
        columns = [c for c in self.ordered_columns if c.auto_width or c.key in self._fitted]
        if not columns or not self.size.width:
            return False
        scrollbar = 0
        if self.styles.overflow_y == "scroll" or (
            self.styles.overflow_y == "auto" and self.virtual_size.height > self.size.height
        ):
            scrollbar = self.styles.scrollbar_size_vertical
        fixed = sum(c.get_render_width(self) for c in self.ordered_columns if c not in columns)
        room = self.size.width - scrollbar - self._row_label_column_width - fixed
        room -= 2 * self.cell_padding * len(columns)
        whole = [str(c.key.value) in self.whole_columns for c in columns]
        widths = fitted_widths([c.content_width for c in columns], room, whole)
        changed = False
        for column, width in zip(columns, widths, strict=True):
            narrowed = width < column.content_width
            if narrowed != (not column.auto_width) or (narrowed and column.width != width):
                changed = True
            column.auto_width = not narrowed
            if narrowed:
                column.width = width
                self._fitted.add(column.key)
            else:
                self._fitted.discard(column.key)
        if changed:
            table_width = sum(c.get_render_width(self) for c in self.ordered_columns)
            table_width += self._row_label_column_width
            self.virtual_size = Size(table_width, self.virtual_size.height)
            self.refresh()
        return changed

    def on_resize(self) -> None:
        self.fit_columns()

    def set_titles(self, title: str, subtitle: str | Content | None = None) -> None:
        """Set the border's title and, when given, its subtitle. Setting either draws the
        whole table again (Textual does not compare), and live reloads set them each time:
        an unchanged one is left alone."""
        if title != self._titles[0]:
            self.border_title = title
        if subtitle is not None and subtitle != self._titles[1]:
            self.border_subtitle = subtitle
        self._titles = (title, self._titles[1] if subtitle is None else subtitle)

    def clear(self, columns: bool = False) -> Self:
        self._row_versions.clear()
        if columns:
            self._fitted.clear()
        return super().clear(columns)

    def remove_column(self, column_key: ColumnKey | str) -> Self:
        self._fitted.discard(ColumnKey(column_key) if isinstance(column_key, str) else column_key)
        return super().remove_column(column_key)

    def _drawn_here(self, row_key: RowKey) -> bool:
        """Whether the row is drawn by _render_line_in_row below (not by DataTable)."""
        row = self.rows.get(row_key)
        return (
            row is not None
            and row.height == 1
            and self.cursor_type == "row"
            and not self.fixed_columns
            and not self.fixed_rows
            and not self._should_render_row_labels
        )

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Text,
        *,
        update_width: bool = False,
    ) -> None:
        """Change a cell. A one-line cell that keeps its width (a duration ticking) redraws
        itself only; anything else as DataTable does it, which draws every row again."""
        row_key = RowKey(row_key) if isinstance(row_key, str) else row_key
        column_key = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        row_index = self._row_locations.get(row_key)
        if row_index is None or not self._in_place(row_key, column_key, value):
            super().update_cell(row_key, column_key, value, update_width=update_width)
            return
        self._data[row_key][column_key] = value
        self._row_versions[row_key] = self._row_versions.get(row_key, 0) + 1
        # Only the cell goes to the terminal (over SSH, a few bytes rather than a line).
        self.refresh_coordinate(Coordinate(row_index, self._column_locations.get(column_key)))

    def _in_place(self, row_key: RowKey, column_key: ColumnKey, value: Text) -> bool:
        """Whether ``value`` can replace its cell without changing anything else: a row drawn
        here, both old and new cells drawn here, and the same width."""
        column = self.columns.get(column_key)
        if column is None or row_key not in self._data or not self._drawn_here(row_key):
            return False
        old, width = self._data[row_key].get(column_key), column.get_render_width(self)
        return (
            self._drawable(old, width)
            and self._drawable(value, width)
            and old.cell_len == value.cell_len
        )

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """A line of the table, kept (as its row is) by whether the cursor and hover are on
        its row and by the row's in-place changes; as DataTable draws it otherwise."""
        if self.cursor_type != "row" or self.fixed_columns or self.fixed_rows:
            return super()._render_line(y, x1, x2, base_style)
        width = self.size.width
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return Strip.blank(width, base_style)
        row_index = self._row_locations.get(row_key)
        if row_index is None:
            row_index = -1  # the header
        cursor, hover = self.cursor_coordinate, self.hover_coordinate
        key = (
            y,
            x1,
            x2,
            width,
            cursor.row == row_index,
            hover.row == row_index,
            base_style,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
            self._row_versions.get(row_key, 0),
        )
        strip = self._lines_drawn.get(key)
        if strip is None:
            fixed, scrollable = self._render_line_in_row(
                row_key, line_no, base_style, cursor_location=cursor, hover_location=hover
            )
            segments = list(chain.from_iterable(fixed))  # a label (no fixed columns here)
            segments += list(Strip(list(chain.from_iterable(scrollable))).crop(x1, x2))
            strip = Strip(segments).adjust_cell_length(width, base_style).simplify()
            self._lines_drawn[key] = strip
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        # Drawn rows and lines are kept by the table's update count, which widening a column
        # (on idle, after rows were added or cells changed) does not move: DataTable counts
        # on the Resize that usually follows, which can come after a frame drawn with the new
        # rows and the old widths. Here any change of widths makes every kept row stale.
        widths = (
            self._row_label_column_width,
            *(column.get_render_width(self) for column in self.ordered_columns),
        )
        if widths != self._drawn_widths:
            self._drawn_widths = widths
            self._update_count += 1
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

    def _drawable(self, cell: object, width: int) -> TypeGuard[Text]:
        """Whether ``cell`` is drawn here (cell_lines) in a column ``width`` cells wide: one
        line of text, with room for it (in a narrower column Rich drops the padding too)."""
        return simple(cell) and width > 2 * self.cell_padding

    def _draw_cell(
        self,
        cell: Text,
        where: tuple[int, int],
        row_style: Style,
        width: int,
        component: Style,
        post: Style,
    ) -> list[Segment]:
        """The segments of a body cell at ``where`` (row, column), as DataTable draws it."""
        row_index, column_index = where
        meta = Style.from_meta({"row": row_index, "column": column_index})
        pre = row_style + meta + component
        return cell_line(self.app.console, cell, width, self.cell_padding, pre, post)

    def _body_styles(self, cursor: bool, hover: bool) -> tuple[Style, Style]:
        """The cursor's and hover's styles for a body cell: under the cell's own, and over
        them (when the cursor's colours take priority)."""
        return self._get_styles_to_render_cell(
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
        if row_index is None or not self._drawn_here(row_key):
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
            self._row_versions.get(row_key, 0),
        )
        drawn = self._rows_drawn.get(key)
        if drawn is not None:
            return drawn
        row_style = self._get_row_style(row_index, base_style)
        component, post = self._body_styles(cursor, hover)
        values = self._data[row_key]
        cells: list[list[Segment]] = []
        table_width = 0
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            table_width += width
            cell = values.get(column.key)
            if self._drawable(cell, width):
                where = (row_index, column_index)
                cells.append(self._draw_cell(cell, where, row_style, width, component, post))
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
        if row_key is None or column_key is None or row is None or row.height != 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cell = self._data[row_key].get(column_key)
        if not self._drawable(cell, width):
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
            self._row_versions.get(row_key, 0),
        )
        lines = self._cell_render_cache.get(key)
        if lines is None:
            component, post = self._body_styles(cursor, hover)
            where = (row_index, column_index)
            lines = [self._draw_cell(cell, where, base_style, width, component, post)]
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
        self.fit_columns()


def _measurable(cell: object) -> bool:
    """Whether the width of ``cell`` can be told from its text (see _update_dimensions)."""
    return cell is None or simple(cell)
