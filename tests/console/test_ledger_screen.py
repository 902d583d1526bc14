"""Pilot tests of the occurrence ledger: outcomes with reasons, enter opens a ran run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from console.app import JobdeckApp
from console.screens.ledger import LedgerScreen
from console.screens.run_detail import RunDetailScreen
from console.screens.schedules import SchedulesScreen
from console.widgets import KeyedTable
from core.backend.fake import FakeBackend
from core.clock import ManualClock
from core.storage.tables import Occurrence
from tests.console.conftest import settled

SIZE = (140, 30)


def top(app: JobdeckApp) -> Screen[Any]:
    """The screen on top now (a call, so type narrowing never outlives a key press)."""
    return app.screen


def add_ledger(backend: FakeBackend, schedule_name: str) -> int:
    """Record four occurrences of a schedule, one of each outcome; returns the ran run's id."""
    schedule = backend.store.schedule_row(schedule_name)
    assert schedule.id is not None
    run = backend.add_run(schedule=schedule.id, status="completed")
    now = backend.clock.now()
    day = timedelta(days=1)
    rows = [
        ("ran", None, run.id, 0.42, now - day),
        ("missed", "deadline: found 7m 5s late, start deadline 5m", None, 425.0, now - 2 * day),
        ("skipped", "paused", None, None, now - 3 * day),
        ("coalesced", "catch-up latest: covered by a later run", None, None, now - 4 * day),
    ]
    for outcome, reason, run_id, lateness, at in rows:
        backend.actions.occurrences.append(
            Occurrence(
                id=backend.store.next_id("occurrence"),
                schedule_id=schedule.id,
                scheduled_for=at.replace(hour=0, minute=30, second=0),
                outcome=outcome,
                reason=reason,
                run_id=run_id,
                lateness_seconds=lateness,
                recorded_at=at,
            )
        )
    return run.id


@pytest.fixture
def run_id(backend: FakeBackend) -> int:
    """The run of the "ran" occurrence of nightly-backup's recorded ledger."""
    return add_ledger(backend, "nightly-backup")


@pytest.fixture
def app(backend: FakeBackend, clock: ManualClock, run_id: int) -> JobdeckApp:
    """The app on the schedules screen, with a ledger recorded for nightly-backup."""
    return JobdeckApp(backend, clock, start_screen="schedules", poll_seconds=None)


async def open_ledger(pilot: Pilot[int], schedule: str) -> KeyedTable:
    """Highlight ``schedule``, press `l`, and return the ledger's table once loaded."""
    await settled(pilot)
    table = pilot.app.screen.query_one(KeyedTable)
    names = [table.get_row(k)[0].plain for k in table.keys_in_order]
    table.move_cursor(row=names.index(schedule))
    await pilot.press("l")
    await settled(pilot)
    assert isinstance(pilot.app.screen, LedgerScreen)
    return pilot.app.screen.query_one("#ledger-table", KeyedTable)


def rows(table: KeyedTable) -> list[list[str]]:
    """Every row's plain cells, top to bottom."""
    return [[cell.plain for cell in table.get_row(key)] for key in table.keys_in_order]


async def test_ledger_lists_outcomes_newest_first_in_the_schedules_zone(
    app: JobdeckApp, run_id: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await open_ledger(pilot, "nightly-backup")
        assert rows(table) == [
            ["2026-03-01 02:30:00 EET", "✓ ran", f"#{run_id}", "0.4s", ""],
            [
                "2026-02-28 02:30:00 EET",
                "✗ missed",
                "—",
                "7m 5s",
                "deadline: found 7m 5s late, start deadline 5m",
            ],
            ["2026-02-27 02:30:00 EET", "⊘ skipped", "—", "—", "paused"],
            [
                "2026-02-26 02:30:00 EET",
                "≡ coalesced",
                "—",
                "—",
                "catch-up latest: covered by a later run",
            ],
        ]
        assert table.border_title == (
            "Ledger · nightly-backup (1 ran · 1 missed · 1 skipped · 1 coalesced)"
        )
        assert table.border_subtitle == "daily at 02:30 Europe/Riga"
        outcome_styles = {row[1]: table.get_row(key)[1].style for row, key in
                          zip(rows(table), table.keys_in_order, strict=True)}  # fmt: skip
        assert len(set(outcome_styles.values())) == 4  # each outcome in its own colour


async def test_enter_on_a_ran_row_opens_its_run_and_others_say_why_not(
    app: JobdeckApp, run_id: int
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await open_ledger(pilot, "nightly-backup")
        await pilot.press("j", "enter")
        await pilot.pause()
        assert isinstance(top(app), LedgerScreen)
        assert any("this occurrence missed" in n.message for n in app._notifications)
        await pilot.press("g", "enter")
        await settled(pilot)
        detail = top(app)
        assert isinstance(detail, RunDetailScreen) and detail.run_id == run_id
        await pilot.press("escape")
        await settled(pilot)
        assert isinstance(top(app), LedgerScreen)
        assert table.highlighted_key == table.keys_in_order[0]
        await pilot.press("escape")
        await settled(pilot)
        assert isinstance(top(app), SchedulesScreen)


async def test_an_empty_ledger_says_so(app: JobdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        table = await open_ledger(pilot, "crm-delta")
        assert table.row_count == 0
        assert table.border_title == "Ledger · crm-delta (no occurrences yet)"
