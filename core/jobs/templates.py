"""Template service: create, read, list, update (with revisions), copy and delete templates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.backend.inputs import TemplatePatch, TemplateSpec
from core.backend.views import DeleteReport, TemplateRevisionView, TemplateView
from core.clock import Clock
from core.errors import Conflict, NotFound
from core.jobs.audit import Actor, record
from core.jobs.parameters import MASK, ParameterSpec
from core.jobs.template_rules import (
    Sealer,
    check_clearable,
    check_deletable,
    copy_spec,
    new_template_fields,
    shown_retention,
    template_changes,
)
from core.jobs.types import lookup_job_type
from core.settings.secrets import SecretBox
from core.storage.database import Database
from core.storage.tables import JobRun, JobSchedule, JobTemplate, JobTemplateRevision


def parse_ref(ref: int | str) -> int | str:
    """An int or a string of digits is an id; anything else is a name."""
    if isinstance(ref, int):
        return ref
    stripped = ref.strip()
    return int(stripped) if stripped.isdigit() else stripped


def load_template(session: Session, ref: int | str) -> JobTemplate:
    """The template with this id or name, or NotFound."""
    key = parse_ref(ref)
    if isinstance(key, int):
        row = session.get(JobTemplate, key)
    else:
        row = session.exec(select(JobTemplate).where(JobTemplate.name == key)).first()
    if row is None:
        raise NotFound("template", ref)
    return row


def snapshot(row: JobTemplate) -> dict[str, Any]:
    """The template's content as JSON, with secret defaults masked (revisions, audit)."""
    params = [dict(p) for p in row.parameters]
    for param in params:
        if param.get("type") == "secret" and param.get("default") is not None:
            param["default"] = MASK
    return {
        "name": row.name,
        "job_type": row.job_type,
        "description": row.description,
        "config": row.config,
        "parameters": params,
        "tags": row.tags,
        "timeout_seconds": row.timeout_seconds,
        "deadline_seconds": row.deadline_seconds,
        "retries": row.retries,
        "retry_backoff": row.retry_backoff,
        "retry_delay_seconds": row.retry_delay_seconds,
        "overlap": row.overlap,
        "is_global": row.is_global,
        "paused": row.paused,
        "retention": row.retention,
        "revision": row.revision,
    }


def to_view(
    row: JobTemplate, schedule_count: int = 0, last_status: str | None = None
) -> TemplateView:
    """The frozen view of a template row; a missing job type marks it broken, never hidden."""
    assert row.id is not None
    broken = None
    if lookup_job_type(row.job_type) is None:
        broken = f"job type {row.job_type!r} is not installed"
    params = tuple(ParameterSpec.model_validate(p) for p in row.parameters)
    return TemplateView(
        id=row.id,
        name=row.name,
        job_type=row.job_type,
        description=row.description,
        config=row.config,
        parameters=tuple(
            p.model_copy(update={"default": MASK}) if p.secret and p.default is not None else p
            for p in params
        ),
        tags=tuple(row.tags),
        timeout_seconds=row.timeout_seconds,
        deadline_seconds=row.deadline_seconds,
        retries=row.retries,
        retry_backoff=row.retry_backoff,
        retry_delay_seconds=row.retry_delay_seconds,
        overlap=row.overlap,
        is_global=row.is_global,
        owner=row.owner,
        paused=row.paused,
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        broken=broken,
        schedule_count=schedule_count,
        last_run_status=last_status,
        retention=shown_retention(row.retention),
    )


