"""The one-line status bar: mode, backend and its health, read-only flag, a ticking clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from core.clock import Clock


@dataclass
class Health:
    """How the connection to the backend is doing; shared by every screen's status bar."""

    state: str = "ok"
    detail: str = ""
    since: datetime | None = None

    @property
    def ok(self) -> bool:
        """True while the backend answers."""
        return self.state == "ok"


@dataclass
class SessionInfo:
    """What the status bar tells the operator about this session (the app updates it)."""

    mode: str
    backend_name: str
    writable: bool
    clock: Clock
    zone: tzinfo
    health: Health = field(default_factory=Health)


class StatusBar(Horizontal):
    """Mode and backend on the left, health and the session clock (session zone) on the right."""

    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        #status-mode { text-style: bold; color: $accent; padding: 0 1; }
        #status-backend { width: 1fr; color: $foreground-muted; }
        #status-health { padding: 0 1; color: $text-success; }
        #status-health.-stale { color: $text-error; text-style: bold; }
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
        yield Label(self._health_text(), id="status-health", markup=False)
        read_only = Label("read-only", id="status-read-only")
        read_only.display = not self.session.writable
        yield read_only
        yield Label(self._clock_text(), id="status-clock")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        """Show the session clock's current time, the mode, the backend and its health."""
        self.query_one("#status-clock", Label).update(self._clock_text())
        self.query_one("#status-mode", Label).update(self.session.mode)
        self.query_one("#status-backend", Label).update(self.session.backend_name)
        self.query_one("#status-read-only", Label).display = not self.session.writable
        health = self.query_one("#status-health", Label)
        health.update(self._health_text())
        health.set_class(not self.session.health.ok, "-stale")

    def _health_text(self) -> str:
        health = self.session.health
        if health.ok:
            return "● live"
        return f"✗ {health.state}: {health.detail}" if health.detail else f"✗ {health.state}"

    def _clock_text(self) -> str:
        now = self.session.clock.now().astimezone(self.session.zone)
        return f"{now:%Y-%m-%d %H:%M:%S} {now.tzname()}"
