"""The runs screen's table (a window that asks for its neighbours) and its `/` name field."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

from console.widgets.changed_lines import ChangedLinesOnly
from console.widgets.keyed_table import KeyedTable


class RunsTable(ChangedLinesOnly, KeyedTable):
    """The runs table: moving past its first or last row asks for the neighbouring window.

    A run arriving, a status changing, rows moving under a viewport that stays: only the
    cells that look different are sent to the terminal (see ChangedLinesOnly).
    """

    class PastEdge(Message):
        """The cursor tried to leave the window: ``step`` 1 after the end, -1 before the start;
        ``home``: back to the very first window."""

        def __init__(self, step: int, *, home: bool = False) -> None:
            super().__init__()
            self.step = step
            self.home = home

    def _at_last(self) -> bool:
        return self.row_count == 0 or self.cursor_row >= self.row_count - 1

    def action_cursor_down(self) -> None:
        """Down a row; at the last row, on to the next window."""
        if self._at_last():
            self.post_message(self.PastEdge(1))
        else:
            super().action_cursor_down()

    def action_page_down(self) -> None:
        """Down a page; at the last row, on to the next window."""
        if self._at_last():
            self.post_message(self.PastEdge(1))
        else:
            super().action_page_down()

    def action_scroll_bottom(self) -> None:
        """To the last row; when already there, on to the next window."""
        if self._at_last():
            self.post_message(self.PastEdge(1))
        else:
            super().action_scroll_bottom()

    def action_cursor_up(self) -> None:
        """Up a row; at the first row, back to the previous window."""
        if self.cursor_row <= 0:
            self.post_message(self.PastEdge(-1))
        else:
            super().action_cursor_up()

    def action_page_up(self) -> None:
        """Up a page; at the first row, back to the previous window."""
        if self.cursor_row <= 0:
            self.post_message(self.PastEdge(-1))
        else:
            super().action_page_up()

    def action_scroll_top(self) -> None:
        """To the first row; when already there, back to the newest window."""
        if self.cursor_row <= 0:
            self.post_message(self.PastEdge(-1, home=True))
        else:
            super().action_scroll_top()


class RunSearch(Input):
    """The `/` name filter; `escape` clears it and goes back to the table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear", id="runs.search_clear"),
    ]

    def action_clear(self) -> None:
        """Empty the field (showing every name again) and hide it."""
        self.value = ""
        self.post_message(self.Submitted(self, ""))
