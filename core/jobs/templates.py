"""Template service: create, read, list, update (with revisions), copy and delete templates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.backend.inputs import TemplatePatch, TemplateSpec
from core.backend.views import DeleteReport, TemplateRevisionView, TemplateView
from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs import rules
from core.jobs.audit import Actor, record
from core.jobs.parameters import MASK, ParameterSpec
from core.jobs.types import lookup_job_type
from core.settings.secrets import SecretBox, is_sealed
from core.storage.database import Database
from core.storage.tables import JobRun, JobSchedule, JobTemplate, JobTemplateRevision

_CLEARABLE = ("timeout_seconds", "deadline_seconds", "description", "overlap")


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

    def _stored_parameters(self, params: list[ParameterSpec]) -> list[dict[str, Any]]:
        """Parameters as stored: secret defaults encrypted, never in clear text."""
        stored = []
        for spec in params:
            data = spec.model_dump(mode="json")
            if spec.secret and spec.default is not None and not is_sealed(spec.default):
                if self.secrets is None:
                    raise ValidationFailed(
                        f"parameters.{spec.name}.default",
                        "secret defaults need the secret key store, which this backend lacks",
                    )
                data["default"] = self.secrets.seal(str(spec.default))
            stored.append(data)
        return stored

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
        name = rules.check_name(spec.name)
        rules.check_job_type(spec.job_type)
        config = rules.check_config(spec.job_type, spec.config)
        params = rules.check_parameters(spec.parameters)
        rules.check_policies(
            timeout_seconds=spec.timeout_seconds,
            deadline_seconds=spec.deadline_seconds,
            retries=spec.retries,
            retry_delay_seconds=spec.retry_delay_seconds,
        )
        now = self.clock.now()
        row = JobTemplate(
            name=name,
            job_type=spec.job_type,
            description=spec.description,
            config=config,
            parameters=self._stored_parameters(params),
            tags=rules.check_tags(spec.tags),
            timeout_seconds=spec.timeout_seconds,
            deadline_seconds=spec.deadline_seconds,
            retries=spec.retries,
            retry_backoff=spec.retry_backoff,
            retry_delay_seconds=spec.retry_delay_seconds,
            overlap=spec.overlap,
            is_global=spec.is_global,
            owner=self.actor.name,
            revision=1,
            created_at=now,
            updated_at=now,
        )
        with self._unique_name(name), self.db.write() as session:
            self._ensure_name_free(session, name)
            session.add(row)
            session.flush()
            assert row.id is not None
            self._keep_revision(session, row)
            record(
                session,
                self.actor,
                now,
                "template.create",
                "template",
                row.id,
                name,
                after=snapshot(row),
            )
        return to_view(row)

    def update(self, ref: int | str, patch: TemplatePatch) -> TemplateView:
        """Apply a patch, bump the revision and keep the new revision's snapshot."""
        for name in patch.clear:
            if name not in _CLEARABLE:
                raise ValidationFailed(
                    "clear", f"{name!r} cannot be cleared ({', '.join(_CLEARABLE)})"
                )
        with self._unique_name(patch.name or ""), self.db.write() as session:
            row = load_template(session, ref)
            before = snapshot(row)
            changes = patch.model_dump(exclude_none=True, exclude={"clear"})
            if "name" in changes:
                changes["name"] = rules.check_name(changes["name"])
                if changes["name"] != row.name:
                    self._ensure_name_free(session, changes["name"])
            if "config" in changes:
                changes["config"] = rules.check_config(row.job_type, changes["config"])
            if patch.parameters is not None:
                kept = {
                    p["name"]: p.get("default") for p in row.parameters if p.get("type") == "secret"
                }
                params = rules.check_parameters(
                    [
                        # A masked default sent back from a view means "keep the stored secret".
                        p.model_copy(update={"default": kept.get(p.name)})
                        if p.secret and p.default == MASK
                        else p
                        for p in patch.parameters
                    ]
                )
                changes["parameters"] = self._stored_parameters(params)
            if "tags" in changes:
                changes["tags"] = rules.check_tags(changes["tags"])
            for name in patch.clear:
                changes[name] = None
            merged = {**before, **changes}
            rules.check_policies(
                timeout_seconds=merged["timeout_seconds"],
                deadline_seconds=merged["deadline_seconds"],
                retries=merged["retries"],
                retry_delay_seconds=merged["retry_delay_seconds"],
            )
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
        source = self.get(ref)
        with self.db.read() as session:
            raw_params = load_template(session, ref).parameters
        spec = TemplateSpec(
            name=new_name,
            job_type=source.job_type,
            config=source.config,
            parameters=tuple(ParameterSpec.model_validate(p) for p in raw_params),
            description=source.description,
            tags=source.tags,
            timeout_seconds=source.timeout_seconds,
            deadline_seconds=source.deadline_seconds,
            retries=source.retries,
            retry_backoff=source.retry_backoff,
            retry_delay_seconds=source.retry_delay_seconds,
            overlap=source.overlap,
            is_global=source.is_global,
        )
        if source.broken:
            raise Conflict(f"template {source.name!r} is broken ({source.broken}); cannot copy it")
        return self.create(spec)

    def delete(self, ref: int | str, *, force: bool = False) -> DeleteReport:
        """Delete a template; refused while schedules use it unless forced, then reported."""
        with self.db.write() as session:
            row = load_template(session, ref)
            schedules = list(
                session.exec(select(JobSchedule).where(JobSchedule.job_template_id == row.id))
            )
            names = tuple(sorted(s.job_identifier for s in schedules))
            if names and not force:
                raise Conflict(
                    f"template {row.name!r} is used by {len(names)} schedule(s): "
                    f"{', '.join(names)}; delete them first or force the delete"
                )
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

    def _unique_name(self, name: str) -> _UniqueGuard:
        return _UniqueGuard(name)


class _UniqueGuard:
    """Turns a unique-index race (two writers, same name) into a clear Conflict."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if isinstance(exc, IntegrityError):
            raise Conflict(f"a template named {self.name!r} already exists") from exc
