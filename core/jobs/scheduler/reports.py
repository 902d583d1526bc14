"""What the scheduler tells its callers: tick reports, resume plans, retention reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TickReport:
    """One tick: what it recorded, whether it could fire at all, and when to wake next."""

    at: datetime
    #: False when this process did not hold a live lease: nothing was fired
    owner: bool
    #: this tick treated due occurrences as after downtime (start-up, forward clock jump)
    catch_up: bool = False
    batches: int = 0
    schedules: int = 0
    outcomes: Mapping[str, int] = field(default_factory=dict)
    run_ids: tuple[int, ...] = ()
    #: a batch found the lease taken or expired and rolled back (F3)
    lease_lost: bool = False
    #: a store error ended the tick early (F18); the loop retries with backoff
    error: str | None = None
    #: wall minus monotonic elapsed since the previous tick, when it exceeded the threshold
    clock_jump_seconds: float | None = None
    warnings: tuple[str, ...] = ()
    next_due: datetime | None = None

    def count(self, outcome: str) -> int:
        """Ledger rows recorded with this outcome (ran, coalesced, skipped, missed)."""
        return int(self.outcomes.get(outcome, 0))

    @property
    def recorded(self) -> int:
        """Ledger rows recorded in total."""
        return sum(self.outcomes.values())


@dataclass(frozen=True)
class PlannedOccurrence:
    """One occurrence in a plan: how it is (or would be) recorded."""

    scheduled_for: datetime
    outcome: str
    reason: str | None


@dataclass(frozen=True)
class ResumePlan:
    """What resuming a disabled schedule does with what it missed (rule 10), before or after."""

    schedule_id: int
    schedule: str
    at: datetime
    catch_up: bool
    paused_at: datetime | None
    #: occurrences between paused_at and now (None: more than could be counted)
    missed: int | None
    #: the occurrences recorded, oldest first (the newest ones when the pause was long)
    occurrences: tuple[PlannedOccurrence, ...]
    #: older occurrences exist that are not recorded one by one (see ``notes``)
    truncated: bool
    next_run: datetime | None
    applied: bool
    notes: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """Occurrences per outcome."""
        return dict(Counter(o.outcome for o in self.occurrences))

    def summary(self) -> str:
        """One line for a confirmation prompt or a log."""
        verb = "resumed" if self.applied else "resuming"
        missed = "more than can be counted" if self.missed is None else str(self.missed)
        parts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts().items())) or "nothing"
        text = f"{verb} {self.schedule!r}: {missed} occurrences missed while disabled; {parts}"
        if self.truncated:
            text += f" (only the newest {len(self.occurrences)} recorded)"
        nxt = self.next_run.isoformat() if self.next_run else "never"
        return f"{text}; next run {nxt}"


@dataclass(frozen=True)
class BackendResumePlan:
    """What ending maintenance does: the catch-up runs it creates (if asked), per schedule."""

    at: datetime
    catch_up: bool
    maintenance: Mapping[str, object] | None
    #: (schedule name, occurrence) of every run that is (or would be) created
    runs: tuple[tuple[str, datetime], ...]
    applied: bool
    run_ids: tuple[int, ...] = ()

    def summary(self) -> str:
        """One line for a confirmation prompt or a log."""
        if self.maintenance is None:
            return "the backend is not paused"
        verb = "resumed" if self.applied else "resuming"
        if not self.catch_up:
            return f"{verb}: occurrences skipped during maintenance stay skipped"
        return f"{verb}: {len(self.runs)} catch-up run(s) for occurrences skipped in maintenance"


@dataclass(frozen=True)
class RetentionReport:
    """Runs and ledger rows one retention pass deleted."""

    at: datetime
    runs_deleted: int = 0
    ledger_deleted: int = 0
    per_template: Mapping[str, int] = field(default_factory=dict)
