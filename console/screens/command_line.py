"""The `:` command line: type a command, see the matches, tab completes, enter runs it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from console.navigation import COMMANDS, completions


class CommandSuggester(Suggester):
    """Suggests the full name of the first command that completes what was typed."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=False)

    async def get_suggestion(self, value: str) -> str | None:
        head, _, rest = value.partition(" ")
        if rest or not head:
            return None
        found = completions(head)
        return found[0].name if found else None


class CommandLineModal(ModalScreen[str | None]):
    """A one-line prompt docked at the bottom; dismisses with the typed line or None."""

    CSS_PATH = "command_line.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="command.close"),
        Binding("tab", "complete", "Complete", id="command.complete"),
        Binding("down", "next_match", "Next", show=False, id="command.next"),
        Binding("up", "previous_match", "Previous", show=False, id="command.previous"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="command-box"):
            yield OptionList(*self._options(""), id="command-matches")
            yield Input(placeholder="command (tab completes)", suggester=CommandSuggester())

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _options(self, typed: str) -> list[Option]:
        found = completions(typed) if typed.strip() else list(COMMANDS)
        return [Option(f":{command.name:<10} {command.help}", id=command.name) for command in found]

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        matches = self.query_one(OptionList)
        matches.clear_options()
        matches.add_options(self._options(event.value.partition(" ")[0]))
        matches.highlighted = 0 if matches.option_count else None

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_complete(self) -> None:
        """Fill in the highlighted match (or the first one)."""
        matches = self.query_one(OptionList)
        index = matches.highlighted if matches.highlighted is not None else 0
        if not matches.option_count:
            return
        name = matches.get_option_at_index(index).id or ""
        field = self.query_one(Input)
        argument = field.value.partition(" ")[2]
        field.value = f"{name} {argument}".rstrip() if argument else name
        field.cursor_position = len(field.value)

    def action_next_match(self) -> None:
        """Highlight the next match."""
        self.query_one(OptionList).action_cursor_down()

    def action_previous_match(self) -> None:
        """Highlight the previous match."""
        self.query_one(OptionList).action_cursor_up()

    def action_close(self) -> None:
        """Close without running anything."""
        self.dismiss(None)
