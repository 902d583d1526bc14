"""`?`: every key that works here, with the binding id the config file's [keymap] rebinds."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

HINT = 'Rebind any key in the config file: [keymap] then  binding.id = "key1,key2"'


def key_rows(bindings: dict[str, ActiveBinding]) -> list[tuple[Text, Text, Text, Text]]:
    """One row per key: key, what it does, where it applies, its stable id."""
    rows = []
    for key, active in bindings.items():
        binding = active.binding
        where = type(active.node).__name__
        description = binding.description or binding.action
        style = "" if active.enabled else "dim"
        rows.append(
            (
                Text(binding.key_display or key, style=f"bold {style}".strip()),
                Text(description, style=style),
                Text(where, style="dim"),
                Text(binding.id or "—", style="dim"),
            )
        )
    # Global keys last, then alphabetically: what is specific to this screen comes first.
    rows.sort(key=lambda row: (row[2].plain.endswith("App"), row[1].plain.lower()))
    return rows


class KeysModal(ModalScreen[None]):
    """Lists every active key (hidden ones too) of the screen it was opened from."""

    CSS_PATH = "keys.tcss"
    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="keys.close"),
    ]

    def __init__(self, bindings: dict[str, ActiveBinding], title: str) -> None:
        super().__init__()
        self.bindings_shown = bindings
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="keys-box"):
            yield Static(f"Keys — {self.title_text}", id="keys-title", markup=False)
            yield DataTable(id="keys-table", cursor_type="row", zebra_stripes=True)
            yield Static(HINT, id="keys-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Does", "Where", "Binding id")
        table.add_rows(key_rows(self.bindings_shown))
        table.focus()

    def action_close(self) -> None:
        """Back to the screen."""
        self.dismiss(None)
