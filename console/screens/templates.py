"""The templates screen: every job template with its type, schedules and last outcome.

From here the operator creates, edits, copies, deletes and runs templates; each write goes
through a modal (form, name prompt, confirm, parameters) and is reported with a notification.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.content import Content
from textual.widgets import DataTable, Input, Label

from console.messages import OpenRun
from console.screens.base import JobdeckScreen
from console.screens.confirm import ConfirmModal
from console.screens.name_prompt import NamePromptModal
from console.screens.run_parameters import RunParametersModal
from console.screens.template_form import TemplateFormModal
from console.widgets import KeyedTable, SessionInfo, cells
from core.backend.protocol import Backend
from core.backend.views import DeleteReport, ScheduleView, TemplateView
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
#: Actions about the highlighted template: greyed out while the table shows none.
ROW_ACTIONS = frozenset({"edit_template", "copy_template", "delete_template", "run_template"})
#: How many dependent schedules the delete confirm names before summing up the rest.
SHOWN_DEPENDENTS = 6


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


def matches(template: TemplateView, words: list[str]) -> bool:
    """Whether every filter word occurs in the template's name, type, tags or description."""
    haystack = " ".join(
        (template.name, template.job_type, template.description or "", *template.tags)
    ).lower()
    return all(word in haystack for word in words)


def delete_details(template: TemplateView, schedules: list[ScheduleView]) -> list[str]:
    """What the delete confirm says: the schedules that go with the template, and what stays."""
    if not schedules:
        lines = ["No schedule uses it."]
    else:
        lines = [f"Used by {len(schedules)} schedule(s); they will be deleted with it:"]
        lines += [f"  • {s.job_identifier} ({s.description})" for s in schedules[:SHOWN_DEPENDENTS]]
        if len(schedules) > SHOWN_DEPENDENTS:
            lines.append(f"  … and {len(schedules) - SHOWN_DEPENDENTS} more")
    return [*lines, "Its past runs stay in the run history."]


def delete_outcome(report: DeleteReport) -> str:
    """The notification after a delete: what went."""
    if not report.removed_schedules:
        return f"Deleted template {report.name}"
    removed = ", ".join(report.removed_schedules)
    return f"Deleted template {report.name} and its schedule(s) {removed}"


