"""The key bar: the screen's keys on one line, as the compact Footer showed them.

That it looks exactly like Footer is held by the snapshots (every screen has one); these
tests hold what it shows, when it draws again, and its clicks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rich.text import Text
from textual.pilot import Pilot

from console.app import JobdeckApp
from console.screens.keys import KeysModal
from console.widgets.key_bar import KeyBar
from console.widgets.runs_table import RunsTable
from core.backend.fake import FakeBackend
from core.backend.inputs import RunQuery
from core.clock import ManualClock

SIZE = (120, 30)


async def settle(pilot: Pilot[int]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@asynccontextmanager
async def key_bar_on(
    backend: FakeBackend, clock: ManualClock, screen: str
) -> AsyncIterator[tuple[JobdeckApp, Pilot[int], KeyBar]]:
    """The app on ``screen``, loaded, with its key bar."""
    app = JobdeckApp(backend, clock, start_screen=screen, poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        yield app, pilot, app.screen.query_one(KeyBar)


def expected_items(app: JobdeckApp) -> list[tuple[str, bool]]:
    """`key description` and whether it is enabled, for each action the screen shows, in
    the order of the screen's bindings (as Footer lists them)."""
    items: dict[str, tuple[str, bool]] = {}
    for _node, binding, enabled, _tooltip in app.screen.active_bindings.values():
        if binding.show and binding.action not in items:
            shown = f"{app.get_key_display(binding)} {binding.description}".rstrip()
            items[binding.action] = (shown, enabled)
    return list(items.values())


def drawn_items(bar: KeyBar) -> list[tuple[str, bool]]:
    """Each item of the bar's line and whether it is drawn enabled (not dimmed)."""
    line = bar.render()
    assert isinstance(line, Text)
    items = []
    for start, end, _key, _enabled in bar._items:
        part = line[start:end]
        dimmed = [span for span in line.spans if span.start <= start and span.end >= end]
        is_dim = any(
            (span.style.dim if not isinstance(span.style, str) else "dim" in span.style)
            for span in dimmed
        )
        items.append((part.plain, not is_dim))
    return items


async def test_the_bar_lists_the_screens_keys_and_dims_what_cannot_be_done(
    backend: FakeBackend, clock: ManualClock
) -> None:
    async with key_bar_on(backend, clock, "runs") as (app, pilot, bar):
        table = app.screen.query_one(RunsTable)
        page = await backend.list_runs(RunQuery(limit=100))
        running = next(run for run in page.items if run.status == "running")
        table.move_cursor(row=table.get_row_index(str(running.id)))
        await settle(pilot)
        assert drawn_items(bar) == expected_items(app)
        assert ("R Retry", False) in drawn_items(bar)  # a running run cannot be retried
        assert ("c Cancel run", True) in drawn_items(bar)


async def test_the_bar_draws_again_only_when_the_keys_change(
    backend: FakeBackend, clock: ManualClock
) -> None:
    async with key_bar_on(backend, clock, "templates") as (app, pilot, bar):
        first = bar.render()
        app.screen.refresh_bindings()  # the same keys: nothing to draw
        await pilot.pause()
        assert bar.render() is first
        await pilot.press("colon")
        await pilot.pause()
        assert drawn_items(bar) == expected_items(app)
        assert ("esc Close", True) in drawn_items(bar)
        await pilot.press("escape")
        await pilot.pause()
        assert bar.render() is not first
        assert bar.render().plain == first.plain


async def test_a_theme_change_draws_the_keys_in_the_new_colours(
    backend: FakeBackend, clock: ManualClock
) -> None:
    async with key_bar_on(backend, clock, "templates") as (app, pilot, bar):
        before = bar.get_component_rich_style("key-bar--key")
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        after = bar.get_component_rich_style("key-bar--key")
        assert after != before
        line = bar.render()
        assert isinstance(line, Text)
        assert any(span.style == after for span in line.spans)


async def test_a_click_on_a_key_presses_it(backend: FakeBackend, clock: ManualClock) -> None:
    async with key_bar_on(backend, clock, "templates") as (app, pilot, bar):
        start, _end, _key, _enabled = next(
            item for item in bar._items if item[2] == "question_mark"
        )
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await pilot.pause()
        assert isinstance(app.screen, KeysModal)
