"""The schedules screen: every schedule with its timing in words and a live countdown.

`n` creates, enter or `e` edits (the form previews fire times as you type), space or `p`
pauses and resumes, `x` runs the schedule now and opens the run, `d` deletes after a confirm,
`l` opens the occurrence ledger, `/` filters the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from console.messages import OpenRun
from console.screens.base import JobdeckScreen
from console.screens.confirm import ConfirmModal
from console.screens.ledger import LedgerScreen
from console.screens.schedule_form import ScheduleFormModal
from console.widgets import KeyedTable, SessionInfo, cells
from console.widgets.countdown import countdown_text
from core.backend.protocol import Backend
from core.backend.views import ScheduleView
from core.errors import Conflict, JobdeckError
from core.jobs.durations import format_duration
from core.jobs.timing.wording import describe_schedule

#: (column key, label) in display order: what matters at 80 columns comes first.
COLUMNS = (
    ("name", "Name"),
    ("state", "State"),
    ("next", "Next run"),
    ("last", "Last run"),
    ("timing", "Timing"),
    ("template", "Template"),
)
#: Actions that need a highlighted schedule.
ROW_ACTIONS = frozenset({"edit", "toggle_active", "run_now", "delete", "ledger"})


def schedule_cells(
    schedule: ScheduleView, now: datetime, theme: Mapping[str, str]
) -> Sequence[Text]:
    """One table row for a schedule; the countdown is computed from ``now``."""
    state = "active" if schedule.is_active else "paused"
    countdown = countdown_text(schedule.next_run, now) if schedule.is_active else "—"
    if countdown.startswith("late"):  # the scheduler is behind: it must stand out
        next_run = cells.styled(countdown, theme, "text-warning", "bold")
    else:
        next_run = cells.plain(countdown)
    return (
        cells.plain(schedule.job_identifier),
        cells.SCHEDULE_LOOKS.text(state, theme),
        next_run,
        cells.status(schedule.last_run_status, theme),
        cells.plain(describe_schedule(schedule)),
        cells.muted(schedule.template_name or "—"),
    )


def matches(schedule: ScheduleView, words: str) -> bool:
    """Whether every word of the filter appears in the schedule's name, template or timing."""
    haystack = " ".join(
        (
            schedule.job_identifier,
            schedule.template_name or "",
            describe_schedule(schedule),
            "active" if schedule.is_active else "paused",
        )
    ).lower()
    return all(word in haystack for word in words.lower().split())


