"""Pilot tests of the runs screen: filters, sort, paging, live updates, open, cancel, retry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from textual import events
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from console.app import JobdeckApp
from console.screens.confirm import ConfirmModal
from console.screens.run_detail import RunDetailScreen
from console.screens.run_filter import RunFilterModal, RunFilters, parse_filters
from console.screens.runs import WINDOW, RunsScreen
from console.widgets.runs_table import RunsTable
from core.backend.fake import DEFAULT_START, FakeBackend
from core.backend.inputs import RunQuery
from core.clock import ManualClock
from core.errors import ValidationFailed

SIZE = (120, 30)
TableLoader = Callable[[Pilot[int]], Awaitable[Any]]


@pytest.fixture
def runs_app(backend: FakeBackend, clock: ManualClock) -> JobdeckApp:
    """The app opened on the runs screen, polling only when a test asks."""
    return JobdeckApp(backend, clock, start_screen="runs", poll_seconds=None)


async def settle(pilot: Pilot[int]) -> None:
    """Wait until loading workers have finished and their results are on screen."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def loaded(pilot: Pilot[int]) -> RunsTable:
    """The runs table once loading has finished."""
    await settle(pilot)
    return pilot.app.screen.query_one(RunsTable)


def column(table: RunsTable, key: str) -> list[str]:
    """The plain text of one column, top to bottom."""
    return [table.get_cell(row, key).plain for row in table.keys_in_order]


async def newest(backend: FakeBackend, **filters: Any) -> list[str]:
    """Ids of the newest runs matching ``filters`` (a window's worth), as row keys."""
    page = await backend.list_runs(RunQuery(limit=WINDOW, **filters))
    return [str(run.id) for run in page.items]


async def type_text(pilot: Pilot[int], text: str) -> None:
    """Type ``text`` key by key."""
    await pilot.press(*["space" if char == " " else char for char in text])


# -- listing and filters ---------------------------------------------------------------------


