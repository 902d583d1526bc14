"""Schedule service: create, read, list, update, enable/disable, delete and preview schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.backend.inputs import SchedulePatch, ScheduleSpec
from core.backend.views import DeleteReport, FireTimeView, ScheduleView
from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs import rules
from core.jobs.audit import Actor, record
from core.jobs.parameters import MASK
from core.jobs.schedule_rules import (
    Sealer,
    activation_changes,
    build_timing,
    check_clearable,
    new_schedule_fields,
    schedule_changes,
    timing_of,
)
from core.jobs.templates import load_template, parse_ref
from core.jobs.timing import Timing, describe, preview
from core.settings.secrets import SecretBox, is_sealed
from core.storage.database import Database
from core.storage.tables import JobRun, JobSchedule, JobTemplate

MAX_PREVIEW = 1000


def load_schedule(session: Session, ref: int | str) -> JobSchedule:
    """The schedule with this id or name, or NotFound."""
    key = parse_ref(ref)
    if isinstance(key, int):
        row = session.get(JobSchedule, key)
    else:
        row = session.exec(select(JobSchedule).where(JobSchedule.job_identifier == key)).first()
    if row is None:
        raise NotFound("schedule", ref)
    return row


def _masked(values: dict[str, Any]) -> dict[str, Any]:
    return {key: MASK if is_sealed(value) else value for key, value in values.items()}


def snapshot(row: JobSchedule) -> dict[str, Any]:
    """The schedule's content as JSON for the audit log (secret overrides masked)."""
    data = row.model_dump(mode="json", exclude={"id", "created_at", "updated_at", "last_run"})
    data["job_parameters"] = _masked(data["job_parameters"])
    return data


def to_view(
    row: JobSchedule, template: JobTemplate | None, last_status: str | None = None
) -> ScheduleView:
    """The frozen view of a schedule row."""
    try:
        text = describe(timing_of(row))
    except ValidationFailed as exc:  # stored by an older version with laxer rules
        text = f"invalid timing: {exc}"
    data = row.model_dump()
    data["job_parameters"] = _masked(data["job_parameters"])
    return ScheduleView(
        **data,
        template_name=template.name if template else None,
        template_job_type=template.job_type if template else None,
        description=text,
        last_run_status=last_status,
    )


def fire_time_views(
    timing: Timing, n: int, after: datetime, viewer_zone: str | None
) -> list[FireTimeView]:
    """The next ``n`` fire times as views."""
    if not 1 <= n <= MAX_PREVIEW:
        raise ValidationFailed("n", f"{n} is outside 1..{MAX_PREVIEW}")
    return [
        FireTimeView(
            utc=row.fire.utc,
            local=row.fire.local,
            nominal=row.fire.nominal,
            dst=row.fire.dst,
            viewer=row.viewer,
        )
        for row in preview(timing, n, after, viewer_zone)
    ]


