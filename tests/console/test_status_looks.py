"""Statuses read at a glance in any terminal and any theme; a theme change redraws every row.

Review M4 (status colours carry no meaning) and M5 (`:theme` leaves drawn rows in the old
palette).
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from rich.color import Color as RichColor
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.app import App

from console.app import JobdeckApp
from console.widgets import cells
from console.widgets.runs_table import RunsTable
from core.backend.fake import FakeBackend
from core.backend.views import RUN_STATUSES
from core.clock import ManualClock

#: The run states an operator must not miss.
FAILURES = ("failed", "timed_out", "lost")


async def every_theme() -> list[tuple[str, dict[str, str]]]:
    """(name, CSS variables) of every built-in theme, as the app's get_css_variables gives."""
    app = App[None]()
    themes = []
    async with app.run_test():
        for name in sorted(app.available_themes):
            app.theme = name
            themes.append((name, app.get_css_variables()))
    return themes


def style_of(text: Text) -> Style:
    style = text.style
    return Style.parse(style) if isinstance(style, str) else style


async def test_every_run_status_has_its_own_colour_and_glyph_in_every_theme() -> None:
    themes = await every_theme()
    assert len(themes) >= 20
    for name, theme in themes:
        drawn = {status: cells.status(status, theme) for status in RUN_STATUSES}
        colours = {status: style_of(text).color for status, text in drawn.items()}
        glyphs = {status: text.plain.split(" ")[0] for status, text in drawn.items()}
        assert len(set(colours.values())) == len(RUN_STATUSES), (name, colours)
        assert len(set(zip(colours.values(), glyphs.values(), strict=True))) == len(RUN_STATUSES)
        if not name.startswith("ansi"):  # an ANSI theme has six colours; its seventh is dim
            assert all(colour is not None for colour in colours.values()), (name, colours)
            chosen = cells.RUN_LOOKS.colours(theme).values()
            assert min(cells._contrast(c, theme["background"]) for c in chosen) >= 3, name


async def test_schedule_worker_and_ledger_states_have_their_own_colour_in_every_theme() -> None:
    from console.screens.ledger import OUTCOME_LOOKS

    for name, theme in await every_theme():
        for looks in (cells.SCHEDULE_LOOKS, cells.WORKER_LOOKS, OUTCOME_LOOKS):
            drawn = [looks.text(key, theme) for key in looks.looks]
            assert len({style_of(text).color for text in drawn}) == len(drawn), name
            assert len({text.plain[0] for text in drawn}) == len(drawn), name


def test_statuses_differ_without_colour() -> None:
    """With NO_COLOR, or a 16-colour terminal that rounds every tint to white, a status is
    told by its glyph, and the failure states by their weight too."""
    drawn = {status: cells.status(status, {}) for status in RUN_STATUSES}
    glyphs = [text.plain.split(" ")[0] for text in drawn.values()]
    assert len(set(glyphs)) == len(RUN_STATUSES)
    assert not any(glyph.isalnum() for glyph in glyphs)
    for status, text in drawn.items():
        style = style_of(text)
        assert style.color is None  # no theme: nothing but the glyph and the style
        assert bool(style.bold) == (status in FAILURES), status
    assert style_of(drawn["failed"]).reverse
    assert drawn["timed_out"].plain == "⏱ timed out"


def rendered(text: Text, color_system: str) -> str:
    """``text`` as a terminal of ``color_system`` receives it."""
    out = StringIO()
    console = Console(file=out, color_system=color_system, force_terminal=True, width=40)  # type: ignore[arg-type]
    console.print(text, end="")
    return out.getvalue()


@pytest.mark.parametrize("color_system", ["standard", "256"])
async def test_in_few_colours_the_failure_states_stand_out(color_system: str) -> None:
    """TERM=xterm: every tint of textual-dark becomes white (ESC[37m), so bold and reverse
    (SGR 1 and 7) and the glyph carry the difference."""
    theme = dict(await every_theme())["textual-dark"]
    bytes_of = {
        status: rendered(cells.status(status, theme), color_system) for status in RUN_STATUSES
    }
    assert len(set(bytes_of.values())) == len(RUN_STATUSES)
    assert "\x1b[1;7;" in bytes_of["failed"] or "\x1b[1;7m" in bytes_of["failed"]
    for status in ("timed_out", "lost"):
        assert "\x1b[1;" in bytes_of[status] or "\x1b[1m" in bytes_of[status], status
    assert "\x1b[1" not in bytes_of["completed"]


# -- a theme change redraws the rows already drawn ----------------------------------------


def drawn_colours(table: RunsTable, label: str) -> Iterator[RichColor]:
    """The colours the status ``label`` is drawn in on the table's lines, but the cursor's."""
    cursor_y = table.cursor_row - round(table.scroll_y) + 1  # under the header
    for y in range(1, table.scrollable_content_region.height):
        if y == cursor_y:
            continue
        for segment in table.render_line(y):
            if label in segment.text and segment.style is not None and segment.style.color:
                yield segment.style.color


async def test_a_theme_change_redraws_the_rows_on_screen_and_off_it(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = JobdeckApp(backend, clock, start_screen="runs", poll_seconds=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(RunsTable)
        before = cells.RUN_LOOKS.colours(app.get_css_variables())
        assert {c.name for c in drawn_colours(table, "failed")} == {before["failed"].lower()}
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        after = cells.RUN_LOOKS.colours(app.get_css_variables())
        assert after["failed"] != before["failed"]
        for status in ("failed", "completed", "running"):
            label = cells.RUN_LOOKS.looks[status].label
            assert {c.name for c in drawn_colours(table, label)} == {after[status].lower()}
        # rows drawn before the change but scrolled off screen are new too
        await pilot.press("end")
        await pilot.pause()
        assert {c.name for c in drawn_colours(table, "completed")} == {after["completed"].lower()}
