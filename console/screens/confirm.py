"""A yes/no question before anything destructive, with the safe answer focused."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from console.key_order import GuardsTypeAhead


class ConfirmModal(GuardsTypeAhead, ModalScreen[bool]):
    """Ask before a destructive action; `escape` and the focused button both mean no.

    Only keys typed once it is drawn answer it (``GuardsTypeAhead``): `y`, or tab or an arrow
    to the destructive button, then enter; `n` and escape say no.
    """

    CSS_PATH = "confirm.tcss"
    BINDINGS = [
        Binding("escape,n", "answer(False)", "Cancel", id="confirm.cancel"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("left", "app.focus_previous", "Previous", show=False, id="confirm.left"),
        Binding("right", "app.focus_next", "Next", show=False, id="confirm.right"),
    ]

    def __init__(
        self,
        title: str,
        details: list[str],
        *,
        confirm_label: str,
        cancel_label: str = "Cancel",
    ) -> None:
        super().__init__()
        self.question = title
        self.details = details
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.question, id="confirm-title", markup=False)
            for line in self.details:
                yield Static(line, classes="confirm-detail", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(self.cancel_label, id="confirm-no", variant="primary")
                yield Button(self.confirm_label, id="confirm-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        """Close with ``answer``."""
        self.dismiss(answer)
