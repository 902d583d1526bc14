"""The Textual app: wiring only (backend injection, modes, global keys, the change poller)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from console.entry import settle_heap, startup_done
from console.heap import QuietCollector
from console.key_order import KeyOrder
from console.keymap import keymap_problems, known_binding_ids
from console.messages import BackendChanged, OpenRun
from console.navigation import parse
from console.outage import outage_summary
from console.owner_watch import watch_owner
from console.pending_backend import PendingBackend
from console.screens import SCREENS, load_all_screens, screen_class
from console.screens.base import JobdeckScreen
from console.screens.keys import KeysModal
from console.screens.quit import QuitModal
from console.widgets import SessionInfo, StatusBar
from console.widgets.command_bar import CommandBar
from console.wording import plural
from core.backend.protocol import Backend
from core.backend.views import ChangeBatch
from core.clock import Clock, SystemClock
from core.errors import ValidationFailed

if TYPE_CHECKING:
    from console.startup import Connect, Connection, ConsoleOwner
    from core.settings.config import Settings

log = logging.getLogger("jobdeck.console")

#: How often the app asks the backend what changed (one cheap indexed read).
POLL_SECONDS = 0.5
#: However fast changes are pushed, the feed is read at most this often (a burst of
#: changes reaches the screens in a few batches, not one message per change).
MIN_POLL_SECONDS = 0.05
#: Exit status after the terminal went away (128 + SIGHUP, as a shell reports it).
HANGUP_EXIT = 129
#: The embedded owner starts after the first screen's data is shown, or after this long.
OWNER_START_WAIT = 5.0


class JobdeckApp(App[int]):
    """k9s-style console over any Backend; the caller owns (opens and closes) the backend.

    With ``connect``, ``backend`` is a ``PendingBackend``: the app paints first, then opens the
    real backend (``connection`` once open; ``startup_error`` when opening failed, and the app
    exits with 1).
    """

    TITLE = "jobdeck"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("colon", "command_line", "Command", id="app.command"),
        Binding("1", "go('templates')", "Templates", show=False, id="app.templates"),
        Binding("2", "go('schedules')", "Schedules", show=False, id="app.schedules"),
        Binding("3", "go('runs')", "Runs", show=False, id="app.runs"),
        Binding("4", "go('workers')", "Workers", show=False, id="app.workers"),
        Binding("question_mark", "toggle_keys", "Keys", id="app.keys"),
        Binding("q", "quit", "Quit", id="app.quit"),
        # In raw mode ctrl+c is a key, not SIGINT: it quits as `q` does (asking first when
        # runs execute here), instead of Textual's "press q to quit" hint.
        Binding("ctrl+c", "quit", "Quit", show=False, id="app.interrupt"),
    ]

    def __init__(
        self,
        backend: Backend,
        clock: Clock | None = None,
        *,
        mode: str = "embedded",
        zone: str = "UTC",
        keymap: Mapping[str, str] | None = None,
        owner: ConsoleOwner | None = None,
        poll_seconds: float | None = POLL_SECONDS,
        start_screen: str = "templates",
        start_argument: str = "",
        notices: list[str] | None = None,
        connect: Connect | None = None,
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
        self.owner = owner
        self.poll_seconds = poll_seconds
        self.start_screen = start_screen
        self.start_argument = start_argument
        self.notices = list(notices or [])
        self.connect = connect
        self.connection: Connection | None = None
        self.startup_error: BaseException | None = None
        self._cursor: int | None = None
        self._watcher: asyncio.Task[None] | None = None
        #: reads the owner's health for the status line (console/owner_watch.py)
        self._owner_watcher: asyncio.Task[None] | None = None
        #: full garbage collections at quiet moments (a started console only, not tests)
        self.heap: QuietCollector | None = None
        #: every key read from the terminal takes effect in the order it was typed
        self.key_order = KeyOrder(self, self._pass_key_on)
        self._quitting = False
        for name in SCREENS:
            self.add_mode(name, self._screen_factory(name))

    def _screen_factory(self, name: str) -> Callable[[], Screen[None]]:
        # The screen's module is imported when the mode is first shown.
        return lambda: screen_class(name)(self.backend, self.session)

    async def on_mount(self) -> None:
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        await self.action_go(self.start_screen, self.start_argument)
        for notice in self.notices:
            self._warn(notice)
        if self.connect is None:
            self._begin()
        else:
            # Open the backend (its imports off the event loop) while the first screen is
            # drawn.
            self.run_worker(self._open(self.connect), name="connect")

    async def _open(self, connect: Connect) -> None:
        pending = self.backend
        assert isinstance(pending, PendingBackend)
        try:
            connection = await connect(self._warn)
        except Exception as exc:  # the caller reports it once the terminal is restored
            self.startup_error = exc
            pending.fail(exc)
            self.exit(1, return_code=1)
            return
        self.connection = connection
        pending.resolve(connection.backend)
        capabilities = connection.backend.capabilities
        self.session.mode = connection.mode
        self.session.backend_name = capabilities.name
        self.session.writable = capabilities.writable
        self.owner = connection.owner
        for bar in self.screen.query(StatusBar):
            bar.tick()
        self.screen.refresh_bindings()
        self._begin()

    def _begin(self) -> None:
        """With the backend open: check the keymap, start the owner and the change poller."""
        if self.user_keymap:
            load_all_screens()
            for problem in keymap_problems(self.user_keymap, known_binding_ids()):
                self.notify(problem, title="Config", severity="warning", timeout=15)
        self.run_worker(self._after_first_load(), name="first-load", group="owner")
        if self.poll_seconds:
            # A task, not a worker: it runs as long as the app (tests wait for workers).
            self._watcher = asyncio.create_task(
                self._watch_changes(self.poll_seconds), name="jobdeck-changes"
            )
            self._owner_watcher = asyncio.create_task(
                watch_owner(self.session, self._owner_sources), name="jobdeck-owner-health"
            )

    async def on_event(self, event: events.Event) -> None:
        if self.heap is not None and isinstance(event, events.Key | events.MouseDown):
            self.heap.input_seen()
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and await self.key_order.take(event)
        ):
            return
        await super().on_event(event)

    async def _pass_key_on(self, event: events.Key) -> None:
        """Hand a key that KeyOrder held back to Textual, as if it had just been read."""
        await super().on_event(event)

    async def on_unmount(self) -> None:
        if self.heap is not None:
            self.heap.stop()
        for watcher in (self._watcher, self._owner_watcher):
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
        self._watcher = self._owner_watcher = None

    async def _after_first_load(self) -> None:
        """Once the first screen has its data: settle the heap and own the database (starting
        the scheduler and the executor takes long enough to delay that data)."""
        screen = self.screen
        if isinstance(screen, JobdeckScreen):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(screen.first_load.wait(), OWNER_START_WAIT)
        # ...and on the terminal: what follows holds the event loop for a moment.
        painted = asyncio.Event()
        self.call_after_refresh(painted.set)
        await painted.wait()
        if self.connect is not None:
            # The collector stays paused until here: the first rows are not held up by a
            # full collection over everything start-up built.
            settle_heap()
            startup_done()
            self.heap = QuietCollector()
            self.heap.start()
            self.set_interval(1.0, self.heap.tick, name="quiet-collector")
        if self.owner is not None:
            await self.owner.start(self.session, self.switch_backend)

    def _warn(self, message: str) -> None:
        self.notify(message, severity="warning", timeout=15)

    # -- live updates -------------------------------------------------------------------

    async def _watch_changes(self, seconds: float) -> None:
        """Poll the change feed every ``seconds``, or as soon as the backend has news (an
        attached console's event stream), but at most every MIN_POLL_SECONDS."""
        while True:
            await self.poll_changes()
            await asyncio.sleep(MIN_POLL_SECONDS)
            rest = max(0.0, seconds - MIN_POLL_SECONDS)
            try:
                await self.backend.wait_for_changes(self._cursor, rest)
            except Exception:  # the next poll reports the backend's health
                log.debug("waiting for changes failed", exc_info=True)
                await asyncio.sleep(rest)

    async def poll_changes(self) -> None:
        """Ask the backend what changed and tell the screens on view; track its health."""
        health = self.session.health
        try:
            batch = await self.backend.changes(self._cursor)
        except Exception as exc:  # any failure means the data on screen is now stale
            if health.ok:
                health.state, health.detail = "stale", str(exc).splitlines()[0][:80]
                health.since = self.session.clock.now()
                self.notify(
                    f"{exc}",
                    title="Backend unreachable; showing stale data",
                    severity="error",
                    timeout=8,
                )
            return
        if not health.ok:
            await self._back_online(batch)
            return
        if self._cursor is None:
            self._cursor = batch.cursor
            return
        self._cursor = batch.cursor
        if batch.items or batch.reset:
            self._broadcast(BackendChanged(batch.items, reset=batch.reset))

    async def _back_online(self, batch: ChangeBatch) -> None:
        """Say how long the backend was gone and what ended meanwhile, then reload all."""
        health = self.session.health
        since = health.since
        down = self.session.clock.now() - (since or self.session.clock.now())
        missed = list(batch.items)
        while batch.items and len(missed) < 5000:  # the feed kept everything: read it all
            batch = await self.backend.changes(batch.cursor)
            missed.extend(batch.items)
        self._cursor = batch.cursor
        health.state, health.detail, health.since = "ok", "", None
        summary = await outage_summary(self.backend, tuple(missed), since)
        self.notify(
            summary or "nothing ended meanwhile",
            title=f"Reconnected after {down.total_seconds():.0f}s",
            timeout=15,
        )
        self._broadcast(BackendChanged((), reset=True))

    def _broadcast(self, message: BackendChanged) -> None:
        # Every screen of the visible stack: a modal does not hide the screen beneath it.
        for screen in self.screen_stack:
            if isinstance(screen, JobdeckScreen):
                screen.post_message(BackendChanged(message.changes, reset=message.reset))

    def _owner_sources(self) -> tuple[Backend, ...]:
        # The backend first (an owner's API knows its latest tick and its troubles), then the
        # database itself when the console has it open: an owner that hangs (SIGSTOP) cannot
        # hang that read, as it does a request to its API.
        connection = self.connection
        fallback = connection.owner_source if connection is not None else None
        if fallback is None:
            return (self.backend,)
        return (self.backend, fallback)

    def switch_backend(self, backend: Backend, mode: str, note: str | None = None) -> None:
        """The console now talks to ``backend`` (it took the lease, or another owner came):
        every screen reloads from it. The same backend in another ``mode``: only the words."""
        pending = self.backend
        moved = isinstance(pending, PendingBackend) and pending.backend is not backend
        if moved:
            assert isinstance(pending, PendingBackend)
            pending.resolve(backend)
            health = self.session.health
            health.state, health.detail, health.since = "ok", "", None
            self.session.see_owner(None)
            self._cursor = None
        self.session.mode = mode
        self.session.backend_name = backend.capabilities.name
        self.session.writable = backend.capabilities.writable
        if note:
            self.notify(note, title="Owner", timeout=15)
        for bar in self.screen.query(StatusBar):
            bar.tick()
        if moved:
            self.screen.refresh_bindings()
            self._broadcast(BackendChanged((), reset=True))

    # -- navigation ---------------------------------------------------------------------

    @on(OpenRun)
    def _open_run(self, event: OpenRun) -> None:
        from console.screens.run_detail import RunDetailScreen

        self.push_screen(RunDetailScreen(self.backend, self.session, event.run_id))

    # -- global actions -----------------------------------------------------------------

    async def action_go(self, name: str, argument: str = "") -> None:
        """Show a top-level screen (``:templates``, ``:runs failed``...)."""
        if name not in SCREENS:
            self.notify(f"no {name} screen in this build", severity="warning")
            return
        await self.switch_mode(name)
        # Each mode keeps its own stack: `2` and `:schedules` mean the list, not a run opened
        # from it long ago. (Not inside batch_update: a screen slow to go would hold every
        # frame back while keys still reach it.)
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        if argument and isinstance(self.screen, JobdeckScreen):
            self.screen.apply_argument(argument)

    async def action_command_line(self) -> None:
        """Open the `:` command line at the bottom of the screen (dialogs have none)."""
        bars = self.screen.query(CommandBar)
        if bars:
            await bars.first().open()

    async def on_command_bar_submitted(self, event: CommandBar.Submitted) -> None:
        """Run the command typed on the `:` command line."""
        await self._run_command(event.line)

    async def _run_command(self, line: str) -> None:
        parsed = parse(line)
        if parsed is None:
            self.notify(f"unknown command {line!r}: type : and tab to see them", severity="error")
            return
        command, argument = parsed
        if command.screen:
            await self.action_go(command.screen, argument)
        elif command.name == "quit":
            self.action_quit()
        elif command.name == "keys":
            self.action_toggle_keys()
        elif command.name == "theme":
            self._switch_theme(argument)

    def _switch_theme(self, name: str) -> None:
        if name in self.available_themes:
            self.theme = name
            return
        themes = ", ".join(sorted(self.available_themes))
        self.notify(f"no theme {name!r}; one of: {themes}", severity="error", timeout=10)

    def action_toggle_keys(self) -> None:
        """List every key that works on this screen, with its binding id."""
        screen = self.screen
        if isinstance(screen, KeysModal):
            screen.dismiss(None)
            return
        self.push_screen(KeysModal(screen.active_bindings, type(screen).__name__))

    def action_quit(self) -> None:
        """Quit; when runs execute in this process, ask first (quitting cancels them)."""
        executing = self.owner.executing if self.owner else ()
        if not executing:
            self._quit()
            return
        if isinstance(self.screen, QuitModal):
            return  # asked already (a second `q`, or ctrl+c, while the question is up)
        self.push_screen(QuitModal(executing), self._quit_answered)

    def _quit_answered(self, quit_now: bool | None) -> None:
        if quit_now:
            self._quit()

    def _quit(self) -> None:
        """Stop the owner (its runs get a short grace, then are cancelled), then exit; the
        console keeps drawing meanwhile."""
        if self._quitting:
            return
        self._quitting = True
        self.run_worker(self._stop_and_exit(), name="quit", group="quit")

    async def _stop_and_exit(self) -> None:
        try:
            await self._shutdown_owner()
        finally:
            self.exit(0)

    async def _shutdown_owner(self) -> None:
        if self.owner is not None and self.owner.active_runs:
            running = plural(self.owner.active_runs, "run")
            self.notify(f"stopping the scheduler; cancelling {running} after a short grace…")
        if self.owner is not None:
            await self.owner.stop("the console that owned the database quit")


async def _hang_up(app: JobdeckApp) -> None:
    """The terminal went away (an SSH session dropped): Textual can neither draw nor restore
    it, so no orderly exit through the UI; stop the owner, then leave at once.

    Nothing is drawn meanwhile: Textual's output thread dies on the first write to the gone
    terminal, and the next repaints would then wait forever for room in its queue, in the
    middle of the owner's grace for its runs (a console following a log repaints constantly).
    """
    with app.batch_update():  # never left: the process ends inside it
        try:
            connection = app.connection
            if connection is not None and connection.owner is not None:
                await connection.owner.stop("the console's terminal went away")
        finally:
            os._exit(HANGUP_EXIT)


def run_tui(
    settings: Settings,
    read_only: bool = False,
    start: str = "templates",
    *,
    backend: str | None = None,
    token: str | None = None,
    insecure: bool = False,
) -> int:
    """Run the TUI: attached to ``backend`` (URL or profile), to the live owner of the
    database when there is one, or owning the database itself.

    ``start`` is a command line to begin with (``runs failed``); a bad one is refused here.
    """
    from console.startup import console_connector
    from core.backend.protocol import Capabilities

    parsed = parse(start)
    if parsed is None or parsed[0].screen is None:
        raise ValidationFailed("--command", f"{start!r} names no screen; try templates, runs…")
    if read_only and not settings.read_only:
        settings = settings.model_copy(update={"read_only": True})
    opening = "opening " + (backend or "the database") + "…"

    async def session() -> int:
        pending = PendingBackend(Capabilities(name=opening, writable=not settings.read_only))
        app = JobdeckApp(
            cast(Backend, pending),
            mode="starting",
            zone=settings.timezone,
            keymap=settings.keymap,
            start_screen=parsed[0].screen or "templates",
            start_argument=parsed[1],
            connect=console_connector(settings, backend, token, insecure=insecure),
        )
        # Ended from outside, the console still stops its owner: runs get their grace, the
        # lease is released and the socket removed, instead of a lease others must wait out.
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, app.exit)  # `kill`: quit as `q` would
        loop.add_signal_handler(signal.SIGINT, app.exit)  # `kill -INT` (ctrl+c is a key)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(_hang_up(app)))
        try:
            await app.run_async()
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGHUP)
            connection = app.connection
            if connection is not None:
                await connection.close("the console that owned the database exited")
        if app.startup_error is not None:
            raise app.startup_error
        return app.return_code or 0

    return asyncio.run(session())
