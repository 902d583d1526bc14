"""Schedule operations of the fake backend, mirroring core/jobs/schedules.ScheduleService.

Timing is never re-implemented here: validation, next fire time, description and preview come
from the same pure functions the local backend uses.
"""

from __future__ import annotations

from core.backend.fake.store import FakeStore, as_utc, fake_seal, row_id
from core.backend.inputs import SchedulePatch, ScheduleSpec
from core.backend.protocol import Ref
from core.backend.views import DeleteReport, FireTimeView, ScheduleView
from core.errors import Conflict
from core.jobs import rules
from core.jobs.schedule_rules import (
    activation_changes,
    build_timing,
    check_clearable,
    new_schedule_fields,
    schedule_changes,
    timing_of,
)
from core.jobs.schedules import fire_time_views, snapshot
from core.storage.tables import JobSchedule


class FakeScheduleService:
    """Create, read, update, enable/disable, delete and preview schedules in a FakeStore."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def list_schedules(
        self, *, template: Ref | None = None, is_active: bool | None = None
    ) -> list[ScheduleView]:
        """Schedules sorted by name, optionally of one template or by state."""
        rows = sorted(self.store.schedules.values(), key=lambda row: row.job_identifier)
        if template is not None:
            template_id = self.store.template_row(template).id
            rows = [row for row in rows if row.job_template_id == template_id]
        if is_active is not None:
            rows = [row for row in rows if row.is_active == is_active]
        return [self.store.schedule_view(row) for row in rows]

    def get(self, ref: Ref) -> ScheduleView:
        """One schedule."""
        return self.store.schedule_view(self.store.schedule_row(ref))

    def preview(self, ref: Ref, n: int, viewer_zone: str | None = None) -> list[FireTimeView]:
        """The next ``n`` fire times of a stored schedule."""
        timing = timing_of(self.store.schedule_row(ref))
        return fire_time_views(timing, n, self.store.clock.now(), viewer_zone)

    def preview_spec(
        self, spec: ScheduleSpec, n: int, viewer_zone: str | None = None
    ) -> list[FireTimeView]:
        """The next ``n`` fire times of timing that is not saved."""
        fields = spec.model_dump()
        fields["timezone"] = spec.timezone or self.store.default_zone
        timing = build_timing(fields, self.store.clock.now())
        return fire_time_views(timing, n, self.store.clock.now(), viewer_zone)

    def create(self, spec: ScheduleSpec) -> ScheduleView:
        """Validate and store a schedule, computing its next run."""
        name = rules.check_name(spec.job_identifier, "job_identifier")
        now = self.store.clock.now()
        template = self.store.template_row(spec.template)
        fields = new_schedule_fields(
            spec, template=template, default_zone=self.store.default_zone, now=now, seal=fake_seal
        )
        self._ensure_name_free(name)
        row = JobSchedule(
            id=self.store.next_id("schedule"),
            job_identifier=name,
            owner=self.store.actor.name,
            created_at=now,
            updated_at=now,
            **as_utc(fields),
        )
        self.store.schedules[row_id(row)] = row
        self.store.record("schedule.create", "schedule", row.id, name, after=snapshot(row))
        return self.store.schedule_view(row)

    def update(self, ref: Ref, patch: SchedulePatch) -> ScheduleView:
        """Apply a patch; timing changes are re-validated and next_run recomputed."""
        check_clearable(patch)
        row = self.store.schedule_row(ref)
        before = snapshot(row)
        template = (
            self.store.template_row(patch.template)
            if patch.template is not None
            else self.store.templates[row.job_template_id]
        )
        changes = schedule_changes(
            row,
            as_utc_patch(patch),
            template=template,
            now=self.store.clock.now(),
            seal=fake_seal,
        )
        if changes.get("job_identifier", row.job_identifier) != row.job_identifier:
            self._ensure_name_free(changes["job_identifier"])
        for key, value in changes.items():
            setattr(row, key, value)
        self.store.record(
            "schedule.update",
            "schedule",
            row.id,
            row.job_identifier,
            before=before,
            after=snapshot(row),
        )
        return self.store.schedule_view(row)

    def set_active(self, ref: Ref, active: bool) -> ScheduleView:
        """Enable or disable a schedule (disabled ones have no next run)."""
        row = self.store.schedule_row(ref)
        changes = activation_changes(row, active, self.store.clock.now())
        if changes:
            for key, value in changes.items():
                setattr(row, key, value)
            action = "schedule.enable" if active else "schedule.disable"
            self.store.record(action, "schedule", row.id, row.job_identifier)
        return self.store.schedule_view(row)

    def delete(self, ref: Ref) -> DeleteReport:
        """Delete a schedule; its runs stay in the history."""
        row = self.store.schedule_row(ref)
        self.store.record(
            "schedule.delete", "schedule", row.id, row.job_identifier, before=snapshot(row)
        )
        self.store.drop_schedule(row)
        return DeleteReport(kind="schedule", name=row.job_identifier)

    def _ensure_name_free(self, name: str) -> None:
        if any(s.job_identifier == name for s in self.store.schedules.values()):
            raise Conflict(f"a schedule named {name!r} already exists")


def as_utc_patch(patch: SchedulePatch) -> SchedulePatch:
    """The patch with its instants in UTC, as the database would hand them back."""
    return patch.model_copy(update=as_utc(patch.model_dump(exclude_none=True, exclude={"clear"})))
