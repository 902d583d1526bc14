"""Clock-jump detection (rule 8, F13, F14): compare wall and monotonic time between ticks.

Between two observations both clocks should advance alike; a difference beyond the threshold
means the wall clock was stepped (NTP, an operator's ``date -s``) or the machine was
suspended. Forward: the scheduler treats the gap as downtime (deadline and catch-up rules).
Backward: nothing can re-run (the ledger key and the stored next_run prevent it), but the
operator is warned. Both are audited as ``clock.skew`` and the latest one is kept in the
SystemState row ``clock_skew`` for the console to show. At start-up there is no previous
observation, so the newest occurrence any schedule last ran stands in for it: a clock that
reads earlier than that was set back across the restart.
"""

from __future__ import annotations

import logging
from datetime import datetime

from core.clock import Clock
from core.jobs.audit import Actor, record
from core.storage.database import Database
from core.storage.tables import SystemState

log = logging.getLogger("jobdeck.scheduler.clock")

SKEW_KEY = "clock_skew"


class ClockWatch:
    """Remembers the last (wall, monotonic) pair and reports jumps."""

    def __init__(self, db: Database, clock: Clock, threshold_seconds: float) -> None:
        self.db = db
        self.clock = clock
        self.threshold = threshold_seconds
        self._mark: tuple[datetime, float] | None = None

    @property
    def first(self) -> bool:
        """True until the first observation (which compares against the stored history)."""
        return self._mark is None

    def observe(self, floor: datetime | None = None) -> float | None:
        """Seconds the wall clock jumped since the last call (+ forward), or None.

        ``floor`` (first call only): a wall time known to have passed already.
        """
        wall, mono = self.clock.now(), self.clock.monotonic()
        mark, self._mark = self._mark, (wall, mono)
        if mark is None:
            return self._against_floor(wall, floor)
        drift = (wall - mark[0]).total_seconds() - (mono - mark[1])
        if abs(drift) < self.threshold:
            return None
        direction = "forward" if drift > 0 else "backward"
        log.warning("wall clock stepped %s by %.1f s", direction, abs(drift))
        return drift

    def _against_floor(self, wall: datetime, floor: datetime | None) -> float | None:
        if floor is None:
            return None
        behind = (floor - wall).total_seconds()
        if behind < self.threshold:
            return None
        log.warning("wall clock reads %.1f s before an occurrence already run", behind)
        return -behind

    def record(self, drift: float) -> None:
        """Audit a jump and keep it as the latest clock warning (worker thread)."""
        now = self.clock.now()
        value = {
            "at": now.isoformat(),
            "seconds": round(drift, 3),
            "direction": "forward" if drift > 0 else "backward",
            "handling": (
                "treated as downtime: deadline and catch-up rules apply"
                if drift > 0
                else "nothing re-runs; schedules resume when the clock reaches their next run"
            ),
        }
        with self.db.write() as session:
            state = session.get(SystemState, SKEW_KEY)
            if state is None:
                state = SystemState(key=SKEW_KEY, value=value, updated_at=now)
            else:
                state.value, state.updated_at = value, now
            session.add(state)
            record(
                session, Actor.system(), now, "clock.skew", "system", None, SKEW_KEY, after=value
            )
