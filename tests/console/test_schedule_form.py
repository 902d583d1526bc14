"""Pilot tests of the schedule form: create by keyboard, live preview, inline problems, save."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Select, Static

from console.app import JobdeckApp
from console.screens.confirm import ConfirmModal
from console.screens.schedule_form import PREVIEW_DELAY, ScheduleFormModal
from console.screens.schedules import SchedulesScreen
from console.widgets import KeyedTable
from console.widgets.config_fields import FormField
from console.widgets.fire_preview import FirePreview
from core.backend.fake import FakeBackend
from core.clock import ManualClock
from tests.console.conftest import settled

SIZE = (120, 36)


def top(app: JobdeckApp) -> Screen[Any]:
    """The screen on top now (a call, so type narrowing never outlives a key press)."""
    return app.screen


@pytest.fixture
def app(backend: FakeBackend, clock: ManualClock) -> JobdeckApp:
    """The app opened on the schedules screen, without the change poller."""
    return JobdeckApp(backend, clock, start_screen="schedules", poll_seconds=None)


async def previewed(pilot: Pilot[int]) -> None:
    """Let the debounced preview run and its result reach the screen."""
    await pilot.pause(PREVIEW_DELAY + 0.1)
    await settled(pilot)


async def open_form(
    pilot: Pilot[int], key: str = "n", schedule: str | None = None
) -> ScheduleFormModal:
    """Open the form (``n``, or enter on ``schedule``) and wait for its first preview."""
    await settled(pilot)
    if schedule is not None:
        table = pilot.app.screen.query_one(KeyedTable)
        names = [table.get_row(k)[0].plain for k in table.keys_in_order]
        table.move_cursor(row=names.index(schedule))
        await pilot.pause()
    await pilot.press(key)
    await previewed(pilot)
    form = pilot.app.screen
    assert isinstance(form, ScheduleFormModal)
    return form


def error_under(form: ScheduleFormModal, field: str) -> str | None:
    """The problem shown under a field's input, or None when it shows none."""
    slot = form.query_one(f"#field-{field.replace('.', '-')}", FormField)
    if not slot.has_class("-invalid"):
        return None
    return str(slot.query_one(".field-error", Static).render())


def preview_of(form: ScheduleFormModal) -> FirePreview:
    """The form's fire-time preview."""
    return form.query_one(FirePreview)


