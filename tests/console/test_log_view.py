"""The log view on its own: buffer rules, follow, search, wrap, timestamps, save and copy."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Static

from console.screens.save_path import SavePathModal
from console.widgets.log_buffer import LogBuffer, clean, parse_chunks
from console.widgets.log_view import LogView
from core.backend.fake import DEFAULT_START, FakeBackend
from core.backend.views import LogChunkView
from core.clock import ManualClock
from core.errors import BackendUnavailable

SIZE = (80, 24)


def chunk(data: str, seq: int = 1, stream: str = "stdout", attempt: int = 1) -> LogChunkView:
    """A log chunk as a backend returns it."""
    return LogChunkView(
        seq=seq, attempt=attempt, stream=stream, created_at=DEFAULT_START, data=data
    )  # type: ignore[arg-type]


def buffer_of(*chunks: LogChunkView, max_lines: int = 1000) -> LogBuffer:
    """A buffer fed ``chunks``."""
    buffer = LogBuffer(max_lines)
    buffer.extend(parse_chunks(chunks))
    return buffer


# -- the buffer ------------------------------------------------------------------------------


def test_unfinished_lines_continue_in_the_next_chunk_of_the_same_stream() -> None:
    buffer = buffer_of(
        chunk("progress 1", 1),
        chunk("warning: disk\n", 2, "stderr"),
        chunk("0%\nnext line\n", 3),
    )
    assert [(buffer.line(i).text, buffer.line(i).stream) for i in range(len(buffer))] == [
        ("progress 10%", "stdout"),
        ("warning: disk", "stderr"),
        ("next line", "stdout"),
    ]
    assert buffer.widths[0] == len("progress 10%")


def test_escapes_tabs_and_carriage_returns_become_what_a_terminal_shows() -> None:
    assert clean("\x1b[31mred\x1b[0m text") == "red text"
    assert clean("a\tb") == "a       b"
    assert clean("10%\r50%\r100%") == "100%"
    assert clean("dos line\r") == "dos line"
    assert clean("bell\x07") == "bell\ufffd"


def test_a_new_attempt_is_marked_and_starts_fresh_lines() -> None:
    buffer = buffer_of(chunk("first try", 1), chunk("second try\n", 2, attempt=2))
    assert buffer.texts == [
        "first try",
        "── attempt 2 ──",
        "second try",
    ]
    assert buffer.line(1).stream == "system"


def test_the_oldest_lines_go_past_the_cap_and_line_numbers_stay_stable() -> None:
    buffer = LogBuffer(100)
    text = "".join(f"line {n}\n" for n in range(150))
    first, dropped = buffer.extend(parse_chunks([chunk(text)]))
    assert (first, dropped) == (0, 50)
    assert len(buffer) == 100
    assert buffer.texts[0] == "line 50"
    assert buffer.number(0) == 50
    assert buffer.index(149) == 99
    first, dropped = buffer.extend(parse_chunks([chunk("line 150\n", 2)]))
    assert (first, dropped) == (150, 0)  # a little over the cap is kept until it is worth a cut


def test_find_is_smart_case() -> None:
    buffer = buffer_of(chunk("Error one\nerror two error\nERROR three\n"))
    assert buffer.find("error") == [(0, 0, 5), (1, 0, 5), (1, 10, 15), (2, 0, 5)]
    assert buffer.find("Error") == [(0, 0, 5)]
    assert buffer.find("") == []


# -- the widget ------------------------------------------------------------------------------


class LogApp(App[None]):
    """The log view of one run, alone on screen."""

    def __init__(self, backend: FakeBackend, run_id: int, max_lines: int = 100_000) -> None:
        super().__init__()
        self.backend = backend
        self.run_id = run_id
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield LogView(self.backend, self.run_id, UTC, max_lines=self.max_lines)


@pytest.fixture
def fake() -> FakeBackend:
    """An empty fake backend on a fixed clock."""
    return FakeBackend(clock=ManualClock(DEFAULT_START))


def add_lines(backend: FakeBackend, run_id: int, lines: list[str], stream: str = "stdout") -> None:
    """Append lines to a run's log, one chunk."""
    backend.actions.add_log(run_id, "".join(f"{line}\n" for line in lines), stream=stream)


