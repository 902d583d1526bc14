"""Snapshots of the runs screen, its dialogs and the run detail: seeded data, fixed clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from console.app import JobdeckApp
from console.messages import OpenRun
from core.backend.fake import FakeBackend
from core.backend.inputs import RunQuery
from core.clock import ManualClock

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
Snap = Callable[..., bool]


async def settled(pilot: Pilot[int]) -> None:
    """Take the picture only once the data is on screen."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def opening(run_id: int, *keys: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    """A run_before that opens a run's detail, then presses ``keys``."""

    async def run_before(pilot: Pilot[int]) -> None:
        await settled(pilot)
        pilot.app.post_message(OpenRun(run_id))
        await settled(pilot)
        await pilot.press(*keys)
        await settled(pilot)

    return run_before


def runs_app(backend: FakeBackend, clock: ManualClock) -> JobdeckApp:
    """The app on the runs screen, never polling (nothing moves)."""
    return JobdeckApp(backend, clock, start_screen="runs", poll_seconds=None)


def newest_id(backend: FakeBackend, status: str) -> int:
    """The newest run with ``status``."""
    return backend.runs.page(RunQuery(status=(status,), limit=1)).items[0].id


def write_log(backend: FakeBackend, run_id: int, *, failing: bool) -> None:
    """A realistic log: progress on stdout, warnings on stderr, a closing line from jobdeck."""
    for step in range(1, 41):
        backend.actions.add_log(run_id, f"[{step:02}/40] copying table part_{step:03} … ok\n")
        if step % 9 == 0:
            backend.actions.add_log(
                run_id, f"warning: slow disk on part_{step:03} (error budget 2%)\n", stream="stderr"
            )
    last = "error: connection reset by peer" if failing else "all 40 parts copied"
    backend.actions.add_log(run_id, last + "\n", stream="stderr" if failing else "stdout")
    backend.actions.add_log(run_id, f"exit status {1 if failing else 0}\n", stream="system")


@SIZES
def test_runs_screen(
    backend: FakeBackend, clock: ManualClock, snap_compare: Snap, size: tuple[int, int]
) -> None:
    assert snap_compare(runs_app(backend, clock), terminal_size=size, run_before=settled)


@SIZES
def test_runs_filter_dialog(
    backend: FakeBackend, clock: ManualClock, snap_compare: Snap, size: tuple[int, int]
) -> None:
    app = runs_app(backend, clock)

    async def run_before(pilot: Pilot[int]) -> None:
        await settled(pilot)
        app.screen.apply_argument('template="backup [daily]" failed')
        await settled(pilot)
        await pilot.press("f")
        await settled(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_runs_cancel_confirm(
    backend: FakeBackend, clock: ManualClock, snap_compare: Snap, size: tuple[int, int]
) -> None:
    assert snap_compare(
        runs_app(backend, clock), terminal_size=size, press=["j", "j", "c"], run_before=settled
    )


@SIZES
def test_run_detail_of_a_completed_run_with_its_log(
    backend: FakeBackend, clock: ManualClock, snap_compare: Snap, size: tuple[int, int]
) -> None:
    run_id = newest_id(backend, "completed")
    write_log(backend, run_id, failing=False)
    app = runs_app(backend, clock)
    assert snap_compare(app, terminal_size=size, run_before=opening(run_id))


@SIZES
def test_run_detail_of_a_failed_run(
    backend: FakeBackend, clock: ManualClock, snap_compare: Snap, size: tuple[int, int]
) -> None:
    run_id = newest_id(backend, "failed")
    write_log(backend, run_id, failing=True)
    app = runs_app(backend, clock)
    assert snap_compare(app, terminal_size=size, run_before=opening(run_id, "t"))


@SIZES
def test_run_detail_details_tab(
    backend: FakeBackend, clock: ManualClock, snap_compare: Snap, size: tuple[int, int]
) -> None:
    run_id = backend.actions.run_template("backup [daily]", None, "manual", False).id
    app = runs_app(backend, clock)
    assert snap_compare(app, terminal_size=size, run_before=opening(run_id, "i"))


@SIZES
def test_log_search(
    backend: FakeBackend, clock: ManualClock, snap_compare: Snap, size: tuple[int, int]
) -> None:
    run_id = newest_id(backend, "failed")
    write_log(backend, run_id, failing=True)
    app = runs_app(backend, clock)
    keys = ("slash", *"error", "enter", "n")
    assert snap_compare(app, terminal_size=size, run_before=opening(run_id, *keys))


@SIZES
def test_log_save_prompt(
    backend: FakeBackend, clock: ManualClock, snap_compare: Snap, size: tuple[int, int]
) -> None:
    run_id = newest_id(backend, "completed")
    write_log(backend, run_id, failing=False)
    app = runs_app(backend, clock)
    assert snap_compare(app, terminal_size=size, run_before=opening(run_id, "s"))
