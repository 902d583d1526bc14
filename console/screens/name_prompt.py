"""A small modal asking for one name (copy as, rename...); the caller's action checks it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from core.errors import JobdeckError

ResultT = TypeVar("ResultT")


class NamePromptModal(ModalScreen[ResultT | None], Generic[ResultT]):
    """Ask for a name and hand it to ``submit``; its error shows inline and the prompt stays.

    Dismisses with what ``submit`` returned, or None when cancelled.
    """

    CSS_PATH = "name_prompt.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="name_prompt.cancel"),
    ]

    def __init__(
        self,
        title: str,
        submit: Callable[[str], Awaitable[ResultT]],
        *,
        value: str = "",
        label: str = "Name",
        details: list[str] | None = None,
        confirm_label: str = "OK",
    ) -> None:
        super().__init__()
        self.prompt_title = title
        self.submit = submit
        self.value = value
        self.label = label
        self.details = details or []
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog") as dialog:
            dialog.border_title = Content(self.prompt_title)
            for line in self.details:
                yield Static(line, classes="prompt-detail", markup=False)
            with Horizontal(id="prompt-line"):
                yield Label(self.label, id="prompt-label", markup=False)
                yield Input(self.value, id="prompt-input", compact=True)
            yield Static("", id="prompt-error", markup=False)
            with Horizontal(id="prompt-buttons"):
                yield Button("Cancel", id="prompt-cancel", compact=True)
                yield Button(self.confirm_label, id="prompt-ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Changed)
    def _edited(self) -> None:
        self.query_one("#prompt-error").display = False

    @on(Input.Submitted)
    @on(Button.Pressed, "#prompt-ok")
    def action_submit(self) -> None:
        """Hand the typed name to the caller's action (an empty one is refused here)."""
        name = self.query_one("#prompt-input", Input).value.strip()
        if not name:
            self._show_error(f"{self.label}: type a name (escape cancels)")
            return
        self.run_submit(name)

    def _show_error(self, message: str) -> None:
        error = self.query_one("#prompt-error", Static)
        error.update(message)
        error.display = True
        self.query_one("#prompt-input", Input).focus()

    @on(Button.Pressed, "#prompt-cancel")
    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss(None)

    @work(exclusive=True, group="name-prompt")
    async def run_submit(self, name: str) -> None:
        """Run the caller's action; stay open with its error when it fails."""
        try:
            result = await self.submit(name)
        except JobdeckError as exc:
            self._show_error(str(exc))
            return
        self.dismiss(result)
