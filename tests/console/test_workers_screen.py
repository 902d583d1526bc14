"""Pilot tests of the workers screen: the pools, their active runs, and steering them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from rich.text import Text
from textual import on
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

import console.app
from console.app import JobdeckApp
from console.messages import OpenRun
from console.screens.confirm import ConfirmModal
from console.screens.slots_prompt import SlotsPromptModal
from console.screens.workers import WorkersScreen, active_run_cells, worker_cells
from console.widgets import KeyedTable
from console.widgets.cells import theme_style
from core.backend.fake import FakeBackend
from core.backend.protocol import Capabilities
from core.backend.views import ActiveRunView, WorkerView
from core.clock import ManualClock
from tests.console.conftest import settled

SIZE = (120, 34)
#: the fake as a backend that cannot steer its workers (a console not owning the database)
NO_CONTROL = Capabilities(
    name="fake",
    log_streaming=True,
    run_cancel=True,
    run_retry=True,
    workers=True,
    worker_control=False,
)
#: the fake as a backend that steers its workers (the seeded fake's default)
CONTROL = Capabilities(
    name="fake",
    log_streaming=True,
    run_cancel=True,
    run_retry=True,
    workers=True,
    worker_control=True,
)
STEERING = ("grow", "shrink", "set_slots", "pause", "resume", "drain")


@pytest.fixture
def backend(clock: ManualClock) -> FakeBackend:
    """The seeded fake, able to steer its workers."""
    return FakeBackend.seeded(clock, capabilities=CONTROL)


class RecordingApp(JobdeckApp):
    """The app, keeping the runs asked for instead of opening them."""

    # A relative CSS_PATH resolves beside the subclass's module; keep the app's own.
    CSS_PATH = str(Path(console.app.__file__).with_name("app.tcss"))
    opened: list[int]

    @on(OpenRun)
    def _record_open_run(self, event: OpenRun) -> None:
        self.opened.append(event.run_id)
        event.prevent_default()  # the base app's handler would push the run detail


@pytest.fixture
def app(backend: FakeBackend, clock: ManualClock) -> RecordingApp:
    """The app on the workers screen, no change poller (tests poll by hand)."""
    app = RecordingApp(backend, clock, start_screen="workers", poll_seconds=None)
    app.opened = []
    return app


def workers_table(pilot: Pilot[int]) -> KeyedTable:
    """The workers table of the screen on view (under any modal)."""
    screen = next(s for s in pilot.app.screen_stack if isinstance(s, WorkersScreen))
    return screen.query_one("#workers-table", KeyedTable)


def runs_table(pilot: Pilot[int]) -> KeyedTable:
    """The active runs table of the workers screen."""
    screen = next(s for s in pilot.app.screen_stack if isinstance(s, WorkersScreen))
    return screen.query_one("#active-runs", KeyedTable)


def row_texts(table: KeyedTable, key: str) -> list[str]:
    """The plain text of every cell in a row."""
    return [cell.plain for cell in table.get_row(key)]


async def on_worker(pilot: Pilot[int], name: str) -> None:
    """Load the screen and put the cursor on the worker called ``name``."""
    await settled(pilot)
    table = workers_table(pilot)
    table.move_cursor(row=table.get_row_index(name))
    await settled(pilot)


async def until(pilot: Pilot[int], condition: Callable[[], object], what: str) -> None:
    """Let the app run until ``condition`` holds (``settled`` would wait forever while a
    modal opened from a worker is up: that worker waits for the modal's answer)."""
    for _ in range(300):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def worker_actions(backend: FakeBackend) -> list[str]:
    """The audited worker actions, newest first."""
    return [a.action for a in await backend.audit_log(limit=100) if a.target_type == "worker"]


async def worker(backend: FakeBackend, name: str) -> WorkerView:
    """The worker as the backend has it now."""
    return next(w for w in await backend.list_workers() if w.name == name)


async def test_workers_show_load_heartbeat_host_and_queues(app: RecordingApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        table = workers_table(pilot)
        assert isinstance(app.screen, WorkersScreen)
        assert table.border_title == "Workers (4)"
        assert [str(c.label) for c in table.columns.values()][-1] == "Queues"
        local = row_texts(table, "local-1")
        paused = row_texts(table, "celery@worker-a")
        late = table.get_row("celery@worker-b")[3]
        lost = table.get_row("celery@worker-c")[3]
        fresh = table.get_row("local-1")[3]
        theme = app.get_css_variables()
    assert local == [
        "local-1",
        "▶ running",
        "1/4",
        "2s ago",
        "1318",
        "41",
        "local",
        "ops-1:4242",
        "—",
    ]
    assert paused[1:3] == ["‖ paused", "0/8"]
    assert paused[-1] == "default, reports"
    assert late.plain == "19s ago"
    assert theme_style(theme, "text-warning") in str(late.spans[0].style)
    assert lost.plain == "12m20s ago"
    assert theme_style(theme, "text-error") in str(lost.spans[0].style)
    assert not fresh.spans


async def test_the_queues_column_shows_only_when_a_worker_has_queues(
    app: RecordingApp, backend: FakeBackend
) -> None:
    for name in [n for n in backend.actions.workers if n.startswith("celery")]:
        del backend.actions.workers[name]
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        labels = [str(c.label) for c in workers_table(pilot).columns.values()]
    assert "Queues" not in labels
    assert labels[:4] == ["Name", "Status", "Slots", "Heartbeat"]


async def test_the_highlighted_workers_active_runs_show_oldest_first(
    app: RecordingApp, backend: FakeBackend
) -> None:
    on_b = (await worker(backend, "celery@worker-b")).active_runs
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        runs = runs_table(pilot)
        local_rows = {key: row_texts(runs, key) for key in runs.keys_in_order}
        local_title = runs.border_title
        await pilot.press("k", "k")
        b_keys, b_title = runs.keys_in_order, runs.border_title
    assert local_title == "Active runs on local-1 (1)"
    assert list(local_rows.values()) == [["#197", "backup [daily]", "1", "08:41:36", "48m23s"]]
    assert b_title == "Active runs on celery@worker-b (2)"
    assert b_keys == [str(run.run_id) for run in on_b]
    assert on_b[0].started_at is not None and on_b[1].started_at is not None
    assert on_b[0].started_at < on_b[1].started_at


async def test_elapsed_and_heartbeat_age_tick_from_the_clock_without_refetching(
    app: RecordingApp, backend: FakeBackend, clock: ManualClock
) -> None:
    fetches = 0
    list_workers = backend.list_workers

    async def counted() -> list[WorkerView]:
        nonlocal fetches
        fetches += 1
        return await list_workers()

    backend.list_workers = counted  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        fetched = fetches
        clock.advance(timedelta(seconds=65))
        runs = runs_table(pilot)
        # The screen's one-second timer; nothing else redraws (no poller, no refetch yet).
        await until(pilot, lambda: row_texts(runs, "197")[4] != "48m23s", "a tick")
        elapsed = row_texts(runs, "197")[4]
        heartbeat = row_texts(workers_table(pilot), "local-1")[3]
    assert (elapsed, heartbeat) == ("49m28s", "1m7s ago")
    assert fetches == fetched


async def test_a_run_change_reloads_and_keeps_the_cursor_on_its_worker(
    app: RecordingApp, backend: FakeBackend, clock: ManualClock
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        await app.poll_changes()  # the first poll only takes the feed's cursor
        new = backend.add_run(
            template="cleanup-tmp", status="running", worker="local-1", started_at=clock.now()
        )
        await app.poll_changes()
        await pilot.pause(0.1)
        await settled(pilot)
        keys = runs_table(pilot).keys_in_order
        highlighted = workers_table(pilot).highlighted_key
    assert keys == ["197", str(new.id)]
    assert highlighted == "local-1"


async def test_grow_and_shrink_one_slot_at_a_time(app: RecordingApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        await pilot.press("plus", "plus")
        await settled(pilot)
        grown = (await worker(backend, "local-1")).slots
        await pilot.press("minus", "minus", "minus", "minus", "minus", "minus")
        await settled(pilot)
        shrunk = (await worker(backend, "local-1")).slots
        slots_cell = row_texts(workers_table(pilot), "local-1")[2]
        shrink_state = app.screen.check_action("shrink", ())
    assert (grown, shrunk, slots_cell) == (6, 1, "1/1")
    assert shrink_state is None  # greyed at one slot; the sixth minus did nothing
    assert await worker_actions(backend) == ["worker.resize"] * 7


async def test_slots_prompt_shows_the_backends_refusal_inline_then_resizes(
    app: RecordingApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SlotsPromptModal), "the prompt")
        modal = app.screen
        field = modal.query_one("#slots-input", Input)
        problem = modal.query_one("#slots-error", Static)
        assert (field.value, field.has_focus) == ("4", True)
        await pilot.press("0", "enter")  # typing replaces the selected value
        await until(pilot, lambda: problem.display, "the refusal of 0")
        zero_problem = str(problem.content)
        await pilot.press("a", "b", "c", "enter")
        await until(pilot, lambda: "abc" in str(problem.content), "the refusal of abc")
        text_problem = str(problem.content)
        still_open = app.screen is modal
        unchanged = (await worker(backend, "local-1")).slots
        await pilot.press("7", "enter")
        await until(pilot, lambda: app.screen is not modal, "the prompt to close")
        await settled(pilot)
        slots_cell = row_texts(workers_table(pilot), "local-1")[2]
    assert zero_problem == "slots: must be a whole number from 1 to 1024, not 0"
    assert text_problem == "slots: 'abc' is not a whole number"
    assert (still_open, unchanged) == (True, 4)
    assert slots_cell == "1/7"
    assert (await worker(backend, "local-1")).slots == 7
    assert await worker_actions(backend) == ["worker.resize"]


async def test_slots_prompt_escape_changes_nothing(app: RecordingApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SlotsPromptModal), "the prompt")
        await pilot.press("9", "escape")
        await settled(pilot)
        on_view = app.screen
    assert isinstance(on_view, WorkersScreen)
    assert (await worker(backend, "local-1")).slots == 4
    assert await worker_actions(backend) == []


async def test_pause_then_resume(app: RecordingApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        screen = app.screen
        before = (screen.check_action("pause", ()), screen.check_action("resume", ()))
        await pilot.press("p")
        await settled(pilot)
        paused = await worker(backend, "local-1")
        paused_status = row_texts(workers_table(pilot), "local-1")[1]
        after = (screen.check_action("pause", ()), screen.check_action("resume", ()))
        await pilot.press("r")
        await settled(pilot)
        resumed = await worker(backend, "local-1")
        resumed_status = row_texts(workers_table(pilot), "local-1")[1]
    assert before == (True, None)
    assert (paused.paused, paused_status) == (True, "▶ running · ‖ paused")
    assert after == (None, True)
    assert (resumed.paused, resumed_status) == (False, "▶ running")


async def test_drain_asks_first_and_cancel_keeps_the_worker_taking_runs(
    app: RecordingApp, backend: FakeBackend
) -> None:
    def asking() -> bool:
        return isinstance(app.screen, ConfirmModal)

    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        await pilot.press("d")
        await until(pilot, asking, "the drain question")
        question = app.screen
        assert isinstance(question, ConfirmModal)
        focused = question.focused
        details = [str(s.content) for s in question.query(".confirm-detail").results(Static)]
        await pilot.press("enter")  # the focused, safe answer
        await settled(pilot)
        after_cancel = await worker(backend, "local-1")
        await pilot.press("d")
        await until(pilot, asking, "the drain question")
        await pilot.press("escape")
        await settled(pilot)
        after_escape = await worker(backend, "local-1")
        await pilot.press("d")
        await until(pilot, asking, "the drain question")
        await pilot.press("right", "enter")
        await settled(pilot)
        drained = await worker(backend, "local-1")
        status = row_texts(workers_table(pilot), "local-1")[1]
        resume_state = app.screen.check_action("resume", ())
    assert isinstance(focused, Button) and focused.id == "confirm-no"
    assert question.question == "Drain local-1?"
    assert details == [
        "Finish running runs, take nothing new.",
        "1 run(s) running now; resume (r) takes runs again.",
    ]
    assert (after_cancel.draining, after_escape.draining) == (False, False)
    assert (drained.draining, status, resume_state) == (True, "▶ running · ↓ draining", True)
    assert await worker_actions(backend) == ["worker.drain"]


async def test_read_only_hides_every_worker_action(clock: ManualClock) -> None:
    backend = FakeBackend.seeded(clock, capabilities=CONTROL.model_copy(update={"writable": False}))
    app = JobdeckApp(backend, clock, start_screen="workers", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        states = {action: app.screen.check_action(action, ()) for action in STEERING}
        shown = {b.binding.action for b in app.screen.active_bindings.values()}
        await pilot.press("plus", "p", "d")
        await settled(pilot)
        hint = str(app.screen.query_one("#workers-hint", Static).content)
        on_view = app.screen
    assert states == dict.fromkeys(STEERING, False)
    assert not shown & set(STEERING)
    assert isinstance(on_view, WorkersScreen)
    assert hint == "Read-only session: resize, pause, resume and drain are hidden."
    assert (await worker(backend, "local-1")).slots == 4


async def test_without_worker_control_the_actions_are_greyed_and_explained(
    clock: ManualClock,
) -> None:
    backend = FakeBackend.seeded(clock, capabilities=NO_CONTROL)
    app = JobdeckApp(backend, clock, start_screen="workers", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        states = {action: app.screen.check_action(action, ()) for action in STEERING}
        enabled = {
            b.binding.action: b.enabled
            for b in app.screen.active_bindings.values()
            if b.binding.action in STEERING
        }
        await pilot.press("plus", "s", "p")
        await settled(pilot)
        hint = str(app.screen.query_one("#workers-hint", Static).content)
        on_view = app.screen
    assert states == dict.fromkeys(STEERING, None)
    assert enabled == dict.fromkeys(STEERING, False)
    assert isinstance(on_view, WorkersScreen)
    assert hint.startswith("fake cannot steer workers: only the process that owns the database")
    assert (await worker(backend, "local-1")).paused is False


async def test_worker_control_gained_later_lights_the_actions_up(clock: ManualClock) -> None:
    """An embedded owner lends its pool after the console is up: the next load shows it."""
    backend = FakeBackend.seeded(clock, capabilities=NO_CONTROL)
    app = JobdeckApp(backend, clock, start_screen="workers", poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        screen = app.screen
        hint = screen.query_one("#workers-hint", Static)
        shown_before = hint.display
        backend._capabilities = CONTROL  # what LocalBackend.attach_executor amounts to
        assert isinstance(screen, WorkersScreen)
        screen.reload()
        await settled(pilot)
        shown_after = hint.display
        pause_state = screen.check_action("pause", ())
    assert (shown_before, shown_after, pause_state) == (True, False, True)


async def test_a_refused_steer_is_reported(app: RecordingApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        del backend.actions.workers["local-1"]  # gone since the screen loaded
        await pilot.press("p")
        await settled(pilot)
        notes = [(n.title, n.message, n.severity) for n in app._notifications]
    assert ("Could not pause local-1", "worker 'local-1' not found", "error") in notes


async def test_enter_on_an_active_run_asks_to_open_it(app: RecordingApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_worker(pilot, "local-1")
        await pilot.press("enter")  # from the worker into its active runs
        focused = app.focused
        await pilot.press("enter")
        await settled(pilot)
        runs = runs_table(pilot)
    assert focused is runs
    assert app.opened == [197]


async def test_cells_are_text_and_flag_what_needs_a_look(
    app: RecordingApp, backend: FakeBackend
) -> None:
    """Cells come from data as Text: a job named like markup stays literal; a pool shrunk
    below its load shows its slots in the warning colour."""
    theme = app.get_css_variables()
    now = app.session.clock.now()
    run = ActiveRunView(run_id=1, job_name="[bold]x[/bold]", attempt=1, started_at=None)
    run_row = active_run_cells(run, now, app.session.zone)
    shrunk = (await worker(backend, "local-1")).model_copy(
        update={"active": 3, "slots": 2, "draining": True, "heartbeat_at": None}
    )
    worker_row = worker_cells(shrunk, now, theme, with_queues=False)
    assert all(isinstance(cell, Text) for cell in [*run_row, *worker_row])
    assert run_row[1].plain == "[bold]x[/bold]" and not run_row[1].spans
    assert run_row[3].plain == run_row[4].plain == "—"
    assert [cell.plain for cell in worker_row[1:4]] == ["▶ running · ↓ draining", "3/2", "—"]
    assert theme_style(theme, "text-warning") in str(worker_row[2].spans[0].style)
    assert len(worker_row) == 8  # no queues column
