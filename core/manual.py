"""Run one job in this process when no owner is running (`jobdeck template run` from the CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from core.backend.local import LocalBackend
from core.backend.protocol import Backend
from core.backend.views import TERMINAL_STATUSES
from core.clock import SystemClock
from core.jobs.executor import ExecutorConfig, LocalExecutor
from core.owner import OwnerIdentity, live_owner
from core.settings.config import Settings
from core.settings.secrets import SecretBox


async def execute_here(
    backend: Backend, settings: Settings, run_id: int, *, poll: float = 0.2
) -> bool:
    """Execute ``run_id`` here unless a live owner (or a remote backend) will; False then.

    Only this run is claimed: other pending runs wait for an owner. If an owner starts
    meanwhile, the atomic claim decides who runs it; this process then just waits.
    """
    if not isinstance(backend, LocalBackend):
        return False
    db = backend.db
    if await asyncio.to_thread(live_owner, db):
        return False
    identity = OwnerIdentity.new()
    executor = LocalExecutor(
        db,
        clock=SystemClock(),
        config=ExecutorConfig(
            name=f"cli@{socket.gethostname()}",
            slots=1,
            kill_grace_seconds=settings.executor.kill_grace_seconds,
            max_log_bytes=settings.executor.max_log_bytes,
            heartbeat_seconds=settings.scheduler.heartbeat_seconds,
            home=settings.home,
            only_run_ids=frozenset({run_id}),
        ),
        owner_id=identity.owner_id,
        secrets=SecretBox(settings.resolved_secret_key_file()),
    )
    await executor.start()
    try:
        while True:
            # The database is the truth: another owner may have claimed the run.
            if (await backend.get_run(run_id)).status in TERMINAL_STATUSES:
                break
            await asyncio.sleep(poll)
    finally:
        with contextlib.suppress(Exception):
            await executor.stop(settings.executor.kill_grace_seconds, "the CLI stopped")
    return True
