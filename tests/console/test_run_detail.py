"""Pilot tests of the run detail: metadata, attempts, parameters, result, live updates, actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from console.app import JobdeckApp
from console.messages import OpenRun
from console.screens.confirm import ConfirmModal
from console.screens.run_detail import RunDetailScreen
from console.widgets import KeyedTable
from console.widgets.log_lines import LogLines
from console.widgets.log_view import LogView
from core.backend.fake import FakeBackend
from core.backend.inputs import RunQuery
from core.backend.views import RunView
from core.clock import ManualClock
from core.storage.tables import JobRunAttempt

SIZE = (120, 36)


@pytest.fixture
def detail_app(backend: FakeBackend, clock: ManualClock) -> JobdeckApp:
    """The app on the runs screen; tests open runs by posting OpenRun."""
    return JobdeckApp(backend, clock, start_screen="runs", poll_seconds=None)


async def settle(pilot: Pilot[int]) -> None:
    """Wait until loading workers have finished and their results are on screen."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_run(pilot: Pilot[int], run_id: int) -> RunDetailScreen:
    """Open a run's detail as another screen would, once it has loaded."""
    await settle(pilot)
    pilot.app.post_message(OpenRun(run_id))
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RunDetailScreen)
    return screen


async def first_run(backend: FakeBackend, **filters: object) -> RunView:
    """The newest run matching ``filters``."""
    page = await backend.list_runs(RunQuery(limit=1, **filters))  # type: ignore[arg-type]
    return page.items[0]


def text_of(screen: RunDetailScreen, selector: str) -> str:
    """The plain text a Static shows (its rich renderable rendered)."""
    static = screen.query_one(selector, Static)
    console = screen.app.console
    content = static.content
    lines = console.render_lines(content, console.options.update_width(200))  # type: ignore[arg-type]
    return "\n".join("".join(seg.text for seg in line).rstrip() for line in lines)


async def test_a_completed_run_shows_metadata_parameters_result_and_attempts(
    detail_app: JobdeckApp, backend: FakeBackend
) -> None:
    run = await first_run(backend, status=("completed",), job_type=("python",))
    backend.actions.attempts.append(
        JobRunAttempt(
            id=1,
            run_id=run.id,
            attempt=1,
            status="completed",
            started_at=run.started_at,
            completed_at=run.completed_at,
            exit_code=0,
            pid=4242,
            worker="local-1",
        )
    )
    async with detail_app.run_test(size=SIZE) as pilot:
        screen = await open_run(pilot, run.id)
        summary = text_of(screen, "#run-summary")
        assert summary.splitlines()[0].startswith(f"✓ completed  {run.job_name}  run {run.id}")
        assert "took " in summary and "attempt 1/1" in summary
        meta = text_of(screen, "#run-meta")
        assert f"Template       {run.template_name} (revision 1)" in meta
        assert "Queued         2026-03-02" in meta
        assert "Exit code      0" in meta
        params = text_of(screen, "#run-parameters")
        assert "Parameters" in params
        result = text_of(screen, "#run-result")
        assert '"rows_synced":' in result
        table = screen.query_one("#attempts-table", KeyedTable)
        row = [cell.plain for cell in table.get_row("1")]
        assert (row[0], row[1], row[4], row[5], row[6]) == (
            "1",
            "✓ completed",
            "0",
            "local-1",
            "4242",
        )
        assert table.border_title == "Attempts (1 of at most 1)"


async def test_secret_parameters_arrive_masked(
    detail_app: JobdeckApp, backend: FakeBackend
) -> None:
    queued = await backend.run_template("backup [daily]")
    async with detail_app.run_test(size=SIZE) as pilot:
        screen = await open_run(pilot, queued.id)
        params = text_of(screen, "#run-parameters")
        assert "pg_password" in params and "********" in params
        assert "hunter2" not in params
        assert "retention_days  14" in params


async def test_a_failed_run_shows_its_error(detail_app: JobdeckApp, backend: FakeBackend) -> None:
    run = await first_run(backend, status=("failed",))
    async with detail_app.run_test(size=SIZE) as pilot:
        screen = await open_run(pilot, run.id)
        assert run.error_message
        assert text_of(screen, "#run-summary").splitlines()[2] == run.error_message
        assert f"Error          {run.error_message}" in text_of(screen, "#run-meta")
        assert "no result" in text_of(screen, "#run-result")


