"""Ask where to save a run's log: one path field, prefilled, `escape` cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class SavePathModal(ModalScreen[str | None]):
    """A file path for a run's whole log; dismisses with the path, or None when cancelled."""

    CSS_PATH = "save_path.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]

    def __init__(self, default_path: str, run_id: int) -> None:
        super().__init__()
        self.default_path = default_path
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog"):
            yield Label(f"Save the log of run {self.run_id}", id="save-title")
            yield Static(
                "The whole log is fetched again, including lines no longer on screen.",
                id="save-hint",
                markup=False,
            )
            yield Input(self.default_path, id="save-path", select_on_focus=False)
            yield Static("enter saves · escape cancels", id="save-keys", markup=False)

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)
