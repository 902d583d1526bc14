"""Pilot tests of the schedules screen: table, countdowns, filter, pause, run now, delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from console.app import JobdeckApp
from console.screens.confirm import ConfirmModal
from console.screens.ledger import LedgerScreen
from console.screens.run_detail import RunDetailScreen
from console.screens.schedule_form import ScheduleFormModal
from console.screens.schedules import SchedulesScreen
from console.screens.templates import TemplatesScreen
from console.widgets import KeyedTable
from console.widgets.countdown import countdown_text, lateness_text, span_text
from core.backend.fake import FakeBackend
from core.backend.inputs import RunQuery, SchedulePatch
from core.clock import ManualClock
from tests.console.conftest import settled

SIZE = (120, 30)


def top(app: JobdeckApp) -> Screen[Any]:
    """The screen on top now (a call, so type narrowing never outlives a key press)."""
    return app.screen


@pytest.fixture
def app(backend: FakeBackend, clock: ManualClock) -> JobdeckApp:
    """The app opened on the schedules screen, without the change poller."""
    return JobdeckApp(backend, clock, start_screen="schedules", poll_seconds=None)


async def loaded(pilot: Pilot[int]) -> KeyedTable:
    """The schedules table once the backend's data is in."""
    await settled(pilot)
    return pilot.app.screen.query_one("#schedules-table", KeyedTable)


async def shows(pilot: Pilot[int], screen_type: type, seconds: float = 10.0) -> None:
    """Wait until the app shows a screen of ``screen_type`` (a modal awaited by a worker
    keeps that worker running, so ``settled`` cannot be used while it is open)."""
    for _ in range(int(seconds / 0.05)):
        if isinstance(pilot.app.screen, screen_type):
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError(f"{screen_type.__name__} not shown; the screen is {pilot.app.screen}")


def row(table: KeyedTable, name: str) -> list[str]:
    """The plain cells of the row whose first cell is ``name``."""
    for key in table.keys_in_order:
        cells = [cell.plain for cell in table.get_row(key)]
        if cells[0] == name:
            return cells
    raise AssertionError(f"no row {name!r} in {table.keys_in_order}")


async def go_to(pilot: Pilot[int], table: KeyedTable, name: str) -> None:
    """Put the cursor on the row of schedule ``name``."""
    names = [table.get_row(key)[0].plain for key in table.keys_in_order]
    table.move_cursor(row=names.index(name))
    await pilot.pause()


def test_countdown_and_span_texts() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert countdown_text(now + timedelta(seconds=250), now) == "in 4m 10s"
    assert countdown_text(now + timedelta(seconds=9.2), now) == "in 10s"
    assert countdown_text(now + timedelta(hours=26, minutes=5), now) == "in 1d 2h"
    assert countdown_text(now - timedelta(seconds=3), now) == "due"
    assert countdown_text(now - timedelta(seconds=62), now) == "late 1m 2s"
    assert countdown_text(None, now) == "—"
    assert span_text(3600) == "1h 0m"
    assert (lateness_text(0.42), lateness_text(75), lateness_text(None)) == ("0.4s", "1m 15s", "—")


