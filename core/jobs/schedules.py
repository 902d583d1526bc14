"""Schedule service: create, read, list, update, enable/disable, delete and preview schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.backend.inputs import TIMING_FIELDS, SchedulePatch, ScheduleSpec
from core.backend.views import DeleteReport, FireTimeView, ScheduleView
from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs import rules
from core.jobs.audit import Actor, record
from core.jobs.parameters import MASK, ParameterSpec
from core.jobs.templates import load_template, parse_ref
from core.jobs.timing import Timing, describe, next_fire_time, preview, validate_timing
from core.settings.secrets import SecretBox, is_sealed
from core.storage.database import Database
from core.storage.tables import JobRun, JobSchedule, JobTemplate

_POLICY_FIELDS = (
    "start_deadline_seconds",
    "catchup",
    "catchup_cap",
    "catchup_window_seconds",
    "overlap",
    "overlap_max",
    "replace_grace_seconds",
    "jitter",
    "jitter_seconds",
)
_CLEARABLE = ("start_at", "end_at")
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


def build_timing(fields: dict[str, Any], anchor: datetime) -> Timing:
    """A validated Timing from schedule fields; errors name the schedule field."""
    data = {name: fields.get(name) for name in (*TIMING_FIELDS, "timezone", "start_at", "end_at")}
    # Whole seconds: an interval counted from a creation time with microseconds would fire at
    # odd instants such as 02:32:26.874661.
    data["anchor_at"] = fields.get("start_at") or anchor.replace(microsecond=0)
    try:
        timing = Timing(**data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(part) for part in error["loc"]) or "timing"
        message = str(error.get("ctx", {}).get("error") or error["msg"])
        raise ValidationFailed(loc, message) from None
    return validate_timing(timing)


def _normalised(timing: Timing) -> dict[str, Any]:
    """Timing fields in their canonical form (e.g. "9:05" stored as "09:05")."""
    return {"time_of_day": timing.time_of_day, "cron_expression": timing.cron_expression}


def timing_of(row: JobSchedule) -> Timing:
    """The Timing a stored schedule fires by."""
    return build_timing(row.model_dump(), row.created_at)


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
        fields = spec.model_dump(exclude={"template", "job_identifier"})
        fields["timezone"] = spec.timezone or self.default_zone
        self._check_policies(fields)
        timing = build_timing(fields, now)
        fields.update(_normalised(timing))
        self._check_once_in_future(timing, now)
        try:
            with self.db.write() as session:
                template = load_template(session, spec.template)
                fields["job_parameters"] = self._check_overrides(template, spec.job_parameters)
                if session.exec(
                    select(JobSchedule.id).where(JobSchedule.job_identifier == name)
                ).first():
                    raise Conflict(f"a schedule named {name!r} already exists")
                row = JobSchedule(
                    job_identifier=name,
                    job_template_id=template.id or 0,
                    owner=self.actor.name,
                    created_at=now,
                    updated_at=now,
                    **fields,
                )
                row.next_run = self._next_run(row, timing, now)
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
        for name in patch.clear:
            if name not in _CLEARABLE:
                raise ValidationFailed(
                    "clear", f"{name!r} cannot be cleared ({', '.join(_CLEARABLE)})"
                )
        now = self.clock.now()
        with self.db.write() as session:
            row = load_schedule(session, ref)
            before = snapshot(row)
            changes = patch.model_dump(exclude_none=True, exclude={"clear", "template"})
            if "job_identifier" in changes:
                changes["job_identifier"] = rules.check_name(
                    changes["job_identifier"], "job_identifier"
                )
                if (
                    changes["job_identifier"] != row.job_identifier
                    and session.exec(
                        select(JobSchedule.id).where(
                            JobSchedule.job_identifier == changes["job_identifier"]
                        )
                    ).first()
                ):
                    raise Conflict(f"a schedule named {changes['job_identifier']!r} already exists")
            merged = row.model_dump()
            if "schedule_type" in changes:
                for name in TIMING_FIELDS:
                    merged[name] = None
            merged.update(changes)
            for name in patch.clear:
                merged[name] = changes[name] = None
            template = session.get(JobTemplate, row.job_template_id)
            if patch.template is not None:
                template = load_template(session, patch.template)
                changes["job_template_id"] = template.id
            assert template is not None
            if patch.job_parameters is not None or patch.template is not None:
                changes["job_parameters"] = self._check_overrides(
                    template, merged.get("job_parameters") or {}, row.job_parameters
                )
            self._check_policies(merged)
            timing = build_timing(merged, row.created_at)
            if {"run_at", "schedule_type"} & set(changes):
                self._check_once_in_future(timing, now)
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
            if row.is_active != active:
                row.is_active = active
                row.paused_at = None if active else now
                row.updated_at = now
                row.next_run = self._next_run(row, timing_of(row), now)
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

    def _next_run(self, row: JobSchedule, timing: Timing, now: datetime) -> datetime | None:
        if not row.is_active:
            return None
        upcoming = next_fire_time(timing, now)
        if upcoming is None:
            # An active schedule that can never fire again is a mistake worth stopping.
            if row.schedule_type == "once":
                raise ValidationFailed(
                    "run_at", f"{timing.run_at} is in the past; it would never run"
                )
            raise ValidationFailed(
                "end_at", f"the window ended at {timing.end_at}; it would never run"
            )
        return upcoming

    def _check_policies(self, fields: dict[str, Any]) -> None:
        rules.check_schedule_policies(
            **{name: fields[name] for name in _POLICY_FIELDS if name not in ("catchup", "overlap")}
        )

    def _check_overrides(
        self,
        template: JobTemplate,
        overrides: dict[str, Any],
        stored: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Typed overrides; secret ones sealed; a masked value sent back keeps the stored one."""
        specs = [ParameterSpec.model_validate(p) for p in template.parameters]
        kept = stored or {}
        incoming = {k: kept.get(k) if v == MASK else v for k, v in overrides.items()}
        checked = rules.check_overrides(specs, incoming)
        for spec in specs:
            value = checked.get(spec.name)
            if spec.secret and value is not None and not is_sealed(value):
                if self.secrets is None:
                    raise ValidationFailed(
                        f"job_parameters.{spec.name}", "secret values need the secret key store"
                    )
                checked[spec.name] = self.secrets.seal(str(value))
        return checked

    def _check_once_in_future(self, timing: Timing, now: datetime) -> None:
        """A one-shot schedule in the past would never run, enabled or not."""
        if timing.schedule_type == "once" and timing.run_at is not None and timing.run_at <= now:
            raise ValidationFailed("run_at", f"{timing.run_at} is in the past; it would never run")


def count_by_template(session: Session) -> dict[int, int]:
    """How many schedules each template has."""
    return dict(
        session.exec(
            select(JobSchedule.job_template_id, func.count()).group_by(
                col(JobSchedule.job_template_id)
            )
        ).all()
    )
