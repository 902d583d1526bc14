"""SQLModel tables for the whole data model; field names follow Cockpit-NG where concepts match."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.storage.types import UTCDateTime

#: Every table builds its pydantic validator and serializer on first use, not at import: most
#: processes never validate a row through them (the console's start is 10 ms shorter).
LAZY: Any = ConfigDict(defer_build=True)  # (SQLModel types it by a private alias)


def _ts(nullable: bool = True, index: bool = False) -> Any:
    """An aware-UTC timestamp column."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _json(default: Any = None) -> Any:
    """A JSON column (JSON on SQLite, JSON on PostgreSQL)."""
    if callable(default):
        return Field(default_factory=default, sa_column=Column(JSON, nullable=False))
    # none_as_null: Python None is SQL NULL, not the JSON text 'null' (so IS NULL finds it).
    return Field(default=default, sa_column=Column(JSON(none_as_null=True), nullable=True))


def _fk(target: str, ondelete: str, nullable: bool = True) -> Any:
    """An integer foreign key with an explicit ON DELETE rule."""
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable),
    )


class JobTemplate(SQLModel, table=True):
    """What to run: a job type, its validated config, typed parameters and default policies."""

    model_config = LAZY

    __tablename__ = "job_templates"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True, index=True)
    job_type: str = Field(max_length=64, index=True)
    description: str | None = Field(default=None)
    config: dict[str, Any] = _json(dict)
    parameters: list[dict[str, Any]] = _json(list)
    tags: list[str] = _json(list)
    timeout_seconds: float | None = None
    deadline_seconds: float | None = None
    retries: int = 0
    retry_backoff: str = "exponential"
    retry_delay_seconds: float = 10.0
    retry_on: list[str] = _json(lambda: ["failed", "lost"])
    overlap: str | None = None
    retention: dict[str, Any] | None = _json()
    is_global: bool = True
    owner: str | None = None
    paused: bool = False
    revision: int = 1
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class JobTemplateRevision(SQLModel, table=True):
    """A snapshot of a template as it was after each save, so a run can show what changed."""

    model_config = LAZY

    __tablename__ = "job_template_revisions"
    __table_args__ = (UniqueConstraint("template_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = _fk("job_templates.id", "CASCADE", nullable=False)
    revision: int
    snapshot: dict[str, Any] = _json(dict)
    changed_by: str | None = None
    created_at: datetime = _ts(nullable=False)


class JobSchedule(SQLModel, table=True):
    """When to run a template: timing, zone, window, parameter overrides and run policies."""

    model_config = LAZY

    __tablename__ = "job_schedules"

    id: int | None = Field(default=None, primary_key=True)
    job_identifier: str = Field(max_length=255, unique=True, index=True)
    job_template_id: int = _fk("job_templates.id", "RESTRICT", nullable=False)
    schedule_type: str = Field(max_length=16)
    cron_expression: str | None = None
    interval_seconds: int | None = None
    run_at: datetime | None = _ts()
    minute: int | None = None
    time_of_day: str | None = Field(default=None, max_length=5)
    weekday: int | None = None
    day_of_month: int | None = None
    timezone: str = Field(max_length=64)
    start_at: datetime | None = _ts()
    end_at: datetime | None = _ts()
    is_active: bool = True
    job_parameters: dict[str, Any] = _json(dict)
    start_deadline_seconds: float = 300.0
    catchup: str = "latest"
    catchup_cap: int = 10
    catchup_window_seconds: float = 86400.0
    overlap: str = "skip"
    overlap_max: int = 1
    replace_grace_seconds: float = 10.0
    jitter: str = "off"
    jitter_seconds: float = 0.0
    next_run: datetime | None = _ts(index=True)
    last_run: datetime | None = _ts()
    #: when the schedule was disabled, so resuming can record what was skipped meanwhile
    paused_at: datetime | None = _ts()
    owner: str | None = None
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class JobRun(SQLModel, table=True):
    """One execution of a template: status, timing, where it ran, what it returned."""

    model_config = LAZY

    __tablename__ = "job_runs"
    __table_args__ = (
        # Rule 1: one scheduled run per occurrence. Manual, retry and backfill runs never
        # consume an occurrence, so the key applies to schedule-triggered runs only. The
        # migration (0001) creates it with the same WHERE on PostgreSQL too; declaring
        # postgresql_where here would load SQLAlchemy's PostgreSQL dialect into every SQLite
        # process (17 ms of the console's start). test_one_scheduled_run_per_occurrence
        # holds both databases to it.
        Index(
            "uq_job_runs_occurrence",
            "job_schedule_id",
            "scheduled_for",
            unique=True,
            sqlite_where=text("triggered_by = 'schedule'"),
        ),
        Index("ix_job_runs_queued", "queued_at", "id"),
        Index("ix_job_runs_status_queued", "status", "queued_at", "id"),
        Index("ix_job_runs_template_queued", "job_template_id", "queued_at", "id"),
        Index("ix_job_runs_schedule_queued", "job_schedule_id", "queued_at", "id"),
        Index("ix_job_runs_type_queued", "job_type", "queued_at", "id"),
        Index("ix_job_runs_trigger_queued", "triggered_by", "queued_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_template_id: int | None = _fk("job_templates.id", "SET NULL")
    job_schedule_id: int | None = _fk("job_schedules.id", "SET NULL")
    retry_of_run_id: int | None = _fk("job_runs.id", "SET NULL")
    celery_task_id: str | None = None
    job_name: str = Field(max_length=255)
    job_type: str = Field(max_length=64)
    status: str = Field(max_length=16)
    triggered_by: str = Field(max_length=16)
    scheduled_for: datetime | None = _ts()
    queued_at: datetime = _ts(nullable=False)
    started_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()
    duration_seconds: float | None = None
    attempts: int = 0
    max_attempts: int = 1
    exit_code: int | None = None
    signal: int | None = None
    worker: str | None = None
    host: str | None = None
    pid: int | None = None
    pgid: int | None = None
    parameters: dict[str, Any] = _json(dict)
    template_revision: int | None = None
    template_snapshot: dict[str, Any] | None = _json()
    result: Any = _json()
    error_message: str | None = None
    log_size: int = 0
    executed_by: str | None = None
    heartbeat_at: datetime | None = _ts()
    deadline_at: datetime | None = _ts()
    cancel_requested: bool = False
    cancel_reason: str | None = None
    #: not claimed before this instant (jitter, retry backoff); None means "now"
    not_before: datetime | None = _ts()
    #: how late the run started against its scheduled_for, in seconds
    lateness_seconds: float | None = None
    #: the owner process (lease owner_id) that executes it, for reconciliation after a crash
    owner_id: str | None = Field(default=None, max_length=64)


class JobRunAttempt(SQLModel, table=True):
    """One attempt of a run (retries make several); each keeps its own status and log."""

    model_config = LAZY

    __tablename__ = "job_run_attempts"
    __table_args__ = (UniqueConstraint("run_id", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = _fk("job_runs.id", "CASCADE", nullable=False)
    attempt: int
    status: str = Field(max_length=16)
    started_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()
    exit_code: int | None = None
    signal: int | None = None
    pid: int | None = None
    worker: str | None = None
    error_message: str | None = None


class Occurrence(SQLModel, table=True):
    """The ledger: every due occurrence of a schedule ends as exactly one record with a reason."""

    model_config = LAZY

    __tablename__ = "occurrences"
    __table_args__ = (UniqueConstraint("schedule_id", "scheduled_for", name="uq_occurrences_key"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = _fk("job_schedules.id", "CASCADE", nullable=False)
    scheduled_for: datetime = _ts(nullable=False)
    outcome: str = Field(max_length=16)
    reason: str | None = None
    run_id: int | None = _fk("job_runs.id", "SET NULL")
    lateness_seconds: float | None = None
    recorded_at: datetime = _ts(nullable=False)


class RunLogChunk(SQLModel, table=True):
    """An ordered piece of a run's output (many lines per chunk; never one row per line)."""

    model_config = LAZY

    __tablename__ = "job_run_log_chunks"
    __table_args__ = (Index("ix_log_chunks_run_seq", "run_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = _fk("job_runs.id", "CASCADE", nullable=False)
    attempt: int = 1
    seq: int
    stream: str = Field(max_length=8)
    created_at: datetime = _ts(nullable=False)
    data: str


class Worker(SQLModel, table=True):
    """An executor: the local pool or a Celery worker, with slots, counters and a heartbeat."""

    model_config = LAZY

    __tablename__ = "workers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True, index=True)
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    host: str | None = None
    pid: int | None = None
    slots: int = 1
    active: int = 0
    processed: int = 0
    failed: int = 0
    paused: bool = False
    draining: bool = False
    owner_id: str | None = Field(default=None, max_length=64)
    queues: list[str] = _json(list)
    started_at: datetime | None = _ts()
    heartbeat_at: datetime | None = _ts()


class AuditRecord(SQLModel, table=True):
    """Append-only record of every write: who, from where, what, before and after."""

    model_config = LAZY

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False, index=True)
    actor: str = Field(max_length=255)
    source: str = Field(max_length=16)
    action: str = Field(max_length=64)
    target_type: str = Field(max_length=32)
    target_id: int | None = None
    target_name: str | None = None
    before: dict[str, Any] | None = _json()
    after: dict[str, Any] | None = _json()


class OwnerLease(SQLModel, table=True):
    """The single-owner lease: exactly one process schedules for a database."""

    model_config = LAZY

    __tablename__ = "owner_lease"

    name: str = Field(default="scheduler", primary_key=True, max_length=32)
    owner_id: str = Field(max_length=64)
    host: str = Field(max_length=255)
    pid: int
    api_address: str | None = None
    acquired_at: datetime = _ts(nullable=False)
    heartbeat_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    #: the end of the holder's last completed scheduler tick (None: none yet)
    ticked_at: datetime | None = _ts()


class SystemState(SQLModel, table=True):
    """Backend-wide switches that must survive restarts (maintenance pause, clock markers)."""

    model_config = LAZY

    __tablename__ = "system_state"

    key: str = Field(primary_key=True, max_length=64)
    value: Any = _json()
    updated_at: datetime = _ts(nullable=False)


class ApiToken(SQLModel, table=True):
    """A bearer token of the HTTP API: only its SHA-256 is stored, with a role."""

    model_config = LAZY

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True, index=True)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    #: the token's first characters, so a listing can tell tokens apart without revealing them
    prefix: str = Field(max_length=16)
    created_by: str | None = None
    created_at: datetime = _ts(nullable=False)
    last_used_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()


class IdempotencyRecord(SQLModel, table=True):
    """The answer to a write sent with an Idempotency-Key, replayed when the key comes again."""

    model_config = LAZY

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotency_token_key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int | None = _fk("api_tokens.id", "CASCADE")
    key: str = Field(max_length=255)
    method: str = Field(max_length=8)
    path: str
    request_hash: str = Field(max_length=64)
    status_code: int
    response: Any = _json()
    created_at: datetime = _ts(nullable=False, index=True)


class Change(SQLModel, table=True):
    """The change feed: database triggers append one row per change of a watched table.

    Written by triggers (migration 0005), so every writer — owner, CLI, another process —
    feeds it in the same transaction as the change itself. ``id`` never goes back (SQLite
    AUTOINCREMENT), which makes it the event id of the API's event stream.
    """

    model_config = LAZY

    __tablename__ = "changes"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    #: seconds since the epoch (set by the trigger with the database's clock)
    at: float
    kind: str = Field(max_length=16)
    op: str = Field(max_length=8)
    ref_id: int | None = None