async def test_table_shows_timing_in_words_countdowns_and_state(app: JobdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        assert isinstance(top(app), SchedulesScreen)
        assert table.border_title == "Schedules (10)"
        assert row(table, "nightly-backup") == [
            "nightly-backup",
            "● active",
            "in 15h 0m",
            row(table, "nightly-backup")[3],
            "daily at 02:30 Europe/Riga",
            "backup [daily]",
        ]
        assert row(table, "api-health")[1:3] == ["● active", "in 1m 0s"]
        assert row(table, "monday-report")[4] == "Mondays at 08:00 America/New_York"
        assert row(table, "status-page")[1:3] == ["‖ paused", "—"]
        assert row(table, "tmp-sweep")[4] == "every 30 minutes"


async def test_countdowns_tick_without_asking_the_backend(
    app: JobdeckApp, backend: FakeBackend, clock: ManualClock
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        calls = 0
        original = backend.list_schedules

        async def counting(**kwargs: object) -> object:
            nonlocal calls
            calls += 1
            return await original(**kwargs)  # type: ignore[arg-type]

        backend.list_schedules = counting  # type: ignore[method-assign,assignment]
        await go_to(pilot, table, "wal-archive")
        clock.advance(timedelta(seconds=50))
        await pilot.pause(1.2)
        assert row(table, "api-health")[2] == "in 10s"
        assert row(table, "wal-archive")[2] == "in 44m 10s"
        assert table.highlighted_key is not None
        assert table.get_row(table.highlighted_key)[0].plain == "wal-archive"
        assert calls == 0


async def test_slash_filters_and_escape_clears(app: JobdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await pilot.press("slash", *"riga")
        await pilot.pause()
        names = [table.get_row(key)[0].plain for key in table.keys_in_order]
        assert names == ["month-end-report", "nightly-backup"]
        assert table.border_title == "Schedules (2/10) /riga"
        await pilot.press("enter")
        assert app.focused is table
        await pilot.press("escape")
        await pilot.pause()
        assert len(table.keys_in_order) == 10
        assert table.border_title == "Schedules (10)"


async def test_space_pauses_and_p_resumes(app: JobdeckApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await go_to(pilot, table, "tmp-sweep")
        await pilot.press("space")
        await settled(pilot)
        assert (await backend.get_schedule("tmp-sweep")).is_active is False
        assert row(table, "tmp-sweep")[1:3] == ["‖ paused", "—"]
        assert any("tmp-sweep paused" in n.message for n in app._notifications)
        await pilot.press("p")
        await settled(pilot)
        assert (await backend.get_schedule("tmp-sweep")).is_active is True
        assert row(table, "tmp-sweep")[1:3] == ["● active", "in 30m 0s"]
        assert any("resumed; next run in 30m 0s" in n.message for n in app._notifications)


async def test_x_runs_the_schedule_now_and_opens_the_run(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    before = await backend.get_schedule("nightly-backup")
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await go_to(pilot, table, "nightly-backup")
        await pilot.press("x")
        await settled(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        run = await backend.get_run(screen.run_id)
    assert (run.job_schedule_id, run.triggered_by) == (before.id, "manual")
    assert (await backend.get_schedule("nightly-backup")).next_run == before.next_run


async def test_x_on_an_overlapping_schedule_asks_before_forcing(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    await backend.update_schedule("tmp-sweep", SchedulePatch(overlap="skip"))
    first = await backend.run_schedule("tmp-sweep")
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await go_to(pilot, table, "tmp-sweep")
        await pilot.press("x")
        await shows(pilot, ConfirmModal)
        await pilot.press("escape")  # the safe answer: nothing started
        await settled(pilot)
        assert isinstance(top(app), SchedulesScreen)
        assert (
            len(
                [
                    r
                    for r in (await backend.list_runs(RunQuery(limit=5))).items
                    if r.job_schedule_id == first.job_schedule_id and r.id > first.id
                ]
            )
            == 0
        )
        await pilot.press("x")
        await shows(pilot, ConfirmModal)
        await pilot.press("tab", "enter")  # "Run anyway"
        await settled(pilot)
        detail = top(app)
        assert isinstance(detail, RunDetailScreen) and detail.run_id > first.id


async def test_delete_asks_and_cancel_keeps_the_schedule(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await go_to(pilot, table, "wal-archive")
        await pilot.press("d")
        await shows(pilot, ConfirmModal)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert modal.question == "Delete schedule wal-archive?"
        assert app.focused is not None and app.focused.id == "confirm-no"
        await pilot.press("enter")  # the focused, safe button
        await settled(pilot)
        assert (await backend.get_schedule("wal-archive")).job_identifier == "wal-archive"
        assert len(table.keys_in_order) == 10


async def test_delete_confirmed_removes_the_row(app: JobdeckApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await go_to(pilot, table, "wal-archive")
        await pilot.press("d")
        await shows(pilot, ConfirmModal)
        await pilot.press("tab", "enter")
        await settled(pilot)
        assert isinstance(top(app), SchedulesScreen)
        names = {s.job_identifier for s in await backend.list_schedules()}
        assert "wal-archive" not in names
        assert "wal-archive" not in [table.get_row(k)[0].plain for k in table.keys_in_order]


async def test_keys_open_the_form_and_the_ledger(app: JobdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await go_to(pilot, table, "crm-delta")
        await pilot.press("l")
        await settled(pilot)
        ledger = top(app)
        assert isinstance(ledger, LedgerScreen) and ledger.schedule.job_identifier == "crm-delta"
        await pilot.press("escape")
        await settled(pilot)
        await pilot.press("enter")
        await settled(pilot)
        form = app.screen
        assert isinstance(form, ScheduleFormModal)
        assert form.schedule is not None and form.schedule.job_identifier == "crm-delta"
        await pilot.press("escape")
        await settled(pilot)
        await pilot.press("n")
        await settled(pilot)
        new_form = top(app)
        assert isinstance(new_form, ScheduleFormModal) and new_form.schedule is None


async def test_read_only_hides_writes_and_enter_shows_the_ledger(clock: ManualClock) -> None:
    backend = FakeBackend.seeded(clock, read_only=True)
    app = JobdeckApp(backend, clock, start_screen="schedules", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        for action in ("new", "edit", "toggle_active", "run_now", "delete"):
            assert app.screen.check_action(action, ()) is False
        assert app.screen.check_action("ledger", ()) is True
        await pilot.press("x", "d", "n")
        await settled(pilot)
        assert isinstance(top(app), SchedulesScreen)
        await pilot.press("enter")
        await settled(pilot)
        assert isinstance(top(app), LedgerScreen)


async def test_a_backend_change_reloads_the_table(backend: FakeBackend, clock: ManualClock) -> None:
    app = JobdeckApp(backend, clock, start_screen="schedules", poll_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await backend.update_schedule("tmp-sweep", SchedulePatch(cron_expression="*/5 * * * *"))
        await pilot.pause(0.8)
        await settled(pilot)
        assert row(table, "tmp-sweep")[4] == "every 5 minutes"


async def test_an_empty_list_says_how_to_start(clock: ManualClock) -> None:
    app = JobdeckApp(FakeBackend(clock=clock), clock, start_screen="schedules", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        assert table.row_count == 0 and table.border_title == "Schedules (0)"
        detail = app.screen.query_one("#schedule-detail", Static)
        assert str(detail.render()) == "No schedules yet: press n to create one."
        for action in ("edit", "toggle_active", "run_now", "delete", "ledger"):
            assert app.screen.check_action(action, ()) is None  # greyed: no row to act on


async def test_command_line_argument_filters(app: JobdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await pilot.press("colon", *"schedules crm", "enter")
        await settled(pilot)
        names = [table.get_row(key)[0].plain for key in table.keys_in_order]
        assert names == ["crm-delta", "crm-full-once"]


async def test_2_and_colon_schedules_land_on_the_list_not_a_detail_left_open(
    app: JobdeckApp,
) -> None:
    """A run opened from the schedules screen stays in that mode's stack after `1`; coming
    back by `2` or `:schedules` shows the list (review M7)."""
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot)
        await go_to(pilot, table, "nightly-backup")
        await pilot.press("x")
        await shows(pilot, RunDetailScreen)
        await pilot.press("1")
        await shows(pilot, TemplatesScreen)
        await pilot.press("2")
        await shows(pilot, SchedulesScreen)
        await go_to(pilot, table, "crm-delta")
        await pilot.press("x")
        await shows(pilot, RunDetailScreen)
        await pilot.press("colon", *"templates", "enter")
        await shows(pilot, TemplatesScreen)
        await pilot.press("colon", *"schedules", "enter")
        await shows(pilot, SchedulesScreen)
        assert len(app.screen_stack) == 1
