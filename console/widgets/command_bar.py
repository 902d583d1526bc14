"""The `:` command line, at the bottom of every screen like vim's and k9s's prompt.

It is part of the screen, not a dialog over it: opening it redraws two lines at the bottom,
not the whole screen dimmed (a translucent modal re-blends every cell of the screen below at
each frame, which a log following a flood repaints all the time, and which costs a full
repaint over SSH). It takes its lines from the screen's body while open (docked, it would
overlap the footer). Its widgets are mounted at the first `:`, so screens start no slower.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widget import Widget
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from console.navigation import COMMANDS, completions, parse


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


def _options(typed: str) -> list[Option]:
    found = completions(typed) if typed.strip() else list(COMMANDS)
    return [Option(f":{command.name:<10} {command.help}", id=command.name) for command in found]


class CommandBar(Vertical, can_focus=False):
    """Hidden until ``open()``; enter posts ``CommandBar.Submitted``, escape closes it."""

    DEFAULT_CSS = """
    CommandBar {
        display: none;
        height: auto;
        max-height: 12;
        background: $panel;
        border-top: solid $primary;
        &.-open { display: block; }
        OptionList {
            height: auto;
            max-height: 9;
            border: none;
            background: $panel;
        }
        Input, Input:focus {
            padding: 0 1;
            background: $panel;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="command.close"),
        Binding("tab", "complete", "Complete", id="command.complete"),
        Binding("down", "next_match", "Next", show=False, id="command.next"),
        Binding("up", "previous_match", "Previous", show=False, id="command.previous"),
    ]

    class Submitted(Message):
        """A command line was entered (``line`` is stripped and not empty)."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    def __init__(self) -> None:
        super().__init__(id="command-bar")
        self._focus_after: Widget | None = None

    @property
    def is_open(self) -> bool:
        """Whether the command line is shown."""
        return self.has_class("-open")

    async def open(self) -> None:
        """Show an empty command line with every command listed, and type into it."""
        if not self.children:
            await self.mount_all(
                [
                    OptionList(id="command-matches"),
                    Input(
                        placeholder="command (tab completes)",
                        suggester=CommandSuggester(),
                        compact=True,
                    ),
                ]
            )
        field = self.query_one(Input)
        if not self.is_open:
            self._focus_after = self.screen.focused
        field.value = ""
        self._show_matches("")
        self.add_class("-open")
        field.focus()

    def _close(self, line: str | None) -> None:
        self.remove_class("-open")
        focus, self._focus_after = self._focus_after, None
        if focus is not None and focus.is_attached:
            focus.focus()
        else:
            self.screen.set_focus(None)
        if line:
            self.post_message(self.Submitted(line))

    def _show_matches(self, typed: str) -> None:
        matches = self.query_one(OptionList)
        matches.clear_options()
        matches.add_options(_options(typed))
        matches.highlighted = 0 if matches.option_count else None

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_matches(event.value.partition(" ")[0])

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value.strip()
        head, _, argument = line.partition(" ")
        if head and parse(line) is None and (found := completions(head)):
            line = f"{found[0].name} {argument}".rstrip()  # the suggestion shown is taken
        self._close(line or None)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._close(event.option.id)

    def action_complete(self) -> None:
        """Fill in the highlighted match (or the first one)."""
        matches = self.query_one(OptionList)
        if not matches.option_count:
            return
        index = matches.highlighted if matches.highlighted is not None else 0
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
        self._close(None)
