"""Owning the database from inside the TUI: the owner runs in the app's own event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from console.widgets import SessionInfo
from core.backend.local import LocalBackend
from core.owner import Owner, live_owner

if TYPE_CHECKING:
    from core.settings.config import Settings

log = logging.getLogger("jobdeck.console")

#: How long runs may finish when the operator quits an embedded session before they are
#: cancelled (the daemon's default is longer: nobody is waiting for it to exit).
QUIT_GRACE_SECONDS = 5.0


class EmbeddedOwner:
    """Takes the lease when nobody holds it and lends the owner to the local backend."""

    def __init__(self, settings: Settings, backend: LocalBackend) -> None:
        self.settings = settings
        self.backend = backend
        self.owner: Owner | None = None
        self._stopping = asyncio.Event()

    async def start(self, session: SessionInfo) -> None:
        """Own the database; while another process does, stay attached as a standby and
        take over when its lease lapses (it stopped or died)."""
        owner = Owner(self.settings, self.backend.db)
        if not await owner.try_start():
            holder = live_owner(self.backend.db) or "another process"
            session.mode = f"attached to {holder}"
            if not await owner.start_when_free(self._stopping):
                return
            log.info("the owner %s is gone: this console now owns the database", holder)
        self.owner = owner
        self.backend.attach_executor(owner.executor)
        self.backend.on_runs_created = owner.wake
        self.backend.on_schedules_changed = owner.scheduler.wake
        session.mode = "embedded"

    @property
    def active_runs(self) -> int:
        """Runs executing in this process right now."""
        return len(self.owner.executor.snapshot().active) if self.owner else 0

    async def stop(self, reason: str) -> None:
        """Stop firing, give running runs a short grace, cancel the rest, release the lease."""
        self._stopping.set()
        owner, self.owner = self.owner, None
        if owner is None:
            return
        self.backend.attach_executor(None)
        self.backend.on_runs_created = None
        self.backend.on_schedules_changed = None
        await owner.stop(QUIT_GRACE_SECONDS, reason)