class ScheduleService:
    """Schedule operations over one database; every write is audited."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        actor: Actor,
        default_zone: str,
        secrets: SecretBox | None = None,
    ) -> None:
        self.secrets = secrets
        self.db = db
        self.clock = clock
        self.actor = actor
        self.default_zone = default_zone

    # reads ---------------------------------------------------------------------------------

    def get(self, ref: int | str) -> ScheduleView:
        """One schedule with its template's name and its last run status."""
        with self.db.read() as session:
            return self._views(session, [load_schedule(session, ref)])[0]

    def list_schedules(
        self, *, template: int | str | None = None, is_active: bool | None = None
    ) -> list[ScheduleView]:
        """Schedules sorted by name, optionally of one template or by state."""
        with self.db.read() as session:
            query = select(JobSchedule).order_by(col(JobSchedule.job_identifier))
            if template is not None:
                query = query.where(
                    JobSchedule.job_template_id == load_template(session, template).id
                )
            if is_active is not None:
                query = query.where(JobSchedule.is_active == is_active)
            return self._views(session, list(session.exec(query)))

    def preview(self, ref: int | str, n: int, viewer_zone: str | None = None) -> list[FireTimeView]:
        """The next ``n`` fire times of a stored schedule."""
        with self.db.read() as session:
            row = load_schedule(session, ref)
        return fire_time_views(timing_of(row), n, self.clock.now(), viewer_zone)

    def preview_spec(
        self, spec: ScheduleSpec, n: int, viewer_zone: str | None = None
    ) -> list[FireTimeView]:
        """The next ``n`` fire times of timing that is not saved (forms, `schedule preview`)."""
        fields = spec.model_dump()
        fields["timezone"] = spec.timezone or self.default_zone
        timing = build_timing(fields, self.clock.now())
        return fire_time_views(timing, n, self.clock.now(), viewer_zone)

    def _views(self, session: Session, rows: list[JobSchedule]) -> list[ScheduleView]:
        templates = {
            t.id: t
            for t in session.exec(
                select(JobTemplate).where(
                    col(JobTemplate.id).in_({r.job_template_id for r in rows})
                )
            )
        }
        views = []
        for row in rows:
            status = session.exec(
                select(JobRun.status)
                .where(JobRun.job_schedule_id == row.id)
                .order_by(col(JobRun.queued_at).desc(), col(JobRun.id).desc())
                .limit(1)
            ).first()
            views.append(to_view(row, templates.get(row.job_template_id), status))
        return views

    # writes --------------------------------------------------------------------------------

    def create(self, spec: ScheduleSpec) -> ScheduleView:
        """Validate and store a schedule, computing its next run."""
        name = rules.check_name(spec.job_identifier, "job_identifier")
        now = self.clock.now()
        try:
            with self.db.write() as session:
                template = load_template(session, spec.template)
                fields = new_schedule_fields(
                    spec,
                    template=template,
                    default_zone=self.default_zone,
                    now=now,
                    seal=self._seal,
                )
                self._ensure_name_free(session, name)
                row = JobSchedule(
                    job_identifier=name,
                    owner=self.actor.name,
                    created_at=now,
                    updated_at=now,
                    **fields,
                )
                session.add(row)
                session.flush()
                record(
                    session,
                    self.actor,
                    now,
                    "schedule.create",
                    "schedule",
                    row.id,
                    name,
                    after=snapshot(row),
                )
        except IntegrityError as exc:
            raise Conflict(f"a schedule named {name!r} already exists") from exc
        return to_view(row, template)

    def update(self, ref: int | str, patch: SchedulePatch) -> ScheduleView:
        """Apply a patch; timing changes are re-validated and next_run recomputed."""
        check_clearable(patch)
        now = self.clock.now()
        with self.db.write() as session:
            row = load_schedule(session, ref)
            before = snapshot(row)
            template = (
                load_template(session, patch.template)
                if patch.template is not None
                else session.get(JobTemplate, row.job_template_id)
            )
            assert template is not None  # the foreign key guarantees it
            changes = schedule_changes(row, patch, template=template, now=now, seal=self._seal)
            if changes.get("job_identifier", row.job_identifier) != row.job_identifier:
                self._ensure_name_free(session, changes["job_identifier"])
            for key, value in changes.items():
                setattr(row, key, value)
            session.add(row)
            record(
                session,
                self.actor,
                now,
                "schedule.update",
                "schedule",
                row.id,
                row.job_identifier,
                before=before,
                after=snapshot(row),
            )
        return self.get(row.id)  # type: ignore[arg-type]

    def set_active(self, ref: int | str, active: bool) -> ScheduleView:
        """Enable or disable a schedule (disabled ones have no next run)."""
        now = self.clock.now()
        with self.db.write() as session:
            row = load_schedule(session, ref)
            changes = activation_changes(row, active, now)
            if changes:
                for key, value in changes.items():
                    setattr(row, key, value)
                session.add(row)
                record(
                    session,
                    self.actor,
                    now,
                    "schedule.enable" if active else "schedule.disable",
                    "schedule",
                    row.id,
                    row.job_identifier,
                )
        return self.get(row.id)  # type: ignore[arg-type]

    def delete(self, ref: int | str) -> DeleteReport:
        """Delete a schedule; its runs stay in the history."""
        with self.db.write() as session:
            row = load_schedule(session, ref)
            record(
                session,
                self.actor,
                self.clock.now(),
                "schedule.delete",
                "schedule",
                row.id,
                row.job_identifier,
                before=snapshot(row),
            )
            session.delete(row)
        return DeleteReport(kind="schedule", name=row.job_identifier)

    # helpers -------------------------------------------------------------------------------

    @property
    def _seal(self) -> Sealer | None:
        return self.secrets.seal if self.secrets else None

    def _ensure_name_free(self, session: Session, name: str) -> None:
        if session.exec(select(JobSchedule.id).where(JobSchedule.job_identifier == name)).first():
            raise Conflict(f"a schedule named {name!r} already exists")
