"""Keys take effect in the order they were typed, however many arrive in one read.

Textual hands a key that the focused widget does not consume itself (a binding: `:`, tab,
backspace or enter in a field) up the DOM, one message queue per ancestor, and runs its binding
only when it reaches the app; the keys read after it are meanwhile handed straight to the
focused widget. Typed ahead over SSH, `:schedules` + enter then reached the table (and the
confirm dialog its `d` opened) before the command line had focus, and backspace ran after the
letters typed after it (Textualize/textual#6605).

The app passes every key read from the terminal through ``KeyOrder`` first:

- a key the focused widget consumes (a letter typed into a field) goes on as before;
- any other key runs its binding at once, and the keys read after it wait until every message
  that binding set off has been handled (a submitted field moving the focus, a command line
  switching screens);
- keys read while a newly shown screen is not yet drawn wait for it, then go to it in order;
- a dialog that guards something destructive ignores the keys typed before it was drawn, so
  nothing typed for another purpose can confirm it.
"""

from __future__ import annotations

import logging
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from textual import events
from textual.app import App
from textual.dom import DOMNode, NoScreen
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker

log = logging.getLogger("jobdeck.console")

#: However a wait ends, held keys go on after this long (a widget removed before it handled
#: what a binding sent it must not swallow the operator's keys).
SETTLE_LIMIT_SECONDS = 2.0
#: How often a wait looks whether the workers a binding started have ended.
WORKER_POLL_SECONDS = 0.02


class GuardsTypeAhead:
    """Mixed into a dialog whose confirm is destructive: keys typed before it was drawn are
    dropped (with a bell) instead of answering it."""

    #: when the dialog was first on the terminal (Textual's message clock), None before
    drawn_at: float | None = None

    def on_mount(self) -> None:
        assert isinstance(self, Screen)
        self.call_after_refresh(self._guard_drawn)

    def _guard_drawn(self) -> None:
        assert isinstance(self, Screen)
        self.drawn_at = message_time()
        key_order = getattr(self.app, "key_order", None)
        if isinstance(key_order, KeyOrder):
            key_order.screen_drawn()


def message_time() -> float:
    """Now, on the clock Textual stamps its messages (and so key presses) with."""
    return Message().time


