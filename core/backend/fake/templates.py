"""Template operations of the fake backend, mirroring core/jobs/templates.TemplateService."""

from __future__ import annotations

from typing import Any

from core.backend.fake.store import FakeStore, frozen, row_id
from core.backend.inputs import TemplatePatch, TemplateSpec
from core.backend.protocol import Ref
from core.backend.views import DeleteReport, TemplateRevisionView, TemplateView
from core.errors import Conflict, ValidationFailed
from core.jobs import rules
from core.jobs.parameters import MASK, ParameterSpec
from core.jobs.templates import snapshot
from core.settings.secrets import PREFIX, is_sealed
from core.storage.tables import JobTemplate

_CLEARABLE = ("timeout_seconds", "deadline_seconds", "description", "overlap")


class FakeTemplateService:
    """Create, read, update, copy and delete templates in a FakeStore; writes are audited."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def list_templates(
        self, *, job_type: str | None = None, tag: str | None = None, search: str | None = None
    ) -> list[TemplateView]:
        """Templates sorted by name, filtered by type, tag and a name substring."""
        rows = sorted(self.store.templates.values(), key=lambda row: row.name)
        if job_type:
            rows = [row for row in rows if row.job_type == job_type]
        if search:
            rows = [row for row in rows if search.lower() in row.name.lower()]
        if tag:
            rows = [row for row in rows if tag in row.tags]
        return [self.store.template_view(row) for row in rows]

    def get(self, ref: Ref) -> TemplateView:
        """One template."""
        return self.store.template_view(self.store.template_row(ref))

    def revisions(self, ref: Ref) -> list[TemplateRevisionView]:
        """Every saved revision of a template, newest first."""
        row = self.store.template_row(ref)
        revisions = [rev for rev in self.store.revisions if rev.template_id == row.id]
        revisions.sort(key=lambda rev: rev.revision, reverse=True)
        return [
            frozen(
                TemplateRevisionView(
                    template_id=rev.template_id,
                    revision=rev.revision,
                    snapshot=rev.snapshot,
                    changed_by=rev.changed_by,
                    created_at=rev.created_at,
                )
            )
            for rev in revisions
        ]

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
        tags = rules.check_tags(spec.tags)
        self._ensure_name_free(name)
        row = self.insert_unchecked(
            name=name,
            config=config,
            parameters=_stored_parameters(params),
            tags=tags,
            **spec.model_dump(exclude={"name", "config", "parameters", "tags"}),
        )
        self.store.record("template.create", "template", row.id, name, after=snapshot(row))
        return self.store.template_view(row)

    def insert_unchecked(self, **fields: Any) -> JobTemplate:
        """Store a template row as given, e.g. one whose job type is not installed (seeding)."""
        now = self.store.clock.now()
        row = JobTemplate(
            id=self.store.next_id("template"),
            owner=self.store.actor.name,
            revision=1,
            created_at=now,
            updated_at=now,
            **fields,
        )
        self.store.templates[row_id(row)] = row
        self.store.keep_revision(row)
        return row

    def update(self, ref: Ref, patch: TemplatePatch) -> TemplateView:
        """Apply a patch, bump the revision and keep the new revision's snapshot."""
        for name in patch.clear:
            if name not in _CLEARABLE:
                raise ValidationFailed(
                    "clear", f"{name!r} cannot be cleared ({', '.join(_CLEARABLE)})"
                )
        row = self.store.template_row(ref)
        before = snapshot(row)
        changes = patch.model_dump(exclude_none=True, exclude={"clear"})
        if "name" in changes:
            changes["name"] = rules.check_name(changes["name"])
            if changes["name"] != row.name:
                self._ensure_name_free(changes["name"])
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
            changes["parameters"] = _stored_parameters(params)
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
            return self.store.template_view(row)
        for key, value in changes.items():
            setattr(row, key, value)
        row.revision += 1
        row.updated_at = self.store.clock.now()
        self.store.keep_revision(row)
        self.store.record(
            "template.update",
            "template",
            row.id,
            row.name,
            before=before,
            after=snapshot(row),
        )
        return self.store.template_view(row)

    def copy(self, ref: Ref, new_name: str) -> TemplateView:
        """A new template with the same content under ``new_name`` (schedules are not copied)."""
        source = self.get(ref)
        raw_params = self.store.template_row(ref).parameters
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

    def delete(self, ref: Ref, *, force: bool = False) -> DeleteReport:
        """Delete a template; refused while schedules use it unless forced, then reported."""
        row = self.store.template_row(ref)
        schedules = [s for s in self.store.schedules.values() if s.job_template_id == row.id]
        names = tuple(sorted(s.job_identifier for s in schedules))
        if names and not force:
            raise Conflict(
                f"template {row.name!r} is used by {len(names)} schedule(s): "
                f"{', '.join(names)}; delete them first or force the delete"
            )
        for schedule in schedules:
            self.store.record(
                "schedule.delete",
                "schedule",
                schedule.id,
                schedule.job_identifier,
                before={"reason": f"template {row.name} deleted"},
            )
            self.store.drop_schedule(schedule)
        self.store.record(
            "template.delete",
            "template",
            row.id,
            row.name,
            before=snapshot(row),
            after={"removed_schedules": list(names)},
        )
        self.store.drop_template(row)
        return DeleteReport(kind="template", name=row.name, removed_schedules=names)

    def _ensure_name_free(self, name: str) -> None:
        taken = next((t.id for t in self.store.templates.values() if t.name == name), None)
        if taken is not None:
            raise Conflict(f"a template named {name!r} already exists (id {taken})")


def _stored_parameters(params: list[ParameterSpec]) -> list[dict[str, Any]]:
    """Parameters as stored, secret defaults sealed like the local backend's SecretBox does.

    Nothing leaves memory, so the seal is a marker rather than a cipher; views and snapshots
    mask it either way.
    """
    stored = []
    for spec in params:
        data = spec.model_dump(mode="json")
        if spec.secret and spec.default is not None and not is_sealed(spec.default):
            data["default"] = f"{PREFIX}fake:{spec.default}"
        stored.append(data)
    return stored
