"""Keys typed ahead (an SSH link, a paste, a fast typist: many keys in one read) do what the
same keys do typed one by one (the review's type-ahead table, console-review.md section 2)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from textual import events
from textual.keys import KEY_NAME_REPLACEMENTS
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Input
from textual.worker import Worker

from console.app import JobdeckApp
from console.key_order import GuardsTypeAhead
from console.widgets import KeyedTable
from console.widgets.log_view import LogView
from core.backend.fake import DEFAULT_START, FakeBackend
from core.clock import ManualClock

from .conftest import settled

#: Characters of the named keys, as a terminal sends them.
_CHARACTERS = {
    "enter": "\r",
    "tab": "\t",
    "shift+tab": None,
    "backspace": "\x7f",
    "escape": "\x1b",
    "space": " ",
    "ctrl+u": "\x15",
    "down": None,
    "up": None,
}


def key_event(key: str) -> events.Key:
    """The Key event Textual's driver makes of ``key`` (a character or a key name)."""
    if len(key) == 1:
        if key.isalnum():
            return events.Key(key, key)
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
        return events.Key(KEY_NAME_REPLACEMENTS.get(name, name), key)
    return events.Key(key, _CHARACTERS[key])


def keys(*parts: str) -> list[str]:
    """Key names from text and names: ``keys(":runs", "enter")`` types `:runs` then enter."""
    found: list[str] = []
    for part in parts:
        found.extend([part] if part in _CHARACTERS else list(part))
    return found


async def type_ahead(pilot: Pilot[int], sequence: Sequence[str]) -> None:
    """Every key of ``sequence`` arrives in one read: all queued before the first is handled."""
    app = pilot.app
    assert isinstance(app, JobdeckApp)
    for key in sequence:
        app.post_message(key_event(key))
    await _quiet(pilot)


async def type_slowly(pilot: Pilot[int], sequence: Sequence[str]) -> None:
    """The same keys one at a time, each handled (and its consequences drawn) before the next."""
    for key in sequence:
        await pilot.press(key)
        await _quiet(pilot)


async def _quiet(pilot: Pilot[int]) -> None:
    """Until no key is held and every worker has ended, but those that wait on a dialog."""
    app = pilot.app
    assert isinstance(app, JobdeckApp)
    for _ in range(500):
        await pilot.pause()
        if app.key_order.held:
            continue
        busy = [w for w in app.workers if w.is_running and not _waits_on_a_dialog(app, w)]
        if not busy:
            await pilot.pause()
            if not app.key_order.held:
                return
    raise AssertionError(f"{app.key_order.held} keys still held, workers {list(app.workers)}")


def _waits_on_a_dialog(app: JobdeckApp, worker: Worker[Any]) -> bool:
    """A worker of a screen under the top dialog (it asked the dialog and awaits its answer)."""
    return isinstance(app.screen, ModalScreen) and worker.node is not app.screen


def fingerprint(app: JobdeckApp, backend: FakeBackend) -> dict[str, Any]:
    """What an operator would notice: where they are, what the fields hold, what was written."""
    screen = app.screen
    focused = app.focused
    tables = list(screen.query(KeyedTable))
    return {
        "mode": app.current_mode,
        "stack": [type(s).__name__ for s in app.screen_stack],
        "focused": type(focused).__name__ if focused else None,
        "focused_id": focused.id if focused else None,
        "inputs": [(i.id, i.value) for i in screen.query(Input) if i.display],
        "cursor": [t.cursor_row for t in tables],
        "writes": [(a.action, a.target_type, a.target_id) for a in backend.store.audit],
        "runs": sorted(backend.store.runs),
        "templates": sorted(t.name for t in backend.store.templates.values()),
        "newest_run": _newest_run(backend),
    }


def _newest_run(backend: FakeBackend) -> tuple[str, dict[str, Any]] | None:
    runs = backend.store.runs
    if not runs:
        return None
    newest = runs[max(runs)]
    return newest.job_name, dict(newest.parameters)


