"""Pilot tests of the template form: keyboard-only create, inline validation, edit, parameters."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Select, Static

from console.app import JobdeckApp
from console.screens import TemplatesScreen
from console.screens.confirm import ConfirmModal
from console.screens.template_form import TemplateFormModal
from console.widgets import KeyedTable
from console.widgets.config_fields import FieldSlot
from console.widgets.parameter_list import ParameterRow
from core.backend.fake import FakeBackend
from core.clock import ManualClock
from core.jobs.parameters import MASK
from tests.console.conftest import settled

SIZE = (80, 24)


async def until(pilot: Pilot[int], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition`` holds (modals open from workers, saves finish)."""
    for _ in range(100):
        if condition():
            await pilot.pause()
            return
        await pilot.pause(0.02)
    raise AssertionError(f"gave up waiting for {what}")


async def open_form(pilot: Pilot[int], *keys: str) -> TemplateFormModal:
    """Load the table, press ``keys`` (n, or a move then e) and wait for the form."""
    await settled(pilot)
    await pilot.press(*keys)
    await until(pilot, lambda: isinstance(pilot.app.screen, TemplateFormModal), "the form")
    form = pilot.app.screen
    assert isinstance(form, TemplateFormModal)
    return form


async def back_on(pilot: Pilot[int], screen_type: type[Screen[object]]) -> None:
    """Wait until the form has closed and the screen below reloaded."""
    await until(pilot, lambda: isinstance(pilot.app.screen, screen_type), screen_type.__name__)
    await settled(pilot)


def error_under(form: TemplateFormModal, slot_id: str) -> str | None:
    """The problem shown under a form field (None when it shows none)."""
    slot = form.query_one(f"#{slot_id}", FieldSlot)
    if not slot.has_class("-invalid"):
        return None
    return str(slot.query_one(".field-error", Static).render())


def visible_errors(form: TemplateFormModal) -> list[str]:
    """The field path of every slot showing a problem."""
    return [
        slot.field
        for slot in form.query(FieldSlot).results(FieldSlot)
        if slot.has_class("-invalid")
    ]


async def test_create_a_shell_template_with_the_keyboard_only(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot, "n")
        assert form.query_one("#form-job-type", Select).value == "shell"
        assert app.focused is form.query_one("#form-name", Input)
        await pilot.press(*"hello", "enter", "tab", *"says hello", "enter", *"demo smoke")
        await pilot.press("tab", *'echo "hello world"', "ctrl+s")
        await back_on(pilot, TemplatesScreen)
        created = await backend.get_template("hello")
        table = app.screen.query_one(KeyedTable)
        assert table.highlighted_key == str(created.id)
        toasts = [str(toast.render()) for toast in app.screen.query("Toast")]
    assert created.config["command"] == ["echo", "hello world"]
    assert (created.job_type, created.description, created.tags) == (
        "shell",
        "says hello",
        ("demo", "smoke"),
    )
    assert (created.retries, created.retry_delay_seconds, created.timeout_seconds) == (0, 10, None)
    assert any("Created template hello" in toast for toast in toasts)


async def test_a_rejected_field_shows_inline_and_the_form_keeps_what_was_typed(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "n")
        await pilot.press(*"half-done", "tab", "tab", *"kept text")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(visible_errors(form)), "an inline error")
        assert app.screen is form
        assert visible_errors(form) == ["config.command"]
        assert error_under(form, "field-config-command") == "command is empty (job type shell)"
        assert app.focused is form.query_one("#config-command", Input)
        assert form.query_one("#form-name", Input).value == "half-done"
        assert form.query_one("#form-description", Input).value == "kept text"
        await pilot.press(*"date", "ctrl+s")
        await back_on(pilot, TemplatesScreen)
    created = await backend.get_template("half-done")
    assert created.config["command"] == ["date"]


async def test_local_mistakes_are_shown_under_their_field_before_any_save(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "n")
        form.query_one("#form-name", Input).value = "timed"
        form.query_one("#config-command", Input).value = "sleep 5"
        form.query_one("#form-timeout", Input).value = "ten minutes"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(visible_errors(form)), "an inline error")
        assert visible_errors(form) == ["timeout_seconds"]
        assert "is not a duration" in (error_under(form, "field-timeout_seconds") or "")
        assert app.focused is form.query_one("#form-timeout", Input)
        await pilot.press("ctrl+u", *"10m")
        assert visible_errors(form) == []  # editing the field clears its problem
        await pilot.press("ctrl+s")
        await back_on(pilot, TemplatesScreen)
    assert (await backend.get_template("timed")).timeout_seconds == 600


async def test_parameters_are_added_and_a_bad_one_is_pointed_at(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "n")
        form.query_one("#form-name", Input).value = "with-params"
        form.query_one("#config-command", Input).value = "env"
        form.query_one("#parameter-add").focus()
        await pilot.press("enter")
        await pilot.press(*"retention days", "tab")
        row = form.query_one(ParameterRow)
        assert app.focused is row.query_one(".parameter-type", Select)
        row.query_one(".parameter-type", Select).value = "int"
        row.query_one(".parameter-default", Input).value = "a week"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: row.has_class("-invalid"), "the row's error")
        assert row.field == "parameters.0"
        assert "must be letters, digits and _" in str(row.query_one(".field-error").render())
        row.query_one(".parameter-name", Input).value = "retention_days"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: row.has_class("-invalid"), "the default's error")
        assert "'a week' is not a valid int" in str(row.query_one(".field-error").render())
        assert app.focused is row.query_one(".parameter-default", Input)
        row.query_one(".parameter-default", Input).value = "7"
        await pilot.press("ctrl+s")
        await back_on(pilot, TemplatesScreen)
    created = await backend.get_template("with-params")
    assert [(p.name, p.type, p.default) for p in created.parameters] == [
        ("retention_days", "int", 7)
    ]


