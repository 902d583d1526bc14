"""Pure scheduling decisions: deadline, catch-up, pause, overlap, jitter (SCHEDULING.md 2-4, 9-10).

Nothing here touches the database or the clock, so every rule is a plain function to test.
A decision is made per due occurrence, oldest first, in three steps:

1. pause: a backend in maintenance or a paused template skips every due occurrence;
2. time: ``plan_due`` applies the start deadline to a lone occurrence found on a normal tick,
   and the catch-up policy when several are due or the tick follows downtime (start-up, a
   forward clock jump). Catch-up ignores the deadline for the occurrences it keeps: running
   them late is the point of catching up. ``none`` still lets the newest one run if it is
   within the deadline (that is a late start, not a catch-up);
3. overlap: ``apply_overlap`` turns "run" decisions into skips when the schedule's active runs
   (pending or running) leave no room, or replaces them.

Reasons start with a stable word ("deadline", "overlap", ...) followed by ": " and details, so
``reason_kind`` can classify them and an operator can read them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

Outcome = Literal["ran", "coalesced", "skipped", "missed"]
#: "run" is a decision to create a run; it is recorded as "ran" once the run exists.
Verdict = Literal["run", "coalesced", "skipped", "missed"]

DEADLINE = "deadline"
CATCHUP_CAP = "catch-up cap"
CATCHUP_NONE = "catch-up none"
OUTSIDE_WINDOW = "outside catch-up window"
OVERLAP = "overlap"
PAUSED = "paused"
MAINTENANCE = "maintenance"
BROKEN = "broken"


@dataclass(frozen=True)
class Policy:
    """A schedule's run policies, as stored on its row."""

    start_deadline_seconds: float = 300.0
    catchup: str = "latest"
    catchup_cap: int = 10
    catchup_window_seconds: float = 86400.0
    overlap: str = "skip"
    overlap_max: int = 1
    jitter: str = "off"
    jitter_seconds: float = 0.0


@dataclass(frozen=True)
class Decision:
    """What becomes of one due occurrence."""

    scheduled_for: datetime
    verdict: Verdict
    reason: str | None
    lateness: float

    @property
    def outcome(self) -> Outcome:
        """The ledger outcome this decision is recorded as."""
        return "ran" if self.verdict == "run" else self.verdict


def reason_kind(reason: str | None) -> str | None:
    """The stable leading word of a reason ("deadline", "overlap", ...)."""
    return None if reason is None else reason.split(":", 1)[0]


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _seconds(value: float) -> str:
    """A duration for a reason: whole seconds, minutes or hours."""
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def paused(due: Sequence[datetime], now: datetime, why: str) -> list[Decision]:
    """Every due occurrence skipped, with ``why`` ("paused: ..." or "maintenance: ...")."""
    return [Decision(o, "skipped", why, _late(o, now)) for o in due]


def _late(occurrence: datetime, now: datetime) -> float:
    return max(0.0, (now - occurrence).total_seconds())


def plan_due(
    due: Sequence[datetime],
    now: datetime,
    policy: Policy,
    *,
    catching_up: bool,
    more_after: bool = False,
) -> list[Decision]:
    """Deadline and catch-up decisions for due occurrences (ascending, all <= now).

    ``catching_up``: the tick follows downtime (start-up or a forward clock jump).
    ``more_after``: these are the oldest of a backlog and at least ``catchup_cap`` more follow,
    so none of them is among the newest (the caller processes big backlogs in chunks).
    """
    if not due:
        return []
    deadline = policy.start_deadline_seconds
    if len(due) == 1 and not catching_up and not more_after:
        lateness = _late(due[0], now)
        if lateness <= deadline:
            return [Decision(due[0], "run", None, lateness)]
        return [Decision(due[0], "missed", _deadline_reason(lateness, deadline), lateness)]

    window_start = now - timedelta(seconds=policy.catchup_window_seconds)
    decisions: list[Decision] = []
    inside: list[datetime] = []
    for occurrence in due:
        if occurrence < window_start:
            window = _seconds(policy.catchup_window_seconds)
            reason = f"{OUTSIDE_WINDOW}: {_seconds(_late(occurrence, now))} late, window {window}"
            decisions.append(Decision(occurrence, "missed", reason, _late(occurrence, now)))
        else:
            inside.append(occurrence)
    if not inside:
        return decisions

    keep: list[datetime] = []
    if not more_after:
        if policy.catchup == "all":
            keep = inside[-policy.catchup_cap :]
        elif policy.catchup == "latest" or _late(inside[-1], now) <= deadline:
            # "none" keeps the newest only when it is within the deadline: a late start.
            keep = inside[-1:]
    kept = set(keep)
    into = _iso(keep[-1]) if keep else "a later occurrence"
    for occurrence in inside:
        lateness = _late(occurrence, now)
        if occurrence in kept:
            decisions.append(Decision(occurrence, "run", None, lateness))
        elif policy.catchup == "latest":
            reason = f"coalesced: catch-up latest ran {into}"
            decisions.append(Decision(occurrence, "coalesced", reason, lateness))
        elif policy.catchup == "all":
            reason = f"{CATCHUP_CAP}: only the newest {policy.catchup_cap} are caught up"
            decisions.append(Decision(occurrence, "missed", reason, lateness))
        elif occurrence == inside[-1] and not more_after:
            decisions.append(
                Decision(occurrence, "missed", _deadline_reason(lateness, deadline), lateness)
            )
        else:
            reason = f"{CATCHUP_NONE}: missed during downtime"
            decisions.append(Decision(occurrence, "missed", reason, lateness))
    return decisions