async def _outcome(
    setup: Sequence[str],
    sequence: Sequence[str],
    *,
    fast: bool,
    size: tuple[int, int],
    prepare: Callable[[FakeBackend], None] | None = None,
) -> dict[str, Any]:
    clock = ManualClock(DEFAULT_START)
    backend = FakeBackend.seeded(clock)
    if prepare is not None:
        prepare(backend)
    app = JobdeckApp(backend, clock)
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        await type_slowly(pilot, setup)
        await (type_ahead if fast else type_slowly)(pilot, sequence)
        outcome = fingerprint(app, backend)
        for log in app.screen.query(LogView):
            outcome["log"] = (log.term, log.lines_view.current, len(log.lines_view.matches))
        return outcome


#: (what to do slowly first, the sequence typed ahead, what the slow version shows)
TYPE_AHEAD_TABLE: list[tuple[str, Sequence[str], Sequence[str], dict[str, Any]]] = [
    ("runs :schedules", keys("3"), keys(":schedules", "enter"), {"mode": "schedules"}),
    ("runs :schedules again", keys("3", ":", "escape"), keys(":schedules", "enter"), {}),
    ("runs :templates", keys("3"), keys(":templates", "enter"), {"mode": "templates"}),
    ("runs :workers", keys("3"), keys(":workers", "enter"), {"mode": "workers"}),
    ("templates :runs", (), keys(":runs", "enter"), {"mode": "runs"}),
    ("templates :schedules", (), keys(":schedules", "enter"), {"mode": "schedules"}),
    ("templates :workers", (), keys(":workers", "enter"), {"mode": "workers"}),
    ("schedules :runs", keys("2"), keys(":runs", "enter"), {"mode": "runs"}),
    ("schedules :templates", keys("2"), keys(":templates", "enter"), {"mode": "templates"}),
    ("run detail :schedules", keys("3", "enter"), keys(":schedules", "enter"), {}),
    ("templates /hel", (), keys("/hel", "enter"), {"mode": "templates"}),
    ("schedules /nigh", keys("2"), keys("/nigh", "enter"), {"mode": "schedules"}),
    ("runs /fail", keys("3"), keys("/fail", "enter"), {}),
    ("runs /fail jj", keys("3"), keys("/fail", "enter", "jj"), {}),
    ("runs jjjj G gg", keys("3"), keys("jjjjGgg3jjj"), {}),
    ("template form fields", keys("n"), keys("bk2", "tab", "tab", "db job"), {}),
    ("field backspace", keys("n"), keys("abc", "backspace", "d"), {}),
    ("field ctrl+u", keys("n"), keys("abc", "ctrl+u", "xyz"), {}),
    ("confirm tab enter", keys("3", "G", "d"), keys("tab", "enter"), {}),
    ("confirm y", keys("3", "G", "d"), keys("y", "j"), {}),
    ("confirm n", keys("3", "G", "d"), keys("n", "j"), {}),
    ("command line escape j", keys("3"), keys(":", "escape", "j"), {}),
    # x fetches the template, then asks for its parameters: what follows goes to the dialog
    ("run now, parameters", keys("/weekly", "enter"), keys("x", "ctrl+u", "me@x", "enter"), {}),
    ("parameters ctrl+u", keys("/weekly", "enter", "x"), keys("ctrl+u", "me@x", "enter"), {}),
    ("copy prompt", keys("/weekly", "enter", "c"), keys("ctrl+u", "report2", "enter"), {}),
    ("copy, typed ahead", keys("/weekly", "enter"), keys("c", "ctrl+u", "report2", "enter"), {}),
]


@pytest.mark.parametrize(
    ("setup", "sequence", "expected"),
    [pytest.param(s, q, e, id=name) for name, s, q, e in TYPE_AHEAD_TABLE],
)
async def test_one_write_does_what_typing_slowly_does(
    setup: Sequence[str], sequence: Sequence[str], expected: dict[str, Any]
) -> None:
    slow = await _outcome(setup, sequence, fast=False, size=(120, 40))
    fast = await _outcome(setup, sequence, fast=True, size=(120, 40))
    assert fast == slow
    for key, value in expected.items():
        assert slow[key] == value


