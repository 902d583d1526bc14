"""Frozen view models every backend returns (never ORM rows or HTTP responses)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from core.jobs.parameters import ParameterSpec

RunStatus = Literal["pending", "running", "completed", "failed", "cancelled", "timed_out", "lost"]
RUN_STATUSES: tuple[str, ...] = (
    "pending",
    "running",
    "completed",
    "failed",
    "cancelled",
    "timed_out",
    "lost",
)
ACTIVE_STATUSES: tuple[str, ...] = ("pending", "running")
#: A run in one of these has ended for good.
TERMINAL_STATUSES: tuple[str, ...] = ("completed", "failed", "cancelled", "timed_out", "lost")
TriggeredBy = Literal["schedule", "manual", "retry", "backfill", "api", "system"]
TRIGGERS: tuple[str, ...] = ("schedule", "manual", "retry", "backfill", "api", "system")
ScheduleType = Literal["cron", "interval", "once", "hourly", "daily", "weekly", "monthly"]
SCHEDULE_TYPES: tuple[str, ...] = (
    "cron",
    "interval",
    "once",
    "hourly",
    "daily",
    "weekly",
    "monthly",
)


class View(BaseModel):
    """Base of all views: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class JobTypeView(View):
    """A job type the backend can run, with its config JSON schema."""

    name: str
    description: str
    config_schema: dict[str, Any]


class TemplateView(View):
    """A job template as the screens and the CLI show it."""

    id: int
    name: str
    job_type: str
    description: str | None
    config: dict[str, Any]
    parameters: tuple[ParameterSpec, ...]
    tags: tuple[str, ...]
    timeout_seconds: float | None
    deadline_seconds: float | None
    retries: int
    retry_backoff: Literal["fixed", "exponential"]
    retry_delay_seconds: float
    overlap: str | None
    is_global: bool
    owner: str | None
    paused: bool
    revision: int
    created_at: datetime
    updated_at: datetime
    broken: str | None = None
    schedule_count: int = 0
    last_run_status: str | None = None
    retention: dict[str, int] | None = None


class TemplateRevisionView(View):
    """A template as it was saved at one revision."""

    template_id: int
    revision: int
    snapshot: dict[str, Any]
    changed_by: str | None
    created_at: datetime


class ScheduleView(View):
    """A schedule with its timing, policies, and next/last run."""

    id: int
    job_identifier: str
    job_template_id: int
    template_name: str | None
    template_job_type: str | None
    schedule_type: ScheduleType
    cron_expression: str | None
    interval_seconds: int | None
    run_at: datetime | None
    minute: int | None
    time_of_day: str | None
    weekday: int | None
    day_of_month: int | None
    timezone: str
    start_at: datetime | None
    end_at: datetime | None
    is_active: bool
    job_parameters: dict[str, Any]
    start_deadline_seconds: float
    catchup: Literal["none", "latest", "all"]
    catchup_cap: int
    catchup_window_seconds: float
    overlap: Literal["skip", "queue", "replace", "allow"]
    overlap_max: int
    replace_grace_seconds: float
    jitter: Literal["off", "random", "hash"]
    jitter_seconds: float
    next_run: datetime | None
    last_run: datetime | None
    paused_at: datetime | None = None
    owner: str | None
    created_at: datetime
    updated_at: datetime
    description: str
    last_run_status: str | None = None


class FireTimeView(View):
    """One upcoming fire time: in the schedule's zone, in UTC, and flagged for DST."""

    utc: datetime
    local: datetime
    nominal: datetime
    dst: Literal["gap", "fold"] | None
    viewer: datetime | None = None


class RunView(View):
    """A run with everything the runs table and the run detail show."""

    id: int
    job_template_id: int | None
    job_schedule_id: int | None
    retry_of_run_id: int | None
    celery_task_id: str | None
    job_name: str
    job_type: str
    status: RunStatus
    triggered_by: TriggeredBy
    scheduled_for: datetime | None
    queued_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    attempts: int
    max_attempts: int
    exit_code: int | None
    signal: int | None
    worker: str | None
    host: str | None
    pid: int | None
    parameters: dict[str, Any]
    template_revision: int | None
    result: Any
    error_message: str | None
    log_size: int
    executed_by: str | None
    lateness_seconds: float | None = None
    cancel_reason: str | None = None
    schedule_name: str | None = None
    template_name: str | None = None


class RunPage(View):
    """One page of runs; ``next_cursor`` fetches the following page (keyset pagination)."""

    items: tuple[RunView, ...]
    #: how many runs match (None when the query said with_total=False)
    total: int | None
    next_cursor: str | None


class DeleteReport(View):
    """What a delete removed, so nothing disappears silently."""

    kind: str
    name: str
    removed_schedules: tuple[str, ...] = ()


class AuditView(View):
    """One audit record."""

    id: int
    at: datetime
    actor: str
    source: str
    action: str
    target_type: str
    target_id: int | None
    target_name: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AttemptView(View):
    """One attempt of a run."""

    attempt: int
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    exit_code: int | None
    signal: int | None
    pid: int | None
    worker: str | None
    error_message: str | None


