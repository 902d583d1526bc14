"""Keyed tables draw one-line cells themselves (cell_lines): the segments must be DataTable's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widgets import DataTable

from console.app import JobdeckApp
from console.widgets import KeyedTable
from console.widgets.cell_lines import simple
from core.backend.fake import FakeBackend
from core.clock import ManualClock

STATES = [(False, False), (True, False), (False, True), (True, True)]
T = TypeVar("T")


@asynccontextmanager
async def runs_table(
    backend: FakeBackend, clock: ManualClock, theme: str
) -> AsyncIterator[KeyedTable]:
    """The runs screen's table at 160x48 in ``theme``, loaded."""
    app = JobdeckApp(backend, clock, start_screen="runs", poll_seconds=None)
    async with app.run_test(size=(160, 48)) as pilot:
        app.theme = theme
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        yield app.screen.query_one(KeyedTable)


def _fresh(table: KeyedTable, draw: Callable[..., T], *args: Any) -> T:
    """What ``draw(*args)`` gives with every cache of the table emptied before (and after)."""
    table._clear_caches()
    try:
        return draw(*args)
    finally:
        table._clear_caches()


def _add_crafted_rows(table: KeyedTable, *, mixed: bool = False) -> None:
    """A row per crafted cell; ``mixed``: and one of cells DataTable draws (markup str, None,
    two lines)."""
    for index, cell in enumerate(CELLS):
        table.add_row(cell, Text(str(index)), Text("x" * index), key=str(index))
    if mixed:
        table.add_row("markup [b]str[/b]", None, Text("two\nlines"), key="general")


def _both_ways(table: KeyedTable, row: int, column: int, cursor: bool, hover: bool) -> tuple:
    """The cell as KeyedTable draws it and as DataTable itself would (caches emptied)."""
    width = table.ordered_columns[column].get_render_width(table)
    base = table.rich_style
    ours = _fresh(table, table._render_cell, row, column, base, width, cursor, hover)
    theirs = _fresh(table, DataTable._render_cell, table, row, column, base, width, cursor, hover)
    return ours, theirs


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "nord"])
async def test_runs_cells_are_drawn_as_datatable_draws_them(
    backend: FakeBackend, clock: ManualClock, theme: str
) -> None:
    async with runs_table(backend, clock, theme) as table:
        assert table.row_count > 20
        for row in range(20):
            for column in range(len(table.columns)):
                for cursor, hover in STATES:
                    ours, theirs = _both_ways(table, row, column, cursor, hover)
                    assert ours == theirs, (row, column, cursor, hover)


class _Cells(App[None]):
    def compose(self) -> ComposeResult:
        table = KeyedTable()
        table.add_columns("a", "b", "c")
        yield table


CELLS = [
    Text("plain"),
    Text("—", style="dim"),
    Text("12m03s", justify="right"),
    Text("  spaced  ", justify="right"),
    Text("left", justify="left", style="bold #ff0000"),
    Text.assemble(("status ", "green"), ("spans", "italic underline")),
    Text("日本語 wide ü"),
    Text("[not markup]"),
    Text(""),
]


async def test_crafted_cells_are_drawn_as_datatable_draws_them() -> None:
    app = _Cells()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(KeyedTable)
        _add_crafted_rows(table)
        await pilot.pause()
        for row in range(len(CELLS)):
            for column in range(3):
                for cursor, hover in STATES:
                    ours, theirs = _both_ways(table, row, column, cursor, hover)
                    assert ours == theirs, (row, column, cursor, hover)
        # narrower than the text: both crop it the same way
        for row in range(len(CELLS)):
            for width in (1, 3, 5):
                table._cell_render_cache.clear()
                ours = table._render_cell(row, 0, Style(), width)
                table._cell_render_cache.clear()
                theirs = DataTable._render_cell(table, row, 0, Style(), width)
                table._cell_render_cache.clear()
                assert ours == theirs, (row, width)


