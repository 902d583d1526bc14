"""A DataTable keyed by stable ids that diffs snapshots in and moves with vim keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.widgets.data_table import RowDoesNotExist

from console.widgets.line_table import LineTable

#: One row per stable key (a template id, a run id), cells in column order.
Rows = Mapping[str, Sequence[Text]]


def same_cell(old: Text, new: Text) -> bool:
    """Whether two cells draw the same. Text's ``==`` compares the words and spans only, not
    the style of the whole text: a status redrawn in a new theme's colour is equal to the
    old one, and would keep the old colour on screen."""
    return (
        old == new
        and old.style == new.style
        and old.justify == new.justify
        and old.overflow == new.overflow
        and old.no_wrap == new.no_wrap
    )


class KeyedTable(LineTable):
    """Row-cursor table whose rows follow snapshots without losing the cursor or scroll."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "First row", show=False, id="table.first"),
        Binding("G", "scroll_bottom", "Last row", show=False, id="table.last"),
    ]

    def __init__(
        self,
        *,
        id: str | None = None,
        classes: str | None = None,
        whole_columns: Iterable[str] = ("status",),
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.whole_columns = frozenset(whole_columns)

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
                    if not same_cell(old, new):
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