def _deadline_reason(lateness: float, deadline: float) -> str:
    return f"{DEADLINE}: found {_seconds(lateness)} late, start deadline {_seconds(deadline)}"


def dropped_by_cap(decisions: Sequence[Decision]) -> int:
    """How many occurrences the catch-up cap dropped (F7 warns about them)."""
    return sum(1 for d in decisions if reason_kind(d.reason) == CATCHUP_CAP)


@dataclass(frozen=True)
class OverlapResult:
    """Decisions after the overlap rule, and the reason to cancel active runs with (replace)."""

    decisions: list[Decision]
    replace_reason: str | None


def apply_overlap(decisions: Sequence[Decision], policy: Policy, active: int) -> OverlapResult:
    """Apply skip / queue / allow / replace to the "run" decisions, oldest first.

    ``active`` counts the schedule's pending and running runs (lost runs never count).
    skip: nothing may be active. queue (max N): one running plus N waiting. allow (max N): N at
    once. replace: the newest run wins; active runs are asked to cancel, and older runs of the
    same tick are skipped rather than created only to be cancelled.
    """
    result: list[Decision] = []
    runs = [d for d in decisions if d.verdict == "run"]
    if policy.overlap == "replace":
        newest = runs[-1] if runs else None
        for d in decisions:
            if d.verdict == "run" and d is not newest:
                assert newest is not None
                why = f"{OVERLAP}: replaced by occurrence {_iso(newest.scheduled_for)}"
                result.append(replace(d, verdict="skipped", reason=why))
            else:
                result.append(d)
        cancel = None
        if newest is not None and active > 0:
            cancel = f"replaced by occurrence {_iso(newest.scheduled_for)}"
        return OverlapResult(result, cancel)

    if policy.overlap == "allow":
        limit = policy.overlap_max
    elif policy.overlap == "queue":
        limit = 1 + policy.overlap_max
    else:
        limit = 1
    if active + len(runs) <= limit:  # the common case: room for every run
        return OverlapResult(list(decisions), None)
    for d in decisions:
        if d.verdict != "run":
            result.append(d)
        elif active >= limit:
            result.append(replace(d, verdict="skipped", reason=_overlap_reason(policy, active)))
        else:
            active += 1
            result.append(d)
    return OverlapResult(result, None)


def _overlap_reason(policy: Policy, active: int) -> str:
    if policy.overlap == "queue":
        return f"{OVERLAP}: queue full ({active} active, at most {policy.overlap_max} waiting)"
    if policy.overlap == "allow":
        return f"{OVERLAP}: {active} active, allow at most {policy.overlap_max}"
    return f"{OVERLAP}: skip, {active} run{'s' if active != 1 else ''} still active"


def hash_fraction(schedule_id: int) -> float:
    """A stable number in [0, 1) per schedule (the same on every host and restart)."""
    digest = hashlib.sha256(f"jobdeck-jitter:{schedule_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def jitter_offset(policy: Policy, schedule_id: int, rng: random.Random) -> float:
    """Seconds to delay a run's start (rule 9); the occurrence key stays nominal."""
    if policy.jitter == "off" or policy.jitter_seconds <= 0:
        return 0.0
    if policy.jitter == "hash":
        return hash_fraction(schedule_id) * policy.jitter_seconds
    return rng.uniform(0.0, policy.jitter_seconds)
