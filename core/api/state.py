"""What every route reaches through the request: the backend, the database, settings, clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import Request

from core.api.auth import Principal
from core.api.config import ApiSettings
from core.api.page_cache import PageCache
from core.backend.protocol import Backend
from core.clock import Clock
from core.errors import NotFound
from core.jobs.audit import Actor
from core.pulse import Pulse
from core.storage.data_version import DataVersion
from core.storage.database import Database

#: The largest id a database column holds (bigger ones cannot name anything).
MAX_ID = 2**63 - 1


class ScopedBackend(Backend, Protocol):
    """A Backend that can act as someone else (the API's tokens) for the audit log."""

    def with_actor(self, actor: Actor) -> Backend:
        """The same backend, audited as ``actor``."""
        ...


class WriteSignal:
    """Tells the event streams when this process commits a write, so a change made by the
    owner (a run finishing, an API edit) is sent at once instead of at the next poll; the
    writes of other processes are still found by polling."""

    def __init__(self) -> None:
        self._pulse = Pulse()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: Callable[[], None] | None = None

    def watch(self, db: Database) -> None:
        """Listen to ``db``'s commits from the running loop on (once)."""
        if self._stop is None:
            self._loop = asyncio.get_running_loop()
            self._stop = db.on_write_commit(self._committed)

    def close(self) -> None:
        """Stop listening."""
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()

    def _committed(self) -> None:  # any thread
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._pulse.fire)

    async def wait(self, seconds: float) -> bool:
        """True when a write was committed within ``seconds``."""
        return await self._pulse.wait(seconds)


@dataclass
class ApiState:
    """The app's shared state (``app.state.jobdeck``)."""

    backend: ScopedBackend
    db: Database
    settings: ApiSettings
    clock: Clock
    #: set when the server stops: streams end instead of holding the shutdown up
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    #: this process committed a write: event streams read the change feed now
    writes: WriteSignal = field(default_factory=WriteSignal)
    #: run pages kept until the database changes (created with the state, from ``db``)
    pages: PageCache = field(init=False)

    def __post_init__(self) -> None:
        self.pages = PageCache(DataVersion(self.db))

    def close(self) -> None:
        """Stop listening to commits and release the page cache's connection."""
        self.writes.close()
        self.pages.close()


def api_state(request: Request) -> ApiState:
    """The state of the app serving ``request``."""
    state: ApiState = request.app.state.jobdeck
    return state


def reader(request: Request) -> Backend:
    """The backend for reads (nothing is audited)."""
    return api_state(request).backend


def writer(request: Request, principal: Principal) -> Backend:
    """The backend for a write, audited with the token's name and source "api"."""
    return api_state(request).backend.with_actor(principal.actor())


def ref(value: str, kind: str) -> int | str:
    """A path or query reference: an id (digits) or a name; ids no row can have are NotFound."""
    text = value.strip()
    if text.isdigit():
        # int() of non-ASCII digits ("²") or of huge strings fails, and the database cannot
        # hold ids past 2**63-1: none of those names anything.
        if not text.isascii() or len(text) > 19 or int(text) > MAX_ID:
            raise NotFound(kind, value)
        return int(text)
    return value
