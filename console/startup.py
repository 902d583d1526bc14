"""What the console opens after its first paint: the backend, and the embedded owner.

Importing the storage layer (SQLAlchemy, SQLModel), checking the schema and, when nobody owns
the database, preparing to own it take longer than drawing the first screen: the app paints
first, with a ``PendingBackend`` standing in, and calls ``open_console`` right after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from core.backend.protocol import Backend

if TYPE_CHECKING:
    from console.embedded import EmbeddedOwner
    from core.settings.config import Settings

#: What opening a backend imports (the storage stack): loaded off the event loop.
OPENING_MODULES = ("core.backend.factory",)


@dataclass
class Connection:
    """The opened backend, how it was reached (for the status bar), the owner to start."""

    backend: Backend
    mode: str
    owner: EmbeddedOwner | None = None


#: What the app calls once it has painted: given a way to warn, the connection.
Connect = Callable[[Callable[[str], None]], Awaitable[Connection]]


def console_connector(
    settings: Settings, backend_arg: str | None, token: str | None, *, insecure: bool
) -> Connect:
    """The console's ``Connect``: ``--backend``, the live owner's API, or the database (then
    owned by an embedded owner, unless read-only)."""

    async def connect(warn: Callable[[str], None]) -> Connection:
        await import_off_loop(*OPENING_MODULES)
        from console.embedded import EmbeddedOwner
        from console.opening import open_interface_backend
        from core.backend.local import LocalBackend

        backend, mode = await open_interface_backend(
            settings, "tui", backend_arg, token, insecure=insecure, warn=warn
        )
        owner = None
        if isinstance(backend, LocalBackend) and not settings.read_only:
            owner = EmbeddedOwner(settings, backend)
        return Connection(backend, mode, owner)

    return connect


async def import_off_loop(*names: str) -> None:
    """Import ``names`` in a worker thread: the console stays responsive while they load."""

    def load() -> None:
        for name in names:
            import_module(name)

    await asyncio.to_thread(load)
