"""Schedule operations of the fake backend, mirroring core/jobs/schedules.ScheduleService.

Timing is never re-implemented here: validation, next fire time, description and preview come
from the same pure functions the local backend uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.backend.fake.store import FakeStore, as_utc, row_id
from core.backend.inputs import TIMING_FIELDS, SchedulePatch, ScheduleSpec
from core.backend.protocol import Ref
from core.backend.views import DeleteReport, FireTimeView, ScheduleView
from core.errors import Conflict, ValidationFailed
from core.jobs import rules
from core.jobs.parameters import ParameterSpec
from core.jobs.schedules import build_timing, fire_time_views, snapshot, timing_of
from core.jobs.timing import Timing, next_fire_time
from core.storage.tables import JobSchedule, JobTemplate

_CLEARABLE = ("start_at", "end_at")
_POLICY_FIELDS = (
    "start_deadline_seconds",
    "catchup_cap",
    "catchup_window_seconds",
    "overlap_max",
    "replace_grace_seconds",
    "jitter",
    "jitter_seconds",
)


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
        fields = spec.model_dump(exclude={"template", "job_identifier"})
        fields["timezone"] = spec.timezone or self.store.default_zone
        self._check_policies(fields)
        timing = build_timing(fields, now)
        fields.update(_normalised(timing))
        template = self.store.template_row(spec.template)
        fields["job_parameters"] = self._check_overrides(template, spec.job_parameters)
        if any(s.job_identifier == name for s in self.store.schedules.values()):
            raise Conflict(f"a schedule named {name!r} already exists")
        row = JobSchedule(
            id=self.store.next_id("schedule"),
            job_identifier=name,
            job_template_id=row_id(template),
            owner=self.store.actor.name,
            created_at=now,
            updated_at=now,
            **as_utc(fields),
        )
        row.next_run = self._next_run(row, timing, now)
        self.store.schedules[row_id(row)] = row
        self.store.record("schedule.create", "schedule", row.id, name, after=snapshot(row))
        return self.store.schedule_view(row)

    def update(self, ref: Ref, patch: SchedulePatch) -> ScheduleView:
        """Apply a patch; timing changes are re-validated and next_run recomputed."""
        for name in patch.clear:
            if name not in _CLEARABLE:
                raise ValidationFailed(
                    "clear", f"{name!r} cannot be cleared ({', '.join(_CLEARABLE)})"
                )
        now = self.store.clock.now()
        row = self.store.schedule_row(ref)
        before = snapshot(row)
        changes = as_utc(patch.model_dump(exclude_none=True, exclude={"clear", "template"}))
        if "job_identifier" in changes:
            new_name = rules.check_name(changes["job_identifier"], "job_identifier")
            changes["job_identifier"] = new_name
            if new_name != row.job_identifier and any(
                s.job_identifier == new_name for s in self.store.schedules.values()
            ):
                raise Conflict(f"a schedule named {new_name!r} already exists")
        merged = row.model_dump()
        if "schedule_type" in changes:
            # A new type replaces the whole timing: fields of the old type must not linger.
            for name in TIMING_FIELDS:
                merged[name] = None
        merged.update(changes)
        for name in patch.clear:
            merged[name] = changes[name] = None
        template = self.store.templates[row.job_template_id]
        if patch.template is not None:
            template = self.store.template_row(patch.template)
            changes["job_template_id"] = template.id
        if patch.job_parameters is not None or patch.template is not None:
            changes["job_parameters"] = self._check_overrides(
                template, merged.get("job_parameters") or {}
            )
        self._check_policies(merged)
        timing = build_timing(merged, row.created_at)
        for key, value in _normalised(timing).items():
            if merged.get(key) != value:
                merged[key] = changes[key] = value
        if "schedule_type" in changes:
            for name in TIMING_FIELDS:
                setattr(row, name, merged[name])
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = now
        row.next_run = self._next_run(row, timing, now)
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
        if row.is_active != active:
            now = self.store.clock.now()
            row.is_active = active
            row.updated_at = now
            row.next_run = self._next_run(row, timing_of(row), now)
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

    def _next_run(self, row: JobSchedule, timing: Timing, now: datetime) -> datetime | None:
        if not row.is_active:
            return None
        upcoming = next_fire_time(timing, now)
        if upcoming is None:
            # As the local service: an active schedule that can never fire is refused.
            if row.schedule_type == "once":
                raise ValidationFailed(
                    "run_at", f"{timing.run_at} is in the past; it would never run"
                )
            raise ValidationFailed(
                "end_at", f"the window ended at {timing.end_at}; it would never run"
            )
        return upcoming

    def _check_policies(self, fields: dict[str, Any]) -> None:
        rules.check_schedule_policies(**{name: fields[name] for name in _POLICY_FIELDS})

    def _check_overrides(self, template: JobTemplate, overrides: dict[str, Any]) -> dict[str, Any]:
        specs = [ParameterSpec.model_validate(p) for p in template.parameters]
        return rules.check_overrides(specs, overrides)


def _normalised(timing: Timing) -> dict[str, Any]:
    """Timing fields in their canonical form ("9:05" stored as "09:05"), as the local service."""
    return {"time_of_day": timing.time_of_day, "cron_expression": timing.cron_expression}
