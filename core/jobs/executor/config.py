"""The executor's settings and the plain snapshots it reports (worker state, reconcile outcome)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class ExecutorConfig:
    """Tuning of one local executor pool (the "worker" the workers screen shows)."""

    name: str
    slots: int = 4
    kill_grace_seconds: float = 10.0
    max_log_bytes: int = 10 * 1024 * 1024
    heartbeat_seconds: float = 5.0
    poll_seconds: float = 0.5
    flush_seconds: float = 0.5
    #: the jobdeck data directory (git checkouts live in ``home/git``); None: the platform default
    home: Path | None = None
    #: how long to keep reading a finished job's pipes that a process outside its group holds
    eof_grace_seconds: float = 2.0
    #: claim only these runs (the CLI running one run in-process); None: any pending run
    only_run_ids: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.slots < 1:
            raise ValueError("an executor needs at least one slot")
        if self.kill_grace_seconds < 0 or self.heartbeat_seconds <= 0 or self.poll_seconds <= 0:
            raise ValueError("grace, heartbeat and poll periods must be positive")
        if self.max_log_bytes < 1024:
            raise ValueError("max_log_bytes must be at least 1024")


@dataclass(frozen=True)
class Worker:
    """Who claims: the owner process, the worker name and the host, stamped on each run."""

    owner_id: str
    name: str
    host: str


@dataclass(frozen=True)
class ActiveRunInfo:
    """A run this executor is running now."""

    run_id: int
    name: str
    attempt: int
    elapsed_seconds: float
    pid: int | None


@dataclass(frozen=True)
class WorkerSnapshot:
    """The executor as the workers screen shows it (in-memory, no database read)."""

    name: str
    status: str
    slots: int
    active: tuple[ActiveRunInfo, ...]
    processed: int
    failed: int
    paused: bool
    draining: bool
    heartbeat_at: datetime | None
    fork_server_pid: int | None


@dataclass(frozen=True)
class ReconcileReport:
    """What one reconcile pass did (F9, F10, SCHEDULING.md rule 15)."""

    #: runs marked lost (owner gone, or ours from a previous life of this process)
    lost: tuple[int, ...] = ()
    #: of those, runs put back to pending for another attempt
    retried: tuple[int, ...] = ()
    #: process groups killed because their run's owner was gone or the run had ended
    killed_groups: tuple[int, ...] = ()
    #: human-readable notes (one per action), for the daemon's log
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        """True when the pass found nothing to do."""
        return not (self.lost or self.killed_groups)
