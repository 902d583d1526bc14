"""Reading the owner's health for the status line, once a second, however the backend fares.

The status bar ages the last answer by the session clock between reads, so an owner that
stops answering (a request that hangs, a frozen process) still turns it to a warning on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from console.widgets import SessionInfo
from core.backend.protocol import Backend

log = logging.getLogger("jobdeck.console")

#: How often the owner's health is read (one primary-key read, or one `GET /api/health`).
OWNER_POLL_SECONDS = 1.0


async def read_owner(session: SessionInfo, source: Backend) -> None:
    """Read the owner's health from ``source`` into ``session``; on failure keep the last
    answer (it ages on screen) and let the change poll report the backend's health."""
    try:
        view = await source.owner_health()
    except Exception:
        log.debug("reading the owner's health failed", exc_info=True)
        return
    session.see_owner(view)


async def watch_owner(
    session: SessionInfo, source: Callable[[], Backend], seconds: float = OWNER_POLL_SECONDS
) -> None:
    """Read the owner's health from ``source()`` every ``seconds`` until cancelled."""
    while True:
        await read_owner(session, source())
        await asyncio.sleep(seconds)
