"""The keys of the focused screen along the bottom line, drawn as one line of text.

Textual's Footer is a container of one widget per key, and it recomposes (unmounts and mounts
them all) whenever the screen's bindings change: on every focus change, every `:` and its
escape, every greyed-out action. Each recompose restyles and lays out a dozen new widgets and
the screen around them, which was most of what a `:` cost while a log was followed. This bar
looks like the compact Footer (same theme variables, same spacing) but is a single widget:
a change of bindings redraws one line, and only when the line differs.

When the line is wider than the terminal, the global keys (`:` `?` `q`) keep their place and
the screen's own keys give way from the right, a `…` saying that some are hidden.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

#: Stands for the screen's keys that did not fit (`?` lists them all).
HIDDEN = "…"


class KeyBar(Widget):
    """The shown bindings of the screen's focus chain: `key description`, one after another.

    Greyed-out (disabled) actions are dimmed; a click on a key presses it, as in Footer.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--item",
        "key-bar--key",
        "key-bar--description",
    }
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: clip;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--item {
            background: $footer-item-background;
        }
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: the line drawn from _shown (None: to be drawn at the next render)
        self._line: Text | None = None
        #: (first cell, past the last cell, key, enabled) of each item on the line
        self._items: list[tuple[int, int, str, bool]] = []
        #: (key, how it is shown, description, enabled, global) of each item
        self._shown: tuple[tuple[str, str, str, bool, bool], ...] = ()
        #: the width the line was drawn for
        self._drawn_width = 0

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        shown: dict[str, tuple[str, str, str, bool, bool]] = {}
        for node, binding, enabled, _tooltip in screen.active_bindings.values():
            if binding.show and binding.action not in shown:  # one key per action, as Footer
                display = self.app.get_key_display(binding)
                is_global = isinstance(node, App)
                item = (binding.key, display, binding.description, enabled, is_global)
                shown[binding.action] = item
        items = tuple(shown.values())
        if items != self._shown:
            self._shown = items
            self._line = None
            self.refresh()

    def _fitting(self, width: int) -> tuple[list[int], int | None]:
        """Which items fit in ``width`` cells (their indexes), and the index before which a
        `…` stands for the screen's keys that did not (None: every key fits)."""
        widths = [
            cell_len(display) + (1 + cell_len(description) if description else 0) + 1
            for _key, display, description, _enabled, _global in self._shown
        ]
        everything = list(range(len(self._shown)))
        if sum(widths) - 1 <= width:
            return everything, None
        # The global keys first; then the screen's, from the left, with room left for a `…`.
        room = width - sum(w for w, item in zip(widths, self._shown, strict=True) if item[4])
        room -= cell_len(HIDDEN) + 1
        kept = []
        for index in everything:
            if not self._shown[index][4]:
                if widths[index] > room:
                    break
                room -= widths[index]
            kept.append(index)
        dropped = next(index for index in everything if index not in kept)
        kept += [index for index in everything[dropped:] if self._shown[index][4]]
        return kept, dropped

    def _draw(self, width: int) -> Text:
        item = self.get_component_rich_style("key-bar--item")
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        line = Text(no_wrap=True, end="", overflow="ellipsis")
        self._items = []
        kept, hidden_before = self._fitting(width)
        for index in kept:
            if hidden_before is not None and index >= hidden_before:
                line.append(f"{HIDDEN} ", description_style)
                hidden_before = None
            key, display, description, enabled, _global = self._shown[index]
            start = line.cell_len
            line.append(display, key_style)
            if description:
                line.append(f" {description}", description_style)
            line.stylize_before(item + Style(dim=not enabled), start)
            self._items.append((start, line.cell_len, key, enabled))
            line.append(" ")  # Footer's margin between keys
        if hidden_before is not None:
            line.append(HIDDEN, description_style)
        if line.cell_len > width:  # not even the global keys fit
            line.truncate(width, overflow="ellipsis")
        return line

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line = None  # a theme change: the keys' styles come from it

    def render(self) -> Text:
        width = self.size.width
        if self._line is None or width != self._drawn_width:
            self._line = self._draw(width)
            self._drawn_width = width
        return self._line

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """A click on a key presses it; on a greyed-out one, the bell (as Footer does)."""
        for start, end, key, enabled in self._items:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
