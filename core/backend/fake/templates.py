"""Template operations of the fake backend, mirroring core/jobs/templates.TemplateService."""

from __future__ import annotations

from typing import Any

from core.backend.fake.store import FakeStore, fake_seal, frozen, row_id
from core.backend.inputs import TemplatePatch, TemplateSpec
from core.backend.protocol import Ref
from core.backend.views import DeleteReport, TemplateRevisionView, TemplateView
from core.errors import Conflict
from core.jobs.template_rules import (
    check_clearable,
    check_deletable,
    copy_spec,
    new_template_fields,
    template_changes,
)
from core.jobs.templates import snapshot
from core.storage.tables import JobTemplate


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
        fields = new_template_fields(spec, fake_seal)
        self._ensure_name_free(fields["name"])
        row = self.insert_unchecked(**fields)
        self.store.record("template.create", "template", row.id, row.name, after=snapshot(row))
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
        check_clearable(patch)
        row = self.store.template_row(ref)
        before = snapshot(row)
        changes = template_changes(row, patch, fake_seal)
        if changes.get("name", row.name) != row.name:
            self._ensure_name_free(changes["name"])
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
        return self.create(copy_spec(self.store.template_row(ref), new_name))

    def delete(self, ref: Ref, *, force: bool = False) -> DeleteReport:
        """Delete a template; refused while schedules use it unless forced, then reported."""
        row = self.store.template_row(ref)
        schedules = [s for s in self.store.schedules.values() if s.job_template_id == row.id]
        names = tuple(sorted(s.job_identifier for s in schedules))
        check_deletable(row, names, force)
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
