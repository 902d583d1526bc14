"""The templates screen: every job template with its type, schedules and last outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding

from console.screens.base import JobdeckScreen
from console.widgets import KeyedTable, cells
from core.backend.views import TemplateView
from core.errors import JobdeckError

#: (column key, label) in display order; the description goes last as it is the widest.
COLUMNS = (
    ("name", "Name"),
    ("type", "Type"),
    ("schedules", "Schedules"),
    ("last_run", "Last run"),
    ("tags", "Tags"),
    ("description", "Description"),
)


def template_cells(template: TemplateView, theme: Mapping[str, str]) -> Sequence[Text]:
    """One table row for a template; a broken one shows its missing job type in red."""
    if template.broken:
        job_type = cells.error(f"✗ {template.job_type}", theme)
    else:
        job_type = cells.plain(template.job_type)
    return (
        cells.plain(template.name),
        job_type,
        cells.plain(template.schedule_count, justify="right"),
        cells.status(template.last_run_status, theme),
        cells.muted(", ".join(template.tags)),
        cells.plain(template.broken or template.description),
    )


class TemplatesScreen(JobdeckScreen):
    """Lists templates in a keyed table; `r` reloads them from the backend."""

    CSS_PATH = "templates.tcss"
    WATCHES = frozenset({"template", "schedule", "run"})
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="templates.refresh"),
    ]

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(id="templates-table")

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.border_title = "Templates"
        table.loading = True

    def reload(self) -> None:
        """Fetch the templates again."""
        self.load_templates()

    def action_refresh(self) -> None:
        """Reload the templates from the backend."""
        self.load_templates()

    @work(exclusive=True, group="templates")
    async def load_templates(self) -> None:
        """Fetch templates (the backend keeps blocking I/O off the event loop) and show them."""
        table = self.query_one(KeyedTable)
        try:
            templates = await self.backend.list_templates()
        except JobdeckError as exc:
            self.notify(str(exc), title="Templates not loaded", severity="error")
            return
        finally:
            table.loading = False
        theme = self.app.get_css_variables()
        table.apply_rows({str(t.id): template_cells(t, theme) for t in templates})
        table.border_title = f"Templates ({len(templates)})"
