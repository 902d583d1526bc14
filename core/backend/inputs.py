"""What callers send to a backend: specs for creates, patches for updates, run queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.jobs.parameters import ParameterSpec


class Input(BaseModel):
    """Base of all inputs: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class TemplateSpec(Input):
    """Everything needed to create a template."""

    name: str
    job_type: str
    config: dict[str, Any] = Field(default_factory=dict)
    parameters: tuple[ParameterSpec, ...] = ()
    description: str | None = None
    tags: tuple[str, ...] = ()
    timeout_seconds: float | None = None
    deadline_seconds: float | None = None
    retries: int = 0
    retry_backoff: Literal["fixed", "exponential"] = "exponential"
    retry_delay_seconds: float = 10.0
    overlap: Literal["skip", "queue", "replace", "allow"] | None = None
    is_global: bool = True
    #: run history kept (keep_success, keep_failure, max_age_days); None: the defaults
    retention: dict[str, Any] | None = None


class TemplatePatch(Input):
    """A template update: fields left None stay as they are; the job type cannot change."""

    name: str | None = None
    config: dict[str, Any] | None = None
    parameters: tuple[ParameterSpec, ...] | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None
    timeout_seconds: float | None = None
    deadline_seconds: float | None = None
    retries: int | None = None
    retry_backoff: Literal["fixed", "exponential"] | None = None
    retry_delay_seconds: float | None = None
    overlap: Literal["skip", "queue", "replace", "allow"] | None = None
    is_global: bool | None = None
    paused: bool | None = None
    #: replaces the whole retention setting; {} resets it to the defaults
    retention: dict[str, Any] | None = None
    #: fields to reset to "none" (timeout_seconds, deadline_seconds, description, overlap)
    clear: tuple[str, ...] = ()


class ScheduleSpec(Input):
    """Everything needed to create a schedule; ``template`` is an id or a name."""

    job_identifier: str
    template: int | str
    schedule_type: Literal["cron", "interval", "once", "hourly", "daily", "weekly", "monthly"]
    timezone: str | None = None
    cron_expression: str | None = None
    interval_seconds: int | None = None
    run_at: datetime | None = None
    minute: int | None = None
    time_of_day: str | None = None
    weekday: int | None = None
    day_of_month: int | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    is_active: bool = True
    job_parameters: dict[str, Any] = Field(default_factory=dict)
    start_deadline_seconds: float = 300.0
    catchup: Literal["none", "latest", "all"] = "latest"
    catchup_cap: int = 10
    catchup_window_seconds: float = 86400.0
    overlap: Literal["skip", "queue", "replace", "allow"] = "skip"
    overlap_max: int = 1
    replace_grace_seconds: float = 10.0
    jitter: Literal["off", "random", "hash"] = "off"
    jitter_seconds: float = 0.0


TIMING_FIELDS: tuple[str, ...] = (
    "schedule_type",
    "cron_expression",
    "interval_seconds",
    "run_at",
    "minute",
    "time_of_day",
    "weekday",
    "day_of_month",
)


class SchedulePatch(Input):
    """A schedule update. Giving ``schedule_type`` replaces the whole timing (other timing
    fields reset); giving only timing fields of the current type changes just those."""

    job_identifier: str | None = None
    template: int | str | None = None
    schedule_type: (
        Literal["cron", "interval", "once", "hourly", "daily", "weekly", "monthly"] | None
    ) = None
    timezone: str | None = None
    cron_expression: str | None = None
    interval_seconds: int | None = None
    run_at: datetime | None = None
    minute: int | None = None
    time_of_day: str | None = None
    weekday: int | None = None
    day_of_month: int | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    is_active: bool | None = None
    job_parameters: dict[str, Any] | None = None
    start_deadline_seconds: float | None = None
    catchup: Literal["none", "latest", "all"] | None = None
    catchup_cap: int | None = None
    catchup_window_seconds: float | None = None
    overlap: Literal["skip", "queue", "replace", "allow"] | None = None
    overlap_max: int | None = None
    replace_grace_seconds: float | None = None
    jitter: Literal["off", "random", "hash"] | None = None
    jitter_seconds: float | None = None
    #: fields to reset to "none" (start_at, end_at)
    clear: tuple[str, ...] = ()


RunSortKey = Literal[
    "queued_at", "started_at", "completed_at", "duration_seconds", "job_name", "id"
]


class RunQuery(Input):
    """Filters, sort and page of a runs listing. Empty tuples mean "any"."""

    status: tuple[str, ...] = ()
    job_type: tuple[str, ...] = ()
    triggered_by: tuple[str, ...] = ()
    template_id: tuple[int, ...] = ()
    schedule_id: tuple[int, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    sort: RunSortKey = "queued_at"
    descending: bool = True
    limit: int = Field(default=50, ge=1, le=1000)
    cursor: str | None = None
    #: count the matching runs too (a COUNT over every match: ~200 ms unfiltered at 1M runs)
    with_total: bool = True


class RunFilter(Input):
    """Which finished runs to clear; pending and running runs are never cleared."""

    status: tuple[str, ...] = ()
    job_type: tuple[str, ...] = ()
    triggered_by: tuple[str, ...] = ()
    template_id: tuple[int, ...] = ()
    schedule_id: tuple[int, ...] = ()
    before: datetime | None = None