def test_only_one_line_text_takes_the_short_way() -> None:
    assert simple(Text("one line"))
    assert not simple(Text("two\nlines"))
    assert not simple(Text("a\ttab"))
    assert not simple(Text("centred", justify="center"))
    assert not simple("a str (markup)")


class _Twins(App[None]):
    """A KeyedTable and a plain DataTable with the same columns."""

    def compose(self) -> ComposeResult:
        for table in (KeyedTable(id="keyed"), DataTable(id="plain")):
            table.add_columns("a", "b", "c")
            yield table


async def test_new_rows_widen_the_columns_as_datatable_measures_them() -> None:
    """KeyedTable measures simple one-line rows itself; the widths and the table's size
    must come out as DataTable's own measuring gives them, whatever the mix of rows."""
    others = ["a str [b]markup[/b]", Text("two\nlines longer"), Text("a\ttab"), 3.14159, None]
    app = _Twins()
    async with app.run_test(size=(120, 30)) as pilot:
        keyed, plain = app.query_one(KeyedTable), app.query_one("#plain", DataTable)
        batches: list[list[tuple[object, ...]]] = [
            [(cell, Text(str(n)), Text("x" * n)) for n, cell in enumerate(CELLS)],
            [(other, Text("ok"), Text("y")) for other in others],
            [(Text("日本語日本語日本語 wider still"), Text("z" * 30), Text(""))],
        ]
        for number, batch in enumerate(batches):
            for index, cells in enumerate(batch):
                for table in (keyed, plain):
                    table.add_row(*cells, key=f"{number}-{index}")
            keyed.add_row(Text("labelled"), label="L", key=f"{number}-label")
            plain.add_row(Text("labelled"), label="L", key=f"{number}-label")
            await pilot.pause()
            assert [c.content_width for c in keyed.ordered_columns] == [
                c.content_width for c in plain.ordered_columns
            ]
            assert keyed._label_column.content_width == plain._label_column.content_width
            assert keyed.virtual_size == plain.virtual_size


def _rows_both_ways(
    table: KeyedTable, cursor: Coordinate, hover: Coordinate
) -> list[tuple[object, object]]:
    """Each row on screen as LineTable draws it and as DataTable itself would (every cache
    cleared before each), header included."""
    base = table.rich_style
    pairs = []
    keys = [table._header_row_key, *(row.key for row in table.ordered_rows[:30])]
    for key in keys:
        ours = _fresh(table, table._render_line_in_row, key, 0, base, cursor, hover)
        theirs = _fresh(table, DataTable._render_line_in_row, table, key, 0, base, cursor, hover)
        pairs.append((ours, theirs))
    return pairs


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "nord"])
async def test_runs_rows_are_drawn_as_datatable_draws_them(
    backend: FakeBackend, clock: ManualClock, theme: str
) -> None:
    async with runs_table(backend, clock, theme) as table:
        for cursor, hover in [
            (Coordinate(0, 0), Coordinate(-1, -1)),
            (Coordinate(3, 0), Coordinate(5, 2)),
            (Coordinate(4, 1), Coordinate(4, 1)),
        ]:
            for show_cursor in (True, False):
                table.show_cursor = show_cursor
                table._set_hover_cursor(True)
                for ours, theirs in _rows_both_ways(table, cursor, hover):
                    assert ours == theirs, (cursor, hover, show_cursor)


async def test_crafted_rows_are_drawn_as_datatable_draws_them() -> None:
    app = _Cells()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(KeyedTable)
        _add_crafted_rows(table, mixed=True)
        await pilot.pause()
        for cursor in (Coordinate(0, 0), Coordinate(len(CELLS), 0)):
            for ours, theirs in _rows_both_ways(table, cursor, Coordinate(2, 0)):
                assert ours == theirs, cursor
        # wider than the widget: no room left to extend the row into
        table.add_row(Text("w" * 60), Text("wide"), Text("row"), key="wide")
        await pilot.pause()
        for ours, theirs in _rows_both_ways(table, Coordinate(0, 0), Coordinate(-1, -1)):
            assert ours == theirs