class TemplatesScreen(JobdeckScreen):
    """Lists templates in a keyed table, filters them, and runs every template action."""

    CSS_PATH = "templates.tcss"
    AUTO_FOCUS = "#templates-table"
    WATCHES = frozenset({"template", "schedule", "run"})
    LOAD_GROUP = "templates"
    WRITE_ACTIONS = frozenset({"new_template"}) | ROW_ACTIONS
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="templates.filter"),
        Binding("n", "new_template", "New", id="templates.new"),
        Binding("e", "edit_template", "Edit", id="templates.edit"),
        Binding("c", "copy_template", "Copy", id="templates.copy"),
        Binding("d", "delete_template", "Delete", id="templates.delete"),
        Binding("x", "run_template", "Run", id="templates.run"),
        Binding("r", "refresh", "Refresh", show=False, id="templates.refresh"),
    ]

    def __init__(self, backend: Backend, session: SessionInfo) -> None:
        super().__init__(backend, session)
        self.templates: list[TemplateView] = []
        self.filter_words: list[str] = []
        self._select_after_load: str | None = None

    def compose_body(self) -> ComposeResult:
        with HorizontalGroup(id="templates-filter-bar"):
            yield Label("/", id="templates-filter-prompt")
            yield Input(
                placeholder="name, type, tag or description words",
                id="templates-filter",
                compact=True,
            )
        yield KeyedTable(id="templates-table", whole_columns=("last_run",))

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.border_title = "Templates"
        table.loading = True

    # -- data -----------------------------------------------------------------------------

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
            self.templates = await self.backend.list_templates()
        except JobdeckError as exc:
            self.notify(str(exc), title="Templates not loaded", severity="error", markup=False)
            return
        finally:
            table.loading = False
        self.show_templates()

    def show_templates(self) -> None:
        """Diff the templates that pass the filter into the table."""
        table = self.query_one(KeyedTable)
        theme = self.app.get_css_variables()
        shown = [t for t in self.templates if matches(t, self.filter_words)]
        table.apply_rows({str(t.id): template_cells(t, theme) for t in shown})
        if self._select_after_load in table.keys_in_order:
            table.move_cursor(row=table.get_row_index(self._select_after_load))
            self._select_after_load = None
        count = f"{len(shown)}/{len(self.templates)}" if self.filter_words else len(shown)
        if self.filter_words:
            subtitle: str | Content = Content(f"/{' '.join(self.filter_words)}")
        elif not self.templates and self.session.writable:
            subtitle = "no templates yet: n creates one"
        else:
            subtitle = ""
        table.set_titles(f"Templates ({count})", subtitle)
        self.refresh_bindings()

    @property
    def highlighted(self) -> TemplateView | None:
        """The template under the cursor, if any."""
        key = self.query_one(KeyedTable).highlighted_key
        return next((t for t in self.templates if str(t.id) == key), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not super().check_action(action, parameters):
            return False
        if action in ROW_ACTIONS:
            template = self.highlighted
            if template is None:
                return None
            if template.broken and action in ("copy_template", "run_template"):
                return None
        return True

    @on(DataTable.RowHighlighted)
    def _highlight_moved(self) -> None:
        self.refresh_bindings()

    # -- filter ---------------------------------------------------------------------------

    def action_filter(self) -> None:
        """Show the filter input and put the cursor in it."""
        self.query_one("#templates-filter-bar").display = True
        self.query_one("#templates-filter", Input).focus()

    @on(Input.Changed, "#templates-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self.filter_words = event.value.lower().split()
        self.show_templates()

    @on(Input.Submitted, "#templates-filter")
    def _filter_done(self) -> None:
        self.query_one("#templates-filter-bar").display = bool(self.filter_words)
        self.query_one(KeyedTable).focus()

    def action_back(self) -> None:
        """Clear the filter first; otherwise back out one level."""
        bar = self.query_one("#templates-filter-bar")
        if bar.display or self.filter_words:
            self.query_one("#templates-filter", Input).value = ""
            bar.display = False
            self.filter_words = []
            self.show_templates()
            self.query_one(KeyedTable).focus()
            return
        super().action_back()

    # -- writes ---------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _row_chosen(self) -> None:
        if self.check_action("edit_template", ()):
            self.action_edit_template()

    def action_new_template(self) -> None:
        """Open an empty template form."""
        self.open_form(None)

    def action_edit_template(self) -> None:
        """Open the highlighted template in the form."""
        if self.highlighted is not None:
            self.open_form(self.highlighted.id)

    @work(exclusive=True, group="templates-action")
    async def open_form(self, template_id: int | None) -> None:
        """Show the form (fresh data from the backend) and report what it saved."""
        try:
            job_types = await self.backend.job_types()
            template = None
            if template_id is not None:
                template = await self.backend.get_template(template_id)
        except JobdeckError as exc:
            self.notify(str(exc), title="Cannot open the form", severity="error", markup=False)
            return
        if not job_types and template is None:
            self.notify("This backend offers no job types to create templates of.", markup=False)
            return
        saved = await self.app.push_screen_wait(
            TemplateFormModal(self.backend, job_types, template)
        )
        if saved is None:
            return
        if template is None:
            self.notify(f"Created template {saved.name}", title="Saved", markup=False)
        else:
            self.notify(
                f"Saved {saved.name} (revision {saved.revision})", title="Saved", markup=False
            )
        self._select_after_load = str(saved.id)
        self.reload()

    def action_copy_template(self) -> None:
        """Copy the highlighted template under a new name."""
        if self.highlighted is not None:
            self.copy_template(self.highlighted)

    @work(exclusive=True, group="templates-action")
    async def copy_template(self, template: TemplateView) -> None:
        """Ask for the copy's name; the backend copies (schedules are not copied)."""

        async def copy(new_name: str) -> TemplateView:
            return await self.backend.copy_template(template.id, new_name)

        prompt = NamePromptModal(
            f"Copy {template.name}",
            copy,
            value=f"{template.name}-copy",
            label="New name",
            details=["The copy gets the config, parameters and policies, not the schedules."],
            confirm_label="Copy",
        )
        copied = await self.app.push_screen_wait(prompt)
        if copied is not None:
            self.notify(f"Copied {template.name} as {copied.name}", title="Copied", markup=False)
            self._select_after_load = str(copied.id)
            self.reload()

    def action_delete_template(self) -> None:
        """Delete the highlighted template, after a confirm naming what depends on it."""
        if self.highlighted is not None:
            self.delete_template(self.highlighted)

    @work(exclusive=True, group="templates-action")
    async def delete_template(self, template: TemplateView) -> None:
        """Confirm with the dependent schedules listed, then delete (forced when they exist)."""
        try:
            schedules = await self.backend.list_schedules(template=template.id)
        except JobdeckError as exc:
            self.notify(str(exc), title="Not deleted", severity="error", markup=False)
            return
        question = ConfirmModal(
            f"Delete template {template.name}?",
            delete_details(template, schedules),
            confirm_label=f"Delete with {len(schedules)} schedule(s)" if schedules else "Delete",
        )
        if not await self.app.push_screen_wait(question):
            return
        try:
            report = await self.backend.delete_template(template.id, force=bool(schedules))
        except JobdeckError as exc:
            self.notify(str(exc), title="Not deleted", severity="error", timeout=10, markup=False)
            return
        self.notify(delete_outcome(report), title="Deleted", markup=False)
        self.reload()

    def action_run_template(self) -> None:
        """Run the highlighted template now, asking for its parameters."""
        if self.highlighted is not None:
            self.run_template(self.highlighted.id)

    @work(exclusive=True, group="templates-action")
    async def run_template(self, template_id: int) -> None:
        """Ask for parameters (defaults prefilled), start the run and open it."""
        try:
            template = await self.backend.get_template(template_id)
        except JobdeckError as exc:
            self.notify(str(exc), title="Not started", severity="error", markup=False)
            return
        run = await self.app.push_screen_wait(RunParametersModal(self.backend, template))
        if run is not None:
            self.notify(f"Run #{run.id} of {template.name} queued", title="Started", markup=False)
            self.post_message(OpenRun(run.id))