class KeyOrder:
    """Orders the app's keys; ``take`` returns True when it has handled (or held) the key."""

    def __init__(self, app: App[object], pass_on: Callable[[events.Key], Awaitable[None]]) -> None:
        self.app = app
        self._pass_on = pass_on
        self._held: deque[events.Key] = deque()
        #: a binding's consequences (or a new screen's first frame) are being waited for
        self._waiting = False
        self._wait_number = 0
        self._limit: Timer | None = None
        #: the limit passed: held keys go on whether or not the screen is ready
        self._forced = False
        self._draw_asked: weakref.WeakSet[Screen[object]] = weakref.WeakSet()
        #: the field the last keys were typed into, until a wait shows it has taken them
        self._typed_into: Widget | None = None
        #: the workers the binding being waited for started, and the screens it found
        self._started: list[Worker[object]] = []
        self._stack: list[Screen[object]] = []

    @property
    def held(self) -> int:
        """Keys waiting to be handled."""
        return len(self._held)

    async def take(self, event: events.Key) -> bool:
        """Handle a key read from the terminal: at once, or after the ones before it."""
        if self._waiting or self._held or not self._ready():
            self._held.append(event)
            self._wait_for_screen_if_needed()
            return True
        return await self._handle(event)

    # -- one key ------------------------------------------------------------------------

    async def _handle(self, event: events.Key) -> bool:
        app = self.app
        screen = app.screen
        if isinstance(screen, GuardsTypeAhead) and (
            screen.drawn_at is None or event.time < screen.drawn_at
        ):
            app.bell()
            return True
        focused = app.focused
        if focused is not None and focused.check_consume_key(event.key, event.character):
            # Typed into a field: Textual hands it over in order with the rest (no binding of
            # an ancestor applies to a key the field consumes; Textual runs the field's own
            # priority bindings itself), so no binding lookup for every character typed.
            self._typed_into = focused
            return False
        active = screen.active_bindings.get(event.key)
        if active is None or not active.enabled:
            return False  # no binding here: the widget gets it (and may handle it), as before
        if self._typed_into is not None:
            # What was typed into a field is still in its queue: a binding (enter submitting
            # the field, backspace) waits until the field has taken it.
            self._held.appendleft(event)
            self._settle([self._typed_into])
            return True
        path = _path_up(focused) if focused is not None else [screen]
        workers_before = set(app.workers)
        handled = await app.run_action(active.binding.action, active.node)
        if handled:
            started = [worker for worker in app.workers if worker not in workers_before]
            self._settle(path, started)
        return handled

    # -- waiting for what a binding set off ---------------------------------------------

    def _settle(self, path: list[DOMNode], started: Sequence[Worker[object]] = ()) -> None:
        """Hold the next keys until each node of ``path`` (focused widget first, then its
        ancestors) has handled what it had queued, then the app has too, and until the
        workers the binding ``started`` have ended or shown a screen (a dialog that first
        fetches what it shows).

        A message a binding sends bubbles one queue at a time, so a callback queued behind it
        on each node in turn runs only once the message has left that node."""
        self._typed_into = None
        self._waiting = True
        self._wait_number += 1
        number = self._wait_number
        self._started = list(started)
        self._stack = list(self.app.screen_stack)
        self._arm_limit(number)
        self._hop(path, 0, number)

    def _hop(self, path: list[DOMNode], index: int, number: int) -> None:
        if number != self._wait_number:
            return
        app = self.app
        while index < len(path):
            node = path[index]
            if _alive(app, node) and node.call_later(self._hop, path, index + 1, number):
                return
            index += 1
        app.call_later(self._settled, number)

    def _settled(self, number: int) -> None:
        if number != self._wait_number:
            return
        app = self.app
        same_screens = list(app.screen_stack) == self._stack
        if same_screens and any(worker.is_running for worker in self._started):
            app.set_timer(WORKER_POLL_SECONDS, lambda: self._settled(number))
            return
        self._started = []
        self._waiting = False
        # ...and after the frame that shows it: what the next key does may depend on the
        # layout (a field that appeared moved the log's lines), as it does typed slowly.
        app.call_after_refresh(self._release_now)

    def _arm_limit(self, number: int) -> None:
        if self._limit is not None:
            self._limit.stop()
        self._limit = self.app.set_timer(SETTLE_LIMIT_SECONDS, lambda: self._give_up(number))

    def _give_up(self, number: int) -> None:
        if number == self._wait_number and (self._waiting or self._held):
            log.debug("key order: gave up waiting after %ss", SETTLE_LIMIT_SECONDS)
            self._wait_number += 1
            self._waiting = False
            self._started = []
            screen = self.app.screen
            if isinstance(screen, GuardsTypeAhead) and screen.drawn_at is None:
                screen.drawn_at = message_time()
            self._forced = True
            self._release()

    # -- waiting for a new screen's first frame -----------------------------------------

    def _ready(self) -> bool:
        """Whether the top screen can take keys: mounted (a dialog that guards against type
        ahead: drawn)."""
        screen = self.app.screen
        if isinstance(screen, GuardsTypeAhead):
            return screen.drawn_at is not None
        return screen.is_mounted

    def _wait_for_screen_if_needed(self) -> None:
        if self._waiting or self._ready():
            return
        screen = self.app.screen
        self._wait_number += 1
        self._arm_limit(self._wait_number)
        if screen in self._draw_asked:
            return
        self._draw_asked.add(screen)
        if not isinstance(screen, GuardsTypeAhead):  # (a guard says when it is drawn)
            screen.call_after_refresh(self.screen_drawn)

    def screen_drawn(self) -> None:
        """A screen is on the terminal: the keys held for it go on."""
        self._release()

    # -- letting held keys go -------------------------------------------------------------

    def _release(self) -> None:
        """Handle held keys in order until one sets off a wait again."""
        self.app.call_later(self._release_now)

    async def _release_now(self) -> None:
        while self._held and not self._waiting:
            if not self._ready() and not self._forced:
                self._wait_for_screen_if_needed()
                return
            event = self._held.popleft()
            if not await self._handle(event):
                await self._pass_on(event)
        if not self._held:
            self._forced = False


def _path_up(node: DOMNode) -> list[DOMNode]:
    """``node`` and its ancestors up to (and with) its screen."""
    path: list[DOMNode] = []
    current: DOMNode | None = node
    while current is not None and not isinstance(current, App):
        path.append(current)
        if isinstance(current, Screen):
            break
        current = current.parent
    return path


def _alive(app: App[object], node: DOMNode) -> bool:
    """Whether ``node`` is on a screen of the stack (a dismissed dialog's widgets are not)."""
    if not node.is_attached:
        return False
    try:
        screen = node if isinstance(node, Screen) else node.screen
    except NoScreen:
        return False
    return screen in app.screen_stack
