"""The Textual app: wiring only (backend injection, global keys, the keymap, screens)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from textual.app import App
from textual.binding import Binding
from textual.widgets import HelpPanel

from console.screens import TemplatesScreen
from console.widgets import SessionInfo
from core.backend.protocol import Backend
from core.clock import Clock, SystemClock

if TYPE_CHECKING:
    from core.settings.config import Settings


class JobdeckApp(App[int]):
    """k9s-style console over any Backend; the caller owns (opens and closes) the backend."""

    TITLE = "jobdeck"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "toggle_keys", "Keys", id="app.keys"),
    ]

    def __init__(
        self,
        backend: Backend,
        clock: Clock | None = None,
        *,
        mode: str = "embedded",
        zone: str = "UTC",
        keymap: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.session = SessionInfo(
            mode=mode,
            backend_name=backend.capabilities.name,
            writable=backend.capabilities.writable,
            clock=clock or SystemClock(),
            zone=ZoneInfo(zone),
        )
        self.user_keymap = dict(keymap or {})

    def on_mount(self) -> None:
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.push_screen(TemplatesScreen(self.backend, self.session))

    def action_toggle_keys(self) -> None:
        """Show the keys that apply here, or hide them again."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()


def run_tui(settings: Settings, read_only: bool = False) -> int:
    """Run the TUI on the embedded backend of ``settings``; returns the exit code."""
    from core.backend.factory import open_local_backend

    if read_only and not settings.read_only:
        settings = settings.model_copy(update={"read_only": True})
    backend = open_local_backend(settings, source="tui")
    app = JobdeckApp(backend, mode="embedded", zone=settings.timezone, keymap=settings.keymap)
    try:
        app.run()
    finally:
        asyncio.run(backend.close())
    return app.return_code or 0
