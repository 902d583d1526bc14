"""The baseline of tui_console.py: a bare Textual app with a label and a 100-row table."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Label


class BareApp(App[None]):
    """As little as a Textual app can be while drawing a table like the runs screen's."""

    def compose(self) -> ComposeResult:
        yield Label("bare ready")
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Status", "Name", "Type", "Trigger", "Scheduled", "Started", "Took")
        for n in range(100):
            table.add_row("completed", f"row-{n:04d}", "shell", "schedule", "09:00", "09:00", "1s")
        table.focus()


if __name__ == "__main__":
    BareApp().run()
