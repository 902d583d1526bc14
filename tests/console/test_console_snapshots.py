"""Snapshots of the templates screen and its modals: seeded data, fixed clock, two sizes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from console.app import JobdeckApp
from console.screens.confirm import ConfirmModal
from console.screens.name_prompt import NamePromptModal
from console.screens.run_parameters import RunParametersModal
from console.screens.template_form import TemplateFormModal
from core.backend.fake import FakeBackend
from core.clock import ManualClock

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
Snap = Callable[..., bool]
Step = Callable[[Pilot[int]], Awaitable[None]]


@pytest.fixture
def still_app(backend: FakeBackend, clock: ManualClock) -> JobdeckApp:
    """The app on the templates screen with no poller, so nothing moves under the camera."""
    return JobdeckApp(backend, clock, poll_seconds=None, start_screen="templates")


async def data_loaded(pilot: Pilot[int]) -> None:
    """Take the picture only once the table holds the backend's data."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def opened(screen_type: type[Screen[object]], *keys: str) -> Step:
    """A step loading the table, pressing ``keys`` and waiting until ``screen_type`` shows."""

    async def step(pilot: Pilot[int]) -> None:
        await data_loaded(pilot)
        await pilot.press(*keys)
        for _ in range(200):
            if isinstance(pilot.app.screen, screen_type):
                break
            await pilot.pause(0.02)
        assert isinstance(pilot.app.screen, screen_type)
        await pilot.pause()
        for field in pilot.app.screen.query(Input).results(Input):
            field.cursor_blink = False  # a blinking cursor would make the picture flaky
        await pilot.pause()

    return step


@SIZES
def test_templates_screen(still_app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]) -> None:
    assert snap_compare(still_app, terminal_size=size, run_before=data_loaded)


def test_templates_screen_with_keys_panel(still_app: JobdeckApp, snap_compare: Snap) -> None:
    assert snap_compare(
        still_app,
        terminal_size=(100, 30),
        press=["j", "j", "question_mark"],
        run_before=data_loaded,
    )


def test_templates_screen_filtered(still_app: JobdeckApp, snap_compare: Snap) -> None:
    async def filtered(pilot: Pilot[int]) -> None:
        await data_loaded(pilot)
        await pilot.press("slash", *"mon")
        pilot.app.screen.query_one("#templates-filter", Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(still_app, terminal_size=(80, 24), run_before=filtered)


@SIZES
def test_command_line_open(
    still_app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]
) -> None:
    async def typed(pilot: Pilot[int]) -> None:
        await data_loaded(pilot)
        await pilot.press("colon", "s")
        for field in pilot.app.screen.query(Input).results(Input):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(still_app, terminal_size=size, run_before=typed)


@SIZES
def test_new_template_form(
    still_app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]
) -> None:
    assert snap_compare(still_app, terminal_size=size, run_before=opened(TemplateFormModal, "n"))


@SIZES
def test_template_form_shows_a_validation_error_inline(
    still_app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]
) -> None:
    open_form = opened(TemplateFormModal, "n")

    async def rejected(pilot: Pilot[int]) -> None:
        await open_form(pilot)
        await pilot.press(*"nightly-vacuum", "tab", "tab", *"VACUUM the db", "ctrl+s")
        for _ in range(200):
            if pilot.app.screen.query(".-invalid"):
                break
            await pilot.pause(0.02)
        await pilot.pause()

    assert snap_compare(still_app, terminal_size=size, run_before=rejected)


def test_edit_form_with_parameters(still_app: JobdeckApp, snap_compare: Snap) -> None:
    assert snap_compare(
        still_app, terminal_size=(160, 48), run_before=opened(TemplateFormModal, "j", "e")
    )


@SIZES
def test_run_now_parameters_modal(
    still_app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]
) -> None:
    step = opened(RunParametersModal, "j", "x")
    assert snap_compare(still_app, terminal_size=size, run_before=step)


@SIZES
def test_copy_name_prompt(still_app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]) -> None:
    step = opened(NamePromptModal, "j", "c")
    assert snap_compare(still_app, terminal_size=size, run_before=step)


@SIZES
def test_delete_confirm_lists_dependent_schedules(
    still_app: JobdeckApp, snap_compare: Snap, size: tuple[int, int]
) -> None:
    step = opened(ConfirmModal, "j", "d")
    assert snap_compare(still_app, terminal_size=size, run_before=step)
