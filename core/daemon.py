"""`jobdeck daemon`: the headless owner and its HTTP API, logging to stdout, stopping gracefully
on a signal.

The API (uvicorn, in this event loop) is bound before the owner starts, so a bad or busy
address fails at once and the lease records the real address. It also serves while this
daemon waits as a standby. On SIGTERM/SIGINT the owner stops first (running runs get
``grace``), then the API.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time

from core.api.app import create_app
from core.api.serve import Listen, start_api
from core.backend.factory import open_database
from core.backend.local import LocalBackend
from core.jobs.audit import Actor
from core.owner import Owner
from core.remote.credentials import OwnerCredential
from core.settings.config import Settings
from core.settings.secrets import SecretBox
from core.storage.database import Database

log = logging.getLogger("jobdeck.daemon")


def configure_logging(level: str = "INFO") -> None:
    """One line per event on stdout, with UTC timestamps (systemd and docker read stdout)."""
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces its dialect on every start; only its warnings matter to an operator.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _backend(settings: Settings, db: Database, owners: list[Owner]) -> LocalBackend:
    """The API's backend: writes act as each request's token (LocalBackend.with_actor)."""

    def wake() -> None:
        if owners:
            owners[-1].wake()  # runs queued through the API start at once, not at the next poll

    return LocalBackend(
        db,
        actor=Actor("api", "api"),
        default_zone=settings.timezone,
        read_only=settings.read_only,
        secrets=SecretBox(settings.resolved_secret_key_file()),
        on_runs_created=wake,
        scheduler=settings.scheduler,
    )


async def serve(settings: Settings, *, grace: float, listen: Listen | None = None) -> int:
    """Own the database until SIGTERM/SIGINT; wait as a standby while someone else owns it."""
    db = await asyncio.to_thread(open_database, settings)
    owners: list[Owner] = []
    backend = _backend(settings, db, owners)
    try:
        api = await start_api(create_app(backend, db), listen or Listen())
    except BaseException:
        await backend.close()
        raise
    stop = asyncio.Event()
    received: list[str] = []
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):

        def on_signal(name: str = signal.Signals(signum).name) -> None:
            received.append(name)
            stop.set()

        loop.add_signal_handler(signum, on_signal)
    log.info("jobdeck daemon starting on %s, API on %s", db.describe(), api.address)
    try:
        while not stop.is_set():
            owner = Owner(settings, db, api_address=api.address)
            owners[:] = [owner]
            if not await owner.start_when_free(stop):
                break
            backend.attach_executor(owner.executor)
            backend.attach_owner(owner)
            backend.on_runs_created = owner.wake
            backend.on_schedules_changed = owner.scheduler.wake
            # The same user on this host attaches without set-up (see core/remote/credentials).
            credential = await asyncio.to_thread(OwnerCredential.publish, settings, db, api.address)
            stopped = asyncio.create_task(stop.wait())
            lost = asyncio.create_task(owner.lost_lease.wait())
            await asyncio.wait({stopped, lost}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            lost.cancel()
            why = f"daemon stopping ({received[0]})" if received else "lost the lease"
            log.info("%s: letting running runs finish for up to %.0fs", why, grace)
            await asyncio.to_thread(credential.withdraw)
            backend.attach_executor(None)
            backend.attach_owner(None)
            backend.on_runs_created = backend.on_schedules_changed = None
            await owner.stop(grace, why)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await api.stop()
        await backend.close()
    log.info("jobdeck daemon stopped")
    return 0


def run_daemon(
    settings: Settings,
    *,
    grace: float = 30.0,
    log_level: str = "INFO",
    listen: Listen | None = None,
) -> int:
    """Entry point of `jobdeck daemon` (API on ``listen``, default 127.0.0.1:8765)."""
    configure_logging(log_level)
    return asyncio.run(serve(settings, grace=grace, listen=listen))