async def test_edit_shows_the_command_as_one_line_and_saves_a_new_revision(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    before = await backend.get_template("backup [daily]")
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "j", "e")
        assert form.query_one("#form-job-type", Select).disabled
        assert form.query_one("#config-command", Input).value == (
            "pg_dump --format=custom --file=/backups/app.dump app"
        )
        assert form.query_one("#form-timeout", Input).value == "1h"
        secret = form.query(ParameterRow).last().query_one(".parameter-default", Input)
        assert (secret.value, secret.password) == (MASK, True)
        form.query_one("#form-description", Input).value = "Nightly pg_dump"
        form.query_one("#form-timeout", Input).value = ""
        await pilot.press("ctrl+s")
        await back_on(pilot, TemplatesScreen)
    after = await backend.get_template("backup [daily]")
    assert after.revision == before.revision + 1
    assert (after.description, after.timeout_seconds) == ("Nightly pg_dump", None)
    assert after.parameters == before.parameters  # the secret default was kept, not "********"
    assert after.config == before.config


async def test_enter_on_a_row_edits_it_and_an_unchanged_form_saves_nothing(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    before = await backend.get_template("api-healthcheck")
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "enter")
        assert form.template is not None and form.template.id == before.id
        assert form.query_one("#config-method", Select).value == "GET"
        await pilot.press("ctrl+s")
        await back_on(pilot, TemplatesScreen)
    assert (await backend.get_template("api-healthcheck")).revision == before.revision


async def test_switching_job_type_rebuilds_the_config_inputs(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "n")
        form.query_one("#form-name", Input).value = "probe"
        form.query_one("#form-job-type", Select).value = "http"
        await until(pilot, lambda: bool(form.query("#config-url")), "the http inputs")
        assert not form.query("#config-command")
        form.query_one("#config-url", Input).value = "https://example.com/up"
        form.query_one("#config-method", Select).value = "HEAD"
        form.query_one("#config-expected_status", Input).value = "200, 204"
        await pilot.press("ctrl+s")
        await back_on(pilot, TemplatesScreen)
    created = await backend.get_template("probe")
    assert (created.job_type, created.config["method"], created.config["expected_status"]) == (
        "http",
        "HEAD",
        [200, 204],
    )


async def test_a_taken_name_is_notified_and_the_form_stays_open(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot, "n")
        form.query_one("#form-name", Input).value = "cleanup-tmp"
        form.query_one("#config-command", Input).value = "true"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(app.screen.query("Toast")), "a notification")
        toasts = [str(toast.render()) for toast in app.screen.query("Toast")]
        assert app.screen is form
    assert any("already exists" in toast for toast in toasts)
    assert len(await backend.list_templates()) == 8


async def test_a_broken_template_keeps_its_config_and_edits_the_rest(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    before = await backend.get_template("legacy-inventory")
    async with app.run_test(size=SIZE) as pilot:
        table_keys = await backend.list_templates()
        moves = ["j"] * [t.name for t in table_keys].index("legacy-inventory")
        form = await open_form(pilot, *moves, "e")
        notice = str(form.query_one("#config-fields", Static).render())
        assert "'ansible' is not installed" in notice
        form.query_one("#form-description", Input).value = "kept for the record"
        await pilot.press("ctrl+s")
        await back_on(pilot, TemplatesScreen)
    after = await backend.get_template("legacy-inventory")
    assert (after.description, after.config) == ("kept for the record", before.config)


async def test_escape_asks_before_dropping_typed_changes(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "n")
        await pilot.press(*"draft", "escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the discard question")
        await pilot.press("enter")  # the focused, safe answer: keep editing
        await until(pilot, lambda: app.screen is form, "the form again")
        assert form.query_one("#form-name", Input).value == "draft"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the discard question")
        await pilot.press("tab", "enter")
        await back_on(pilot, TemplatesScreen)
    assert len(await backend.list_templates()) == 8


async def test_escape_on_an_untouched_form_just_closes_it(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = JobdeckApp(backend, clock, poll_seconds=None)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot, "n")
        await pilot.press("escape")
        await back_on(pilot, TemplatesScreen)


async def test_a_parameter_is_removed_with_its_button(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "j", "e")
        rows = list(form.query(ParameterRow).results(ParameterRow))
        assert [row.name_typed for row in rows] == ["database", "retention_days", "pg_password"]
        rows[1].query_one(".parameter-remove").focus()
        await pilot.press("enter")
        await until(pilot, lambda: len(form.query(ParameterRow)) == 2, "the row to go")
        assert app.focused is form.query_one("#parameter-add")
        await pilot.press("ctrl+s")
        await back_on(pilot, TemplatesScreen)
    after = await backend.get_template("backup [daily]")
    assert [(p.name, p.default) for p in after.parameters] == [
        ("database", "app"),
        ("pg_password", MASK),
    ]