async def fetched(pilot: Pilot[None]) -> LogView:
    """The log view once its fetch has finished and been drawn."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return pilot.app.query_one(LogView)


def status_text(view: LogView) -> str:
    """The status line under the log."""
    return str(view.query_one("#log-status", Static).render())


def row_text(view: LogView, y: int) -> str:
    """What the log shows on screen row ``y``."""
    return view.lines_view.render_line(y).text


async def test_follows_live_output_until_scrolled_up_and_resumes_with_G(
    fake: FakeBackend,
) -> None:
    run = fake.add_run(status="running", started_at=DEFAULT_START)
    add_lines(fake, run.id, [f"line {n}" for n in range(100)])
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        lines = view.lines_view
        assert len(view.buffer) == 100
        assert lines.follow and lines.scroll_y == lines.max_scroll_y > 0
        add_lines(fake, run.id, [f"more {n}" for n in range(50)])
        await pilot.pause(0.4)
        await fetched(pilot)
        assert len(view.buffer) == 150
        assert lines.scroll_y == lines.max_scroll_y
        assert row_text(view, lines.scrollable_content_region.height - 1).startswith("more 49")
        await pilot.press("k", "k")
        assert not lines.follow
        held = lines.scroll_y
        add_lines(fake, run.id, [f"later {n}" for n in range(50)])
        await pilot.pause(0.4)
        await fetched(pilot)
        assert len(view.buffer) == 200
        assert lines.scroll_y == held
        assert "paused" in status_text(view)
        await pilot.press("G")
        assert lines.follow and lines.scroll_y == lines.max_scroll_y
        assert "following" in status_text(view)


async def test_polling_stops_once_the_run_has_ended_and_its_log_is_read(
    fake: FakeBackend,
) -> None:
    run = fake.add_run(status="completed")
    add_lines(fake, run.id, ["done"])
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        await pilot.pause(0.4)
        assert view.finished
        assert view._poll_timer is None
        assert "ended" in status_text(view)


async def test_search_highlights_hits_and_n_N_move_through_them(fake: FakeBackend) -> None:
    run = fake.add_run(status="failed")
    lines = [f"step {n}" for n in range(60)]
    lines[5], lines[30], lines[55] = "error: a", "ERROR b", "still error c"
    add_lines(fake, run.id, lines)
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        await pilot.press("slash", *"error", "enter")
        log = view.lines_view
        assert [match[0] for match in log.matches] == [5, 30, 55]
        # The first hit from the top of the screen on: the view followed the end, so line 55.
        assert log.current == 2 and not log.follow
        assert "/error 3/3" in status_text(view)
        await pilot.press("n")
        assert log.current == 0 and "/error 1/3" in status_text(view)
        assert log.scroll_y <= 5 < log.scroll_y + log.scrollable_content_region.height
        await pilot.press("n")
        assert log.current == 1 and "/error 2/3" in status_text(view)
        assert log.scroll_y <= 30 < log.scroll_y + log.scrollable_content_region.height
        await pilot.press("N", "N")
        assert log.current == 2 and "/error 3/3" in status_text(view)
        await pilot.press("slash", "backspace", "backspace", "backspace", "backspace")
        await pilot.press("backspace", *"step", "space", "1", "enter")
        assert len(log.matches) == 11  # step 1, step 10..19


async def test_new_output_is_searched_as_it_arrives(fake: FakeBackend) -> None:
    run = fake.add_run(status="running", started_at=DEFAULT_START)
    add_lines(fake, run.id, ["boot", "panic: first"])
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        await pilot.press("slash", *"panic", "enter")
        add_lines(fake, run.id, ["ok", "panic: second"])
        await pilot.pause(0.4)
        await fetched(pilot)
        assert [m[0] for m in view.lines_view.matches] == [1, 3]
        assert "/panic 1/2" in status_text(view)


async def test_wrap_folds_long_lines_and_unwrap_scrolls_them(fake: FakeBackend) -> None:
    run = fake.add_run(status="completed")
    add_lines(fake, run.id, ["short", "x" * 250, "end"])
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        log = view.lines_view
        width = log.scrollable_content_region.width
        assert log.virtual_size.height == 3
        assert log.virtual_size.width == 250
        await pilot.press("w")
        await pilot.pause()
        rows = 2 + -(-250 // width)
        assert log.virtual_size.height == rows
        assert row_text(view, 1) == "x" * width
        assert row_text(view, rows - 1).rstrip() == "end"
        assert "wrap" in status_text(view)
        await pilot.press("w")
        await pilot.pause()
        assert log.virtual_size.height == 3


async def test_timestamps_show_when_each_line_arrived(fake: FakeBackend) -> None:
    clock = fake.clock
    assert isinstance(clock, ManualClock)
    run = fake.add_run(status="completed")
    add_lines(fake, run.id, ["first"])
    clock.advance(timedelta(minutes=2, seconds=3))
    add_lines(fake, run.id, ["second"], stream="stderr")
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        assert row_text(view, 0).rstrip() == "first"
        await pilot.press("t")
        await pilot.pause()
        assert row_text(view, 0).rstrip() == "09:30:00 first"
        assert row_text(view, 1).rstrip() == "09:32:03 second"


async def test_stderr_and_jobdeck_lines_are_drawn_apart_from_stdout(fake: FakeBackend) -> None:
    run = fake.add_run(status="failed")
    add_lines(fake, run.id, ["out"])
    add_lines(fake, run.id, ["err"], stream="stderr")
    add_lines(fake, run.id, ["exit status 1"], stream="system")
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        colours = [
            next(iter(view.lines_view.render_line(y))).style.color
            for y in range(3)  # type: ignore[union-attr]
        ]
        assert len(set(colours)) == 3


async def test_save_writes_the_whole_log_even_lines_no_longer_kept(
    fake: FakeBackend, tmp_path: Path
) -> None:
    run = fake.add_run(status="completed")
    everything = [f"line {n}" for n in range(300)]
    for start in range(0, 300, 30):
        add_lines(fake, run.id, everything[start : start + 30])
    target = tmp_path / "saved.log"
    async with LogApp(fake, run.id, max_lines=100).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        assert view.buffer.dropped > 0 and "earlier not kept" in status_text(view)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(pilot.app.screen, SavePathModal)
        field = pilot.app.screen.query_one(Input)
        assert field.value == f"~/jobdeck-run-{run.id}.log"
        field.value = str(target)
        await pilot.press("enter")
        await fetched(pilot)
    assert target.read_text().splitlines() == everything


async def test_a_failed_save_is_a_notification(fake: FakeBackend, tmp_path: Path) -> None:
    run = fake.add_run(status="completed")
    add_lines(fake, run.id, ["x"])
    async with LogApp(fake, run.id).run_test(size=SIZE, notifications=True) as pilot:
        view = await fetched(pilot)
        view.save_log(str(tmp_path / "missing-dir" / "x.log"))
        await fetched(pilot)
        assert pilot.app.is_running
        messages = [n.message for n in pilot.app._notifications]
        assert any("missing-dir" in message for message in messages)


async def test_escape_in_the_save_prompt_saves_nothing(fake: FakeBackend) -> None:
    run = fake.add_run(status="completed")
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        await fetched(pilot)
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("escape")
        await fetched(pilot)
        assert not isinstance(pilot.app.screen, SavePathModal)
        assert not pilot.app._notifications


async def test_copy_takes_the_current_hit_else_the_lines_on_screen(fake: FakeBackend) -> None:
    run = fake.add_run(status="completed")
    add_lines(fake, run.id, ["alpha", "beta: the one", "gamma"])
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        await fetched(pilot)
        await pilot.press("y")
        assert pilot.app.clipboard == "alpha\nbeta: the one\ngamma"
        await pilot.press("slash", *"beta", "enter", "y")
        assert pilot.app.clipboard == "beta: the one"


async def test_a_backend_failure_is_reported_once_and_polling_goes_on(
    fake: FakeBackend,
) -> None:
    run = fake.add_run(status="running", started_at=DEFAULT_START)
    calls = 0
    real = fake.run_logs

    async def failing(run_id: int, *, after_seq: int = 0, limit: int = 1000):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise BackendUnavailable("database is locked")
        return await real(run_id, after_seq=after_seq, limit=limit)

    fake.run_logs = failing  # type: ignore[method-assign]
    add_lines(fake, run.id, ["after the outage"])
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        assert view.buffer.texts == []
        assert len(pilot.app._notifications) == 1
        view._quiet_until = 0.0
        await pilot.pause(0.4)
        await fetched(pilot)
        view._quiet_until = 0.0
        await pilot.pause(0.4)
        await fetched(pilot)
        assert view.buffer.texts == ["after the outage"]
        assert len(pilot.app._notifications) == 1


def test_lines_remember_their_stream_and_time_after_old_ones_go() -> None:
    buffer = LogBuffer(20)
    buffer.extend(parse_chunks([chunk("".join(f"out {n}\n" for n in range(30)))]))
    buffer.extend(parse_chunks([chunk("bad\n", 2, "stderr"), chunk("out 30\n", 3)]))
    assert (buffer.dropped, len(buffer)) == (12, 20)
    assert buffer.line(0) == ("out 12", "stdout", DEFAULT_START, 6)
    assert [buffer.line(i).stream for i in (17, 18, 19)] == ["stdout", "stderr", "stdout"]


async def test_keys_typed_right_after_slash_go_to_the_search(fake: FakeBackend) -> None:
    # A fast typist or a slow SSH link delivers "/oops" at once: none of it may reach the
    # log's own keys (`s` would open the save prompt).
    run = fake.add_run(status="completed")
    add_lines(fake, run.id, ["fine", "oops here", "fine"])
    async with LogApp(fake, run.id).run_test(size=SIZE) as pilot:
        view = await fetched(pilot)
        for key, character in [("slash", "/"), *[(c, c) for c in "oops"], ("enter", "\r")]:
            pilot.app.post_message(events.Key(key, character))
        await pilot.pause(0.3)
        assert not isinstance(pilot.app.screen, SavePathModal)
        assert view.term == "oops"
        assert view.lines_view.current == 0
