"""Pulse: a fire wakes the waiters of that moment, not later ones."""

from __future__ import annotations

import asyncio

from core.pulse import Pulse


async def test_a_fire_wakes_current_waiters_only() -> None:
    pulse = Pulse()
    first = asyncio.ensure_future(pulse.wait(5.0))
    second = asyncio.ensure_future(pulse.wait(5.0))
    await asyncio.sleep(0)
    pulse.fire()
    assert await first and await second
    assert not await pulse.wait(0.02)  # fired before this wait began: it times out
