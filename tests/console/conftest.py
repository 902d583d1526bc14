"""Console fixtures: the app over a seeded FakeBackend on a clock that never moves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from console.app import JobdeckApp
from console.widgets import KeyedTable
from core.backend.fake import DEFAULT_START, FakeBackend
from core.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """The session clock, fixed at the fake backend's default start (a Monday morning)."""
    return ManualClock(DEFAULT_START)


@pytest.fixture
def backend(clock: ManualClock) -> FakeBackend:
    """The seeded fake backend (8 templates, 10 schedules, 200 runs)."""
    return FakeBackend.seeded(clock)


@pytest.fixture
def app(backend: FakeBackend, clock: ManualClock) -> JobdeckApp:
    """The app over the seeded backend, not yet running."""
    return JobdeckApp(backend, clock)


TableLoader = Callable[[Pilot[int]], Awaitable[KeyedTable]]


async def settled(pilot: Pilot[int]) -> None:
    """Wait until loading workers have finished and their results are on screen."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _loaded_table(pilot: Pilot[int]) -> KeyedTable:
    await settled(pilot)
    return pilot.app.screen.query_one(KeyedTable)


@pytest.fixture
def loaded_table() -> TableLoader:
    """``await loaded_table(pilot)``: the current screen's table once its data is in."""
    return _loaded_table
