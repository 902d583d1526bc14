"""The rows of a run log on screen: follow, wrap, timestamps, search highlights, selection.

A Line API widget: it draws only the rows on screen, so a 100k-line buffer costs one page of
rendering per repaint, however fast lines arrive. Over a slow link every frame of a followed
log moves every row, so new lines are shown at most every ``FRAME_SECONDS`` (all of them at
once), and only the cells that changed are sent (ChangedLinesOnly). A live log followed has
the class ``-following``, which hides the scrollbar: always at the bottom then, it would be
drawn again with every frame.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import tzinfo
from itertools import accumulate, repeat
from typing import ClassVar

from rich.cells import chop_cells
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import MouseScrollUp, Resize
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer

from console.widgets.changed_lines import ChangedLinesOnly
from console.widgets.log_buffer import LogBuffer, LogLine

#: Width of the ``HH:MM:SS `` timestamp column.
STAMP_WIDTH = 9
#: New lines are shown at most this often: the lines that arrived meanwhile, all at once.
FRAME_SECONDS = 0.5


class LogLines(ChangedLinesOnly, ScrollView, can_focus=True):
    """The rows of a LogBuffer: follow, wrap, timestamps, search highlights, selection."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-lines--stderr",
        "log-lines--system",
        "log-lines--stamp",
        "log-lines--match",
        "log-lines--current",
    }
    DEFAULT_CSS = """
    LogLines {
        background: $surface;
        color: $foreground;
        scrollbar-gutter: stable;
        & > .log-lines--stderr { color: $text-error; }
        & > .log-lines--system { color: $text-secondary; text-style: italic; }
        & > .log-lines--stamp { color: $foreground-muted; }
        & > .log-lines--match { background: $warning 35%; text-style: underline; }
        & > .log-lines--current { background: $primary; color: $foreground; text-style: bold; }
        &.-following { scrollbar-visibility: hidden; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False, id="log.down"),
        Binding("k", "scroll_up", "Up", show=False, id="log.up"),
    ]

    follow: reactive[bool] = reactive(True)
    wrap: reactive[bool] = reactive(False)
    timestamps: reactive[bool] = reactive(False)

    def __init__(self, buffer: LogBuffer, zone: tzinfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = buffer
        self.zone = zone
        #: (line, start, end) of every search hit, in order; ``current`` indexes into it
        self.matches: list[tuple[int, int, int]] = []
        self.current: int | None = None
        self._match_lines: list[int] = []
        # Wrap mode: rows through each kept line (cumulative), for the width they were made for.
        self._row_ends: list[int] = []
        self._row_base = 0  # rows of lines dropped since the last full reflow
        self._wrap_width = 0
        self._styles: dict[str, Style] = {}
        #: the first buffer index changed since the last frame (None: nothing to show)
        self._changed_from: int | None = None
        self._frame_timer: Timer | None = None

    # -- what the view shows -----------------------------------------------------------

    @property
    def _prefix_width(self) -> int:
        return STAMP_WIDTH if self.timestamps else 0

    @property
    def _content_width(self) -> int:
        return max(self.scrollable_content_region.width - self._prefix_width, 1)

    def lines_changed(self, first_changed: int) -> None:
        """New or longer lines from buffer index ``first_changed`` on; follow them if asked.

        Shown at once, unless a frame was shown less than FRAME_SECONDS ago: then with the
        next one.
        """
        pending = self._changed_from
        self._changed_from = first_changed if pending is None else min(pending, first_changed)
        if self._frame_timer is None:
            self._next_frame()

    def _next_frame(self) -> None:
        """Show the lines changed since the last frame (if any), and time the next one."""
        self._frame_timer = None
        if self._changed_from is None:
            return
        self.show_changes()
        self._frame_timer = self.set_timer(FRAME_SECONDS, self._next_frame)

    def show_changes(self) -> None:
        """Show the lines changed since the last frame now."""
        first, self._changed_from = self._changed_from, None
        if first is None:
            return
        if self.wrap:
            self._reflow(first)
        self._update_virtual_size()
        self.refresh()
        if self.follow:
            self._to_end()

    def _to_end(self) -> None:
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def lines_dropped(self, count: int) -> None:
        """The buffer dropped its ``count`` oldest lines: keep the same lines in view."""
        rows = count
        if self._changed_from is not None:
            self._changed_from = max(self._changed_from - count, 0)
        if self.wrap and self._row_ends:
            cut = min(count, len(self._row_ends))
            rows = self._row_ends[cut - 1] - self._row_base
            self._row_base += rows
            del self._row_ends[:cut]
        self._update_virtual_size()
        if not self.follow:
            self.set_scroll(None, max(self.scroll_y - rows, 0))

    def _update_virtual_size(self) -> None:
        if self.wrap:
            rows = self._row_ends[-1] - self._row_base if self._row_ends else 0
            size = Size(self.scrollable_content_region.width, rows)
        else:
            size = Size(self._prefix_width + self.buffer.widest, len(self.buffer))
        old = self.virtual_size
        if size.width == old.width and min(size.height, old.height) > self.size.height:
            # Only longer, with the scrollbar already there: no layout pass. Textual repaints
            # every cell of a widget whose virtual size changed in a layout, which for a log
            # growing a few lines a frame is a screenful of bytes every frame.
            self.set_reactive(LogLines.virtual_size, size)
            if self.show_vertical_scrollbar:
                self.vertical_scrollbar.window_virtual_size = size.height
        else:
            self.virtual_size = size

    def _reflow(self, first: int) -> None:
        width = self._content_width
        if width != self._wrap_width:
            first, self._wrap_width = 0, width
        del self._row_ends[first:]
        if not self._row_ends:
            self._row_base = 0
        total = self._row_ends[-1] if self._row_ends else self._row_base
        texts, widths = self.buffer.texts[first:], self.buffer.widths[first:]
        counts = map(_row_count, texts, widths, repeat(width))
        self._row_ends.extend(accumulate(counts, initial=total))
        del self._row_ends[first]  # accumulate starts with the initial total itself

    def _row_start(self, index: int) -> int:
        """The first virtual row of buffer line ``index`` (wrap mode)."""
        return (self._row_ends[index - 1] if index else self._row_base) - self._row_base

    def _locate(self, row: int) -> tuple[int, int]:
        """The buffer index and the wrapped part of that line shown on virtual ``row``."""
        if not self.wrap:
            return row, 0
        index = bisect_right(self._row_ends, row + self._row_base)
        return index, row - self._row_start(index)

    def watch_wrap(self) -> None:
        self._relayout()

    def watch_timestamps(self) -> None:
        self._relayout()

    def _relayout(self) -> None:
        self.show_changes()
        top_line, _ = self._locate(round(self.scroll_y))
        self._wrap_width = 0
        if self.wrap:
            self._reflow(0)
        self._update_virtual_size()
        self.set_scroll(0, None)
        self.scroll_to_line(top_line, top=True)
        self.refresh()

    def on_resize(self, event: Resize) -> None:
        if self.wrap and self._content_width != self._wrap_width:
            self._relayout()
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def scroll_to_line(self, index: int, *, top: bool = False, column: int = 0) -> None:
        """Bring buffer line ``index`` into view (to the top, or just into view)."""
        self.show_changes()
        row = index
        if self.wrap and self._row_ends:
            row = self._row_start(index) + column // self._content_width
        height = self.scrollable_content_region.height
        if top or not self.scroll_y <= row < self.scroll_y + height:
            self.set_scroll(None, max(min(row - (0 if top else height // 3), self.max_scroll_y), 0))
        if not self.wrap:
            x = column + self._prefix_width
            if not self.scroll_x <= x < self.scroll_x + self._content_width - 10:
                self.set_scroll(max(x - 10, 0), None)
        self.refresh()

    def visible_lines(self) -> list[str]:
        """The buffer lines at least partly on screen."""
        height = self.scrollable_content_region.height
        first, _ = self._locate(round(self.scroll_y))
        last, _ = self._locate(round(self.scroll_y) + max(height - 1, 0))
        return self.buffer.texts[first : last + 1]

    # -- following and scrolling ---------------------------------------------------------

    def action_scroll_up(self) -> None:
        """Scroll up a row (stops following)."""
        self.follow = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        """Scroll up a page (stops following)."""
        self.follow = False
        super().action_page_up()

    def action_scroll_home(self) -> None:
        """Go to the first kept line (stops following)."""
        self.follow = False
        super().action_scroll_home()

    def action_scroll_end(self) -> None:
        """Go to the last line and follow new output."""
        self.follow = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        self.follow = False

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self.show_changes()
            self._to_end()

    # -- search --------------------------------------------------------------------------

    def set_matches(self, matches: list[tuple[int, int, int]]) -> None:
        """Show these search hits (buffer-independent line numbers) highlighted."""
        self.matches = matches
        self._match_lines = [line for line, _, _ in matches]
        self.current = None
        self.refresh()

    def add_matches(self, matches: list[tuple[int, int, int]], from_number: int) -> None:
        """The hits on lines from ``from_number`` on (new or grown lines), replacing old ones."""
        start = bisect_left(self._match_lines, from_number)
        del self.matches[start:], self._match_lines[start:]
        self.matches.extend(matches)
        self._match_lines.extend(line for line, _, _ in matches)
        if self.current is not None and self.current >= len(self.matches):
            self.current = len(self.matches) - 1 if self.matches else None

    def forget_matches_before(self, number: int) -> None:
        """Drop hits on lines the buffer no longer keeps."""
        cut = bisect_left(self._match_lines, number)
        if cut:
            del self.matches[:cut], self._match_lines[:cut]
            if self.current is not None:
                self.current = self.current - cut if self.current >= cut else None

    def jump(self, step: int) -> None:
        """Move to the next (1) or previous (-1) hit after what is on screen, and show it."""
        if not self.matches:
            return
        if self.current is None:
            top_line, _ = self._locate(round(self.scroll_y))
            number = self.buffer.number(top_line)
            found = bisect_left(self._match_lines, number)
            self.current = (
                found % len(self.matches) if step > 0 else (found - 1) % len(self.matches)
            )
        else:
            self.current = (self.current + step) % len(self.matches)
        self.follow = False
        line_number, start, _ = self.matches[self.current]
        self.scroll_to_line(self.buffer.index(line_number), column=start)

    # -- rendering -----------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        """A style by component class name ("base": the widget's own), computed once per
        style change: working them out costs more than drawing a line."""
        style = self._styles.get(name)
        if style is None:
            if name == "base":
                style = self.rich_style
            elif name == "screen--selection":
                style = self.screen.get_component_rich_style(name)
            else:
                style = self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def render_line(self, y: int) -> Strip:
        """One screen row: a (part of a) kept line with its styles and highlights.

        One Text and two Strips per row: this runs for every row on every repaint.
        """
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._style("base")
        index, part = self._locate(scroll_y + y)
        if index >= len(self.buffer):
            return Strip.blank(width, base)
        line = self.buffer.line(index)
        text = self._styled(index, line)
        start = 0
        if self.wrap:
            start, end = _part_span(line, self._content_width, part)
            text = text[start:end]
        if self.timestamps:
            text = self._stamp(line, part).append_text(text)
        offset = start - self._prefix_width  # selection offsets count from the line's start
        if scroll_x and not self.wrap:
            text = text[scroll_x:]
            offset += scroll_x
        text.truncate(width, pad=True)
        # Text.render draws spans only: the widget's own style goes under all of them.
        text.stylize_before(base)
        return Strip(text.render(self.app.console, end=""), width).apply_offsets(offset, index)

    def _stamp(self, line: LogLine, part: int) -> Text:
        if part:
            return Text(" " * STAMP_WIDTH, end="")
        stamp = Text(f"{line.at.astimezone(self.zone):%H:%M:%S} ", end="")
        stamp.stylize(self._style("log-lines--stamp"))  # a span: render() skips a base style
        return stamp

    def _styled(self, index: int, line: LogLine) -> Text:
        text = Text(line.text, no_wrap=True, end="")
        if line.stream != "stdout":
            text.stylize(self._style(f"log-lines--{line.stream}"))
        number = self.buffer.number(index)
        hits = self._match_lines
        for position in range(bisect_left(hits, number), bisect_right(hits, number)):
            _, start, end = self.matches[position]
            name = "log-lines--current" if position == self.current else "log-lines--match"
            text.stylize(self._style(name), start, end)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(index)) is not None:
            start, end = span
            style = self._style("screen--selection")
            text.stylize(style, max(start, 0), len(text) if end == -1 else end)
        return text

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, taken from the kept lines the selection spans."""
        texts = self.buffer.texts
        first = selection.start.y if selection.start else 0
        last = min(selection.end.y if selection.end else len(texts) - 1, len(texts) - 1)
        if first > last:
            return None
        picked = texts[first : last + 1]
        if selection.end is not None:
            picked[-1] = picked[-1][: max(selection.end.x, 0)]
        if selection.start is not None:
            picked[0] = picked[0][max(selection.start.x, 0) :]
        return "\n".join(picked), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()


def _row_count(text: str, cells: int, width: int) -> int:
    """Screen rows a line takes when wrapped at ``width`` cells."""
    if cells <= width:
        return 1
    if cells == len(text):  # one cell per character: plain arithmetic
        return -(-cells // width)
    return len(chop_cells(text, width))


def _part_span(line: LogLine, width: int, part: int) -> tuple[int, int]:
    """The characters of ``line`` on its ``part``-th wrapped row."""
    if line.cells == len(line.text):
        return part * width, (part + 1) * width
    pieces = chop_cells(line.text, width)
    start = sum(len(piece) for piece in pieces[:part])
    return start, start + (len(pieces[part]) if part < len(pieces) else 0)
