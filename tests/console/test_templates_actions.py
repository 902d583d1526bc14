"""Pilot tests of the templates screen's actions: copy, delete with confirm, run now."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, Static

import console.app
from console.app import JobdeckApp
from console.messages import OpenRun
from console.screens import TemplatesScreen
from console.screens.confirm import ConfirmModal
from console.screens.name_prompt import NamePromptModal
from console.screens.run_parameters import RunParametersModal
from console.widgets import KeyedTable
from core.backend.fake import FakeBackend
from core.backend.inputs import RunQuery, TemplatePatch
from core.clock import ManualClock
from tests.console.conftest import settled

SIZE = (100, 30)


class RunOpeningApp(JobdeckApp):
    """The app, noting which runs screens asked to open instead of opening them."""

    CSS_PATH = Path(console.app.__file__).with_name("app.tcss")

    def __init__(self, backend: FakeBackend, clock: ManualClock) -> None:
        super().__init__(backend, clock, poll_seconds=None)
        self.opened_runs: list[int] = []

    @on(OpenRun)
    def _note_run(self, event: OpenRun) -> None:
        event.prevent_default()
        self.opened_runs.append(event.run_id)


async def until(pilot: Pilot[int], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition`` holds."""
    for _ in range(100):
        if condition():
            await pilot.pause()
            return
        await pilot.pause(0.02)
    raise AssertionError(f"gave up waiting for {what}")


async def on_template(pilot: Pilot[int], backend: FakeBackend, name: str) -> KeyedTable:
    """Load the table and put the cursor on the template called ``name``."""
    await settled(pilot)
    table = pilot.app.screen.query_one(KeyedTable)
    names = [t.name for t in await backend.list_templates()]
    await pilot.press("g", *["j"] * names.index(name))
    return table