async def test_no_run_is_deleted_by_a_command_typed_ahead_on_runs() -> None:
    # `:schedules` + enter: its `d`, `l` and enter once deleted the selected run.
    outcome = await _outcome(keys("3"), keys(":schedules", "enter"), fast=True, size=(120, 40))
    assert outcome["mode"] == "schedules"
    assert not [w for w in outcome["writes"] if w[0].endswith("delete")]
    assert outcome["stack"] == ["SchedulesScreen"] or outcome["stack"][-1] == "SchedulesScreen"


async def test_runs_filter_typed_ahead_keeps_the_text_and_moves_the_cursor() -> None:
    outcome = await _outcome(keys("3"), keys("/fail", "enter", "jj"), fast=True, size=(120, 40))
    assert ("runs-search", "fail") in outcome["inputs"]
    assert outcome["focused"] != "Input"


async def test_a_destructive_confirm_ignores_keys_typed_before_it_was_drawn() -> None:
    # `d` opens "delete run?"; a tab and an enter that arrived with it were typed before the
    # operator could have read the question: they must not delete the run.
    # (G: the oldest run of the window, which has ended and so can be deleted)
    for answer in (keys("tab", "enter"), keys("y")):
        slow = await _outcome(keys("3", "G"), ["d", *answer], fast=False, size=(120, 40))
        assert [w for w in slow["writes"] if w[0] == "run.delete"]  # typed slowly, it deletes
        fast = await _outcome(keys("3", "G"), ["d", *answer], fast=True, size=(120, 40))
        assert not [w for w in fast["writes"] if w[0] == "run.delete"]
        assert fast["stack"][-1] == "ConfirmModal"


async def test_the_confirm_dialog_guards_type_ahead_and_answers_keys_typed_after() -> None:
    from console.screens.confirm import ConfirmModal

    assert issubclass(ConfirmModal, GuardsTypeAhead)
    clock = ManualClock(DEFAULT_START)
    backend = FakeBackend.seeded(clock)
    app = JobdeckApp(backend, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await type_slowly(pilot, keys("3", "G", "d"))
        assert isinstance(app.screen, ConfirmModal)
        runs_before = len(backend.store.runs)
        await type_ahead(pilot, keys("tab", "enter"))  # typed after it was drawn: answers it
        assert len(backend.store.runs) == runs_before - 1


async def test_parameters_typed_ahead_after_x_start_the_run_with_them() -> None:
    outcome = await _outcome(
        keys("/weekly", "enter"), keys("x", "ctrl+u", "me@x", "enter"), fast=True, size=(120, 40)
    )
    assert outcome["newest_run"] == ("weekly-report", {"recipients": "me@x"})


async def test_a_copy_named_in_one_write_is_made_and_an_empty_name_is_refused() -> None:
    outcome = await _outcome(
        keys("/weekly", "enter"), keys("c", "ctrl+u", "report2", "enter"), fast=True, size=(120, 40)
    )
    assert "report2" in outcome["templates"]
    empty = await _outcome(
        keys("/weekly", "enter", "c"), keys("ctrl+u", "enter"), fast=True, size=(120, 40)
    )
    assert empty["stack"][-1] == "NamePromptModal"  # still asking, with the reason shown
    assert len(empty["templates"]) == len(outcome["templates"]) - 1


def _oops_log(backend: FakeBackend) -> None:
    newest = max(backend.store.runs)
    for number in range(40):
        backend.actions.add_log(newest, f"line {number} {'oops' if number % 7 == 0 else 'ok'}\n")


@pytest.mark.parametrize(
    "sequence",
    [keys("/oops", "enter", "n"), keys("/oops", "enter", "nnn"), keys("/oops", "backspace", "s")],
)
async def test_log_search_typed_ahead_finds_the_same_hit(sequence: Sequence[str]) -> None:
    setup = keys("3", "g", "enter")
    slow = await _outcome(setup, sequence, fast=False, size=(120, 40), prepare=_oops_log)
    fast = await _outcome(setup, sequence, fast=True, size=(120, 40), prepare=_oops_log)
    assert slow["log"][0] == "oops" and slow["log"][2] == 6
    assert fast == slow
