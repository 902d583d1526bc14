"""A DataTable keyed by stable ids that diffs snapshots in and moves with vim keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist, RowKey

from console.widgets.cell_lines import cell_line, simple

#: One row per stable key (a template id, a run id), cells in column order.
Rows = Mapping[str, Sequence[Text]]


class KeyedTable(DataTable[Text]):
    """Row-cursor table whose rows follow snapshots without losing the cursor or scroll."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "First row", show=False, id="table.first"),
        Binding("G", "scroll_bottom", "Last row", show=False, id="table.last"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)

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

    @property
    def highlighted_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    @property
    def keys_in_order(self) -> list[str]:
        """Row keys as the rows appear on screen."""
        return [str(row.key.value) for row in self.ordered_rows]

    def apply_rows(self, rows: Rows) -> None:
        """Make the table show ``rows``, in their order, touching only what changed.

        New keys are added, changed cells updated, stale keys removed; the cursor stays on
        the row it was on (never clear() and re-add: that loses the operator's place).
        """
        highlighted = self.highlighted_key
        column_keys = list(self.columns)
        if not any(key in rows for key in self.keys_in_order):
            # Nothing stays (a new page of runs, a new filter): no place to keep, and
            # removing rows one by one costs 8x a clear (measured at 200 rows).
            with self.app.batch_update():
                self.clear()
                for key, cells in rows.items():
                    self.add_row(*cells, key=key)
            return
        with self.app.batch_update():
            for stale_key in [key for key in self.keys_in_order if key not in rows]:
                self.remove_row(stale_key)
            for key, cells in rows.items():
                try:
                    current = self.get_row(key)
                except RowDoesNotExist:
                    self.add_row(*cells, key=key)
                    continue
                for column_key, old, new in zip(column_keys, current, cells, strict=True):
                    if old != new:
                        self.update_cell(key, column_key, new, update_width=True)
            if self.keys_in_order != list(rows):
                self._reorder(list(rows))
            if highlighted is not None and highlighted in rows:
                self.move_cursor(row=self.get_row_index(highlighted))

    def _reorder(self, wanted: list[str]) -> None:
        # DataTable sorts by cell values only, so rank rows by the identity of their first
        # cell: those objects are exactly the ones this table holds for each key.
        first_column = next(iter(self.columns))
        rank = {id(self.get_cell(key, first_column)): index for index, key in enumerate(wanted)}
        self.sort(first_column, key=lambda cell: rank[id(cell)])


def _measurable(cell: object) -> bool:
    """Whether the width of ``cell`` can be told from its text (see _update_dimensions)."""
    return cell is None or simple(cell)
