"""The runs screen: a live, filterable window onto every run, paged from the database.

The table holds one window of ``WINDOW`` runs (a keyset page). Moving past its last row loads
the next window, past its first row the previous one; live reloads refetch only the window on
screen. Counts per status are fetched at most every ``COUNTS_SECONDS`` (a count over a million
runs is the expensive query).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from console.messages import OpenRun
from console.screens.run_control import RunControlScreen
from console.screens.run_filter import SORTS, RunFilterModal, RunFilters, parse_filters
from console.widgets import SessionInfo
from console.widgets.run_cells import NARROW_DROPS, RUN_COLUMNS, duration_cell, run_row
from console.widgets.runs_table import RunSearch, RunsTable
from core.backend.inputs import RunQuery
from core.backend.protocol import Backend
from core.backend.views import ACTIVE_STATUSES, RUN_STATUSES, RunPage, RunView
from core.errors import JobdeckError, NotFound, ValidationFailed

#: Runs held in the table at once.
WINDOW = 100
#: Counts per status are refreshed at most this often.
COUNTS_SECONDS = 10.0
#: Below this width the least needed columns give way (see NARROW_DROPS), one per step.
NARROW_WIDTHS = (120, 100, 84)
#: The order counts are listed in: what needs attention first.
COUNT_ORDER = ("running", "pending", "failed", "timed_out", "lost", "cancelled", "completed")
#: Windows kept for paging back and forth without waiting (the one on screen, the one
#: before it, the one after it, prefetched).
PAGES_KEPT = 3
#: Typing in the `/` filter waits this long for a pause before asking the backend.
SEARCH_DEBOUNCE = 0.3
#: A kept window paged to is fetched again this long after it is shown (a few frames).
REFETCH_AFTER_PAGING = 0.05
#: Times a live reload asks again when more runs arrived above the rows on screen than it
#: asked for besides its window.
WAITING_REFETCHES = 2


class RunsScreen(RunControlScreen):
    """Every run, newest first, live; filter, sort, page, open, cancel, retry, delete."""

    CSS_PATH = "runs.tcss"
    AUTO_FOCUS = "#runs-table"
    WATCHES = frozenset({"run", "occurrence"})
    LOAD_GROUP = "runs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open_run", "Open", id="runs.open"),
        Binding("c", "cancel_run", "Cancel run", id="runs.cancel"),
        Binding("R", "retry_run", "Retry", id="runs.retry"),
        Binding("d", "delete_run", "Delete", id="runs.delete"),
        # priority: run as the key arrives, so the keys typed right after it reach the field
        Binding("slash", "search", "Find", priority=True, id="runs.search"),
        Binding("f", "filter", "Filter", id="runs.filter"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="runs.clear"),
        Binding("s", "next_sort", "Sort", id="runs.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="runs.reverse"),
        Binding("r", "refresh", "Refresh", show=False, id="runs.refresh"),
    ]

    def __init__(self, backend: Backend, session: SessionInfo) -> None:
        super().__init__(backend, session)
        self.filters = RunFilters()
        self.runs: dict[str, RunView] = {}
        #: where each window visited so far starts (None: the newest run); the last is on screen
        self.window_starts: list[str | None] = [None]
        self.next_cursor: str | None = None
        self.counts: dict[str, int] | None = None
        self._counts_at = 0.0
        self._columns: tuple[str, ...] = ()
        self._cursor_to: str | None = None
        self._search_timer: Timer | None = None
        self._refetch_timer: Timer | None = None
        self._ids: dict[tuple[str, str], int] = {}
        #: recently fetched windows by their start, oldest first (see _remember)
        self._pages: dict[str | None, RunPage] = {}
        #: the cells drawn for each run shown or kept, with the run they were drawn from,
        #: and the columns and theme they were drawn for (see _rows_for)
        self._drawn: dict[str, tuple[RunView, list[Text]]] = {}
        self._drawn_for: tuple[tuple[str, ...], dict[str, str]] = ((), {})
        #: runs that arrived above the rows on screen and have not been on screen since
        self.unseen: set[str] = set()

    def compose_body(self) -> ComposeResult:
        yield Static(id="runs-filters", markup=False)
        yield RunSearch(
            placeholder="name contains… (enter: done, escape: clear)",
            id="runs-search",
            compact=True,
        )
        yield RunsTable(id="runs-table")

    def on_mount(self) -> None:
        table = self.query_one(RunsTable)
        table.loading = True
        self._set_columns(self._columns_for(self.size.width))
        self._show_filters()
        self.set_interval(1.0, self._tick)

    # -- columns -------------------------------------------------------------------------

    @staticmethod
    def _columns_for(width: int) -> tuple[str, ...]:
        steps = zip(NARROW_DROPS, NARROW_WIDTHS, strict=True)
        dropped = {key for key, limit in steps if width < limit}
        return tuple(key for key, _ in RUN_COLUMNS if key not in dropped)

    def _set_columns(self, columns: tuple[str, ...]) -> None:
        table = self.query_one(RunsTable)
        highlighted = table.highlighted_key
        self._columns = columns
        table.clear(columns=True)
        labels = dict(RUN_COLUMNS)
        for key in columns:
            table.add_column(labels[key], key=key)
        self._show_runs()
        if highlighted in self.runs:
            table.move_cursor(row=table.get_row_index(highlighted))

    def on_resize(self, event: Resize) -> None:
        columns = self._columns_for(event.size.width)
        if columns != self._columns:
            self._set_columns(columns)

    # -- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        """Refetch the window on screen (and the counts, when they are old).

        Not while hidden under another screen: resuming reloads anyway.
        """
        if self._on_view():
            self.load_window()

    def _on_view(self) -> bool:
        # Visible: on top, or under dialogs only (Screen.is_current also counts the screen
        # right under an opaque one, such as a run detail).
        for screen in reversed(self.app.screen_stack):
            if not isinstance(screen, ModalScreen):
                return screen is self
        return False

    def action_refresh(self) -> None:
        """Reload the window and the counts now."""
        self._counts_at = 0.0
        self.load_window()

    async def _query(self, cursor: str | None, waiting: int = 0) -> RunQuery:
        f = self.filters
        template_ids: tuple[int, ...] = ()
        schedule_ids: tuple[int, ...] = ()
        if f.template:
            template_ids = (await self._id_of("template", f.template),)
        if f.schedule:
            schedule_ids = (await self._id_of("schedule", f.schedule),)
        return RunQuery(
            status=f.status,
            job_type=(f.job_type,) if f.job_type else (),
            triggered_by=(f.trigger,) if f.trigger else (),
            template_id=template_ids,
            schedule_id=schedule_ids,
            search=f.search or None,
            sort=SORTS[f.sort],
            descending=f.descending,
            limit=WINDOW + waiting,
            cursor=cursor,
            with_total=False,  # the counts come from run_counts, at most every COUNTS_SECONDS
        )

    async def _id_of(self, kind: str, ref: str) -> int:
        # Asked once per name, not on every live reload (ids never change).
        if (kind, ref) not in self._ids:
            found = (
                await self.backend.get_template(ref)
                if kind == "template"
                else await self.backend.get_schedule(ref)
            )
            self._ids[kind, ref] = found.id
        return self._ids[kind, ref]

    @work(exclusive=True, group="runs")
    async def load_window(self) -> None:
        """Fetch the window on screen and show it, keeping the cursor on its run."""
        table = self.query_one(RunsTable)
        try:
            query = await self._query(self.window_starts[-1], len(self.unseen))
            page = await self.backend.list_runs(query)
            for _ in range(WAITING_REFETCHES):
                # More runs arrived above the rows on screen than were asked for: ask again
                # for a whole window besides them, so the rows shown stay as many (a table
                # one row shorter draws its whole scrollbar again).
                waiting = len(self._waiting(page))
                if not page.next_cursor or len(page.items) - waiting >= WINDOW:
                    break
                query = await self._query(self.window_starts[-1], min(waiting, WINDOW))
                page = await self.backend.list_runs(query)
            if not page.items and len(self.window_starts) > 1:
                # The runs of this window went away (cleared, filtered out): step back.
                self.window_starts.pop()
                self._cursor_to = "last"
                query = query.model_copy(update={"cursor": self.window_starts[-1]})
                page = await self.backend.list_runs(query)
        except (NotFound, ValidationFailed) as exc:
            self.notify(str(exc), title="Filter not applied", severity="error")
            self.filters = RunFilters(sort=self.filters.sort, descending=self.filters.descending)
            self._show_filters()
            self.load_window()
            return
        except JobdeckError as exc:
            self.notify(str(exc), title="Runs not loaded", severity="error")
            return
        finally:
            table.loading = False
        self._remember(query.cursor, page)
        self._show_page(page)
        if time.monotonic() - self._counts_at >= COUNTS_SECONDS:
            self._counts_at = time.monotonic()
            self.load_counts(query.model_copy(update={"status": (), "cursor": None}))
        if page.next_cursor and page.next_cursor not in self._pages:
            self.prefetch(page.next_cursor)

    def _show_page(self, page: RunPage) -> None:
        """Show a window of runs; the cursor goes where paging asked, else stays on its run.

        With the cursor on the top row of the newest window it stays there, on the newest
        run (following the newest: the rows shift). Anywhere else the rows on screen stay
        where they are: runs arriving above them wait there, counted in the title
        (``▲ 3 newer``), until `g` (or moving up past the top row) shows them.
        """
        table = self.query_one(RunsTable)
        following = self._following()
        self.unseen = self._waiting(page)
        self.runs = {str(run.id): run for run in page.items}
        self.next_cursor = page.next_cursor
        self._show_runs()
        if self._cursor_to and table.row_count:
            table.move_cursor(row=0 if self._cursor_to == "first" else table.row_count - 1)
        elif following and table.row_count:
            table.move_cursor(row=0)
        self._cursor_to = None
        self._show_title()
        self.update_bindings()

    def _following(self) -> bool:
        """Whether the cursor is on the top row of the newest window (following the newest)."""
        return self.query_one(RunsTable).cursor_row <= 0 and len(self.window_starts) == 1

    def _waiting(self, page: RunPage) -> set[str]:
        """The runs of ``page`` that wait above the rows on screen: new since the table was
        shown (or waiting already) and above its top row, unless the cursor follows the
        newest or paging moves it."""
        table = self.query_one(RunsTable)
        order = [str(run.id) for run in page.items]
        top_key = self._top_key(table)
        if self._cursor_to or self._following() or top_key not in order:
            return set()
        shown = set(table.keys_in_order)
        above = order[: order.index(top_key)]
        return {key for key in above if key not in shown or key in self.unseen}

    @staticmethod
    def _top_key(table: RunsTable) -> str | None:
        """The run on the top row on screen."""
        keys = table.keys_in_order
        top = round(table.scroll_y)
        return keys[top] if 0 <= top < len(keys) else None

    def _show_newer(self) -> None:
        """Show the runs waiting above the rows on screen, the cursor on the newest."""
        if self.unseen:
            self.unseen.clear()
            self._show_runs()
            self.query_one(RunsTable).move_cursor(row=0)
            self._show_title()

    def _remember(self, start: str | None, page: RunPage) -> None:
        """Keep the pages around the one on screen, so paging to them shows at once."""
        self._pages.pop(start, None)
        self._pages[start] = page
        while len(self._pages) > PAGES_KEPT:
            del self._pages[next(iter(self._pages))]
        kept = {str(run.id) for kept in self._pages.values() for run in kept.items}
        for key in [key for key in self._drawn if key not in kept and key not in self.runs]:
            del self._drawn[key]

    @work(exclusive=True, group="runs-prefetch")
    async def prefetch(self, start: str) -> None:
        """Fetch the window after the one on screen before the operator pages to it."""
        try:
            query = await self._query(start)
            page = await self.backend.list_runs(query)
        except JobdeckError:
            return  # paging there fetches it again and says what went wrong
        if start in self.window_starts or start == self.next_cursor:
            self._remember(start, page)
            self._rows_for(page.items)  # drawn now, while idle, not when paged to

    @work(exclusive=True, group="runs-counts")
    async def load_counts(self, everything: RunQuery) -> None:
        """Count the runs matching the filters but the status, by status, for the title.

        After the rows are shown, not before: over a million runs this is the slow query.
        """
        try:
            self.counts = await self.backend.run_counts(everything)
        except JobdeckError as exc:
            self.notify(str(exc), title="Run counts not loaded", severity="warning")
            return
        self._show_title()

    def _show_runs(self) -> None:
        runs = [run for key, run in self.runs.items() if key not in self.unseen]
        self.query_one(RunsTable).apply_rows(self._rows_for(runs))

    def _rows_for(self, runs: Iterable[RunView]) -> dict[str, list[Text]]:
        """The table cells of ``runs``, by run id.

        Cells drawn before from the same run object are reused: a prefetched window is drawn
        while the table is idle, so paging to it only shows it. A live run's are drawn again
        (its duration ticks); a kept window is fetched again once shown, which draws its
        runs afresh.
        """
        theme = self.app.get_css_variables()
        if (self._columns, theme) != self._drawn_for:
            self._drawn.clear()
            self._drawn_for = (self._columns, theme)
        now, zone = self.session.clock.now(), self.session.zone
        rows = {}
        for run in runs:
            key = str(run.id)
            drawn = self._drawn.get(key)
            if drawn is None or drawn[0] is not run or run.status in ACTIVE_STATUSES:
                drawn = (run, run_row(run, theme, now, zone, self._columns))
                self._drawn[key] = drawn
            rows[key] = drawn[1]
        return rows

    def _show_title(self) -> None:
        table = self.query_one(RunsTable)
        # Runs waiting above (▲ newer) come first in the window, though not shown yet.
        first = (len(self.window_starts) - 1) * WINDOW + len(self.unseen)
        shown = f"{first + 1:,}-{first + table.row_count:,}" if table.row_count else "none"
        total = self._matching_count()
        if total is not None:
            # Counts are refreshed every COUNTS_SECONDS; runs added since are shown already.
            total = max(total, first + table.row_count + (1 if self.next_cursor else 0))
        title = f"Runs {shown}" + ("" if total is None else f" of {total:,}")
        if self.next_cursor:
            title += " ↓ more"
        if self.unseen:
            title = f"▲ {len(self.unseen):,} newer (g) · {title}"
        table.set_titles(title, self._counts_text())

    def _matching_count(self) -> int | None:
        if self.counts is None:
            return None
        statuses = self.filters.status or RUN_STATUSES
        return sum(self.counts.get(status, 0) for status in statuses)

    def _counts_text(self) -> str:
        if not self.counts:
            return ""
        shown = [f"{self.counts[s]:,} {s}" for s in COUNT_ORDER if self.counts.get(s)]
        return " · ".join(shown)

    def _show_filters(self) -> None:
        described = self.filters.describe() or "all runs"
        text = Text.assemble(
            ("filter ", "dim"), described, ("  sort ", "dim"), self.filters.sort_label
        )
        if self.filters.narrowed:
            text.append("  (x clears)", style="dim")
        self.query_one("#runs-filters", Static).update(text)

    def _tick(self) -> None:
        # Running runs' durations grow every second; only their duration cells change.
        if not self._on_view() or "duration" not in self._columns:
            return
        table = self.query_one(RunsTable)
        now = self.session.clock.now()
        for key, run in self.runs.items():
            if run.status == "running" and run.started_at is not None and key not in self.unseen:
                cell = duration_cell(run, now)
                if cell != table.get_cell(key, "duration"):  # unchanged: no bytes to send
                    table.update_cell(key, "duration", cell)

    # -- paging --------------------------------------------------------------------------

    @on(RunsTable.PastEdge)
    def _past_edge(self, event: RunsTable.PastEdge) -> None:
        if event.step < 0 and self.unseen:
            self._show_newer()
            return
        if event.step > 0 and self.next_cursor:
            self.window_starts.append(self.next_cursor)
            self._cursor_to = "first"
        elif event.step < 0 and len(self.window_starts) > 1:
            if event.home:
                self.window_starts = [None]
            else:
                self.window_starts.pop()
            self._cursor_to = "first" if event.home else "last"
        else:
            return
        kept = self._pages.get(self.window_starts[-1])
        if kept is None:
            self.load_window()
            return
        # Shown at once, and fetched again to bring it up to date (a diff: the cursor stays)
        # only once that frame is out: the key is answered by one frame, not by a frame and
        # a fetch. (After a refresh is not late enough: the screen may be idle before the
        # table has even asked to be drawn.)
        self._show_page(kept)
        if self._refetch_timer is not None:
            self._refetch_timer.stop()
        self._refetch_timer = self.set_timer(REFETCH_AFTER_PAGING, self.load_window)

    def _restart(self) -> None:
        self.unseen.clear()
        self._pages.clear()
        self.window_starts = [None]
        self._cursor_to = "first"
        self._counts_at = 0.0
        self._show_filters()
        self.load_window()

    # -- filters -------------------------------------------------------------------------

    def apply_argument(self, argument: str) -> None:
        """`:runs failed`, `:runs template=backup status=failed,lost sort=duration`."""
        try:
            self.filters = parse_filters(argument)
        except ValidationFailed as exc:
            self.notify(exc.problem, title=f"`:runs {argument}` not understood", severity="error")
            return
        self.query_one("#runs-search", Input).value = self.filters.search
        self._restart()

    def action_filter(self) -> None:
        """Open the filter dialog."""
        self.open_filter_dialog()

    @work(exclusive=True, group="runs-filter")
    async def open_filter_dialog(self) -> None:
        """Fetch the choices (types, templates, schedules), then ask for the filters."""
        try:
            job_types = [t.name for t in await self.backend.job_types()]
            templates = [t.name for t in await self.backend.list_templates()]
            schedules = [s.job_identifier for s in await self.backend.list_schedules()]
        except JobdeckError as exc:
            self.notify(str(exc), title="Filter choices not loaded", severity="error")
            return
        dialog = RunFilterModal(
            self.filters, job_types=job_types, templates=templates, schedules=schedules
        )
        self.app.push_screen(dialog, self._filters_chosen)

    def _filters_chosen(self, chosen: RunFilters | None) -> None:
        if chosen is not None and chosen != self.filters:
            self.filters = chosen
            self.query_one("#runs-search", Input).value = chosen.search
            self._restart()

    def action_clear_filters(self) -> None:
        """Show every run again (the sort stays)."""
        self.filters = RunFilters(sort=self.filters.sort, descending=self.filters.descending)
        self.query_one("#runs-search", Input).value = ""
        self._restart()

    def action_next_sort(self) -> None:
        """Sort by the next key: queued, started, completed, duration, name."""
        keys = list(SORTS)
        following = keys[(keys.index(self.filters.sort) + 1) % len(keys)]
        self.filters = replace(self.filters, sort=following)
        self._restart()

    def action_reverse_sort(self) -> None:
        """Flip the sort direction."""
        self.filters = replace(self.filters, descending=not self.filters.descending)
        self._restart()

    def action_search(self) -> None:
        """Filter by name as you type."""
        search = self.query_one("#runs-search", Input)
        search.add_class("-shown")
        # At once, not after a refresh (focus()): keys typed right after `/` must land here.
        self.set_focus(search)

    @on(Input.Changed, "#runs-search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE, self._search_now)

    def _search_now(self) -> None:
        text = self.query_one("#runs-search", Input).value.strip()
        if text != self.filters.search:
            self.filters = replace(self.filters, search=text)
            self._restart()

    @on(Input.Submitted, "#runs-search")
    def _search_submitted(self) -> None:
        self._search_now()
        search = self.query_one("#runs-search", Input)
        search.set_class(bool(search.value), "-shown")
        self.set_focus(self.query_one(RunsTable))

    # -- the highlighted run -------------------------------------------------------------

    def target_run(self) -> RunView | None:
        """The highlighted run."""
        key = self.query_one(RunsTable).highlighted_key
        return self.runs.get(key) if key is not None else None

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        if self.query_one(RunsTable).cursor_row == 0:
            self._show_newer()  # the top row follows the newest run
        self.update_bindings()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        """Open the highlighted run."""
        run = self.target_run()
        if run is not None:
            self.post_message(OpenRun(run.id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search" and isinstance(self.focused, Input):
            return False  # a `/` typed into a field is a character
        if action == "open_run":
            return True if self.target_run() is not None else None
        return super().check_action(action, parameters)
