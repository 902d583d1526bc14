"""Ask for a worker's new number of slots; the backend's verdict shows beside the field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from core.backend.views import WorkerView
from core.errors import JobdeckError, ValidationFailed

#: Resizes the worker to the given number of slots and returns it as it is then.
Resize = Callable[[int], Awaitable[WorkerView]]


class SlotsPromptModal(ModalScreen[WorkerView | None]):
    """A number field prefilled with the current slots; enter resizes, escape cancels.

    The modal applies the size itself so the backend's rule (the one source of truth about
    what a pool may hold) is shown inline, and the operator can correct it without retyping.
    It closes with the resized worker, or None when cancelled or refused for another reason.
    """

    CSS_PATH = "slots_prompt.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="slots.cancel")]

    def __init__(self, worker: WorkerView, resize: Resize) -> None:
        super().__init__()
        self.worker = worker
        self.resize = resize

    def compose(self) -> ComposeResult:
        worker = self.worker
        with Vertical(id="slots-dialog"):
            yield Label(f"Resize {worker.name}", id="slots-title", markup=False)
            yield Static(
                f"{worker.active} of {worker.slots} slots busy. Runs beyond a smaller size "
                "finish normally; new runs wait for a free slot.",
                classes="slots-detail",
                markup=False,
            )
            with Horizontal(id="slots-field"):
                yield Label("Slots", id="slots-label")
                yield Input(str(worker.slots), id="slots-input")
                yield Button("Cancel", id="slots-no")
                yield Button("Resize", id="slots-yes", variant="primary")
            yield Static("", id="slots-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#slots-input", Input).focus()

    @on(Input.Submitted, "#slots-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.apply(event.value)

    @on(Button.Pressed, "#slots-yes")
    def _resize_pressed(self) -> None:
        self.apply(self.query_one("#slots-input", Input).value)

    @on(Button.Pressed, "#slots-no")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        """Close without resizing."""
        self.dismiss(None)

    @work(exclusive=True, group="slots-prompt")
    async def apply(self, typed: str) -> None:
        """Resize to the typed number; keep the modal open with the reason when refused."""
        text = typed.strip()
        try:
            slots = int(text)
        except ValueError:
            problem = f"{text!r} is not a whole number" if text else "type a number of slots"
            self.show_problem("slots", problem)
            return
        try:
            resized = await self.resize(slots)
        except ValidationFailed as exc:
            self.show_problem(exc.field, exc.problem)
            return
        except JobdeckError as exc:
            self.notify(str(exc), title=f"{self.worker.name} not resized", severity="error")
            self.dismiss(None)
            return
        self.dismiss(resized)

    def show_problem(self, field: str, problem: str) -> None:
        """Show why the value was refused next to the field, and select it for retyping."""
        message = self.query_one("#slots-error", Static)
        message.update(f"{field}: {problem}")
        message.display = True
        field_input = self.query_one("#slots-input", Input)
        field_input.add_class("-invalid")
        field_input.focus()
        field_input.select_all()
