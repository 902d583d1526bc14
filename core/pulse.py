"""A pulse: wake everyone waiting right now, then be ready for the next one."""

from __future__ import annotations

import asyncio


class Pulse:
    """``fire`` wakes every current ``wait``; later waits wait for the next fire (unlike an
    Event, nothing has to clear it, and no waiter misses a fire while another is woken)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake the current waiters (event-loop thread only)."""
        fired, self._event = self._event, asyncio.Event()
        fired.set()

    async def wait(self, seconds: float) -> bool:
        """True when fired within ``seconds``."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        return True