async def test_tab_keys_switch_between_log_details_attempts_and_result(
    detail_app: JobdeckApp, backend: FakeBackend
) -> None:
    run = await first_run(backend, status=("completed",))
    async with detail_app.run_test(size=SIZE) as pilot:
        screen = await open_run(pilot, run.id)
        tabs = screen.query_one(TabbedContent)
        assert tabs.active == "tab-log" and isinstance(screen.focused, LogLines)
        for key, pane in (("i", "tab-details"), ("a", "tab-attempts"), ("J", "tab-result")):
            await pilot.press(key)
            assert tabs.active == pane
        await pilot.press("l")
        assert tabs.active == "tab-log" and isinstance(screen.focused, LogLines)
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, RunDetailScreen)


async def test_the_detail_follows_its_run_live(
    detail_app: JobdeckApp, backend: FakeBackend, clock: ManualClock
) -> None:
    run = await first_run(backend, status=("running",))
    backend.actions.add_log(run.id, "starting\n")
    async with detail_app.run_test(size=SIZE) as pilot:
        screen = await open_run(pilot, run.id)
        await detail_app.poll_changes()
        assert text_of(screen, "#run-summary").startswith("▶ running")
        log = screen.query_one(LogView)
        assert log.buffer.texts == ["starting"]
        backend.actions.add_log(run.id, "done\n")
        clock.advance(timedelta(seconds=5))
        backend.update_run(run.id, status="completed", completed_at=clock.now(), exit_code=0)
        await detail_app.poll_changes()
        await pilot.pause(0.4)
        await settle(pilot)
        assert text_of(screen, "#run-summary").startswith("✓ completed")
        assert "exit 0" in text_of(screen, "#run-summary")
        assert log.buffer.texts == ["starting", "done"]
        assert log.finished


async def test_a_running_runs_elapsed_time_ticks(
    detail_app: JobdeckApp, backend: FakeBackend, clock: ManualClock
) -> None:
    run = await first_run(backend, status=("running",))
    async with detail_app.run_test(size=SIZE) as pilot:
        screen = await open_run(pilot, run.id)
        assert "running 28m56s" in text_of(screen, "#run-summary")
        clock.advance(timedelta(seconds=90))
        await pilot.pause(1.2)
        assert "running 30m26s" in text_of(screen, "#run-summary")


async def test_the_details_tab_duration_ticks_while_the_run_is_live(
    detail_app: JobdeckApp, backend: FakeBackend, clock: ManualClock
) -> None:
    """Details said `Duration 390ms` long after the header said `running 13s` (review)."""
    run = await first_run(backend, status=("running",))
    async with detail_app.run_test(size=SIZE) as pilot:
        screen = await open_run(pilot, run.id)
        await pilot.press("i")
        assert "Duration       28m56s" in text_of(screen, "#run-meta")
        clock.advance(timedelta(seconds=90))
        for _ in range(100):  # the next tick of the screen's one-second interval
            if "30m26s" in text_of(screen, "#run-meta"):
                break
            await pilot.pause(0.05)
        assert "Duration       30m26s" in text_of(screen, "#run-meta")
        assert "running 30m26s" in text_of(screen, "#run-summary")


async def test_cancel_from_the_detail_asks_then_cancels(
    detail_app: JobdeckApp, backend: FakeBackend
) -> None:
    run = await first_run(backend, status=("pending",))
    async with detail_app.run_test(size=SIZE) as pilot:
        screen = await open_run(pilot, run.id)
        assert screen.check_action("retry_run", ()) is None
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmModal)
        await pilot.press("right", "enter")
        await settle(pilot)
        assert (await backend.get_run(run.id)).status == "cancelled"
        assert text_of(screen, "#run-summary").startswith("⊘ cancelled")
        assert screen.check_action("cancel_run", ()) is None
        assert screen.check_action("retry_run", ()) is True


async def test_retry_from_the_detail_opens_the_new_run(
    detail_app: JobdeckApp, backend: FakeBackend
) -> None:
    run = await first_run(backend, status=("timed_out",))
    async with detail_app.run_test(size=SIZE) as pilot:
        await open_run(pilot, run.id)
        await pilot.press("R")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, RunDetailScreen) and screen.run_id != run.id
        retry = await backend.get_run(screen.run_id)
        assert retry.retry_of_run_id == run.id
        assert "(retry of run" in text_of(screen, "#run-meta")
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, RunDetailScreen)
        assert pilot.app.screen.run_id == run.id


async def test_a_run_that_does_not_exist_says_so(detail_app: JobdeckApp) -> None:
    async with detail_app.run_test(size=SIZE) as pilot:
        screen = await open_run(pilot, 999_999)
        assert text_of(screen, "#run-summary") == "run 999999 no longer exists"
        assert screen.check_action("cancel_run", ()) is None
        assert pilot.app.is_running
