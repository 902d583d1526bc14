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
from typing import TYPE_CHECKING, Protocol

from core.backend.protocol import Backend

if TYPE_CHECKING:
    from console.succession import Switch
    from console.widgets import SessionInfo
    from core.jobs.executor.config import ActiveRunInfo
    from core.settings.config import Settings

#: What opening a backend imports (the storage stack): loaded off the event loop.
OPENING_MODULES = ("core.backend.factory",)


class ConsoleOwner(Protocol):
    """What the app starts once the first screen is shown: ``console.succession``'s watch
    over the database's owner (it owns the database from the console when nobody does)."""

    @property
    def active_runs(self) -> int: ...

    @property
    def executing(self) -> tuple[ActiveRunInfo, ...]: ...

    async def start(self, session: SessionInfo, switch: Switch | None = None) -> None: ...

    async def stop(self, reason: str) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Connection:
    """The opened backend, how it was reached (for the status bar), the owner to start."""

    backend: Backend
    mode: str
    owner: ConsoleOwner | None = None
    #: where the owner's health is read when ``backend`` does not answer (the database)
    owner_source: Backend | None = None

    async def close(self, reason: str) -> None:
        """Stop the owner (when this console owns the database), close every backend."""
        if self.owner is None:
            await self.backend.close()
            return
        await self.owner.stop(reason)
        await self.owner.close()


#: What the app calls once it has painted: given a way to warn, the connection.
Connect = Callable[[Callable[[str], None]], Awaitable[Connection]]


def console_connector(
    settings: Settings, backend_arg: str | None, token: str | None, *, insecure: bool
) -> Connect:
    """The console's ``Connect``: ``--backend`` (attached to that daemon, nothing more), or
    the database's live owner's API or the database itself, watched by a ``Succession``
    that takes the lease when nobody holds it (unless read-only) and follows new owners."""

    async def connect(warn: Callable[[str], None]) -> Connection:
        await import_off_loop(*OPENING_MODULES)
        from console.opening import open_interface_backend
        from console.succession import Succession, holder_label
        from core.backend.factory import open_local_backend
        from core.backend.local import LocalBackend

        backend, mode = await open_interface_backend(
            settings, "tui", backend_arg, token, insecure=insecure, warn=warn
        )
        if backend_arg:
            return Connection(backend, mode)
        if isinstance(backend, LocalBackend):
            local = backend
        else:
            try:
                local = await asyncio.to_thread(open_local_backend, settings, source="tui")
            except Exception:
                await backend.close()
                raise
        health = await local.owner_health()
        holder = health.owner if health.verdict().state != "none" else None
        if holder is not None and backend is local:
            mode = f"attached to {holder_label(holder)}"  # its API is out of reach
        # The owner there is now has been dealt with: attached to, or told why not.
        settled = holder.owner_id if holder is not None else None
        owner = Succession(settings, local, backend, settled_with=settled, token=token)
        return Connection(backend, mode, owner, owner_source=local)

    return connect


async def import_off_loop(*names: str) -> None:
    """Import ``names`` in a worker thread: the console stays responsive while they load."""

    def load() -> None:
        for name in names:
            import_module(name)

    await asyncio.to_thread(load)
