"""Reading the owner's health for the status line, once a second, however the backend fares.

The status bar ages the last answer by the session clock between reads, so an owner that
stops answering (a request that hangs, a frozen process) still turns it to a warning on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from console.widgets import SessionInfo
from core.backend.protocol import Backend

log = logging.getLogger("jobdeck.console")

#: How often the owner's health is read (one primary-key read, or one `GET /api/health`).
OWNER_POLL_SECONDS = 1.0
#: A source that has not answered by then is passed over for the next one.
OWNER_READ_SECONDS = 2.0


async def read_owner(
    session: SessionInfo, *sources: Backend, seconds: float = OWNER_READ_SECONDS
) -> None:
    """Read the owner's health from the first of ``sources`` that answers within ``seconds``
    into ``session``; when none does, keep the last answer (it ages on screen) and let the
    change poll report the backend's health."""
    for source in sources:
        try:
            view = await asyncio.wait_for(source.owner_health(), seconds)
        except Exception:  # unreachable, hanging, or a backend that cannot tell
            log.debug("reading the owner's health failed", exc_info=True)
            continue
        session.see_owner(view)
        return


async def watch_owner(
    session: SessionInfo,
    sources: Callable[[], Sequence[Backend]],
    seconds: float = OWNER_POLL_SECONDS,
) -> None:
    """Read the owner's health from ``sources()`` every ``seconds`` until cancelled."""
    while True:
        await read_owner(session, *sources())
        await asyncio.sleep(seconds)
