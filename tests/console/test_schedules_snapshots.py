"""Snapshots of the schedules screen, its form (a DST gap in the preview), ledger and confirm."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from console.app import JobdeckApp
from console.screens.confirm import ConfirmModal
from console.screens.schedule_form import PREVIEW_DELAY, ScheduleFormModal
from console.widgets import KeyedTable
from core.backend.fake import FakeBackend
from core.clock import ManualClock
from tests.console.conftest import settled
from tests.console.test_ledger_screen import add_ledger

SIZES = [(80, 24), (160, 48)]
SIZE_IDS = ["80x24", "160x48"]
Snap = Callable[..., bool]


@pytest.fixture
def app(backend: FakeBackend, clock: ManualClock) -> JobdeckApp:
    """The schedules screen, nothing polling, a ledger recorded for nightly-backup."""
    add_ledger(backend, "nightly-backup")
    return JobdeckApp(backend, clock, start_screen="schedules", poll_seconds=None)


async def on_row(pilot: Pilot[int], name: str) -> None:
    """Wait for the data, then put the cursor on schedule ``name``."""
    await settled(pilot)
    table = pilot.app.screen.query_one(KeyedTable)
    names = [table.get_row(key)[0].plain for key in table.keys_in_order]
    table.move_cursor(row=names.index(name))
    await pilot.pause()


async def showing(pilot: Pilot[int], screen_type: type) -> None:
    """Wait until a screen of ``screen_type`` is on top (its opener's worker awaits it)."""
    for _ in range(200):
        if isinstance(pilot.app.screen, screen_type):
            break
        await pilot.pause(0.05)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_schedules_screen(app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await on_row(pilot, "nightly-backup")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_schedule_form_previews_a_dst_gap(
    app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await settled(pilot)
        await pilot.press("n")
        await showing(pilot, ScheduleFormModal)
        await settled(pilot)
        form = pilot.app.screen
        for field, text in (
            ("job_identifier", "riga-sundays"),
            ("cron_expression", "30 3 * * 0"),
            ("timezone", "Europe/Riga"),
        ):
            form.query_one(f"#form-{field}", Input).value = text
        form.query_one("#form-template").focus()  # no blinking text cursor in the picture
        await pilot.pause(PREVIEW_DELAY + 0.1)
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_ledger_screen(app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await on_row(pilot, "nightly-backup")
        await pilot.press("l")
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_delete_confirm(app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await on_row(pilot, "wal-archive")
        await pilot.press("d")
        await showing(pilot, ConfirmModal)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
