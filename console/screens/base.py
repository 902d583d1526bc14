"""What every jobdeck screen shares: status bar and footer, live reloads, read-only hiding."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Mount
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from console.messages import BackendChanged
from console.widgets import SessionInfo, StatusBar
from console.widgets.command_bar import CommandBar
from console.widgets.key_bar import KeyBar
from core.backend.protocol import Backend

#: A burst of changes (a 10k schedule burst, a clear of many runs) reloads a screen at most
#: this often, so the UI stays responsive however fast the backend writes.
RELOAD_INTERVAL = 0.5


class JobdeckScreen(Screen[None]):
    """A top-level or pushed screen over the backend the app hands down.

    Subclasses yield their body from ``compose_body``, list the change kinds they show in
    ``WATCHES`` (a change of one of those reloads them, throttled) and the actions that write
    in ``WRITE_ACTIONS`` (hidden when the session cannot write). ``reload`` fetches and shows.
    """

    WATCHES: ClassVar[frozenset[str]] = frozenset()
    #: the worker group of the screen's main load; its first end sets ``first_load``
    LOAD_GROUP: ClassVar[str] = ""
    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    BINDINGS = [Binding("escape", "back", "Back", show=False, id="screen.back")]

    def __init__(self, backend: Backend, session: SessionInfo) -> None:
        super().__init__()
        self.backend = backend
        self.session = session
        self._reload_timer: Timer | None = None
        self._reload_wanted = False
        #: set once the screen's first load has ended (shown, or failed and said so)
        self.first_load = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield StatusBar(self.session)
        yield from self.compose_body()
        yield CommandBar()
        # As a compact Footer without the palette's ^p: at 80 columns the screen's own keys
        # and the global `:` `?` `q` must fit (`1`-`4` are listed by `?` and in the command
        # line).
        yield KeyBar()

    @on(Mount)
    def _follow_theme(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: Theme) -> None:
        self.restyle()

    def restyle(self) -> None:
        """Draw what the screen shows again in the new theme (its cells carry the colours of
        the theme they were drawn in): by default, a reload."""
        self.reload()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the status bar and the footer."""
        yield from ()

    def reload(self) -> None:
        """Fetch what the screen shows and apply it (start an exclusive worker)."""

    def apply_argument(self, argument: str) -> None:
        """Take the argument of a command line such as ``:runs failed`` (default: ignore)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Write actions vanish (not just grey out) when the session cannot write.
        return self.session.writable or action not in self.WRITE_ACTIONS

    def action_back(self) -> None:
        """Back out one level: close this screen if it was opened from another."""
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    @on(Worker.StateChanged)
    def _worker_ended(self, event: Worker.StateChanged) -> None:
        ended = event.state in (WorkerState.SUCCESS, WorkerState.ERROR)
        if ended and self.LOAD_GROUP and event.worker.group == self.LOAD_GROUP:
            self.first_load.set()

    def on_screen_resume(self) -> None:
        # Screens that are not visible skip reloads; they catch up when shown again.
        self.reload()

    @on(BackendChanged)
    def _backend_changed(self, event: BackendChanged) -> None:
        if event.reset or event.kinds & self.WATCHES or self.wants(event):
            self.request_reload()

    def wants(self, event: BackendChanged) -> bool:
        """Whether a change outside ``WATCHES`` matters here (e.g. the one run shown)."""
        return False

    def request_reload(self) -> None:
        """Reload soon: at most once per RELOAD_INTERVAL however many changes arrive."""
        if self._reload_timer is not None:
            self._reload_wanted = True
            return
        self.reload()
        self._reload_timer = self.set_timer(RELOAD_INTERVAL, self._reload_window_over)

    def _reload_window_over(self) -> None:
        self._reload_timer = None
        if self._reload_wanted:
            self._reload_wanted = False
            self.request_reload()