class LogChunkView(View):
    """A piece of a run's output, in order (``seq``)."""

    seq: int
    attempt: int
    stream: Literal["stdout", "stderr", "system"]
    created_at: datetime
    data: str


class LogPage(View):
    """Log chunks after a position; ``next_seq`` continues, ``finished`` says no more will come."""

    run_id: int
    chunks: tuple[LogChunkView, ...]
    next_seq: int
    finished: bool


class OccurrenceView(View):
    """One ledger record: what became of a due occurrence of a schedule, and why."""

    schedule_id: int
    schedule_name: str | None
    scheduled_for: datetime
    outcome: Literal["ran", "coalesced", "skipped", "missed"]
    reason: str | None
    run_id: int | None
    lateness_seconds: float | None
    recorded_at: datetime


class ActiveRunView(View):
    """A run a worker is executing now (the screen derives its elapsed time from the clock)."""

    run_id: int
    job_name: str
    attempt: int
    started_at: datetime | None


class WorkerView(View):
    """An executor: the local pool or a Celery worker."""

    name: str
    kind: str
    status: str
    host: str | None
    pid: int | None
    slots: int
    active: int
    processed: int
    failed: int
    paused: bool
    draining: bool
    queues: tuple[str, ...]
    started_at: datetime | None
    heartbeat_at: datetime | None
    #: the runs with status running whose ``worker`` is this worker, oldest start first
    active_runs: tuple[ActiveRunView, ...] = ()


class ChangeView(View):
    """One entry of the change feed: a template, schedule, run, worker or ledger row changed."""

    id: int
    at: datetime
    kind: Literal["template", "schedule", "run", "worker", "occurrence"]
    op: Literal["insert", "update", "delete"]
    ref_id: int | None


class ChangeBatch(View):
    """Changes after a cursor. ``cursor`` continues the feed; ``reset`` means the changes
    after the given cursor are no longer kept (or it came from another database): the
    caller must reload everything it shows, then go on from ``cursor``."""

    items: tuple[ChangeView, ...]
    cursor: int
    reset: bool = False


class OwnerView(View):
    """The process holding the database's scheduling lease, as its lease row records it."""

    owner_id: str
    host: str
    pid: int
    api_address: str | None
    acquired_at: datetime
    #: the lease's last renewal (every ``heartbeat_seconds`` while the owner is alive)
    heartbeat_at: datetime
    expires_at: datetime
    #: the end of the owner's last completed scheduler tick (None: none yet)
    ticked_at: datetime | None


OwnerState = Literal["live", "late", "unrenewed", "troubled", "none"]


class OwnerVerdict(NamedTuple):
    """What an owner health reading means at a moment (``OwnerHealthView.verdict``)."""

    #: live: scheduling; late: no tick for too long; unrenewed: the lease is not renewed;
    #: troubled: the owner itself reports a problem; none: nobody holds a live lease
    state: OwnerState
    #: live and late: seconds since the last tick (None: not ticked yet); unrenewed and none:
    #: seconds since the lease was last renewed (None: there is no lease at all)
    seconds: float | None


class OwnerHealthView(View):
    """Who schedules for the backend's database, and how recently it showed it did.

    Ages are measured from ``checked_at``, the backend's own clock when it looked, so a reader
    on another host with a skewed clock adds only the time since it got the answer. The
    thresholds derive from the owner's settings, not the reader's.
    """

    checked_at: datetime
    owner: OwnerView | None
    heartbeat_seconds: float
    lease_ttl_seconds: float
    #: what the owner process itself reports (its database unwritable...), when the answer
    #: comes from that process
    problem: str | None = None

    @property
    def lease_late_after(self) -> float:
        """Seconds without a renewal after which the owner is late (renewed every
        heartbeat; well before the lease lapses)."""
        return min(2 * self.heartbeat_seconds, self.lease_ttl_seconds / 2)

    @property
    def tick_late_after(self) -> float:
        """Seconds without a completed tick after which the scheduler is late (it ticks at
        least every heartbeat, and readers learn of a tick at the next renewal)."""
        return 3 * self.heartbeat_seconds

    def verdict(self, elapsed: float = 0.0) -> OwnerVerdict:
        """The owner's state ``elapsed`` seconds after ``checked_at``."""
        owner = self.owner
        if owner is None:
            return OwnerVerdict("none", None)
        now = self.checked_at.timestamp() + elapsed
        unrenewed = now - owner.heartbeat_at.timestamp()
        if now >= owner.expires_at.timestamp():
            return OwnerVerdict("none", unrenewed)
        if self.problem:
            return OwnerVerdict("troubled", None)
        if unrenewed > self.lease_late_after:
            return OwnerVerdict("unrenewed", unrenewed)
        since = (owner.ticked_at or owner.acquired_at).timestamp()
        quiet = now - since
        if quiet > self.tick_late_after:
            return OwnerVerdict("late", quiet)
        return OwnerVerdict("live", quiet if owner.ticked_at is not None else None)
