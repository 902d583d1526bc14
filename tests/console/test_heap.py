"""Full garbage collections wait for a quiet moment (console/heap.py)."""

from __future__ import annotations

import gc

import pytest

from console import heap
from console.heap import QuietCollector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def collections(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Full collections asked for (gc.collect is not run for real), and a collector count
    that says objects were promoted since the last one."""
    asked: list[float] = []
    monkeypatch.setattr(heap.gc, "collect", lambda *args: asked.append(1.0) or 0)
    monkeypatch.setattr(heap.gc, "get_count", lambda: (0, 0, 3))
    return asked


def test_starting_takes_full_collections_from_the_collector_and_stopping_gives_them_back() -> None:
    before = gc.get_threshold()
    collector = QuietCollector()
    collector.start()
    try:
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2]
        assert full > 1_000_000
    finally:
        collector.stop()
    assert gc.get_threshold() == before


def test_no_full_collection_while_keys_keep_coming(collections: list[float]) -> None:
    clock = Clock()
    collector = QuietCollector(clock)
    start = clock.now
    while clock.now + 1.0 < start + heap.AT_LEAST_EVERY_SECONDS:
        clock.now += heap.QUIET_SECONDS / 2
        collector.input_seen()
        clock.now += heap.QUIET_SECONDS / 2
        assert not collector.tick()
    assert collections == []


def test_a_quiet_moment_collects_at_most_every_few_seconds(collections: list[float]) -> None:
    clock = Clock()
    collector = QuietCollector(clock)
    clock.now += heap.QUIET_EVERY_SECONDS
    assert collector.tick()
    clock.now += heap.QUIET_EVERY_SECONDS / 2
    assert not collector.tick()  # quiet, but too soon
    clock.now += heap.QUIET_EVERY_SECONDS / 2
    collector.input_seen()
    assert not collector.tick()  # a key just now
    clock.now += heap.QUIET_SECONDS
    assert collector.tick()
    assert len(collections) == 2


def test_nothing_promoted_since_the_last_collection_nothing_to_collect(
    collections: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heap.gc, "get_count", lambda: (10, 2, 0))
    clock = Clock()
    collector = QuietCollector(clock)
    clock.now += heap.QUIET_EVERY_SECONDS
    assert not collector.tick()
    clock.now += heap.AT_LEAST_EVERY_SECONDS
    assert collector.tick()  # however busy or idle: at least this often


def test_busy_for_long_still_collects_at_least_every_few_minutes(
    collections: list[float],
) -> None:
    clock = Clock()
    collector = QuietCollector(clock)
    ticks = 0
    while not collections:
        clock.now += 0.5
        collector.input_seen()
        collector.tick()
        ticks += 1
    assert ticks * 0.5 == pytest.approx(heap.AT_LEAST_EVERY_SECONDS)


async def test_the_console_tells_its_collector_about_every_key() -> None:
    from console.app import JobdeckApp
    from core.backend.fake import DEFAULT_START, FakeBackend
    from core.clock import ManualClock

    clock = ManualClock(DEFAULT_START)
    app = JobdeckApp(FakeBackend.seeded(clock), clock, poll_seconds=None)
    ticks = Clock()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.heap = QuietCollector(ticks)
        ticks.now += 50
        await pilot.press("j")
        assert app.heap.last_input == ticks.now
        ticks.now += 50
        await pilot.click("KeyBar")
        assert app.heap.last_input == ticks.now
