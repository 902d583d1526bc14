"""Snapshots of the workers screen, its slots prompt and its drain question, at two sizes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from console.app import JobdeckApp
from console.screens.slots_prompt import SlotsPromptModal
from console.widgets import KeyedTable
from core.backend.fake import FakeBackend
from core.backend.protocol import Capabilities
from core.clock import ManualClock

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
CONTROL = Capabilities(
    name="fake",
    log_streaming=True,
    run_cancel=True,
    run_retry=True,
    workers=True,
    worker_control=True,
)


@pytest.fixture
def app(clock: ManualClock) -> JobdeckApp:
    """The app on the workers screen over the seeded fake that steers its workers; still."""
    backend = FakeBackend.seeded(clock, capabilities=CONTROL)
    return JobdeckApp(backend, clock, start_screen="workers", poll_seconds=None)


async def on_local_pool(pilot: Pilot[int]) -> None:
    """Once the data is in, highlight the local pool, which has a run active."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    table = pilot.app.screen.query_one("#workers-table", KeyedTable)
    table.move_cursor(row=table.get_row_index("local-1"))
    await pilot.pause()


@SIZES
def test_workers_screen(
    app: JobdeckApp, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    assert snap_compare(app, terminal_size=size, run_before=on_local_pool)


async def slots_prompt_open(pilot: Pilot[int]) -> None:
    """The slots prompt over the local pool, its cursor steady."""
    await on_local_pool(pilot)
    await pilot.press("s")
    for _ in range(300):
        if isinstance(pilot.app.screen, SlotsPromptModal):
            break
        await pilot.pause(0.01)
    await pilot.pause()
    # A blinking cursor would make the picture depend on when it is taken.
    pilot.app.screen.query_one("#slots-input", Input).cursor_blink = False


@SIZES
def test_slots_prompt(
    app: JobdeckApp, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    assert snap_compare(app, terminal_size=size, run_before=slots_prompt_open)


@SIZES
def test_drain_question(
    app: JobdeckApp, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    assert snap_compare(app, terminal_size=size, run_before=on_local_pool, press=["d"])


def test_workers_screen_without_worker_control(
    clock: ManualClock, snap_compare: Callable[..., bool]
) -> None:
    """The fake's own capabilities: greyed keys and the line that says why."""
    backend = FakeBackend.seeded(
        clock, capabilities=CONTROL.model_copy(update={"worker_control": False})
    )
    app = JobdeckApp(backend, clock, start_screen="workers", poll_seconds=None)
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_local_pool)