def toasts(app: JobdeckApp) -> list[str]:
    """The text of every notification on screen."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


async def test_copy_asks_for_a_name_and_selects_the_copy(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await on_template(pilot, backend, "crm-sync")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, NamePromptModal), "the name prompt")
        prompt_input = app.screen.query_one("#prompt-input", Input)
        assert prompt_input.value == "crm-sync-copy"
        await pilot.press("ctrl+u", *"cleanup-tmp", "enter")
        await until(pilot, lambda: app.screen.query_one("#prompt-error").display, "the error")
        assert isinstance(app.screen, NamePromptModal)
        assert "already exists" in str(app.screen.query_one("#prompt-error", Static).render())
        await pilot.press("ctrl+u", *"crm-sync-eu", "enter")
        await until(pilot, lambda: isinstance(app.screen, TemplatesScreen), "the table")
        await settled(pilot)
        copy = await backend.get_template("crm-sync-eu")
        assert table.highlighted_key == str(copy.id)
        assert any("Copied crm-sync as crm-sync-eu" in toast for toast in toasts(app))
    original = await backend.get_template("crm-sync")
    assert (copy.config, copy.parameters, copy.schedule_count) == (
        original.config,
        original.parameters,
        0,
    )


async def test_escape_cancels_the_copy(app: JobdeckApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_template(pilot, backend, "crm-sync")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, NamePromptModal), "the name prompt")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TemplatesScreen), "the table")
    assert len(await backend.list_templates()) == 8


async def test_delete_confirm_names_the_schedules_that_go_with_it(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    dependents = sorted(s.job_identifier for s in await backend.list_schedules(template=1))
    assert len(dependents) == 2
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_template(pilot, backend, "backup [daily]")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirm")
        details = [str(line.render()) for line in app.screen.query(".confirm-detail")]
        assert details[0] == "Used by 2 schedule(s); they will be deleted with it:"
        assert sorted(line.split()[1] for line in details[1:3]) == dependents
        assert str(app.screen.query_one("#confirm-yes").render()).strip() == (
            "Delete with 2 schedule(s)"
        )
        await pilot.press("enter")  # the focused, safe answer
        await until(pilot, lambda: isinstance(app.screen, TemplatesScreen), "the table")
        assert (await backend.get_template("backup [daily]")).schedule_count == 2
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirm")
        await pilot.press("tab", "enter")
        await until(pilot, lambda: isinstance(app.screen, TemplatesScreen), "the table")
        await settled(pilot)
        table = app.screen.query_one(KeyedTable)
        names = [table.get_row(key)[0].plain for key in table.keys_in_order]
        notes = toasts(app)
    assert "backup [daily]" not in names
    assert not [s for s in await backend.list_schedules() if s.job_identifier in dependents]
    removed = f"Deleted template backup [daily] and its schedule(s) {', '.join(dependents)}"
    assert any(removed in note for note in notes)


async def test_deleting_an_unused_template_says_nothing_depends_on_it(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_template(pilot, backend, "legacy-inventory")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirm")
        details = [str(line.render()) for line in app.screen.query(".confirm-detail")]
        assert details == ["No schedule uses it.", "Its past runs stay in the run history."]
        await pilot.press("tab", "enter")
        await until(pilot, lambda: isinstance(app.screen, TemplatesScreen), "the table")
        await settled(pilot)
    assert "legacy-inventory" not in [t.name for t in await backend.list_templates()]


async def test_run_now_prefills_defaults_and_opens_the_run(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = RunOpeningApp(backend, clock)
    async with app.run_test(size=SIZE) as pilot:
        await on_template(pilot, backend, "backup [daily]")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, RunParametersModal), "the parameters")
        modal = app.screen
        assert modal.query_one("#param-database", Input).value == "app"
        assert modal.query_one("#param-retention_days", Input).value == "14"
        secret = modal.query_one("#param-pg_password", Input)
        assert (secret.value, secret.password) == ("", True)
        assert app.focused is modal.query_one("#param-database", Input)
        await pilot.press("tab", "ctrl+u", *"30", "enter")
        await until(pilot, lambda: bool(app.opened_runs), "the run to open")
        assert isinstance(app.screen, TemplatesScreen)
    run = await backend.get_run(app.opened_runs[0])
    assert (run.job_name, run.triggered_by, run.status) == ("backup [daily]", "manual", "pending")
    assert run.parameters["database"] == "app"
    assert run.parameters["retention_days"] == 30
    assert run.parameters["pg_password"] == "********"  # the stored default, still sealed


async def test_run_now_offers_choices_and_shows_a_rejected_value_inline(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = RunOpeningApp(backend, clock)
    async with app.run_test(size=SIZE) as pilot:
        await on_template(pilot, backend, "crm-sync")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, RunParametersModal), "the parameters")
        modal = app.screen
        mode = modal.query_one("#param-mode", Select)
        assert mode.value == "delta"
        mode.value = "full"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(app.opened_runs), "the run to open")
        run = await backend.get_run(app.opened_runs[0])
        assert run.parameters == {"mode": "full"}

        await on_template(pilot, backend, "backup [daily]")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, RunParametersModal), "the parameters")
        modal = app.screen
        modal.query_one("#param-retention_days", Input).value = "-"
        await pilot.press("ctrl+s")
        slot = modal.query_one("#field-parameters-retention_days")
        await until(pilot, lambda: slot.has_class("-invalid"), "the inline error")
        assert "'-' is not a valid int" in str(slot.query_one(".field-error").render())
        assert len(app.opened_runs) == 1


async def test_a_paused_template_runs_only_when_forced(
    backend: FakeBackend, clock: ManualClock
) -> None:
    await backend.update_template("cleanup-tmp", TemplatePatch(paused=True))
    app = RunOpeningApp(backend, clock)
    async with app.run_test(size=SIZE) as pilot:
        await on_template(pilot, backend, "cleanup-tmp")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, RunParametersModal), "the parameters")
        modal = app.screen
        assert app.focused is modal.query_one("#run-start")
        await pilot.press("enter")
        error = modal.query_one("#run-error", Static)
        await until(pilot, lambda: error.display, "the refusal")
        assert "is paused" in str(error.render())
        modal.query_one("#run-force", Checkbox).value = True
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(app.opened_runs), "the run to open")
    assert (await backend.get_run(app.opened_runs[0])).job_name == "cleanup-tmp"


async def test_escape_closes_run_now_without_a_run(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = RunOpeningApp(backend, clock)
    before = (await backend.list_runs(RunQuery())).total
    async with app.run_test(size=SIZE) as pilot:
        await on_template(pilot, backend, "cleanup-tmp")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, RunParametersModal), "the parameters")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TemplatesScreen), "the table")
    assert (await backend.list_runs(RunQuery())).total == before
    assert app.opened_runs == []


async def test_the_run_detail_opens_after_run_now(app: JobdeckApp, backend: FakeBackend) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_template(pilot, backend, "cleanup-tmp")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, RunParametersModal), "the parameters")
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "RunDetailScreen", "the run")
        run_id = getattr(app.screen, "run_id", None)
    assert run_id is not None
    assert (await backend.get_run(run_id)).job_name == "cleanup-tmp"


async def test_a_template_deleted_elsewhere_is_reported_not_crashed_on(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = RunOpeningApp(backend, clock)  # no poller: the table still shows the deleted row
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_template(pilot, backend, "cleanup-tmp")
        await backend.delete_template("cleanup-tmp", force=True)
        await pilot.press("x")
        await until(pilot, lambda: bool(toasts(app)), "a notification")
        assert isinstance(app.screen, TemplatesScreen)
        assert any("not found" in toast for toast in toasts(app))
        assert not app.screen.query(RunParametersModal)
