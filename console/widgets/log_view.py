"""The log view: a run's output followed live, with wrap, timestamps, search, save and copy.

Lines live in a capped buffer (the newest ``MAX_LINES``, see log_buffer) drawn by LogLines,
which renders only the rows on screen. Saving fetches the whole log from the backend, not just
what is kept here.
"""

from __future__ import annotations

import asyncio
import time
from datetime import tzinfo
from pathlib import Path
from typing import IO, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, Static

from console.screens.save_path import SavePathModal
from console.widgets.log_buffer import LogBuffer, ParsedChunk, parse_chunks
from console.widgets.log_lines import LogLines
from core.backend.protocol import Backend
from core.errors import JobdeckError, NotFound

#: Lines kept in memory; earlier ones are dropped from the view (saving still gets them).
MAX_LINES = 100_000
#: How often a live run's log is asked for more output.
POLL_SECONDS = 0.25
#: Chunks asked for per request (a chunk holds up to 64 KiB: at most ~12 MiB per request).
PAGE_CHUNKS = 200
#: Chunks split into lines between two looks at the keyboard (about a millisecond of work).
SLICE_CHUNKS = 2
#: Seconds to wait before asking again after the backend failed.
RETRY_SECONDS = 2.0


class LogSearch(Input):
    """The `/` search field of a log view; `escape` closes it, enter jumps to the first hit."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close search", id="log.search_close"),
    ]

    def action_close(self) -> None:
        """Hide the field and give the keys back to the log."""
        self.display = False
        self.post_message(self.Submitted(self, self.value))


class LogView(Vertical, can_focus=False):
    """A run's log: fetched live from ``backend`` until the run ends, searchable, saveable."""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        LogLines { height: 1fr; }
        #log-status { height: 1; background: $panel; color: $foreground-muted; padding: 0 1; }
        LogSearch { display: none; height: 1; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "toggle_follow", "Follow", id="log.follow"),
        Binding("w", "toggle_wrap", "Wrap", id="log.wrap"),
        Binding("t", "toggle_timestamps", "Times", show=False, id="log.timestamps"),
        # priority: the app runs it as the key arrives, so keys typed right after `/` (a fast
        # typist, a slow SSH link) already go to the search field, not to the log's own keys
        Binding("slash", "search", "Search", priority=True, id="log.search"),
        Binding("n", "next_match", "Next hit", show=False, id="log.next"),
        Binding("N", "previous_match", "Previous hit", show=False, id="log.previous"),
        Binding("s", "save", "Save", id="log.save"),
        Binding("y", "copy", "Copy", show=False, id="log.copy"),
        Binding("G", "follow_end", "End", show=False, id="log.end"),
        Binding("g", "top", "Top", show=False, id="log.top"),
    ]

    def __init__(
        self,
        backend: Backend,
        run_id: int,
        zone: tzinfo,
        *,
        max_lines: int = MAX_LINES,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.backend = backend
        self.run_id = run_id
        self.buffer = LogBuffer(max_lines)
        self.zone = zone
        self.next_seq = 0
        self.finished = False
        self.term = ""
        self._failing = False
        self._fetching = False
        self._quiet_until = 0.0
        self._poll_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield LogLines(self.buffer, self.zone)
        yield Static(id="log-status", markup=False)
        yield LogSearch(
            placeholder="search the log (enter: first hit, escape: close)", compact=True
        )

    @property
    def lines_view(self) -> LogLines:
        """The scrolling lines."""
        return self.query_one(LogLines)

    def on_mount(self) -> None:
        lines = self.lines_view
        for name in ("follow", "wrap", "timestamps"):
            self.watch(lines, name, self._show_status, init=False)
        self._show_status()
        self.fetch_new()
        self.resume()

    # -- fetching ------------------------------------------------------------------------

    def resume(self) -> None:
        """Poll again if polling stopped before the run finished (the run came back to life)."""
        if not self.finished and self._poll_timer is None:
            self._poll_timer = self.set_interval(POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        if self.finished:
            if self._poll_timer is not None:
                self._poll_timer.stop()
                self._poll_timer = None
        elif not self._fetching and time.monotonic() >= self._quiet_until:
            self.fetch_new()

    @work(exclusive=True, group="log-follow")
    async def fetch_new(self) -> None:
        """Fetch the output written since the last fetch (every page of it, if it piled up)."""
        self._fetching = True
        try:
            while True:
                page = await self.backend.run_logs(
                    self.run_id, after_seq=self.next_seq, limit=PAGE_CHUNKS
                )
                # In slices on the event loop, not in a thread: a thread splitting megabytes
                # holds the GIL, and every keypress would queue behind it.
                parsed: list[ParsedChunk] = []
                for start in range(0, len(page.chunks), SLICE_CHUNKS):
                    parsed += parse_chunks(page.chunks[start : start + SLICE_CHUNKS])
                    await asyncio.sleep(0)
                if not self.is_attached:  # the view closed meanwhile
                    return
                if parsed:
                    self._take(parsed)  # one repaint per page, however many lines
                self.next_seq, self.finished = page.next_seq, page.finished
                if len(page.chunks) < PAGE_CHUNKS:
                    break
                await asyncio.sleep(0)  # let keys and repaints in between pages of a backlog
            self._failing = False
        except NotFound:
            self.finished = True
        except JobdeckError as exc:
            if not self._failing:
                self.notify(str(exc), title="Log not updated", severity="error")
            self._failing = True
            self._quiet_until = time.monotonic() + RETRY_SECONDS
        finally:
            self._fetching = False
            if self.is_attached:
                self._show_status()

    def _take(self, parsed: list[ParsedChunk]) -> None:
        lines = self.lines_view
        first_number, dropped = self.buffer.extend(parsed)
        if dropped:
            lines.forget_matches_before(self.buffer.dropped)
            lines.lines_dropped(dropped)
        first_index = max(self.buffer.index(first_number), 0)
        if self.term:
            hits = self.buffer.find(self.term, first_index)
            lines.add_matches(hits, self.buffer.number(first_index))
        lines.lines_changed(first_index)

    # -- status line ---------------------------------------------------------------------

    def _show_status(self, *_: object) -> None:
        lines = self.lines_view
        lines.set_class(lines.follow and not self.finished, "-following")
        parts = [
            "▶ following" if lines.follow else "‖ paused (G follows)",
            f"{len(self.buffer):,} lines",
        ]
        if self.buffer.dropped:
            parts.append(f"{self.buffer.dropped:,} earlier not kept (s saves all)")
        if self.term:
            position = "-" if lines.current is None else f"{lines.current + 1}"
            parts.append(f"/{self.term} {position}/{len(lines.matches)} (n/N)")
        if lines.wrap:
            parts.append("wrap")
        parts.append("ended" if self.finished else "live")
        # One row whatever it says: no layout pass (that would draw every scrollbar again).
        self.query_one("#log-status", Static).update(" · ".join(parts), layout=False)

    # -- actions -------------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        """Follow new output, or stop following."""
        self.lines_view.follow = not self.lines_view.follow

    def action_follow_end(self) -> None:
        """Go to the end and follow."""
        self.lines_view.action_scroll_end()

    def action_top(self) -> None:
        """Go to the first kept line."""
        self.lines_view.action_scroll_home()

    def action_toggle_wrap(self) -> None:
        """Wrap long lines, or scroll them sideways."""
        self.lines_view.wrap = not self.lines_view.wrap

    def action_toggle_timestamps(self) -> None:
        """Show when each line arrived, or hide it."""
        self.lines_view.timestamps = not self.lines_view.timestamps

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the search field is open, `/` is just a character of the search.
        return not (action == "search" and self.query_one(LogSearch).display)

    def action_search(self) -> None:
        """Open the search field."""
        search = self.query_one(LogSearch)
        search.display = True
        # At once, not after a refresh (focus()): keys typed right after `/` must land here.
        self.screen.set_focus(search)

    @on(Input.Changed, "LogSearch")
    def _search_changed(self, event: Input.Changed) -> None:
        self.term = event.value
        self.lines_view.set_matches(self.buffer.find(self.term) if self.term else [])
        self._show_status()

    @on(Input.Submitted, "LogSearch")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        search = self.query_one(LogSearch)
        search.display = False
        self.screen.set_focus(self.lines_view)
        if self.term and self.lines_view.current is None:
            self.action_next_match()

    def action_next_match(self) -> None:
        """Show the next search hit."""
        self.lines_view.jump(1)
        self._show_status()

    def action_previous_match(self) -> None:
        """Show the previous search hit."""
        self.lines_view.jump(-1)
        self._show_status()

    def action_copy(self) -> None:
        """Copy the selection, else the line of the current hit, else the lines on screen."""
        lines = self.lines_view
        text = self.screen.get_selected_text()
        what = "the selection"
        if not text and lines.current is not None:
            line_number = lines.matches[lines.current][0]
            text = self.buffer.texts[self.buffer.index(line_number)]
            what = "the line of the current match"
        if not text:
            text = "\n".join(lines.visible_lines())
            what = "the lines on screen"
        if not text:
            self.notify("nothing to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {what} ({len(text.splitlines()) or 1} line(s)) to the clipboard")

    def action_save(self) -> None:
        """Ask where to save the whole log, then save it."""
        default = f"~/jobdeck-run-{self.run_id}.log"
        self.app.push_screen(SavePathModal(default, self.run_id), self._save_to)

    def _save_to(self, path: str | None) -> None:
        if path:
            self.save_log(path)

    @work(exclusive=True, group="log-save")
    async def save_log(self, path: str) -> None:
        """Write the run's whole log (fetched again from the backend) to ``path``."""
        target = await asyncio.to_thread(lambda: Path(path).expanduser())
        try:
            chunks = await asyncio.to_thread(_write_log_start, target)
            try:
                await self._write_all(chunks)
            finally:
                await asyncio.to_thread(chunks.close)
        except (OSError, JobdeckError) as exc:
            self.notify(f"{target}: {exc}", title="Log not saved", severity="error", timeout=10)
            return
        self.notify(str(target), title=f"Saved the log of run {self.run_id}")

    async def _write_all(self, handle: IO[str]) -> None:
        after = 0
        while True:
            page = await self.backend.run_logs(self.run_id, after_seq=after, limit=PAGE_CHUNKS)
            data = "".join(chunk.data for chunk in page.chunks)
            await asyncio.to_thread(handle.write, data)
            after = page.next_seq
            if len(page.chunks) < PAGE_CHUNKS:
                return


def _write_log_start(target: Path) -> IO[str]:
    return target.open("w", encoding="utf-8")