async def type_into(pilot: Pilot[int], form: ScheduleFormModal, field: str, text: str) -> None:
    """Replace what an input holds, typing as a user would."""
    box = form.query_one(f"#form-{field}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await previewed(pilot)


async def test_create_an_every_10_seconds_schedule_with_the_keyboard_only(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        assert app.focused is form.query_one("#form-template")
        await pilot.press("tab", *"ten-seconds", "tab")  # template: the first; the name
        assert app.focused is form.query_one("#form-schedule_type")
        await pilot.press("enter", "down", "enter")  # type: cron -> interval
        await pilot.pause()
        assert form.query_one("#form-schedule_type", Select).value == "interval"
        assert form.query_one("#field-cron_expression").display is False
        await pilot.press("tab")
        assert app.focused is form.query_one("#form-interval_seconds")
        await pilot.press(*"10s")
        await previewed(pilot)
        fires = preview_of(form).fires
        assert len(fires) == 10
        assert {b.utc - a.utc for a, b in pairwise(fires)} == {timedelta(seconds=10)}
        assert str(form.query_one("#timing-summary", Static).render()) == "every 10 s"
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert isinstance(top(app), SchedulesScreen)
        created = await backend.get_schedule("ten-seconds")
        table = app.screen.query_one(KeyedTable)
        assert table.highlighted_key == str(created.id)
    assert (created.schedule_type, created.interval_seconds) == ("interval", 10)
    assert created.template_name == "api-healthcheck"
    assert created.timezone == "UTC"
    assert created.is_active and created.next_run is not None


async def test_editing_a_cron_changes_the_preview_and_saves(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "e", schedule="tmp-sweep")
        before = preview_of(form).fires
        assert [f.utc.minute for f in before[:3]] == [0, 30, 0]
        await type_into(pilot, form, "cron_expression", "*/5 * * * *")
        after = preview_of(form).fires
        assert [f.utc.minute for f in after[:3]] == [35, 40, 45]
        assert str(form.query_one("#timing-summary", Static).render()) == "every 5 minutes"
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert isinstance(top(app), SchedulesScreen)
    saved = await backend.get_schedule("tmp-sweep")
    assert saved.cron_expression == "*/5 * * * *"


async def test_an_invalid_cron_is_named_inline_and_blocks_the_preview(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        assert error_under(form, "cron_expression") is None  # blank is not an error yet
        assert preview_of(form).problem == "No preview: fill in Cron to see when it fires."
        await type_into(pilot, form, "cron_expression", "0 9 * * 8")
        problem = "field 5 (day of week): '8' is out of range 0-7"
        assert error_under(form, "cron_expression") == problem
        assert preview_of(form).problem == f"No preview: Cron: {problem}"
        assert preview_of(form).fires == ()
        await type_into(pilot, form, "job_identifier", "broken")
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert top(app) is form  # nothing saved, nothing typed lost
        assert error_under(form, "cron_expression") == problem
        assert form.query_one("#form-cron_expression", Input).value == "0 9 * * 8"
        await type_into(pilot, form, "cron_expression", "0 9 * * 1-5")
        assert error_under(form, "cron_expression") is None
        assert len(preview_of(form).fires) == 10
    assert "broken" not in {s.job_identifier for s in await backend.list_schedules()}


async def test_a_dst_gap_is_flagged_in_the_preview(app: JobdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        await type_into(pilot, form, "timezone", "Europe/Riga")
        await type_into(pilot, form, "cron_expression", "30 3 * * 0")
        flagged = preview_of(form).flagged
        assert len(flagged) == 1
        gap = flagged[0]
        assert gap.dst == "gap"
        assert (gap.nominal.month, gap.nominal.day, gap.nominal.hour) == (3, 29, 3)
        assert (gap.local.hour, gap.local.minute) == (4, 0)
        assert gap.local.tzname() == "EEST"


async def test_save_problems_show_under_their_field(app: JobdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        await type_into(pilot, form, "job_identifier", "nightly-backup")  # taken
        await type_into(pilot, form, "cron_expression", "@daily")
        await pilot.press("ctrl+s")
        await settled(pilot)
        general = form.query_one("#form-error", Static)
        assert general.display and "nightly-backup" in str(general.render())
        await type_into(pilot, form, "job_identifier", "daily-ping")
        form.query_one("#form-policies").query_one("CollapsibleTitle").focus()
        await pilot.press("enter")  # expand the policies
        await settled(pilot)
        await type_into(pilot, form, "catchup_cap", "0")
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert top(app) is form
        assert error_under(form, "catchup_cap") == "0 is outside 1..1000"
        assert app.focused is form.query_one("#form-catchup_cap")


async def test_template_parameters_become_override_inputs(
    app: JobdeckApp, backend: FakeBackend
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "e", schedule="crm-full-once")
        mode = form.query_one("#field-job_parameters-mode").query_one(Input)
        assert mode.value == "full"
        mode.value = "nope"
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert top(app) is form
        assert error_under(form, "job_parameters.mode") is not None
        mode.value = ""  # back to the template's default
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert isinstance(top(app), SchedulesScreen)
    assert (await backend.get_schedule("crm-full-once")).job_parameters == {}


async def test_escape_asks_before_dropping_changes(app: JobdeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        await pilot.press("escape")
        await settled(pilot)
        assert isinstance(top(app), SchedulesScreen)  # untouched: closes at once
        form = await open_form(pilot)
        await type_into(pilot, form, "job_identifier", "half-typed")
        await pilot.press("escape")
        for _ in range(100):
            if isinstance(top(app), ConfirmModal):
                break
            await pilot.pause(0.05)
        assert isinstance(top(app), ConfirmModal)
        await pilot.press("enter")  # "Cancel": keep editing
        await pilot.pause(0.2)
        assert top(app) is form
        assert form.query_one("#form-job_identifier", Input).value == "half-typed"


async def test_editing_an_interval_previews_its_own_beat(
    app: JobdeckApp, backend: FakeBackend, clock: ManualClock
) -> None:
    clock.advance(timedelta(seconds=130))  # off the beat the schedule was created on
    stored = await backend.get_schedule("crm-delta")
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "e", schedule="crm-delta")
        fires = preview_of(form).fires
    assert fires[0].utc == stored.next_run
    assert fires[1].utc - fires[0].utc == timedelta(minutes=15)
