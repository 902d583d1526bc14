"""Run actions over the database: run a template now, cancel, retry; logs, ledger, workers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.backend.views import (
    ACTIVE_STATUSES,
    ActiveRunView,
    AttemptView,
    LogPage,
    OccurrenceView,
    RunView,
    WorkerView,
)
from core.clock import Clock
from core.errors import Conflict, NotFound
from core.jobs import run_control as rules
from core.jobs.audit import Actor, record
from core.jobs.execution.records import new_run, run_parameters
from core.jobs.runs import RunService
from core.jobs.schedules import load_schedule
from core.jobs.system_state import maintenance
from core.jobs.templates import load_template
from core.settings.secrets import SecretBox
from core.storage.database import Database
from core.storage.tables import (
    JobRun,
    JobRunAttempt,
    JobSchedule,
    JobTemplate,
    Occurrence,
    RunLogChunk,
    Worker,
)


def maintenance_reason(session: Session) -> str | None:
    """Why the backend is paused for maintenance, or None when it is not."""
    switch = maintenance(session)
    return None if switch is None else str(switch.get("reason") or "paused")


def check_schedule_overlap(schedule: JobSchedule, active_runs: int, force: bool) -> None:
    """Refuse a manual run of a schedule its overlap policy has no room for, unless forced.

    The limits are the scheduler's (skip: none active; queue: one running plus N waiting;
    allow: N at once). ``replace`` refuses too: a manual run never cancels a running one.
    """
    if force:
        return
    room = {"allow": schedule.overlap_max, "queue": 1 + schedule.overlap_max}
    if active_runs >= room.get(schedule.overlap, 1):
        raise Conflict(
            f"schedule {schedule.job_identifier!r} already has {active_runs} active run(s) "
            f"and its overlap policy is {schedule.overlap}; force the run to start another"
        )


class RunActions:
    """Writes an operator makes on runs; the owner is told through ``on_runs_created``."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        actor: Actor,
        secrets: SecretBox | None,
        runs: RunService,
        on_runs_created: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.actor = actor
        self.secrets = secrets
        self.runs = runs
        self.on_runs_created = on_runs_created

    def run_template(
        self,
        ref: int | str,
        parameters: dict[str, Any] | None = None,
        *,
        triggered_by: str = "manual",
        force: bool = False,
    ) -> RunView:
        """Queue a run of a template now (never consuming a scheduled occurrence)."""
        rules.check_trigger(triggered_by)
        now = self.clock.now()
        with self.db.write() as session:
            template = load_template(session, ref)
            active = session.exec(
                select(func.count())
                .select_from(JobRun)
                .where(
                    JobRun.job_template_id == template.id,
                    col(JobRun.status).in_(ACTIVE_STATUSES),
                )
            ).one()
            rules.check_manual_run(
                template, maintenance=maintenance_reason(session), active_runs=active, force=force
            )
            values = run_parameters(template, None, parameters or {}, self.secrets)
            run = self._queue(
                session, template, None, triggered_by, values, now,
                {"template": template.name, "triggered_by": triggered_by, "forced": force},
            )  # fmt: skip
        self.on_runs_created()
        return self.runs.get(run)

    def run_schedule(self, ref: int | str, *, force: bool = False) -> RunView:
        """Queue a manual run of a schedule now: its template with the schedule's overrides.

        The run names the schedule; the schedule's next run and ledger stay as they are.
        """
        now = self.clock.now()
        with self.db.write() as session:
            schedule = load_schedule(session, ref)
            template = session.get(JobTemplate, schedule.job_template_id)
            if template is None:
                raise NotFound("template", schedule.job_template_id)
            active = session.exec(
                select(func.count())
                .select_from(JobRun)
                .where(
                    JobRun.job_schedule_id == schedule.id,
                    col(JobRun.status).in_(ACTIVE_STATUSES),
                )
            ).one()
            # The schedule's own overlap policy applies (below), not the template's default.
            rules.check_manual_run(
                template, maintenance=maintenance_reason(session), active_runs=0, force=force
            )
            check_schedule_overlap(schedule, active, force)
            values = run_parameters(template, schedule, {}, self.secrets)
            after = {
                "template": template.name,
                "schedule": schedule.job_identifier,
                "triggered_by": "manual",
                "forced": force,
            }
            run = self._queue(session, template, schedule, "manual", values, now, after)
        self.on_runs_created()
        return self.runs.get(run)

    def _queue(
        self,
        session: Session,
        template: JobTemplate,
        schedule: JobSchedule | None,
        triggered_by: str,
        values: dict[str, Any],
        now: datetime,
        after: dict[str, Any],
    ) -> int:
        """Add a pending run (never an occurrence's) with its audit record; its id."""
        run = new_run(
            template=template,
            schedule=schedule,
            triggered_by=triggered_by,
            scheduled_for=None,
            now=now,
            parameters=values,
            executed_by=self.actor.name,
        )
        session.add(run)
        session.flush()
        record(session, self.actor, now, "run.create", "run", run.id, run.job_name, after=after)
        assert run.id is not None
        return run.id

    def cancel(self, run_id: int, reason: str | None = None) -> RunView:
        """Cancel a pending run now, or ask the executor to stop a running one."""
        why = reason or f"cancelled by {self.actor.name} ({self.actor.source})"
        with self.db.write() as session:
            run = session.get(JobRun, run_id)
            if run is None:
                raise NotFound("run", run_id)
            rules.apply_cancel(run, self.clock.now(), why)
            session.add(run)
            record(
                session,
                self.actor,
                self.clock.now(),
                "run.cancel",
                "run",
                run_id,
                run.job_name,
                after={"reason": why},
            )
        self.on_runs_created()
        return self.runs.get(run_id)

    def retry(self, run_id: int) -> RunView:
        """A new run (triggered_by retry) of an ended run's template with its parameters."""
        now = self.clock.now()
        with self.db.write() as session:
            old = session.get(JobRun, run_id)
            if old is None:
                raise NotFound("run", run_id)
            rules.check_retry(old)
            template = session.get(JobTemplate, old.job_template_id)
            if template is None:
                raise NotFound("template", old.job_template_id)
            schedule = (
                session.get(JobSchedule, old.job_schedule_id) if old.job_schedule_id else None
            )
            run = rules.retry_row(old, template, schedule, now, self.actor.name)
            session.add(run)
            session.flush()
            record(
                session,
                self.actor,
                now,
                "run.retry",
                "run",
                run.id,
                run.job_name,
                after={"retry_of": old.id},
            )
        self.on_runs_created()
        assert run.id is not None
        return self.runs.get(run.id)

    def attempts(self, run_id: int) -> list[AttemptView]:
        """A run's attempts, first first."""
        with self.db.read() as session:
            if session.get(JobRun, run_id) is None:
                raise NotFound("run", run_id)
            rows = session.exec(
                select(JobRunAttempt)
                .where(JobRunAttempt.run_id == run_id)
                .order_by(col(JobRunAttempt.attempt))
            )
            return [rules.attempt_view(row) for row in rows]

    def logs(self, run_id: int, after_seq: int = 0, limit: int = 1000) -> LogPage:
        """Log chunks of a run after ``after_seq``, in order."""
        rules.check_log_page(after_seq, limit)
        with self.db.read() as session:
            run = session.get(JobRun, run_id)
            if run is None:
                raise NotFound("run", run_id)
            rows = list(
                session.exec(
                    select(RunLogChunk)
                    .where(RunLogChunk.run_id == run_id, RunLogChunk.seq > after_seq)
                    .order_by(col(RunLogChunk.seq))
                    .limit(limit)
                )
            )
        return rules.log_page(run, rows, after_seq, limit)

    def occurrences(
        self, schedule: int | str | None = None, limit: int = 200
    ) -> list[OccurrenceView]:
        """The newest ledger records, of one schedule or of all."""
        with self.db.read() as session:
            query = select(Occurrence, JobSchedule.job_identifier).join(
                JobSchedule, col(JobSchedule.id) == col(Occurrence.schedule_id), isouter=True
            )
            if schedule is not None:
                query = query.where(Occurrence.schedule_id == load_schedule(session, schedule).id)
            rows = session.exec(
                query.order_by(
                    col(Occurrence.scheduled_for).desc(), col(Occurrence.id).desc()
                ).limit(limit)
            ).all()
            return [rules.occurrence_view(row, name) for row, name in rows]

    def workers(self) -> list[WorkerView]:
        """Every known executor, with the runs each is executing now."""
        with self.db.read() as session:
            rows = list(session.exec(select(Worker).order_by(col(Worker.name))))
            # One query for every worker's running runs (a run names its worker), not one each.
            runs = JobRun.__table__  # type: ignore[attr-defined]
            running = session.execute(
                sa_select(
                    runs.c.worker, runs.c.id, runs.c.job_name, runs.c.attempts, runs.c.started_at
                ).where(runs.c.status == "running", runs.c.worker.is_not(None))
            ).all()
        by_worker = rules.active_runs_by_worker(
            (
                worker,
                ActiveRunView(run_id=run_id, job_name=name, attempt=attempt, started_at=started),
            )
            for worker, run_id, name, attempt, started in running
        )
        return [rules.worker_view(row, by_worker.get(row.name, ())) for row in rows]
