"""Manual runs, cancel and retry: the rules, shared by the local and the fake backends."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from core.backend.views import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    ActiveRunView,
    AttemptView,
    LogChunkView,
    LogPage,
    OccurrenceView,
    WorkerView,
)
from core.errors import Conflict, ValidationFailed
from core.jobs.execution.records import new_run
from core.jobs.types import lookup_job_type
from core.storage.tables import (
    JobRun,
    JobRunAttempt,
    JobSchedule,
    JobTemplate,
    Occurrence,
    RunLogChunk,
    Worker,
)

MANUAL_TRIGGERS = ("manual", "api", "backfill", "system")
MAX_LOG_PAGE = 5000


def check_manual_run(
    template: JobTemplate, *, maintenance: str | None, active_runs: int, force: bool
) -> None:
    """Refuse a manual run of a broken or paused template, in maintenance, or that overlaps.

    Manual runs obey the template's overlap policy ("skip" refuses while one is active)
    unless forced (SCHEDULING.md rule 13).
    """
    if lookup_job_type(template.job_type) is None:
        raise Conflict(
            f"template {template.name!r} is broken: job type {template.job_type!r} is not installed"
        )
    if force:
        return
    if template.paused:
        raise Conflict(f"template {template.name!r} is paused; resume it or force the run")
    if maintenance:
        raise Conflict(f"the backend is paused for maintenance ({maintenance}); force the run")
    if template.overlap == "skip" and active_runs:
        raise Conflict(
            f"template {template.name!r} already has {active_runs} active run(s) and its "
            "overlap policy is skip; force the run to start another"
        )


def check_trigger(triggered_by: str) -> None:
    """Only interface-made triggers can be asked for."""
    if triggered_by not in MANUAL_TRIGGERS:
        raise ValidationFailed(
            "triggered_by",
            f"{triggered_by!r} cannot be requested (use {', '.join(MANUAL_TRIGGERS)})",
        )


def apply_cancel(run: JobRun, now: datetime, reason: str) -> None:
    """Cancel a pending run at once; ask the executor to stop a running one."""
    if run.status in TERMINAL_STATUSES:
        raise Conflict(f"run {run.id} already ended ({run.status}); nothing to cancel")
    if run.status == "pending":
        run.status = "cancelled"
        run.completed_at = now
        run.cancel_reason = reason
        run.error_message = f"cancelled before it started: {reason}"
    else:
        run.cancel_requested = True
        run.cancel_reason = reason


def check_retry(run: JobRun) -> None:
    """Only an ended run can be retried (a new run; the old one stays as it was)."""
    if run.status in ACTIVE_STATUSES:
        raise Conflict(f"run {run.id} is {run.status}; it can be retried once it has ended")
    if run.job_template_id is None:
        raise Conflict(f"run {run.id}'s template was deleted; there is nothing to retry")


def retry_row(
    old: JobRun,
    template: JobTemplate,
    schedule: JobSchedule | None,
    now: datetime,
    executed_by: str,
) -> JobRun:
    """The new pending run retrying ``old``: same parameters, the template as it is now."""
    return new_run(
        template=template,
        schedule=schedule,
        triggered_by="retry",
        scheduled_for=old.scheduled_for,
        now=now,
        parameters=dict(old.parameters),
        executed_by=executed_by,
        retry_of_run_id=old.id,
    )


def attempt_view(row: JobRunAttempt) -> AttemptView:
    """The view of an attempt row."""
    return AttemptView.model_validate(row.model_dump(exclude={"id", "run_id"}))


def chunk_view(row: RunLogChunk) -> LogChunkView:
    """The view of a log chunk row."""
    return LogChunkView.model_validate(row.model_dump(exclude={"id", "run_id"}))


def occurrence_view(row: Occurrence, schedule_name: str | None) -> OccurrenceView:
    """The view of a ledger row."""
    return OccurrenceView.model_validate(
        {**row.model_dump(exclude={"id"}), "schedule_name": schedule_name}
    )


def worker_view(row: Worker, active_runs: Iterable[ActiveRunView] = ()) -> WorkerView:
    """The view of a worker row with the runs it is executing now."""
    data = row.model_dump(exclude={"id", "owner_id"})
    data["queues"] = tuple(data["queues"])
    data["active_runs"] = tuple(active_runs)
    return WorkerView.model_validate(data)


def active_run_view(run: JobRun) -> ActiveRunView:
    """A running run as a worker's active run."""
    assert run.id is not None
    return ActiveRunView(
        run_id=run.id, job_name=run.job_name, attempt=run.attempts, started_at=run.started_at
    )


#: Sorts a run that has no start time (not expected while running) before every other.
_NO_START = datetime.min.replace(tzinfo=UTC)


def active_runs_by_worker(
    running: Iterable[tuple[str, ActiveRunView]],
) -> dict[str, list[ActiveRunView]]:
    """Group (worker name, running run) pairs by worker, each group oldest start first."""
    groups: dict[str, list[ActiveRunView]] = {}
    for worker_name, run in running:
        groups.setdefault(worker_name, []).append(run)
    for runs in groups.values():
        runs.sort(key=lambda run: (run.started_at or _NO_START, run.run_id))
    return groups


def log_page(run: JobRun, rows: list[RunLogChunk], after_seq: int, limit: int) -> LogPage:
    """A page of a run's log: ``rows`` are the chunks after ``after_seq``, at most ``limit``.

    ``finished`` once the run has ended and this page reached the end of its log.
    """
    assert run.id is not None
    chunks = tuple(chunk_view(row) for row in rows)
    return LogPage(
        run_id=run.id,
        chunks=chunks,
        next_seq=chunks[-1].seq if chunks else after_seq,
        finished=run.status in TERMINAL_STATUSES and len(rows) < limit,
    )


def check_log_page(after_seq: int, limit: int) -> None:
    """Sane paging of a log."""
    if after_seq < 0:
        raise ValidationFailed("after_seq", "must not be negative")
    if not 1 <= limit <= MAX_LOG_PAGE:
        raise ValidationFailed("limit", f"{limit} is outside 1..{MAX_LOG_PAGE}")
