"""Owning the database from inside the TUI: the owner runs in the app's own event loop.

An embedded owner is a full owner: it schedules, executes, and serves the HTTP API on
``$JOBDECK_HOME/api.sock`` (or a loopback port) with a local credential, so the CLI and a
second console attach to it exactly as they would to a daemon.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from console.startup import import_off_loop

if TYPE_CHECKING:
    from core.api.on_demand import OnDemandApiServer
    from core.backend.local import LocalBackend
    from core.jobs.executor.config import ActiveRunInfo
    from core.owner import Owner
    from core.remote.credentials import OwnerCredential
    from core.settings.config import Settings

log = logging.getLogger("jobdeck.console")

#: How long runs may finish when the operator quits an embedded session before they are
#: cancelled (the daemon's default is longer: nobody is waiting for it to exit).
QUIT_GRACE_SECONDS = 5.0


class EmbeddedOwner:
    """Takes the lease when asked and nobody holds it, serves the API, lends the owner to the
    backend (``console/succession.py`` decides when to ask)."""

    def __init__(self, settings: Settings, backend: LocalBackend) -> None:
        self.settings = settings
        self.backend = backend
        self.owner: Owner | None = None
        self.server: OnDemandApiServer | None = None
        self.credential: OwnerCredential | None = None
        self._stopping = asyncio.Event()
        self._stop_task: asyncio.Task[None] | None = None

    async def try_own(self) -> bool:
        """Take the lease if nobody holds a live one: schedule, execute and serve the API
        from this console (True), or leave everything as it was (False)."""
        # The scheduler and the executor load off the event loop (the console is
        # already on screen and stays responsive meanwhile).
        await import_off_loop("core.owner", "core.api.on_demand", "core.remote.credentials")
        if self._stopping.is_set() or self.owner is not None:
            return self.owner is not None
        return await self._try_own()

    @property
    def lost_lease(self) -> bool:
        """True when the owner this console ran lost its lease to another process."""
        return self.owner is not None and self.owner.lost_lease.is_set()

    async def _try_own(self) -> bool:
        from core.api.on_demand import serve_embedded_on_demand
        from core.owner import Owner
        from core.remote.credentials import OwnerCredential

        try:
            server = serve_embedded_on_demand(self.backend, self.settings)
        except Exception as exc:  # a live socket of another console, a full disk...
            log.warning("not serving the API from this console: %s", exc)
            server = None
        owner = Owner(self.settings, self.backend.db, api_address=server and server.address)
        if not await owner.try_start():
            if server is not None:
                await server.stop()
            return False
        self.owner, self.server = owner, server
        self.backend.attach_executor(owner.executor)
        self.backend.attach_owner(owner)
        self.backend.on_runs_created = owner.wake
        self.backend.on_schedules_changed = owner.scheduler.wake
        if server is not None:
            self.credential = await asyncio.to_thread(
                OwnerCredential.publish, self.settings, self.backend.db, server.address
            )
        return True

    @property
    def active_runs(self) -> int:
        """Runs executing in this process right now."""
        return len(self.executing)

    @property
    def executing(self) -> tuple[ActiveRunInfo, ...]:
        """The runs executing in this process right now, oldest first."""
        return self.owner.executor.snapshot().active if self.owner else ()

    async def stop(self, reason: str, *, for_good: bool = True) -> None:
        """Stop firing, give running runs a short grace, cancel the rest, release the lease;
        ``for_good=False`` (the lease was lost) lets ``try_own`` take it again later."""
        if for_good:
            self._stopping.set()
        stopping = self._stop_task
        if self.owner is not None and (stopping is None or stopping.done()):
            stopping = self._stop_task = asyncio.create_task(
                self._stop(reason), name="jobdeck-owner-stop"
            )
        if stopping is not None:
            # Shielded: a caller cancelled meanwhile (the app's quit worker, when the app
            # exits) leaves the stop running; the console's last step awaits the same task.
            await asyncio.shield(stopping)

    async def _stop(self, reason: str) -> None:
        owner, self.owner = self.owner, None
        if owner is None:
            return
        credential, self.credential = self.credential, None
        if credential is not None:
            await asyncio.to_thread(credential.withdraw)
        self.backend.attach_executor(None)
        self.backend.attach_owner(None)
        self.backend.on_runs_created = None
        self.backend.on_schedules_changed = None
        await owner.stop(QUIT_GRACE_SECONDS, reason)
        server, self.server = self.server, None
        if server is not None:
            await server.stop()