class TemplateService:
    """Template operations over one database; every write is audited."""

    def __init__(
        self, db: Database, clock: Clock, actor: Actor, secrets: SecretBox | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.actor = actor
        self.secrets = secrets

    # reads ---------------------------------------------------------------------------------

    def get(self, ref: int | str) -> TemplateView:
        """One template with its schedule count and last run status."""
        with self.db.read() as session:
            row = load_template(session, ref)
            return self._decorate(session, [row])[0]

    def list_templates(
        self, *, job_type: str | None = None, tag: str | None = None, search: str | None = None
    ) -> list[TemplateView]:
        """Templates sorted by name, filtered by type, tag and a name substring."""
        with self.db.read() as session:
            query = select(JobTemplate).order_by(col(JobTemplate.name))
            if job_type:
                query = query.where(JobTemplate.job_type == job_type)
            if search:
                escaped = (
                    search.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
                )
                query = query.where(func.lower(JobTemplate.name).like(f"%{escaped}%", escape="\\"))
            rows = list(session.exec(query))
            if tag:
                rows = [row for row in rows if tag in row.tags]
            return self._decorate(session, rows)

    def revisions(self, ref: int | str) -> list[TemplateRevisionView]:
        """Every saved revision of a template, newest first."""
        with self.db.read() as session:
            row = load_template(session, ref)
            revisions = session.exec(
                select(JobTemplateRevision)
                .where(JobTemplateRevision.template_id == row.id)
                .order_by(col(JobTemplateRevision.revision).desc())
            )
            return [
                TemplateRevisionView(
                    template_id=rev.template_id,
                    revision=rev.revision,
                    snapshot=rev.snapshot,
                    changed_by=rev.changed_by,
                    created_at=rev.created_at,
                )
                for rev in revisions
            ]

    def _decorate(self, session: Session, rows: list[JobTemplate]) -> list[TemplateView]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        counts = dict(
            session.exec(
                select(JobSchedule.job_template_id, func.count())
                .where(col(JobSchedule.job_template_id).in_(ids))
                .group_by(col(JobSchedule.job_template_id))
            ).all()
        )
        last = {}
        for template_id in ids:
            status = session.exec(
                select(JobRun.status)
                .where(JobRun.job_template_id == template_id)
                .order_by(col(JobRun.queued_at).desc(), col(JobRun.id).desc())
                .limit(1)
            ).first()
            last[template_id] = status
        return [to_view(row, counts.get(row.id or 0, 0), last.get(row.id or 0)) for row in rows]

    # writes --------------------------------------------------------------------------------

    def create(self, spec: TemplateSpec) -> TemplateView:
        """Validate and store a new template at revision 1."""
        fields = new_template_fields(spec, self._seal)
        now = self.clock.now()
        row = JobTemplate(
            owner=self.actor.name, revision=1, created_at=now, updated_at=now, **fields
        )
        with self._unique_name(row.name), self.db.write() as session:
            self._ensure_name_free(session, row.name)
            session.add(row)
            session.flush()
            self._keep_revision(session, row)
            record(
                session,
                self.actor,
                now,
                "template.create",
                "template",
                row.id,
                row.name,
                after=snapshot(row),
            )
        return to_view(row)

    def update(self, ref: int | str, patch: TemplatePatch) -> TemplateView:
        """Apply a patch, bump the revision and keep the new revision's snapshot."""
        check_clearable(patch)
        with self._unique_name(patch.name or ""), self.db.write() as session:
            row = load_template(session, ref)
            before = snapshot(row)
            changes = template_changes(row, patch, self._seal)
            if changes.get("name", row.name) != row.name:
                self._ensure_name_free(session, changes["name"])
            if not changes:
                return self._decorate(session, [row])[0]
            for key, value in changes.items():
                setattr(row, key, value)
            row.revision += 1
            row.updated_at = self.clock.now()
            session.add(row)
            session.flush()
            self._keep_revision(session, row)
            record(
                session,
                self.actor,
                row.updated_at,
                "template.update",
                "template",
                row.id,
                row.name,
                before=before,
                after=snapshot(row),
            )
        return self.get(row.id)  # type: ignore[arg-type]

    def copy(self, ref: int | str, new_name: str) -> TemplateView:
        """A new template with the same content under ``new_name`` (schedules are not copied)."""
        with self.db.read() as session:
            spec = copy_spec(load_template(session, ref), new_name)
        return self.create(spec)

    def delete(self, ref: int | str, *, force: bool = False) -> DeleteReport:
        """Delete a template; refused while schedules use it unless forced, then reported."""
        with self.db.write() as session:
            row = load_template(session, ref)
            schedules = list(
                session.exec(select(JobSchedule).where(JobSchedule.job_template_id == row.id))
            )
            names = tuple(sorted(s.job_identifier for s in schedules))
            check_deletable(row, names, force)
            now = self.clock.now()
            for schedule in schedules:
                record(
                    session,
                    self.actor,
                    now,
                    "schedule.delete",
                    "schedule",
                    schedule.id,
                    schedule.job_identifier,
                    before={"reason": f"template {row.name} deleted"},
                )
                session.delete(schedule)
            session.flush()
            record(
                session,
                self.actor,
                now,
                "template.delete",
                "template",
                row.id,
                row.name,
                before=snapshot(row),
                after={"removed_schedules": list(names)},
            )
            session.delete(row)
        return DeleteReport(kind="template", name=row.name, removed_schedules=names)

    # helpers -------------------------------------------------------------------------------

    def _ensure_name_free(self, session: Session, name: str) -> None:
        taken = session.exec(select(JobTemplate.id).where(JobTemplate.name == name)).first()
        if taken is not None:
            raise Conflict(f"a template named {name!r} already exists (id {taken})")

    def _keep_revision(self, session: Session, row: JobTemplate) -> None:
        assert row.id is not None
        session.add(
            JobTemplateRevision(
                template_id=row.id,
                revision=row.revision,
                snapshot=snapshot(row),
                changed_by=self.actor.name,
                created_at=row.updated_at,
            )
        )

    @property
    def _seal(self) -> Sealer | None:
        return self.secrets.seal if self.secrets else None

    @staticmethod
    @contextmanager
    def _unique_name(name: str) -> Iterator[None]:
        """Turns a unique-index race (two writers, same name) into a clear Conflict."""
        try:
            yield
        except IntegrityError as exc:
            raise Conflict(f"a template named {name!r} already exists") from exc
