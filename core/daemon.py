"""`jobdeck daemon`: the headless owner, logging to stdout, stopping gracefully on a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time

from core.backend.factory import open_database
from core.owner import Owner
from core.settings.config import Settings

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


async def serve(settings: Settings, *, grace: float) -> int:
    """Own the database until SIGTERM/SIGINT; wait as a standby while someone else owns it."""
    db = await asyncio.to_thread(open_database, settings)
    stop = asyncio.Event()
    received: list[str] = []
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):

        def on_signal(name: str = signal.Signals(signum).name) -> None:
            received.append(name)
            stop.set()

        loop.add_signal_handler(signum, on_signal)
    log.info("jobdeck daemon starting on %s", db.describe())
    try:
        while not stop.is_set():
            owner = Owner(settings, db)
            if not await owner.start_when_free(stop):
                break
            stopped = asyncio.create_task(stop.wait())
            lost = asyncio.create_task(owner.lost_lease.wait())
            await asyncio.wait({stopped, lost}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            lost.cancel()
            why = f"daemon stopping ({received[0]})" if received else "lost the lease"
            log.info("%s: letting running runs finish for up to %.0fs", why, grace)
            await owner.stop(grace, why)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await asyncio.to_thread(db.dispose)
    log.info("jobdeck daemon stopped")
    return 0


def run_daemon(settings: Settings, *, grace: float = 30.0, log_level: str = "INFO") -> int:
    """Entry point of `jobdeck daemon`."""
    configure_logging(log_level)
    return asyncio.run(serve(settings, grace=grace))
