"""Which occurrences are due: memoised fire-time enumeration over jobdeck's timing rules.

Fire times come from ``core.jobs.timing`` through ``JobdeckTrigger`` (APScheduler's trigger
contract), so the scheduler and a preview never disagree. Two costs matter in a burst of
thousands of due schedules: building a Timing (pydantic validation, ~0.1 ms) and one fire-time
search (up to a few ms for a per-minute cron, whose DST look-back walks hours of minutes). Many
schedules share a timing, and schedules due together share the instant searched from, so both
are memoised: Timing objects for the process, searches for one pass.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import ValidationFailed
from core.jobs.schedule_rules import build_timing
from core.jobs.timing import JobdeckTrigger, next_fire_times

#: The schedule columns that define when it fires (anchor_at comes from created_at).
TIMING_COLUMNS = (
    "schedule_type",
    "cron_expression",
    "interval_seconds",
    "run_at",
    "minute",
    "time_of_day",
    "weekday",
    "day_of_month",
    "timezone",
    "start_at",
    "end_at",
)
#: Ledger rows recorded per schedule per transaction; a longer backlog continues next batch.
MAX_DUE = 5000
#: Occurrences looked at beyond MAX_DUE: at least the largest catch-up cap (1000), so a chunk
#: that is cut off is never among the newest ones the catch-up policy keeps.
LOOKAHEAD = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

TimingKey = tuple[Any, ...]


def timing_key(fields: Mapping[str, Any]) -> TimingKey:
    """A hashable key of a schedule row's timing (created_at matters only for intervals)."""
    anchor = fields["created_at"] if fields["schedule_type"] == "interval" else None
    return (*(fields[name] for name in TIMING_COLUMNS), anchor)


# Sized above the schedules a database realistically holds (every interval schedule has its own
# anchor, so its own key): an LRU smaller than the working set would miss on every tick.
# About 1.7 kB an entry.
@functools.lru_cache(maxsize=32_768)
def trigger_for(key: TimingKey) -> JobdeckTrigger:
    """The trigger of a timing key; raises ValidationFailed for a timing stored invalid."""
    fields = dict(zip(TIMING_COLUMNS, key[:-1], strict=True))
    # Same construction as core.jobs.schedule_rules.timing_of; other types ignore anchor_at.
    return JobdeckTrigger(build_timing(fields, key[-1] or _EPOCH))


@dataclass(frozen=True)
class DueSet:
    """Due occurrences of one schedule (oldest first) and where its next_run moves to."""

    due: list[datetime]
    next_run: datetime | None
    #: True when a backlog was cut: next_run is still due and at least LOOKAHEAD more follow
    more: bool


class FireMemo:
    """Fire-time searches of one pass, shared between schedules with equal timing and start."""

    def __init__(self) -> None:
        self._memo: dict[tuple[TimingKey, datetime, int], list[datetime]] = {}

    def after(self, key: TimingKey, after: datetime, n: int) -> list[datetime]:
        """Up to ``n`` fires strictly after ``after``."""
        memo_key = (key, after, n)
        found = self._memo.get(memo_key)
        if found is None:
            trigger = trigger_for(key)
            if n == 1:
                nxt = trigger.get_next_fire_time(after, after)
                found = [] if nxt is None else [nxt]
            else:
                found = [fire.utc for fire in next_fire_times(trigger.timing, after, n)]
            self._memo[memo_key] = found
        return found

    def due(self, key: TimingKey, first: datetime, now: datetime) -> DueSet:
        """Occurrences from ``first`` (the stored next_run, due) up to ``now``, bounded."""
        due = [first]
        after, n = first, 1
        while True:
            fires = self.after(key, after, n)
            for fire in fires:
                if fire > now:
                    return DueSet(due, fire, more=False)
                due.append(fire)
            if len(fires) < n:
                return DueSet(due, None, more=False)
            if len(due) > MAX_DUE + LOOKAHEAD:
                return DueSet(due[:MAX_DUE], due[MAX_DUE], more=True)
            after, n = fires[-1], min(n * 16, 1000)


def fires_between(key: TimingKey, start: datetime, end: datetime, limit: int) -> list[datetime]:
    """Fires in [start, end], oldest first; ValidationFailed if more than ``limit``."""
    found: list[datetime] = []
    after = start - _US
    while True:
        chunk = [f.utc for f in next_fire_times(trigger_for(key).timing, after, 1000)]
        for fire in chunk:
            if fire > end:
                return found
            if len(found) == limit:
                raise ValidationFailed("end", f"the range holds more than {limit} occurrences")
            found.append(fire)
        if len(chunk) < 1000:
            return found
        after = chunk[-1]


@dataclass(frozen=True)
class Newest:
    """The newest occurrences in a range, and how many the range holds (None: too many)."""

    fires: list[datetime]
    total: int | None


def newest_between(
    key: TimingKey, start: datetime, end: datetime, limit: int, scan_limit: int = 20_000
) -> Newest:
    """The newest ``limit`` fires in [start, end]; counts exactly up to ``scan_limit``."""
    timing = trigger_for(key).timing
    kept: deque[datetime] = deque(maxlen=limit)
    total, after = 0, start - _US
    while total < scan_limit:
        chunk = [f.utc for f in next_fire_times(timing, after, 1000)]
        for fire in chunk:
            if fire > end:
                return Newest(list(kept), total)
            kept.append(fire)
            total += 1
        if len(chunk) < 1000:
            return Newest(list(kept), total)
        after = chunk[-1]
    # Too many to walk: search back from the end, doubling the span until it holds `limit`.
    period = (after - start) / total
    span = period * limit * 2
    while True:
        lower = max(start, end - span)
        tail = fires_after_capped(key, lower - _US, end, 4 * limit)
        if len(tail) >= limit or lower == start:
            return Newest(tail[-limit:], None)
        span *= 2


def fires_after_capped(key: TimingKey, after: datetime, end: datetime, cap: int) -> list[datetime]:
    """Fires in (after, end], at most ``cap`` of the newest found while walking forward."""
    timing = trigger_for(key).timing
    kept: deque[datetime] = deque(maxlen=cap)
    while True:
        chunk = [f.utc for f in next_fire_times(timing, after, 1000)]
        for fire in chunk:
            if fire > end:
                return list(kept)
            kept.append(fire)
        if len(chunk) < 1000:
            return list(kept)
        after = chunk[-1]
