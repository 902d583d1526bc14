"""At 80 and 60 columns no table cuts text without an ellipsis, and the key bar keeps `?` `q`.

Review Minor 3: schedules showed `│ … Tem│`, `every 7│`, `daily a│`; a template with a long
name pushed `Last r│`, `comple│` to the edge and Tags and Description off screen; the key bar
ended in `q Qui` at 80 columns and lost `?` and `q` at 60.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from console.app import JobdeckApp
from console.screens.ledger import LedgerScreen
from console.widgets import KeyedTable
from console.widgets.column_fit import fitted_widths
from console.widgets.key_bar import HIDDEN, KeyBar
from core.backend.fake import FakeBackend
from core.backend.inputs import TemplateSpec
from core.clock import ManualClock

LONG_NAME = "nightly-warehouse-reconciliation-for-the-eu-region-x"  # 52 characters
WIDTHS = (80, 60)


async def settle(pilot: Pilot[int]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def cut_cells(table: KeyedTable) -> list[str]:
    """Each cell (header or body) on screen whose text is cut without a `…`, each status cut
    at all, and each column that starts past the table's right edge."""
    problems = []
    width = table.scrollable_content_region.width
    top = round(table.scroll_y)
    rows = table.ordered_rows
    for y in range(min(table.scrollable_content_region.height, len(rows) + 1)):
        line = table.render_line(y).text
        x = -round(table.scroll_x)
        for column in table.ordered_columns:
            start, x = x, x + column.get_render_width(table)
            if start >= width:
                problems.append(f"{column.label} starts off screen")
                continue
            if y == 0:
                full = column.label.plain
            else:
                row_key = rows[top + y - 1].key
                full = table.get_cell(row_key, column.key).plain
            shown = line[max(start, 0) : min(x, width)].strip()
            full = full.strip()
            if y and column.key.value in table.whole_columns and shown != full:
                problems.append(f"{column.label}: the status {full!r} shown as {shown!r}")
            elif shown != full and not (
                shown.endswith("…") and full.startswith(shown[:-1].rstrip())
            ):
                problems.append(f"{column.label}: {full!r} shown as {shown!r}")
    return problems


async def open_screen(pilot: Pilot[int], screen: str) -> list[KeyedTable]:
    await settle(pilot)
    if screen == "ledger":
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(pilot.app.screen, LedgerScreen)
    return list(pilot.app.screen.query(KeyedTable))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("screen", ["templates", "schedules", "runs", "workers", "ledger"])
async def test_no_table_cuts_text_without_an_ellipsis(
    backend: FakeBackend, clock: ManualClock, screen: str, width: int
) -> None:
    await backend.create_template(
        TemplateSpec(
            name=LONG_NAME,
            job_type="shell",
            config={"command": "true"},
            tags=("finance", "warehouse"),
            description="Reconcile the warehouse ledger against the bank feed",
        )
    )
    start = "schedules" if screen == "ledger" else screen
    app = JobdeckApp(backend, clock, start_screen=start, poll_seconds=None)
    async with app.run_test(size=(width, 24)) as pilot:
        tables = await open_screen(pilot, screen)
        assert tables[0].row_count or screen == "ledger"
        for table in tables:
            assert cut_cells(table) == [], table.id
        if screen == "templates":
            table = tables[0]
            assert any(cell.plain.endswith("…") for cell in table.get_column("name")) or any(
                "…" in table.render_line(y).text for y in range(1, table.row_count + 1)
            )


async def test_a_widened_terminal_shows_the_whole_text_again(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = JobdeckApp(backend, clock, start_screen="schedules", poll_seconds=None)
    async with app.run_test(size=(60, 24)) as pilot:
        table = (await open_screen(pilot, "schedules"))[0]
        assert any("…" in table.render_line(y).text for y in range(1, 5))
        await pilot.resize_terminal(200, 24)
        await settle(pilot)
        assert not any("…" in table.render_line(y).text for y in range(0, 5))
        assert cut_cells(table) == []


def test_the_widest_columns_give_way_first_and_a_status_stays_whole() -> None:
    assert fitted_widths([11, 28, 8, 5, 18], 100) == [11, 28, 8, 5, 18]
    assert fitted_widths([11, 28, 8, 5, 18], 46) == [11, 11, 8, 5, 11]
    assert fitted_widths([11, 28, 8], 20, [True, False, False]) == [11, 5, 4]
    assert fitted_widths([10, 10, 10], 5) == [4, 4, 4]  # the floors, when nothing fits


# -- the key bar ------------------------------------------------------------------------------


@pytest.mark.parametrize("screen", ["templates", "schedules", "runs", "workers"])
async def test_the_global_keys_stay_in_the_key_bar_at_60_columns(
    backend: FakeBackend, clock: ManualClock, screen: str
) -> None:
    app = JobdeckApp(backend, clock, start_screen=screen, poll_seconds=None)
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        line = bar.render().plain.rstrip()
        assert len(line) <= 60
        assert line.endswith(": Command ? Keys q Quit"), line
        assert f" {HIDDEN} : Command" in line  # some of the screen's keys had to go
        kept = line.split(f" {HIDDEN} ")[0]
        assert kept and not kept.endswith(HIDDEN)
        # what is left of the screen's keys are its first ones, in order
        first = [item for item in bar._shown if not item[4]]
        assert kept.startswith(f"{first[0][1]} {first[0][2]}")
        await pilot.resize_terminal(200, 24)
        await pilot.pause()
        wide = bar.render().plain
        assert HIDDEN not in wide and wide.rstrip().endswith("q Quit")


async def test_the_key_bar_shows_every_key_when_they_fit_at_80_columns(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = JobdeckApp(backend, clock, start_screen="workers", poll_seconds=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = app.screen.query_one(KeyBar).render().plain
        assert HIDDEN not in line
        assert line.rstrip().endswith("? Keys q Quit")
