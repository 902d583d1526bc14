"""The fake backend's in-memory rows: lookups, ids, the audit log and the frozen views.

Rows are the storage table models kept in dicts (never a database), so the services' own
view builders and snapshots apply unchanged and the fake cannot drift in shape.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from core.backend.protocol import Ref
from core.backend.views import (
    AuditView,
    ChangeBatch,
    ChangeView,
    RunView,
    ScheduleView,
    TemplateView,
)
from core.clock import Clock
from core.errors import NotFound
from core.jobs import runs as run_rules
from core.jobs import schedules as schedule_rules
from core.jobs import templates as template_rules
from core.jobs.audit import Actor
from core.settings.secrets import PREFIX
from core.storage.tables import AuditRecord, JobRun, JobSchedule, JobTemplate, JobTemplateRevision

V = TypeVar("V", bound=BaseModel)


def frozen(view: V) -> V:
    """A deep copy, so a caller never shares mutable config or parameters with the store."""
    return view.model_copy(deep=True)


def as_utc(values: dict[str, Any]) -> dict[str, Any]:
    """The same values with datetimes in UTC, as the database hands them back."""
    return {k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in values.items()}


def fake_seal(value: str) -> str:
    """Seal a secret as the local backend's SecretBox does, in form only.

    Nothing leaves memory, so the seal is a marker rather than a cipher; views and snapshots
    mask it either way.
    """
    return f"{PREFIX}fake:{value}"


def row_id(row: JobTemplate | JobSchedule | JobRun) -> int:
    """The id of a stored row (always set: the store assigns ids on insert)."""
    assert row.id is not None
    return row.id


class FakeStore:
    """Everything a FakeBackend holds, plus the helpers its services share."""

    def __init__(self, clock: Clock, actor: Actor, default_zone: str) -> None:
        self.clock = clock
        self.actor = actor
        self.default_zone = default_zone
        self.templates: dict[int, JobTemplate] = {}
        self.revisions: list[JobTemplateRevision] = []
        self.schedules: dict[int, JobSchedule] = {}
        self.runs: dict[int, JobRun] = {}
        self.audit: list[AuditRecord] = []
        self.change_log: list[ChangeView] = []
        self._last_ids: dict[str, int] = defaultdict(int)

    def next_id(self, kind: str) -> int:
        """A new id for ``kind``; ids start at 1 and are never reused, like a sequence."""
        self._last_ids[kind] += 1
        return self._last_ids[kind]

    # lookups -------------------------------------------------------------------------------

    def template_row(self, ref: Ref) -> JobTemplate:
        """The template with this id or name, or NotFound."""
        key = template_rules.parse_ref(ref)
        if isinstance(key, int):
            found = self.templates.get(key)
        else:
            found = next((t for t in self.templates.values() if t.name == key), None)
        if found is None:
            raise NotFound("template", ref)
        return found

    def schedule_row(self, ref: Ref) -> JobSchedule:
        """The schedule with this id or name, or NotFound."""
        key = template_rules.parse_ref(ref)
        if isinstance(key, int):
            found = self.schedules.get(key)
        else:
            found = next((s for s in self.schedules.values() if s.job_identifier == key), None)
        if found is None:
            raise NotFound("schedule", ref)
        return found

    def last_status(self, column: str, target_id: int | None) -> str | None:
        """The status of the newest run (by queue time, then id) whose ``column`` is the id."""
        runs = [run for run in self.runs.values() if getattr(run, column) == target_id]
        newest = max(runs, key=lambda run: (run.queued_at, row_id(run)), default=None)
        return newest.status if newest else None

    # views ---------------------------------------------------------------------------------

    def template_view(self, row: JobTemplate) -> TemplateView:
        """A template with its schedule count and last run status."""
        count = sum(1 for s in self.schedules.values() if s.job_template_id == row.id)
        last = self.last_status("job_template_id", row.id)
        return frozen(template_rules.to_view(row, count, last))

    def schedule_view(self, row: JobSchedule) -> ScheduleView:
        """A schedule with its template's name and its last run status."""
        template = self.templates.get(row.job_template_id)
        last = self.last_status("job_schedule_id", row.id)
        return frozen(schedule_rules.to_view(row, template, last))

    def run_view(self, row: JobRun) -> RunView:
        """A run with its schedule's and template's current names."""
        schedule = self.schedules.get(row.job_schedule_id or 0)
        template = self.templates.get(row.job_template_id or 0)
        view = run_rules.to_view(
            row,
            schedule.job_identifier if schedule else None,
            template.name if template else None,
        )
        return frozen(view)

    def audit_views(self, limit: int) -> list[AuditView]:
        """The newest ``limit`` audit records, newest first."""
        newest = sorted(self.audit, key=lambda rec: rec.id or 0, reverse=True)[:limit]
        return [frozen(AuditView.model_validate(rec.model_dump())) for rec in newest]

    # writes shared by the services ---------------------------------------------------------

    def record(
        self,
        action: str,
        target_type: str,
        target_id: int | None,
        target_name: str | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Append an audit record, as core/jobs/audit.record does inside each write."""
        self.audit.append(
            AuditRecord(
                id=self.next_id("audit"),
                at=self.clock.now(),
                actor=self.actor.name,
                source=self.actor.source,
                action=action,
                target_type=target_type,
                target_id=target_id,
                target_name=target_name,
                before=copy.deepcopy(before),
                after=copy.deepcopy(after),
            )
        )
        if target_type in ("template", "schedule", "run"):
            verb = action.rsplit(".", 1)[-1]
            op = {"create": "insert", "delete": "delete"}.get(verb, "update")
            self.changed(target_type, op, target_id)

    def changed(self, kind: str, op: str, ref_id: int | None) -> None:
        """Append to the change feed, as the database triggers do for the local backend."""
        self.change_log.append(
            ChangeView.model_validate(
                {
                    "id": self.next_id("change"),
                    "at": self.clock.now(),
                    "kind": kind,
                    "op": op,
                    "ref_id": ref_id,
                }
            )
        )

    def change_batch(self, after: int | None, limit: int) -> ChangeBatch:
        """Backend.changes over the in-memory feed (never pruned, so never a reset)."""
        newest = self.change_log[-1].id if self.change_log else 0
        if after is None:
            return ChangeBatch(items=(), cursor=newest)
        if after > newest:
            return ChangeBatch(items=(), cursor=newest, reset=True)
        items = tuple(change for change in self.change_log if change.id > after)[:limit]
        return ChangeBatch(items=items, cursor=items[-1].id if items else after)

    def keep_revision(self, row: JobTemplate) -> None:
        """Store the template's snapshot as its current revision."""
        self.revisions.append(
            JobTemplateRevision(
                id=self.next_id("revision"),
                template_id=row_id(row),
                revision=row.revision,
                snapshot=template_rules.snapshot(row),
                changed_by=self.actor.name,
                created_at=row.updated_at,
            )
        )

    def drop_template(self, row: JobTemplate) -> None:
        """Remove a template as the foreign keys do: revisions go, runs keep a NULL template."""
        del self.templates[row_id(row)]
        self.revisions = [rev for rev in self.revisions if rev.template_id != row.id]
        for run in self.runs.values():
            if run.job_template_id == row.id:
                run.job_template_id = None

    def drop_schedule(self, row: JobSchedule) -> None:
        """Remove a schedule; its runs stay, with a NULL schedule (ON DELETE SET NULL)."""
        del self.schedules[row_id(row)]
        for run in self.runs.values():
            if run.job_schedule_id == row.id:
                run.job_schedule_id = None

    def drop_runs(self, rows: list[JobRun]) -> None:
        """Remove runs; retries that pointed at them keep a NULL origin (ON DELETE SET NULL)."""
        gone = {row_id(row) for row in rows}
        for run_id in gone:
            del self.runs[run_id]
        for run in self.runs.values():
            if run.retry_of_run_id in gone:
                run.retry_of_run_id = None
