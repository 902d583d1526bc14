"""The one-line status bar: mode, backend, read-only flag and a ticking clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from core.clock import Clock


@dataclass(frozen=True)
class SessionInfo:
    """What the status bar tells the operator about this session."""

    mode: str
    backend_name: str
    writable: bool
    clock: Clock
    zone: tzinfo


class StatusBar(Horizontal):
    """Mode and backend on the left, the session clock (in the session zone) on the right."""

    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        #status-mode { text-style: bold; color: $accent; padding: 0 1; }
        #status-backend { width: 1fr; color: $foreground-muted; }
        #status-read-only { color: $warning; text-style: bold; padding: 0 1; }
        #status-clock { padding: 0 1; }
    }
    """

    def __init__(self, session: SessionInfo) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Label(self.session.mode, id="status-mode", markup=False)
        yield Label(self.session.backend_name, id="status-backend", markup=False)
        if not self.session.writable:
            yield Label("read-only", id="status-read-only")
        yield Label(self._clock_text(), id="status-clock")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        """Show the session clock's current time."""
        self.query_one("#status-clock", Label).update(self._clock_text())

    def _clock_text(self) -> str:
        now = self.session.clock.now().astimezone(self.session.zone)
        return f"{now:%Y-%m-%d %H:%M:%S} {now.tzname()}"