async def test_lists_the_newest_window_with_status_name_and_times(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        assert isinstance(runs_app.screen, RunsScreen)
        assert table.keys_in_order == await newest(backend)
        assert table.border_title == f"Runs 1-{WINDOW} of 200 ↓ more"  # the seed holds 200
        run = await backend.get_run(int(table.keys_in_order[2]))
        row = [cell.plain for cell in table.get_row(str(run.id))]
        assert row[:2] == ["▶ running", run.job_name]
        assert "3 running" in str(table.border_subtitle)
        assert [str(c.label) for c in table.columns.values()] == [
            "Status",
            "Name",
            "Type",
            "Trigger",
            "Scheduled for",
            "Started",
            "Duration",
            "Worker",
        ]


async def test_narrow_terminals_drop_the_least_needed_columns(runs_app: JobdeckApp) -> None:
    async with runs_app.run_test(size=(80, 24)) as pilot:
        table = await loaded(pilot)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels == ["Status", "Name", "Started", "Duration", "Worker"]
        assert table.row_count == WINDOW


async def test_colon_runs_failed_shows_only_failed_runs(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("colon")
        await type_text(pilot, "runs failed")
        await pilot.press("enter")
        table = await loaded(pilot)
        failed = await newest(backend, status=("failed",))
        assert table.keys_in_order == failed
        assert set(column(table, "status")) == {"✗ failed"}
        assert table.border_title == f"Runs 1-{len(failed)} of {len(failed)}"
        filters = str(runs_app.screen.query_one("#runs-filters", Static).render())
        assert "status=failed" in filters


async def test_key_value_arguments_combine_template_and_statuses(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    template = await backend.get_template("backup [daily]")
    async with runs_app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        runs_app.screen.apply_argument('template="backup [daily]" status=completed,failed')
        table = await loaded(pilot)
        expected = await newest(backend, template_id=(template.id,), status=("completed", "failed"))
        assert table.keys_in_order == expected and expected
        assert set(column(table, "name")) == {"backup [daily]"}
        assert set(column(table, "status")) == {"✓ completed", "✗ failed"}


async def test_a_bad_argument_is_explained_and_changes_nothing(runs_app: JobdeckApp) -> None:
    async with runs_app.run_test(size=SIZE, notifications=True) as pilot:
        table = await loaded(pilot)
        before = table.keys_in_order
        runs_app.screen.apply_argument("exploded")
        await loaded(pilot)
        assert table.keys_in_order == before
        messages = [n.message for n in runs_app._notifications]
        assert any("unknown status 'exploded'" in m for m in messages)


async def test_an_unknown_template_is_a_notification_and_the_filter_is_dropped(
    runs_app: JobdeckApp,
) -> None:
    async with runs_app.run_test(size=SIZE, notifications=True) as pilot:
        await loaded(pilot)
        runs_app.screen.apply_argument("template=nope")
        table = await loaded(pilot)
        assert table.row_count == WINDOW
        assert isinstance(runs_app.screen, RunsScreen)
        assert runs_app.screen.filters == RunFilters()
        assert any("nope" in n.message for n in runs_app._notifications)


def test_filter_words_parse() -> None:
    assert parse_filters("failed") == RunFilters(status=("failed",))
    assert parse_filters("problems type=shell trigger=manual") == RunFilters(
        status=("failed", "timed_out", "lost"), job_type="shell", trigger="manual"
    )
    parsed = parse_filters("schedule=nightly-backup name=sync sort=duration order=asc")
    assert (parsed.schedule, parsed.search, parsed.sort, parsed.descending) == (
        "nightly-backup",
        "sync",
        "duration",
        False,
    )
    with pytest.raises(ValidationFailed, match="unknown filter 'colour'"):
        parse_filters("colour=red")
    with pytest.raises(ValidationFailed, match="unknown trigger"):
        parse_filters("trigger=cosmic")
    assert parse_filters(parse_filters('template="backup [daily]" failed').describe()) == (
        RunFilters(status=("failed",), template="backup [daily]")
    )


async def test_slash_filters_by_name_as_you_type_and_escape_clears(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("slash")
        await type_text(pilot, "crm")
        await pilot.pause(0.4)
        table = await loaded(pilot)
        assert table.keys_in_order == await newest(backend, search="crm")
        assert set(column(table, "name")) == {"crm-sync"}
        await pilot.press("enter")
        assert table.has_focus
        await pilot.press("slash", "escape")
        await pilot.pause(0.4)
        await loaded(pilot)
        assert table.row_count == WINDOW


async def test_s_cycles_the_sort_and_S_reverses_it(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("s")
        table = await loaded(pilot)
        assert table.keys_in_order == await newest(backend, sort="started_at")
        await pilot.press("s", "s")
        await loaded(pilot)
        assert table.keys_in_order == await newest(backend, sort="duration_seconds")
        await pilot.press("S")
        await loaded(pilot)
        shortest = await newest(backend, sort="duration_seconds", descending=False)
        assert table.keys_in_order == shortest
        assert "duration ↑" in str(runs_app.screen.query_one("#runs-filters", Static).render())


async def test_the_filter_dialog_applies_what_is_picked(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("f")
        await settle(pilot)
        dialog = runs_app.screen
        assert isinstance(dialog, RunFilterModal)
        template_names = [
            str(label) for label, _ in dialog.query_one("#filter-template", Select)._options
        ]
        assert "backup [daily]" in template_names
        dialog.query_one("#filter-trigger", Select).value = "manual"
        dialog.query_one("#filter-type", Select).value = "python"
        dialog.query_one("#filter-name", Input).focus()
        await pilot.press("enter")
        table = await loaded(pilot)
        expected = await newest(backend, triggered_by=("manual",), job_type=("python",))
        assert table.keys_in_order == expected and expected
        await pilot.press("x")
        await loaded(pilot)
        assert table.row_count == WINDOW


async def test_escape_closes_the_filter_dialog_without_changes(runs_app: JobdeckApp) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("f")
        await settle(pilot)
        runs_app.screen.query_one("#filter-trigger", Select).value = "manual"
        await pilot.press("escape")
        await loaded(pilot)
        assert isinstance(runs_app.screen, RunsScreen)
        assert runs_app.screen.filters == RunFilters()


# -- paging ----------------------------------------------------------------------------------


@pytest.fixture
def thousand_runs(clock: ManualClock) -> FakeBackend:
    """A backend holding 1,000 runs queued a minute apart (no templates needed)."""
    backend = FakeBackend(clock=clock)
    for n in range(1000):
        backend.add_run(job_name=f"job-{n:04}", queued_at=DEFAULT_START - timedelta(minutes=n))
    return backend


async def test_moving_past_the_window_pages_through_the_database(
    thousand_runs: FakeBackend, clock: ManualClock
) -> None:
    app = JobdeckApp(thousand_runs, clock, start_screen="runs", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        assert table.row_count == WINDOW
        assert column(table, "name")[0] == "job-0000"
        assert table.border_title == f"Runs 1-{WINDOW} of 1,000 ↓ more"
        await pilot.press("G")
        assert column(table, "name")[table.cursor_row] == f"job-{WINDOW - 1:04}"
        await pilot.press("j")
        await loaded(pilot)
        assert table.border_title == f"Runs {WINDOW + 1}-{2 * WINDOW} of 1,000 ↓ more"
        assert table.highlighted_key is not None
        assert table.get_cell(table.highlighted_key, "name").plain == f"job-{WINDOW:04}"
        await pilot.press("pagedown", "G", "G")
        await loaded(pilot)
        assert table.get_cell(table.highlighted_key, "name").plain == f"job-{2 * WINDOW:04}"
        await pilot.press("k")
        await loaded(pilot)
        assert table.get_cell(table.highlighted_key, "name").plain == f"job-{2 * WINDOW - 1:04}"
        for _ in range(1000 // WINDOW - 2):
            await pilot.press("G", "G")
            await loaded(pilot)
        assert table.border_title == f"Runs {1000 - WINDOW + 1:,}-1,000 of 1,000"
        await pilot.press("G", "j")
        await loaded(pilot)
        assert table.get_cell(table.highlighted_key, "name").plain == "job-0999"
        await pilot.press("g", "g")
        await loaded(pilot)
        assert table.get_cell(table.highlighted_key, "name").plain == "job-0000"


async def test_the_next_window_is_drawn_while_idle_and_shown_from_those_cells(
    thousand_runs: FakeBackend, clock: ManualClock
) -> None:
    app = JobdeckApp(thousand_runs, clock, start_screen="runs", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        assert screen.next_cursor is not None
        prefetched = screen._pages[screen.next_cursor]
        drawn = {str(run.id): screen._drawn[str(run.id)][1] for run in prefetched.items}
        assert len(drawn) == WINDOW
        await pilot.press("G", "j")  # past the last row: the prefetched window
        await loaded(pilot)
        assert table.keys_in_order == list(drawn)
        for key in table.keys_in_order:
            assert all(a is b for a, b in zip(table.get_row(key), drawn[key], strict=True))


class GatedBackend(FakeBackend):
    """Lists runs only while its gate is open (a slow database, held still)."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock=clock)
        self.gate = asyncio.Event()
        self.gate.set()

    async def list_runs(self, query: RunQuery) -> Any:
        await self.gate.wait()
        return await super().list_runs(query)


async def test_the_next_window_is_fetched_before_paging_to_it(clock: ManualClock) -> None:
    backend = GatedBackend(clock)
    for n in range(500):
        backend.add_run(job_name=f"job-{n:04}", queued_at=DEFAULT_START - timedelta(minutes=n))
    app = JobdeckApp(backend, clock, start_screen="runs", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)  # the first window, and the next one prefetched
        backend.gate.clear()  # from now on the database answers nothing
        await pilot.press("G", "j")
        await pilot.pause()
        assert table.get_cell(table.highlighted_key, "name").plain == f"job-{WINDOW:04}"
        assert table.border_title.startswith(f"Runs {WINDOW + 1}-{2 * WINDOW}")
        await pilot.press("k")  # and back: the window before is kept too
        await pilot.pause()
        last_of_first = f"job-{WINDOW - 1:04}"
        assert table.get_cell(table.highlighted_key, "name").plain == last_of_first
        backend.gate.set()
        await loaded(pilot)
        assert table.get_cell(table.highlighted_key, "name").plain == last_of_first


class CountingBackend(FakeBackend):
    """Counts the expensive calls."""

    counts_calls = 0

    async def run_counts(self, query: RunQuery | None = None) -> dict[str, int]:
        self.counts_calls += 1
        return await super().run_counts(query)


async def test_counts_are_fetched_at_most_every_ten_seconds(clock: ManualClock) -> None:
    backend = CountingBackend(clock=clock)
    for n in range(30):
        backend.add_run(queued_at=DEFAULT_START - timedelta(minutes=n))
    app = JobdeckApp(backend, clock, start_screen="runs", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.app.poll_changes()
        for _ in range(3):
            backend.add_run(status="running", started_at=DEFAULT_START)
            await pilot.app.poll_changes()
            await pilot.pause(0.6)
            table = await loaded(pilot)
        assert table.row_count == 33
        assert backend.counts_calls == 1


# -- live updates ----------------------------------------------------------------------------


async def test_a_live_update_keeps_the_cursor_on_the_same_run(
    runs_app: JobdeckApp, backend: FakeBackend, clock: ManualClock
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await runs_app.poll_changes()  # the feed's "now"
        await pilot.press("j", "j", "j")
        watched = table.highlighted_key
        assert watched is not None
        assert table.get_cell(watched, "status").plain == "▶ running"
        clock.advance(timedelta(seconds=30))
        added = [backend.add_run(template="crm-sync", status="pending") for _ in range(3)]
        backend.update_run(int(watched), status="failed", completed_at=clock.now(), exit_code=2)
        await runs_app.poll_changes()
        await loaded(pilot)
        # Below the top row the rows on screen stay: the new runs wait above, counted.
        assert table.highlighted_key == watched
        assert table.cursor_row == 3
        assert table.get_cell(watched, "status").plain == "✗ failed"
        assert str(table.border_title).startswith("▲ 3 newer")
        await pilot.press("g")
        await loaded(pilot)
        assert table.keys_in_order[:3] == [str(run.id) for run in reversed(added)]


async def test_running_durations_tick(
    runs_app: JobdeckApp, backend: FakeBackend, clock: ManualClock
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        key = table.keys_in_order[2]
        before = table.get_cell(key, "duration").plain
        clock.advance(timedelta(minutes=1))
        await pilot.pause(1.2)
        after = table.get_cell(key, "duration").plain
        assert (before, after) == ("28m56s", "29m56s")


# -- actions ---------------------------------------------------------------------------------


async def test_enter_opens_the_highlighted_run(runs_app: JobdeckApp) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await pilot.press("j", "enter")
        await settle(pilot)
        assert isinstance(runs_app.screen, RunDetailScreen)
        assert str(runs_app.screen.run_id) == table.keys_in_order[1]
        await pilot.press("escape")
        assert isinstance(runs_app.screen, RunsScreen)
        await pilot.press("o")
        await settle(pilot)
        assert str(runs_app.screen.run_id) == table.keys_in_order[1]  # type: ignore[attr-defined]


async def test_cancel_asks_first_and_the_safe_answer_keeps_the_run(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        pending_key = table.keys_in_order[0]
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(runs_app.screen, ConfirmModal)
        await pilot.press("enter")  # the focused button is the safe one
        await settle(pilot)
        assert (await backend.get_run(int(pending_key))).status == "pending"
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("right", "enter")
        await loaded(pilot)
        assert (await backend.get_run(int(pending_key))).status == "cancelled"
        assert table.get_cell(pending_key, "status").plain == "⊘ cancelled"


async def test_cancel_of_a_running_run_asks_the_executor(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await pilot.press("j", "j", "c")
        await pilot.pause()
        await pilot.press("right", "enter")
        await loaded(pilot)
        run = await backend.get_run(int(table.keys_in_order[2]))
        assert run.status == "running" and run.cancel_reason
        assert table.get_cell(str(run.id), "status").plain == "▶ running ⊘"
        assert runs_app.screen.check_action("cancel_run", ()) is None


async def test_actions_are_greyed_when_the_run_does_not_allow_them(
    runs_app: JobdeckApp,
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        screen = runs_app.screen
        assert screen.check_action("cancel_run", ()) is True  # pending
        assert screen.check_action("retry_run", ()) is None
        assert screen.check_action("delete_run", ()) is None
        await pilot.press(*"jjjjj")  # failed
        assert screen.check_action("cancel_run", ()) is None
        assert screen.check_action("retry_run", ()) is True
        assert screen.check_action("delete_run", ()) is True


async def test_read_only_hides_cancel_retry_and_delete(clock: ManualClock) -> None:
    app = JobdeckApp(
        FakeBackend.seeded(clock, read_only=True), clock, start_screen="runs", poll_seconds=None
    )
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        for action in ("cancel_run", "retry_run", "delete_run"):
            assert app.screen.check_action(action, ()) is False
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)


async def test_retry_opens_the_new_run(runs_app: JobdeckApp, backend: FakeBackend) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await pilot.press(*"jjjjj")
        failed_key = table.highlighted_key
        assert failed_key is not None
        assert table.get_cell(failed_key, "status").plain == "✗ failed"
        await pilot.press("R")
        await settle(pilot)
        detail = runs_app.screen
        assert isinstance(detail, RunDetailScreen)
        retry = await backend.get_run(detail.run_id)
        assert (retry.retry_of_run_id, retry.status, retry.triggered_by) == (
            int(failed_key),
            "pending",
            "retry",
        )


async def test_delete_asks_then_removes_the_run(runs_app: JobdeckApp, backend: FakeBackend) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await pilot.press(*"jjjjj")
        doomed = table.highlighted_key
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(runs_app.screen, ConfirmModal)
        await pilot.press("right", "enter")
        await loaded(pilot)
        assert doomed not in table.keys_in_order
        assert table.highlighted_key is not None
        assert doomed not in await newest(backend)


async def test_names_typed_right_after_slash_go_to_the_name_filter(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        for key, character in [("slash", "/"), *[(c, c) for c in "docs"], ("enter", "\r")]:
            runs_app.post_message(events.Key(key, character))
        await pilot.pause(0.5)
        await loaded(pilot)
        assert not isinstance(runs_app.screen, ConfirmModal)  # `d` (delete) stayed a letter
        assert runs_app.screen.filters.search == "docs"  # type: ignore[attr-defined]
        assert set(column(table, "name")) == {"docs-mirror"}


async def test_hidden_under_a_run_detail_the_table_waits_and_catches_up_on_return(
    runs_app: JobdeckApp, backend: FakeBackend
) -> None:
    listed: list[RunQuery] = []
    real = backend.list_runs

    async def counting(query: RunQuery) -> Any:
        listed.append(query)
        return await real(query)

    backend.list_runs = counting  # type: ignore[method-assign]
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await runs_app.poll_changes()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(runs_app.screen, RunDetailScreen)
        before = len(listed)
        added = backend.add_run(template="crm-sync", status="pending")
        await runs_app.poll_changes()
        await settle(pilot)
        assert len(listed) == before
        await pilot.press("escape")
        await loaded(pilot)
        assert table.keys_in_order[0] == str(added.id)


async def test_a_reload_and_a_tick_that_change_little_redraw_little(
    backend: FakeBackend, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a slow link every full redraw of the table is a screenful of bytes: a live
    reload that changes nothing redraws nothing, and a ticking duration only its cell."""
    started = DEFAULT_START - timedelta(seconds=15)
    for _ in range(3):
        backend.add_run(job_name="nap", status="running", queued_at=started, started_at=started)
    app = JobdeckApp(backend, clock, start_screen="runs", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        whole: list[str] = []
        regions: list[object] = []
        refresh = table.refresh

        def counted(*args: Any, **kwargs: Any) -> Any:
            (regions.extend(args) if args else whole.append("table"))
            return refresh(*args, **kwargs)

        monkeypatch.setattr(table, "refresh", counted)
        screen.reload()
        await loaded(pilot)
        assert whole == []
        clock.advance(timedelta(seconds=1))
        screen._tick()  # 15s -> 16s: the same width
        await pilot.pause()
        assert whole == []
        running = [run for run in screen.runs.values() if run.status == "running"]
        assert len(running) >= 3
        assert len(regions) == len(running)  # their duration cells
        assert all(getattr(region, "height", None) == 1 for region in regions)


def on_screen(table: RunsTable) -> list[str]:
    """The keys of the rows on screen, top to bottom."""
    top = round(table.scroll_y)
    rows = table.scrollable_content_region.height - 1  # under the header
    return table.keys_in_order[top : top + rows]


async def until(pilot: Pilot[int], condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until ``condition()`` holds (a generous bound, never a fixed time)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the condition never held")


async def test_runs_arriving_above_the_rows_on_screen_are_announced_and_g_goes_to_them(
    runs_app: JobdeckApp, backend: FakeBackend, clock: ManualClock
) -> None:
    """Review M6: with the cursor below the top row, new runs neither push the rows on
    screen down nor hide under a title that counts the old total."""
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await runs_app.poll_changes()  # the feed's "now"
        await pilot.press(*"jjjjj")
        watched, shown = table.highlighted_key, on_screen(table)
        clock.advance(timedelta(seconds=30))
        added = [backend.add_run(template="crm-sync", status="pending") for _ in range(3)]
        await runs_app.poll_changes()
        await loaded(pilot)
        assert on_screen(table) == shown  # the rows on screen did not move
        assert table.highlighted_key == watched
        assert table.row_count == WINDOW  # as many rows: the scrollbar stays as it was
        assert str(table.border_title).startswith("▲ 3 newer (g) · Runs 4-103 of ")
        await pilot.press("g")
        await until(pilot, lambda: "newer" not in str(table.border_title))
        assert table.cursor_row == 0 and round(table.scroll_y) == 0
        assert table.keys_in_order[:3] == [str(run.id) for run in reversed(added)]


async def test_with_the_cursor_on_the_top_row_it_follows_the_newest_run(
    runs_app: JobdeckApp, backend: FakeBackend, clock: ManualClock
) -> None:
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await runs_app.poll_changes()
        clock.advance(timedelta(seconds=30))
        added = backend.add_run(template="crm-sync", status="pending")
        await runs_app.poll_changes()
        await loaded(pilot)
        assert table.cursor_row == 0 and table.highlighted_key == str(added.id)
        assert "newer" not in str(table.border_title)


async def test_a_run_arriving_above_the_rows_on_screen_repaints_only_the_border(
    runs_app: JobdeckApp, backend: FakeBackend, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a slow link a new run must cost its title, not a screenful of rows (M8)."""
    async with runs_app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await runs_app.poll_changes()
        await pilot.press(*"jjjjj")
        await until(pilot, lambda: table.cursor_row == 5)
        await pilot.pause()
        asked: list[tuple[Region, ...]] = []
        refresh = Widget.refresh

        def spied(widget: Widget, *regions: Region, **options: Any) -> Any:
            if widget is table and options.get("repaint", True):
                asked.append(regions)
            return refresh(widget, *regions, **options)

        monkeypatch.setattr(Widget, "refresh", spied)
        backend.add_run(template="crm-sync", status="pending")  # the clock stands still
        await runs_app.poll_changes()
        await loaded(pilot)
        await until(pilot, lambda: str(table.border_title).startswith("▲ 1 newer"))
        await pilot.pause()
        assert asked, "the new title was never drawn"
        assert () not in asked  # never the whole table
        border_rows = {-table.content_offset.y, table.size.height}  # title and counts
        regions = [region for regions in asked for region in regions]
        assert -table.content_offset.y in {region.y for region in regions}  # the new title
        # No row on screen is drawn again (a cell rewritten in place may be).
        assert all(region.width < 20 for region in regions if region.y not in border_rows)
