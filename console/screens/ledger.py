"""A schedule's occurrence ledger: what became of every due occurrence, and why.

Each occurrence ends as exactly one record (SCHEDULING.md): ran (with its run), missed (the
start deadline passed), skipped (overlap, paused) or coalesced (caught up as one run). Enter
(or `o`) on a "ran" row opens its run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from console.messages import BackendChanged, OpenRun
from console.screens.base import JobdeckScreen
from console.widgets import KeyedTable, SessionInfo, cells
from console.widgets.countdown import lateness_text
from core.backend.protocol import Backend
from core.backend.views import OccurrenceView, ScheduleView
from core.errors import JobdeckError
from core.jobs.timing import load_zone
from core.jobs.timing.wording import describe_schedule

COLUMNS = (
    ("scheduled_for", "Scheduled for"),
    ("outcome", "Outcome"),
    ("run", "Run"),
    ("lateness", "Late"),
    ("reason", "Reason"),
)
#: How each outcome is drawn: a glyph, its own colour, a missed one bold.
OUTCOME_LOOKS = cells.Looks(
    {
        "ran": cells.Look("✓", "ran", ("text-success", "success")),
        "missed": cells.Look("✗", "missed", ("text-error", "error"), "bold"),
        "skipped": cells.Look("⊘", "skipped", ("text-warning", "warning")),
        "coalesced": cells.Look("≡", "coalesced", ("text-primary", "primary")),
    }
)
#: Newest records shown; the ledger of a busy schedule is long and the newest matter.
LEDGER_LIMIT = 500


def occurrence_cells(
    occurrence: OccurrenceView, zone_name: str, theme: Mapping[str, str]
) -> Sequence[Text]:
    """One ledger row; the time is shown in the schedule's own zone."""
    local = occurrence.scheduled_for.astimezone(load_zone(zone_name))
    outcome = occurrence.outcome
    return (
        cells.plain(f"{local:%Y-%m-%d %H:%M:%S %Z}"),
        OUTCOME_LOOKS.text(outcome, theme),
        cells.plain("—" if occurrence.run_id is None else f"#{occurrence.run_id}"),
        cells.plain(lateness_text(occurrence.lateness_seconds), justify="right"),
        cells.plain(occurrence.reason or ""),
    )


class LedgerScreen(JobdeckScreen):
    """The occurrence ledger of one schedule, newest first; escape goes back."""

    CSS_PATH = "ledger.tcss"
    WATCHES = frozenset({"occurrence"})
    BINDINGS = [
        # enter on the table opens too; the table's own enter binding hides it from the footer
        Binding("o", "open_run", "Open run", id="ledger.open_run"),
        Binding("r", "refresh", "Refresh", show=False, id="ledger.refresh"),
        Binding("escape", "back", "Back", id="ledger.back"),
    ]

    def __init__(self, backend: Backend, session: SessionInfo, schedule: ScheduleView) -> None:
        super().__init__(backend, session)
        self.schedule = schedule
        self.occurrences: dict[str, OccurrenceView] = {}

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(id="ledger-table", whole_columns=("outcome",))

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.border_title = f"Ledger · {self.schedule.job_identifier}"
        table.border_subtitle = describe_schedule(self.schedule)
        table.loading = True

    def wants(self, event: BackendChanged) -> bool:
        # a run of this schedule ending is often followed by its ledger row
        return event.touches("schedule", self.schedule.id)

    def reload(self) -> None:
        """Fetch the ledger again."""
        self.load_ledger()

    def action_refresh(self) -> None:
        """Reload the ledger from the backend."""
        self.load_ledger()

    @work(exclusive=True, group="ledger")
    async def load_ledger(self) -> None:
        """Fetch the newest ledger records of the schedule and show them."""
        table = self.query_one(KeyedTable)
        try:
            records = await self.backend.list_occurrences(
                schedule=self.schedule.id, limit=LEDGER_LIMIT
            )
        except JobdeckError as exc:
            self.notify(str(exc), title="Ledger not loaded", severity="error")
            return
        finally:
            table.loading = False
        theme = self.app.get_css_variables()
        self.occurrences = {o.scheduled_for.isoformat(): o for o in records}
        table.apply_rows(
            {
                key: occurrence_cells(o, self.schedule.timezone, theme)
                for key, o in self.occurrences.items()
            }
        )
        counts = {outcome: 0 for outcome in OUTCOME_LOOKS.looks}
        for record in records:
            counts[record.outcome] += 1
        summary = " · ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
        title = f"Ledger · {self.schedule.job_identifier} ({summary or 'no occurrences yet'})"
        table.set_titles(title)

    @property
    def highlighted(self) -> OccurrenceView | None:
        """The record under the cursor."""
        key = self.query_one(KeyedTable).highlighted_key
        return None if key is None else self.occurrences.get(key)

    @on(DataTable.RowSelected, "#ledger-table")
    def _row_chosen(self) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        """Open the run of a "ran" occurrence."""
        record = self.highlighted
        if record is None:
            return
        if record.run_id is None:
            self.notify(f"this occurrence {record.outcome}: there is no run to open", timeout=4)
            return
        self.post_message(OpenRun(record.run_id))
