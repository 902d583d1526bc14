"""The one-line status bar: mode, backend, the owner's health, read-only flag, a ticking clock.

The health part tells the truth about scheduling, not only about the connection: ``● live``
only while the owner renews its lease and its scheduler ticks, a warning when it is late, an
error when nobody schedules. Each part is cut with an ellipsis to fit; the clock always shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from core.backend.views import OwnerHealthView
from core.clock import Clock

#: Cells the read-only flag takes with its padding.
_READ_ONLY_CELLS = len("read-only") + 2
#: The backend's name is left out where fewer cells than this are left for it.
_BACKEND_MIN_CELLS = 8
#: The health part may take this share of the room the clock leaves, however long the mode.
_HEALTH_SHARE = 0.6


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
    #: the owner's health as last read, and when (session clock); None: not read (yet)
    owner: OwnerHealthView | None = None
    owner_read_at: datetime | None = None

    def see_owner(self, view: OwnerHealthView | None) -> None:
        """Keep ``view`` as the owner's health read now."""
        self.owner, self.owner_read_at = view, self.clock.now()


def ago(seconds: float) -> str:
    """A short age: ``4s``, ``2m05s``, ``3h07m``."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def health_line(session: SessionInfo) -> tuple[str, str]:
    """The health part's text and its level (``ok``, ``warning``, ``error``)."""
    health = session.health
    if not health.ok:
        # The key word first: a cut line still says what is wrong.
        state = "unreachable" if health.state == "stale" else health.state
        return (f"✗ {state}: {health.detail}" if health.detail else f"✗ {state}"), "error"
    view = session.owner
    if view is None or session.owner_read_at is None:
        return "● live", "ok"
    elapsed = max(0.0, (session.clock.now() - session.owner_read_at).total_seconds())
    state, seconds = view.verdict(elapsed)
    if state == "none":
        return "✗ nobody is scheduling", "error"
    if state == "troubled":
        return f"⚠ {view.problem}", "warning"
    if state == "unrenewed":
        return f"⚠ lease not renewed for {ago(seconds or 0)}", "warning"
    if state == "late":
        return f"⚠ owner late: no tick for {ago(seconds or 0)}", "warning"
    return ("● live" if seconds is None else f"● live · tick {ago(seconds)} ago"), "ok"


class StatusBar(Horizontal):
    """Mode and backend on the left, health and the session clock (session zone) on the right."""

    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        Label { text-wrap: nowrap; text-overflow: ellipsis; }
        #status-mode { text-style: bold; color: $accent; padding: 0 1; }
        #status-backend { width: 1fr; color: $foreground-muted; }
        #status-health { padding: 0 1; color: $text-success; }
        #status-health.-warning { color: $text-warning; text-style: bold; }
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
        yield Label(health_line(self.session)[0], id="status-health", markup=False)
        read_only = Label("read-only", id="status-read-only")
        read_only.display = not self.session.writable
        yield read_only
        yield Label(self._clock_text(), id="status-clock")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def tick(self) -> None:
        """Show the session clock's current time, the mode, the backend and its health."""
        if self.app.screen is not self.screen:
            # Hidden under another screen. Textual still composes the screen right under the
            # top one, and after any repaint here it repaints the whole screen on top (a
            # screenful of bytes a second over SSH; measured in benchmarks/terminal_bytes.py).
            return
        # No layout pass (_fit sizes the labels, the clock keeps its width but across a change
        # of zone name): Textual repaints every scrollbar on the screen with each one, ~1.6 KB
        # a second on the runs screen.
        clock, now = self.query_one("#status-clock", Label), self._clock_text()
        clock.update(now, layout=cell_len(now) != cell_len(str(clock.content)))
        self.query_one("#status-mode", Label).update(self.session.mode, layout=False)
        self.query_one("#status-backend", Label).update(self.session.backend_name, layout=False)
        self.query_one("#status-read-only", Label).display = not self.session.writable
        text, level = health_line(self.session)
        health = self.query_one("#status-health", Label)
        health.update(text, layout=False)
        health.set_class(level == "warning", "-warning")
        health.set_class(level == "error", "-stale")
        self._fit()

    def _fit(self) -> None:
        """Give the clock its room, then the health part, then the mode; the backend's name
        takes what is left. Each is cut with an ellipsis where it does not fit."""
        width = self.size.width
        if not width:
            return
        fixed = cell_len(self._clock_text()) + 2
        if not self.session.writable:
            fixed += _READ_ONLY_CELLS
        room = max(0, width - fixed)
        health_wants = cell_len(health_line(self.session)[0]) + 2
        mode_wants = cell_len(self.session.mode) + 2
        health_cells = min(health_wants, max(room - mode_wants, int(room * _HEALTH_SHARE)))
        mode_cells = min(mode_wants, room - health_cells)
        # The backend's name shows only where a few letters of it fit (not as a lone "…").
        backend = self.query_one("#status-backend", Label)
        backend.display = room - health_cells - mode_cells >= _BACKEND_MIN_CELLS
        # Shown, the name takes what is left (one cell at least); left out, the mode does,
        # so the clock stays at the right edge.
        mode_cells = (
            min(mode_cells, room - health_cells - 1) if backend.display else (room - health_cells)
        )
        for name, cells in (("#status-health", health_cells), ("#status-mode", mode_cells)):
            label = self.query_one(name, Label)
            if label.styles.width is None or label.styles.width.value != cells:
                label.styles.width = cells

    def _clock_text(self) -> str:
        now = self.session.clock.now().astimezone(self.session.zone)
        return f"{now:%Y-%m-%d %H:%M:%S} {now.tzname()}"