async def test_rows_drawn_before_a_theme_change_are_drawn_again(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = JobdeckApp(backend, clock, start_screen="runs", poll_seconds=None)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(KeyedTable)
        key = table.ordered_rows[0].key
        cursor, away = Coordinate(0, 0), Coordinate(-1, -1)
        before = table._render_line_in_row(key, 0, table.rich_style, cursor, away)
        app.theme = "nord" if app.theme != "nord" else "textual-light"
        await pilot.pause()
        ours = table._render_line_in_row(key, 0, table.rich_style, cursor, away)
        table._clear_caches()
        theirs = DataTable._render_line_in_row(table, key, 0, table.rich_style, cursor, away)
        assert ours == theirs != before


def _lines_both_ways(table: KeyedTable) -> list[tuple[object, object]]:
    """Each line on screen (header included) as LineTable draws it and as DataTable would."""
    base, width = table.rich_style, table.size.width
    pairs = []
    for y in range(min(table.virtual_size.height, 30)):
        ours = _fresh(table, table._render_line, y, 0, width, base)
        theirs = _fresh(table, DataTable._render_line, table, y, 0, width, base)
        pairs.append((ours, theirs))
    return pairs


async def test_lines_are_drawn_as_datatable_draws_them() -> None:
    app = _Cells()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(KeyedTable)
        _add_crafted_rows(table, mixed=True)
        await pilot.pause()
        for cursor in (Coordinate(0, 0), Coordinate(3, 0)):
            table.cursor_coordinate = cursor
            table.hover_coordinate = Coordinate(2, 1)
            for ours, theirs in _lines_both_ways(table):
                assert ours == theirs, cursor
        table.add_row(Text("labelled"), label="L", key="labelled")  # labels: DataTable's rows
        await pilot.pause()
        for ours, theirs in _lines_both_ways(table):
            assert ours == theirs


async def test_a_cell_that_keeps_its_width_redraws_its_row_only() -> None:
    app = _Cells()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(KeyedTable)
        for index in range(10):
            table.add_row(Text(f"row {index}"), Text("1m02s"), Text("x"), key=str(index))
        await pilot.pause()
        base, width = table.rich_style, table.size.width
        before = [table._render_line(y, 0, width, base) for y in range(11)]
        count = table._update_count
        took = table.ordered_columns[1].key
        table.update_cell("4", took, Text("1m03s"), update_width=True)
        assert table._update_count == count  # nothing else is drawn again...
        after = [table._render_line(y, 0, width, base) for y in range(11)]
        changed = [y for y in range(11) if after[y] is not before[y]]
        assert changed == [5]  # ...but row 4 (line 5: the header is line 0)
        assert "1m03s" in after[5].text
        table._clear_caches()
        assert after[5] == DataTable._render_line(table, 5, 0, width, base)
        table.update_cell("4", took, Text("10m03s"), update_width=True)  # wider: DataTable's way
        assert table._update_count == count + 1
        await pilot.pause()
        assert table.ordered_columns[1].content_width == len("10m03s")


class _Tall(App[None]):
    CSS = "KeyedTable { height: 10; }"

    def compose(self) -> ComposeResult:
        table = KeyedTable()
        table.add_columns("a", "b", "c")
        yield table


async def test_a_frame_drawn_before_the_columns_widen_is_not_kept() -> None:
    """A row is drawn as soon as it is added; the columns widen for it later (when the table
    is idle). The next frame must draw it at the new widths, Resize or not."""
    app = _Tall()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.add_row(Text("first"), Text("x"), Text("y"), key="first")
        await pilot.pause()
        region = Region(0, 0, table.size.width, 3)
        name = "a much longer name"
        table.add_row(Text(name), Text("x"), Text("y"), key="new")
        DataTable._update_dimensions(table, [])  # room for the row, the columns not widened
        assert name not in table.render_lines(region)[2].text  # drawn at the old widths
        table._update_dimensions(list(table._new_rows))  # widened, as on idle; no Resize
        assert name in table.render_lines(region)[2].text
        assert table.render_lines(region)[0].text.startswith(f" a {' ' * len(name)}b  c ")
