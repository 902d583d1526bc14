"""One run: a summary on top, then its live log, details and parameters, attempts and result."""

from __future__ import annotations

import asyncio
import json

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from console.messages import BackendChanged
from console.screens.run_control import RunControlScreen
from console.widgets import KeyedTable, SessionInfo, cells
from console.widgets.log_lines import LogLines
from console.widgets.log_view import LogView
from console.widgets.run_cells import elapsed, full_time, json_text, when
from core.backend.protocol import Backend
from core.backend.views import ACTIVE_STATUSES, AttemptView, RunView
from core.errors import JobdeckError, NotFound
from core.jobs.durations import format_duration

ATTEMPT_COLUMNS = (
    ("attempt", "#"),
    ("status", "Status"),
    ("started", "Started"),
    ("completed", "Completed"),
    ("exit", "Exit"),
    ("worker", "Worker"),
    ("pid", "PID"),
    ("error", "Error"),
)
#: Tab pane ids by the key that shows them.
TABS = {
    "log": "tab-log",
    "details": "tab-details",
    "attempts": "tab-attempts",
    "result": "tab-result",
}


class RunDetailScreen(RunControlScreen):
    """Everything about one run; follows it live until it ends. `escape` goes back."""

    CSS_PATH = "run_detail.tcss"
    BINDINGS = [
        Binding("c", "cancel_run", "Cancel run", id="run_detail.cancel"),
        Binding("R", "retry_run", "Retry", id="run_detail.retry"),
        Binding("d", "delete_run", "Delete", show=False, id="run_detail.delete"),
        Binding("l", "show_tab('log')", "Log", show=False, id="run_detail.log"),
        Binding("i", "show_tab('details')", "Details", show=False, id="run_detail.details"),
        Binding("a", "show_tab('attempts')", "Attempts", show=False, id="run_detail.attempts"),
        Binding("J", "show_tab('result')", "Result", show=False, id="run_detail.result"),
        Binding("r", "refresh", "Refresh", show=False, id="run_detail.refresh"),
    ]

    def __init__(self, backend: Backend, session: SessionInfo, run_id: int) -> None:
        super().__init__(backend, session)
        self.run_id = run_id
        self.run: RunView | None = None
        self.attempts: list[AttemptView] = []

    def compose_body(self) -> ComposeResult:
        yield Static(f"run {self.run_id}: loading…", id="run-summary", markup=False)
        with TabbedContent(id="run-tabs"):
            with TabPane("Log (l)", id=TABS["log"]):
                yield LogView(self.backend, self.run_id, self.session.zone, id="run-log")
            with TabPane("Details (i)", id=TABS["details"]), VerticalScroll(id="run-details"):
                yield Static(id="run-meta")
                yield Static(id="run-parameters")
            with TabPane("Attempts (a)", id=TABS["attempts"]):
                yield KeyedTable(id="attempts-table")
            with TabPane("Result (J)", id=TABS["result"]), VerticalScroll(id="run-result-box"):
                yield Static(id="run-result")

    def on_mount(self) -> None:
        table = self.query_one("#attempts-table", KeyedTable)
        for key, label in ATTEMPT_COLUMNS:
            table.add_column(label, key=key)
        self.query_one(LogLines).focus()
        self.set_interval(1.0, self._tick)

    def target_run(self) -> RunView | None:
        """The run shown."""
        return self.run

    def wants(self, event: BackendChanged) -> bool:
        """Changes of this run (its status, its attempts) reload it."""
        return event.touches("run", self.run_id)

    # -- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        """Fetch the run and its attempts again."""
        self.load_run()

    def action_refresh(self) -> None:
        """Reload the run from the backend."""
        self.load_run()

    @work(exclusive=True, group="run-detail")
    async def load_run(self) -> None:
        """Fetch the run and its attempts and show them."""
        try:
            run, attempts = await asyncio.gather(
                self.backend.get_run(self.run_id), self.backend.run_attempts(self.run_id)
            )
        except NotFound:
            self.query_one("#run-summary", Static).update(f"run {self.run_id} no longer exists")
            self.run = None
            self.update_bindings()
            return
        except JobdeckError as exc:
            self.notify(str(exc), title=f"Run {self.run_id} not loaded", severity="error")
            return
        self.run, self.attempts = run, attempts
        self._show()
        if run.status in ACTIVE_STATUSES:
            self.query_one(LogView).resume()
        self.update_bindings()

    def _show(self) -> None:
        assert self.run is not None
        run = self.run
        theme = self.app.get_css_variables()
        self.query_one("#run-summary", Static).update(self._summary(run, theme))
        self.query_one("#run-meta", Static).update(self._metadata(run, theme))
        self.query_one("#run-parameters", Static).update(_parameters(run))
        result = (
            cells.muted("no result: this run returned nothing")
            if run.result is None
            else json_text(run.result, theme)
        )
        self.query_one("#run-result", Static).update(result)
        table = self.query_one("#attempts-table", KeyedTable)
        table.apply_rows({str(a.attempt): self._attempt_cells(a, theme) for a in self.attempts})
        table.set_titles(f"Attempts ({len(self.attempts)} of at most {run.max_attempts})")

    def _tick(self) -> None:
        # A running run's elapsed time grows every second: in the header and in Details.
        if self.run is not None and self.run.status == "running":
            theme = self.app.get_css_variables()
            summary = self._summary(self.run, theme)
            shown = self.query_one("#run-summary", Static)
            # As many lines as before: no layout pass (it would draw every scrollbar again).
            same_height = isinstance(shown.content, Text) and len(shown.content.split()) == len(
                summary.split()
            )
            shown.update(summary, layout=not same_height)
            self.query_one("#run-meta", Static).update(self._metadata(self.run, theme))

    # -- what is shown -------------------------------------------------------------------

    def _summary(self, run: RunView, theme: dict[str, str]) -> Text:
        now = self.session.clock.now()
        zone = self.session.zone
        title = Text.assemble(
            cells.status(run.status, theme),
            "  ",
            (run.job_name, "bold"),
            f"  run {run.id} · {run.job_type} · {run.triggered_by}",
        )
        if run.schedule_name:
            title.append(f" · {run.schedule_name}")
        if run.status == "running" and run.cancel_reason:
            title.append("  ⊘ cancel requested", style=cells.theme_style(theme, "text-warning"))
        seconds = elapsed(run, now)
        facts = [f"queued {when(run.queued_at, zone, now)}"]
        if run.started_at:
            facts.append(f"started {when(run.started_at, zone, now)}")
        if seconds is not None:
            facts.append(
                ("running " if run.status == "running" else "took ") + format_duration(seconds)
            )
        facts.append(f"attempt {run.attempts}/{run.max_attempts}")
        if run.exit_code is not None:
            facts.append(f"exit {run.exit_code}")
        if run.signal is not None:
            facts.append(f"signal {run.signal}")
        if run.worker:
            facts.append(f"on {run.worker}")
        lines = [title, cells.muted(" · ".join(facts))]
        problem = run.error_message or (run.cancel_reason if run.status == "cancelled" else None)
        if problem:
            lines.append(cells.error(problem.splitlines()[0], theme))
        return Text("\n").join(lines)

    def _metadata(self, run: RunView, theme: dict[str, str]) -> Table:
        zone = self.session.zone
        now = self.session.clock.now()
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        seconds = elapsed(run, now)
        template = run.template_name or run.job_name
        if run.template_revision is not None:
            template += f" (revision {run.template_revision})"
        trigger: str = run.triggered_by
        if run.retry_of_run_id is not None:
            trigger += f" (retry of run {run.retry_of_run_id})"
        fields: list[tuple[str, Text | str | None]] = [
            ("Status", cells.status(run.status, theme)),
            ("Template", template),
            ("Type", run.job_type),
            ("Schedule", run.schedule_name),
            ("Trigger", trigger),
            ("Scheduled for", full_time(run.scheduled_for, zone)),
            ("Queued", full_time(run.queued_at, zone)),
            ("Started", full_time(run.started_at, zone)),
            ("Completed", full_time(run.completed_at, zone)),
            ("Duration", None if seconds is None else format_duration(seconds)),
            ("Late by", _late(run.lateness_seconds)),
            ("Attempts", f"{run.attempts} of at most {run.max_attempts}"),
            ("Exit code", None if run.exit_code is None else str(run.exit_code)),
            ("Signal", None if run.signal is None else str(run.signal)),
            ("Worker", run.worker),
            ("Host", run.host),
            ("PID", None if run.pid is None else str(run.pid)),
            ("Celery task", run.celery_task_id),
            ("Started by", run.executed_by),
            ("Log size", f"{run.log_size:,} bytes"),
            ("Cancel reason", run.cancel_reason),
        ]
        for label, value in fields:
            if value is not None:  # what does not apply is left out, so the rest fits
                grid.add_row(label, value if isinstance(value, Text) else cells.plain(value))
        if run.error_message:
            grid.add_row("Error", cells.error(run.error_message, theme))
        return grid

    def _attempt_cells(self, attempt: AttemptView, theme: dict[str, str]) -> list[Text]:
        now, zone = self.session.clock.now(), self.session.zone
        exit_text = cells.MISSING
        if attempt.exit_code is not None:
            exit_text = str(attempt.exit_code)
        elif attempt.signal is not None:
            exit_text = f"signal {attempt.signal}"
        return [
            cells.plain(attempt.attempt, justify="right"),
            cells.status(attempt.status, theme),
            cells.plain(when(attempt.started_at, zone, now)),
            cells.plain(when(attempt.completed_at, zone, now)),
            cells.plain(exit_text),
            cells.plain(attempt.worker or cells.MISSING),
            cells.plain(cells.MISSING if attempt.pid is None else attempt.pid),
            cells.error(attempt.error_message, theme) if attempt.error_message else cells.muted(""),
        ]

    # -- actions -------------------------------------------------------------------------

    def action_show_tab(self, name: str) -> None:
        """Show one tab: log, details, attempts or result."""
        self.query_one(TabbedContent).active = TABS[name]
        focus_target = {
            "log": LogLines,
            "details": "#run-details",
            "attempts": "#attempts-table",
            "result": "#run-result-box",
        }[name]
        self.set_focus(self.query_one(focus_target))  # type: ignore[call-overload]

    def run_deleted(self, run: RunView) -> None:
        """The run is gone: back to where it was opened from."""
        self.action_back()


def _late(seconds: float | None) -> str | None:
    if seconds is None or seconds < 1:
        return None
    return format_duration(seconds)


def _parameters(run: RunView) -> RenderableType:
    """The run's parameters as it received them (secrets arrive masked)."""
    heading = Text("\nParameters", style="bold")
    if not run.parameters:
        return Group(heading, cells.muted("none"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for name, value in sorted(run.parameters.items()):
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        grid.add_row(cells.plain(name), cells.plain(shown))
    return Group(heading, grid)