class SchedulesScreen(JobdeckScreen):
    """Lists schedules in a keyed table whose countdowns tick every second."""

    CSS_PATH = "schedules.tcss"
    WATCHES = frozenset({"schedule", "occurrence", "run"})
    LOAD_GROUP = "schedules"
    WRITE_ACTIONS = frozenset({"new", "edit", "toggle_active", "run_now", "delete"})
    BINDINGS = [
        Binding("n", "new", "New", id="schedules.new"),
        Binding("e", "edit", "Edit", id="schedules.edit"),
        Binding("space,p", "toggle_active", "Pause", id="schedules.toggle"),
        Binding("x", "run_now", "Run", id="schedules.run"),
        Binding("d", "delete", "Delete", id="schedules.delete"),
        Binding("l", "ledger", "Ledger", id="schedules.ledger"),
        Binding("slash", "filter", "Filter", id="schedules.filter"),
        Binding("r", "refresh", "Refresh", show=False, id="schedules.refresh"),
    ]

    def __init__(self, backend: Backend, session: SessionInfo) -> None:
        super().__init__(backend, session)
        self.schedules: dict[str, ScheduleView] = {}
        self.filter_text = ""
        self._focus_key: str | None = None

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(id="schedules-table", whole_columns=("state", "last"))
        yield Static("", id="schedule-detail", markup=False)
        yield Input(placeholder="filter: name, template, timing…", id="schedules-filter")

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.border_title = "Schedules"
        table.loading = True
        self.set_interval(1.0, self.tick, name="countdowns")

    # -- data -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Fetch the schedules again."""
        self.load_schedules()

    def action_refresh(self) -> None:
        """Reload the schedules from the backend."""
        self.load_schedules()

    @work(exclusive=True, group="schedules")
    async def load_schedules(self) -> None:
        """Fetch schedules and show them."""
        table = self.query_one(KeyedTable)
        try:
            schedules = await self.backend.list_schedules()
        except JobdeckError as exc:
            self.notify(str(exc), title="Schedules not loaded", severity="error")
            return
        finally:
            table.loading = False
        self.schedules = {str(s.id): s for s in schedules}
        self.show_rows()
        self.refresh_bindings()  # row actions grey out on an empty table

    def tick(self) -> None:
        """Move the countdowns on without asking the backend (only while on view)."""
        if self.is_current and self.schedules:
            self.show_rows()

    def show_rows(self) -> None:
        """Apply the cached schedules, filtered, to the table (a diff: the cursor stays)."""
        table = self.query_one(KeyedTable)
        now = self.session.clock.now()
        theme = self.app.get_css_variables()
        shown = {
            key: schedule_cells(s, now, theme)
            for key, s in self.schedules.items()
            if matches(s, self.filter_text)
        }
        table.apply_rows(shown)
        if self._focus_key in shown:
            table.move_cursor(row=table.get_row_index(self._focus_key))
            self._focus_key = None
        total = len(self.schedules)
        count = f"{len(shown)}/{total}" if self.filter_text else str(total)
        title = f"Schedules ({count})"
        table.set_titles(f"{title} /{self.filter_text}" if self.filter_text else title)
        self.show_detail()

    @on(DataTable.RowHighlighted)
    def show_detail(self) -> None:
        """Spell out the highlighted schedule under the table (its full timing, policies)."""
        schedule = self.highlighted
        detail = self.query_one("#schedule-detail", Static)
        if schedule is None:
            empty = not self.schedules and self.session.writable
            detail.update("No schedules yet: press n to create one." if empty else "")
            return
        when = "paused" if not schedule.is_active else "not scheduled"
        if schedule.is_active and schedule.next_run is not None:
            local = schedule.next_run.astimezone(self.session.zone)
            when = f"next {local:%Y-%m-%d %H:%M:%S %Z}"
        detail.update(
            f"{schedule.job_identifier}: {describe_schedule(schedule)} · {when} · overlap "
            f"{schedule.overlap} · catch-up {schedule.catchup} · start deadline "
            f"{format_duration(schedule.start_deadline_seconds)}"
        )

    @property
    def highlighted(self) -> ScheduleView | None:
        """The schedule under the cursor."""
        key = self.query_one(KeyedTable).highlighted_key
        return None if key is None else self.schedules.get(key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not super().check_action(action, parameters):
            return False
        if action in ROW_ACTIONS and self.highlighted is None:
            return None  # shown greyed: there is no schedule to act on
        return True

    # -- filter ---------------------------------------------------------------------------

    def apply_argument(self, argument: str) -> None:
        """`:schedules riga` opens the screen filtered by "riga"."""
        box = self.query_one("#schedules-filter", Input)
        box.value = argument
        box.display = bool(argument)

    def action_filter(self) -> None:
        """Show the filter line and type into it."""
        box = self.query_one("#schedules-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#schedules-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.show_rows()

    @on(Input.Submitted, "#schedules-filter")
    def _filter_done(self) -> None:
        self.query_one(KeyedTable).focus()

    def action_back(self) -> None:
        """Clear an active filter first; otherwise back out as every screen does."""
        box = self.query_one("#schedules-filter", Input)
        if box.display or self.filter_text:
            box.value = ""
            box.display = False
            self.query_one(KeyedTable).focus()
            return
        super().action_back()

    # -- actions --------------------------------------------------------------------------

    def action_new(self) -> None:
        """Open the form for a new schedule."""
        form = ScheduleFormModal(self.backend, self.session)
        self.app.push_screen(form, self._saved)

    @on(DataTable.RowSelected, "#schedules-table")
    def _row_chosen(self) -> None:
        # enter edits; a read-only session cannot, so it shows the ledger instead
        if self.session.writable:
            self.action_edit()
        else:
            self.action_ledger()

    def action_edit(self) -> None:
        """Open the form on the highlighted schedule."""
        schedule = self.highlighted
        if schedule is None:
            return
        self.app.push_screen(ScheduleFormModal(self.backend, self.session, schedule), self._saved)

    def _saved(self, schedule: ScheduleView | None) -> None:
        if schedule is None:
            return
        self._focus_key = str(schedule.id)
        self.notify(f"{schedule.job_identifier}: {describe_schedule(schedule)}", title="Saved")
        self.load_schedules()

    @work(group="schedule-actions")
    async def action_toggle_active(self) -> None:
        """Pause an active schedule, resume a paused one."""
        schedule = self.highlighted
        if schedule is None:
            return
        try:
            changed = await self.backend.set_schedule_active(schedule.id, not schedule.is_active)
        except JobdeckError as exc:
            self.notify(str(exc), title="Not changed", severity="error")
            return
        if changed.is_active:
            due = countdown_text(changed.next_run, self.session.clock.now())
            self.notify(f"{changed.job_identifier} resumed; next run {due}")
        else:
            self.notify(f"{changed.job_identifier} paused")
        self.schedules[str(changed.id)] = changed
        self.show_rows()

    @work(group="schedule-actions")
    async def action_run_now(self) -> None:
        """Run the schedule now (its template with its overrides) and open the run."""
        schedule = self.highlighted
        if schedule is None:
            return
        try:
            run = await self.backend.run_schedule(schedule.id)
        except Conflict as exc:
            question = ConfirmModal(
                f"Run {schedule.job_identifier} anyway?", [str(exc)], confirm_label="Run anyway"
            )
            if not await self.app.push_screen_wait(question):
                return
            try:
                run = await self.backend.run_schedule(schedule.id, force=True)
            except JobdeckError as forced_exc:
                self.notify(str(forced_exc), title="Not started", severity="error")
                return
        except JobdeckError as exc:
            self.notify(str(exc), title="Not started", severity="error")
            return
        self.notify(f"run #{run.id} of {schedule.job_identifier} queued", title="Run now")
        self.post_message(OpenRun(run.id))

    @work(group="schedule-actions")
    async def action_delete(self) -> None:
        """Delete the highlighted schedule after a confirm (its runs stay)."""
        schedule = self.highlighted
        if schedule is None:
            return
        question = ConfirmModal(
            f"Delete schedule {schedule.job_identifier}?",
            [
                f"{describe_schedule(schedule)}, runs {schedule.template_name or 'a template'}.",
                "Its runs stay in the history; it will not fire again.",
            ],
            confirm_label="Delete",
        )
        if not await self.app.push_screen_wait(question):
            return
        try:
            await self.backend.delete_schedule(schedule.id)
        except JobdeckError as exc:
            self.notify(str(exc), title="Not deleted", severity="error")
            return
        self.notify(f"schedule {schedule.job_identifier} deleted")
        self.schedules.pop(str(schedule.id), None)
        self.show_rows()

    def action_ledger(self) -> None:
        """Show what became of each occurrence of the highlighted schedule."""
        schedule = self.highlighted
        if schedule is not None:
            self.app.push_screen(LedgerScreen(self.backend, self.session, schedule))
