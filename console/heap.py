"""Full garbage collections at quiet moments, not in the middle of answering a key.

A full collection walks every tracked object that start-up did not freeze (see
``console.entry.settle_heap``): the runs windows, their drawn lines, the owner's scheduler
and executor. That is ~40 ms on the 2-core machines measured, taken wherever an allocation
happens to cross the collector's threshold, often while a frame is drawn after a key: it was
the worst page-down of the console benchmark. Young collections stay automatic (they are
short); full ones run here, once the operator has pressed nothing for ``QUIET_SECONDS`` and
at most every ``QUIET_EVERY_SECONDS``, and at least every ``AT_LEAST_EVERY_SECONDS``
whatever happens, so garbage in cycles never piles up for long.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: No key or click for this long: a full collection will not be in anybody's way.
QUIET_SECONDS = 1.0
#: Quiet full collections are at least this far apart.
QUIET_EVERY_SECONDS = 10.0
#: A full collection happens at least this often, quiet or not.
AT_LEAST_EVERY_SECONDS = 120.0
#: The collector's own full collections wait for more young collections than ever happen.
_NEVER = 1 << 30


class QuietCollector:
    """Takes full collections away from the collector and runs them when it is quiet.

    ``input_seen`` on every key and click, ``tick`` every second or so; ``stop`` gives the
    collector its thresholds back.
    """

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self.last_input = self.last_full = now()
        self._thresholds: tuple[int, int, int] | None = None

    def start(self) -> None:
        """From now on, full collections are run by ``tick``."""
        if self._thresholds is None:
            young, middle, _full = self._thresholds = gc.get_threshold()
            gc.set_threshold(young, middle, _NEVER)

    def stop(self) -> None:
        """Back to the collector's own thresholds."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def input_seen(self) -> None:
        """The operator pressed a key or clicked."""
        self.last_input = self._now()

    def tick(self) -> bool:
        """Collect everything if it is time to; whether it was."""
        now = self._now()
        since_full = now - self.last_full
        quiet = now - self.last_input >= QUIET_SECONDS
        grown = gc.get_count()[2] > 0  # young collections promoted objects since the last
        if (quiet and grown and since_full >= QUIET_EVERY_SECONDS) or (
            since_full >= AT_LEAST_EVERY_SECONDS
        ):
            gc.collect()
            self.last_full = self._now()
            return True
        return False
