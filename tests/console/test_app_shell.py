"""The app shell: `:` command line, screen switching, keys list, keymap check, live health."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from console.app import JobdeckApp
from console.keymap import keymap_problems, known_binding_ids
from console.messages import BackendChanged
from console.navigation import completions, parse
from console.screens.keys import KeysModal
from console.screens.templates import TemplatesScreen
from console.widgets.command_bar import CommandBar
from core.backend.fake import FakeBackend
from core.backend.inputs import TemplatePatch
from core.clock import ManualClock
from core.errors import BackendUnavailable
from tests.console.conftest import settled


def test_parse_takes_names_aliases_and_arguments() -> None:
    assert parse(":runs failed") is not None
    command, argument = parse(":r failed")  # type: ignore[misc]
    assert (command.name, argument) == ("runs", "failed")
    command, argument = parse("tpl")  # type: ignore[misc]
    assert (command.screen, argument) == ("templates", "")
    assert parse(":nonsense") is None
    assert parse("   ") is None


def test_completions_prefer_names_then_aliases() -> None:
    assert [c.name for c in completions("sch")] == ["schedules"]
    assert completions("w")[0].name == "workers"
    assert completions("zzz") == []


async def test_colon_runs_a_typed_command(app: JobdeckApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        await pilot.press("colon")
        bar = app.screen.query_one(CommandBar)
        assert bar.is_open
        assert isinstance(app.focused, Input)
        await pilot.press("k", "e", "y", "s", "enter")
        await pilot.pause()
        assert isinstance(app.screen, KeysModal)
        await pilot.press("escape")
        assert isinstance(app.screen, TemplatesScreen)


async def test_tab_completes_and_unknown_commands_are_reported(app: JobdeckApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        table = app.focused
        await pilot.press("colon", "t", "e", "m", "tab")
        bar = app.screen.query_one(CommandBar)
        assert bar.query_one(Input).value == "templates"
        await pilot.press("escape")
        assert not bar.is_open
        assert app.focused is table  # the keys go back where they were
        assert isinstance(app.screen, TemplatesScreen)  # escape closed the line, not the screen
        await pilot.press("colon", "s", "c", "h", "enter")  # what is suggested is taken
        await pilot.pause()
        assert type(app.screen).__name__ == "SchedulesScreen"
        await pilot.press("colon", "x", "y", "z", "enter")
        await pilot.pause()
        assert any("unknown command 'xyz'" in n.message for n in app._notifications)


async def test_theme_command_switches_theme_or_lists_them(app: JobdeckApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        await pilot.press("colon", *"theme nord", "enter")
        await pilot.pause()
        assert app.theme == "nord"
        await pilot.press("colon", *"theme nope", "enter")
        await pilot.pause()
        assert any("no theme 'nope'" in n.message for n in app._notifications)


async def test_question_mark_lists_every_key_with_its_id(app: JobdeckApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("question_mark")
        modal = app.screen
        assert isinstance(modal, KeysModal)
        from textual.widgets import DataTable

        table = modal.query_one(DataTable)
        ids = {str(table.get_row_at(i)[3]) for i in range(table.row_count)}
        # hidden vim keys of the table are listed too, with their ids
        assert {"app.quit", "app.command", "templates.refresh", "table.down"} <= ids
        await pilot.press("question_mark")
        assert isinstance(app.screen, TemplatesScreen)


def test_keymap_problems_name_the_unknown_id_and_the_nearest_one() -> None:
    import console.app  # noqa: F401  (loads every screen, so their ids are known)

    known = known_binding_ids()
    assert "app.quit" in known and "templates.refresh" in known
    assert keymap_problems({"app.quit": "ctrl+q"}, known) == []
    assert keymap_problems({"app.quitt": "x"}, known) == [
        "[keymap] 'app.quitt' is not a binding id (did you mean 'app.quit'?)"
    ]


async def test_a_rebound_key_works_and_a_bad_id_is_reported(
    backend: FakeBackend, clock: ManualClock
) -> None:
    app = JobdeckApp(backend, clock, keymap={"app.keys": "f1", "app.nope": "x"})
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, KeysModal)
        assert any("'app.nope' is not a binding id" in n.message for n in app._notifications)


async def test_changes_reach_the_screen_and_a_dead_backend_marks_data_stale(
    backend: FakeBackend, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = JobdeckApp(backend, clock, poll_seconds=None)
    seen: list[BackendChanged] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        screen = app.screen
        monkeypatch.setattr(screen, "request_reload", lambda: seen.append(True))  # type: ignore[arg-type]
        await app.poll_changes()  # first poll: only takes the cursor
        await backend.update_template("cleanup-tmp", TemplatePatch(description="x"))
        await app.poll_changes()
        await pilot.pause()
        assert seen, "a template change must reload the templates screen"

        async def down(*args: object, **kwargs: object) -> None:
            raise BackendUnavailable("daemon at 127.0.0.1:8765 unreachable")

        real = backend.changes
        monkeypatch.setattr(backend, "changes", down)
        await app.poll_changes()
        assert app.session.health.state == "stale"
        assert "unreachable" in app.session.health.detail
        # meanwhile one running run fails and another completes
        running = [r for r in backend.runs.store.runs.values() if r.status == "running"]
        assert len(running) >= 2, "the seed has running runs"
        backend.update_run(running[0].id, status="failed")  # type: ignore[arg-type]
        backend.update_run(running[1].id, status="completed")  # type: ignore[arg-type]
        monkeypatch.setattr(backend, "changes", real)
        seen.clear()
        await app.poll_changes()
        await pilot.pause()
        assert app.session.health.ok
        assert seen, "coming back reloads what the screen shows"
        summaries = [n.message for n in app._notifications if n.title.startswith("Reconnected")]
        assert summaries and "1 failed" in summaries[-1] and "1 completed" in summaries[-1]
