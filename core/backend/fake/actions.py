"""The fake's run actions (run now, cancel, retry), logs, ledger and workers, in memory."""

from __future__ import annotations

from typing import Any

from core.backend.fake.store import FakeStore, frozen, row_id
from core.backend.protocol import Ref
from core.backend.views import (
    ACTIVE_STATUSES,
    AttemptView,
    LogPage,
    OccurrenceView,
    RunView,
    WorkerView,
)
from core.errors import NotFound, ValidationFailed
from core.jobs import run_control as rules
from core.jobs.execution.records import new_run, run_parameters
from core.jobs.run_actions import check_schedule_overlap
from core.storage.tables import JobRun, JobRunAttempt, Occurrence, RunLogChunk, Worker


class FakeRunActions:
    """The same rules as core/jobs/run_actions.py over the fake's rows."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.attempts: list[JobRunAttempt] = []
        self.chunks: list[RunLogChunk] = []
        self.occurrences: list[Occurrence] = []
        self.workers: dict[str, Worker] = {}
        self.maintenance: str | None = None

    def _run(self, run_id: int) -> JobRun:
        run = self.store.runs.get(run_id)
        if run is None:
            raise NotFound("run", run_id)
        return run

    def run_template(
        self, ref: Ref, parameters: dict[str, Any] | None, triggered_by: str, force: bool
    ) -> RunView:
        """Queue a run now (nothing executes it in the fake; tests move it along)."""
        rules.check_trigger(triggered_by)
        template = self.store.template_row(ref)
        active = sum(
            1
            for run in self.store.runs.values()
            if run.job_template_id == template.id and run.status in ACTIVE_STATUSES
        )
        rules.check_manual_run(
            template, maintenance=self.maintenance, active_runs=active, force=force
        )
        values = run_parameters(template, None, parameters or {}, None)
        run = new_run(
            template=template,
            schedule=None,
            triggered_by=triggered_by,
            scheduled_for=None,
            now=self.store.clock.now(),
            parameters=values,
            executed_by=self.store.actor.name,
        )
        run.id = self.store.next_id("run")
        self.store.runs[run.id] = run
        self.store.record(
            "run.create",
            "run",
            run.id,
            run.job_name,
            after={"template": template.name, "triggered_by": triggered_by, "forced": force},
        )
        return self.store.run_view(run)

    def run_schedule(self, ref: Ref, force: bool) -> RunView:
        """Queue a manual run of a schedule now; its next run and ledger stay untouched."""
        schedule = self.store.schedule_row(ref)
        template = self.store.templates.get(schedule.job_template_id)
        if template is None:
            raise NotFound("template", schedule.job_template_id)
        active = sum(
            1
            for run in self.store.runs.values()
            if run.job_schedule_id == schedule.id and run.status in ACTIVE_STATUSES
        )
        rules.check_manual_run(template, maintenance=self.maintenance, active_runs=0, force=force)
        check_schedule_overlap(schedule, active, force)
        run = new_run(
            template=template,
            schedule=schedule,
            triggered_by="manual",
            scheduled_for=None,
            now=self.store.clock.now(),
            parameters=run_parameters(template, schedule, {}, None),
            executed_by=self.store.actor.name,
        )
        run.id = self.store.next_id("run")
        self.store.runs[run.id] = run
        after = {"template": template.name, "schedule": schedule.job_identifier}
        self.store.record(
            "run.create",
            "run",
            run.id,
            run.job_name,
            after={**after, "triggered_by": "manual", "forced": force},
        )
        return self.store.run_view(run)

    def cancel(self, run_id: int, reason: str | None) -> RunView:
        """Cancel a pending run now; flag a running one."""
        run = self._run(run_id)
        why = reason or f"cancelled by {self.store.actor.name} ({self.store.actor.source})"
        rules.apply_cancel(run, self.store.clock.now(), why)
        self.store.record("run.cancel", "run", run_id, run.job_name, after={"reason": why})
        return self.store.run_view(run)

    def retry(self, run_id: int) -> RunView:
        """A new run retrying an ended one."""
        old = self._run(run_id)
        rules.check_retry(old)
        template = self.store.templates.get(old.job_template_id or 0)
        if template is None:
            raise NotFound("template", old.job_template_id)
        schedule = self.store.schedules.get(old.job_schedule_id or 0)
        run = rules.retry_row(
            old, template, schedule, self.store.clock.now(), self.store.actor.name
        )
        run.id = self.store.next_id("run")
        self.store.runs[run.id] = run
        self.store.record("run.retry", "run", run.id, run.job_name, after={"retry_of": old.id})
        return self.store.run_view(run)

    def attempt_views(self, run_id: int) -> list[AttemptView]:
        """A run's attempts, first first."""
        self._run(run_id)
        rows = sorted((a for a in self.attempts if a.run_id == run_id), key=lambda a: a.attempt)
        return [frozen(rules.attempt_view(row)) for row in rows]

    def logs(self, run_id: int, after_seq: int, limit: int) -> LogPage:
        """Log chunks after ``after_seq``."""
        rules.check_log_page(after_seq, limit)
        run = self._run(run_id)
        rows = sorted(
            (c for c in self.chunks if c.run_id == run_id and c.seq > after_seq),
            key=lambda c: c.seq,
        )[:limit]
        return rules.log_page(run, rows, after_seq, limit)

    def occurrence_views(self, schedule: Ref | None, limit: int) -> list[OccurrenceView]:
        """Newest ledger records first."""
        wanted = row_id(self.store.schedule_row(schedule)) if schedule is not None else None
        rows = [o for o in self.occurrences if wanted is None or o.schedule_id == wanted]
        rows.sort(key=lambda o: (o.scheduled_for, o.id or 0), reverse=True)
        views = []
        for row in rows[:limit]:
            found = self.store.schedules.get(row.schedule_id)
            views.append(rules.occurrence_view(row, found.job_identifier if found else None))
        return views

    def worker_views(self) -> list[WorkerView]:
        """Workers by name, each with the stored runs running on it."""
        by_worker = rules.active_runs_by_worker(
            (run.worker, rules.active_run_view(run))
            for run in self.store.runs.values()
            if run.status == "running" and run.worker is not None
        )
        return [
            rules.worker_view(self.workers[name], by_worker.get(name, ()))
            for name in sorted(self.workers)
        ]

    def steer_worker(self, name: str, action: str, **values: Any) -> WorkerView:
        """Resize, pause, resume or drain a stored worker, audited, with a worker change."""
        row = self.workers.get(name)
        if row is None:
            raise NotFound("worker", name)
        slots = values.get("slots")
        if slots is not None and (
            isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= 1024
        ):
            raise ValidationFailed("slots", f"must be a whole number from 1 to 1024, not {slots!r}")
        for field_name, value in values.items():
            setattr(row, field_name, value)
        self.store.record(action, "worker", None, name)
        self.store.changed("worker", "update", row.id)
        return next(view for view in self.worker_views() if view.name == name)

    def add_log(self, run_id: int, data: str, *, stream: str = "stdout", attempt: int = 1) -> None:
        """Append output to a run (tests, seeding)."""
        self._run(run_id)
        seq = 1 + max((c.seq for c in self.chunks if c.run_id == run_id), default=0)
        self.chunks.append(
            RunLogChunk(
                id=self.store.next_id("chunk"),
                run_id=run_id,
                attempt=attempt,
                seq=seq,
                stream=stream,
                created_at=self.store.clock.now(),
                data=data,
            )
        )
