"""The owner of a database: holds the lease and runs the scheduler and the executor."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock, SystemClock
from core.jobs.executor import ExecutorConfig, LocalExecutor
from core.jobs.scheduler import Lease, Scheduler, SchedulerConfig
from core.settings.config import Settings
from core.settings.secrets import SecretBox
from core.storage.database import Database

log = logging.getLogger("jobdeck.owner")


@dataclass(frozen=True)
class OwnerIdentity:
    """Who this owner is, as the lease and the runs record it."""

    owner_id: str
    host: str
    pid: int

    @classmethod
    def new(cls) -> OwnerIdentity:
        """A fresh identity for this process."""
        return cls(uuid.uuid4().hex, socket.gethostname(), os.getpid())


def live_owner(db: Database, clock: Clock | None = None) -> str | None:
    """A description of the live owner of ``db`` ("host pid N"), or None when nobody owns it."""
    info = Lease.current(db, clock or SystemClock())
    if info is None or not info.live:
        return None
    return f"{info.host} pid {info.pid}"


class Owner:
    """Lease, scheduler and executor of one process, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Clock | None = None,
        api_address: str | None = None,
        identity: OwnerIdentity | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock or SystemClock()
        self.identity = identity or OwnerIdentity.new()
        secrets = SecretBox(settings.resolved_secret_key_file())
        self.lease = Lease(
            db,
            clock=self.clock,
            owner_id=self.identity.owner_id,
            host=self.identity.host,
            pid=self.identity.pid,
            ttl_seconds=settings.scheduler.lease_ttl_seconds,
            api_address=api_address,
        )
        self.executor = LocalExecutor(
            db,
            clock=self.clock,
            config=ExecutorConfig(
                name=f"local@{self.identity.host}",
                slots=settings.executor.slots,
                kill_grace_seconds=settings.executor.kill_grace_seconds,
                max_log_bytes=settings.executor.max_log_bytes,
                heartbeat_seconds=settings.scheduler.heartbeat_seconds,
                home=settings.home,
            ),
            owner_id=self.identity.owner_id,
            secrets=secrets,
        )
        self.scheduler = Scheduler(
            db,
            clock=self.clock,
            lease=self.lease,
            config=SchedulerConfig(
                heartbeat_seconds=settings.scheduler.heartbeat_seconds,
                max_sleep_seconds=settings.scheduler.max_sleep_seconds,
            ),
            secrets=secrets,
            on_runs_created=self.wake,
        )
        self.running = False
        self._renewer: asyncio.Task[None] | None = None
        self.lost_lease = asyncio.Event()
        #: why the last lease renewal failed (None once one succeeds again)
        self._renewal_failure: str | None = None

    # -- what this owner says about itself (LocalBackend.owner_health) ---------------------

    @property
    def owner_id(self) -> str:
        """The id the lease row records for this owner."""
        return self.identity.owner_id

    @property
    def ticked_at(self) -> datetime | None:
        """When this owner's scheduler last completed a tick (fresher than the lease row)."""
        return self.lease.ticked_at

    @property
    def problem(self) -> str | None:
        """What keeps this owner from scheduling right now, in a few words, or None."""
        if self._renewal_failure is not None:
            return f"database unwritable: {self._renewal_failure}"
        report = self.scheduler.last_report
        if self.running and report is not None and report.error is not None:
            return f"scheduler tick failed: {report.error}"
        return None

    def wake(self) -> None:
        """New pending runs exist: let the executor look now."""
        if self.running:
            self.executor.wake()

    def schedules_changed(self) -> None:
        """A schedule was created, edited, enabled or disabled in this process: let the
        scheduler look now rather than at its next wake-up (thread-safe)."""
        if self.running:
            self.scheduler.wake()

    async def try_start(self) -> bool:
        """Take the lease and start, or return False at once when someone else owns the DB."""
        if not await asyncio.to_thread(self.lease.try_acquire):
            return False
        await self._start()
        return True

    async def start_when_free(self, stop: asyncio.Event) -> bool:
        """Wait as a hot standby until the lease is free (or ``stop`` is set), then start."""
        announced = False
        while not stop.is_set():
            if await asyncio.to_thread(self.lease.try_acquire):
                await self._start()
                return True
            if not announced:
                log.info(
                    "standby: %s owns the database; waiting for its lease to lapse",
                    live_owner(self.db, self.clock) or "another process",
                )
                announced = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.scheduler.heartbeat_seconds)
        return False

    async def _start(self) -> None:
        log.info("owner %s: took the lease on %s", self.identity.owner_id[:8], self.db.describe())
        self.running = True
        self.lost_lease.clear()
        await self.executor.start()
        # Everything imported and built so far lives as long as the process: move it out of
        # the collector's view, so a full collection triggered by a burst's allocations walks
        # only new objects (measured: the burst's worst loop stall 209 ms -> 20 ms).
        gc.collect()
        gc.freeze()
        await self.scheduler.start()
        self._renewer = asyncio.create_task(self._renew_forever(), name="jobdeck-lease")

    async def _renew_forever(self) -> None:
        period = self.settings.scheduler.heartbeat_seconds
        while self.running:
            await asyncio.sleep(period)
            try:
                held = await asyncio.to_thread(self.lease.renew)
            except Exception as exc:  # the store may be down for a while (F18): keep trying
                log.exception("lease renewal failed; retrying")
                cause = getattr(exc, "orig", None) or exc  # the driver's words
                self._renewal_failure = " ".join(str(cause).split()) or type(cause).__name__
                continue
            self._renewal_failure = None
            if not held:
                log.error("lost the lease to another owner; scheduling stops")
                await self.scheduler.stop()
                self.lost_lease.set()
                return

    async def stop(self, grace: float, reason: str) -> None:
        """Stop firing, let running runs finish up to ``grace``, cancel the rest, release."""
        if not self.running:
            return
        self.running = False
        if self._renewer:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self.scheduler.stop()
        await self.executor.stop(grace, reason)
        await asyncio.to_thread(self.lease.release)
        log.info("owner %s: stopped and released the lease", self.identity.owner_id[:8])
