"""What a schedule write stores, worked out without storage: shared by every backend.

The services (and the fake backend) only load rows, check names are free, and persist; the
rules of timing, policies, overrides and next run live here once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.backend.inputs import TIMING_FIELDS, SchedulePatch, ScheduleSpec
from core.errors import ValidationFailed
from core.jobs import rules
from core.jobs.parameters import MASK, ParameterSpec
from core.jobs.timing import Timing, next_fire_time
from core.jobs.timing import build_timing as build_validated_timing
from core.settings.secrets import is_sealed
from core.storage.tables import JobSchedule, JobTemplate

#: Encrypts a secret value for storage (SecretBox.seal), or None where no key store exists.
Sealer = Callable[[str], str]

CLEARABLE = ("start_at", "end_at")
#: The columns that decide when a schedule fires: changing one recomputes its next run.
WHEN_FIELDS = (*TIMING_FIELDS, "timezone", "start_at", "end_at")
_POLICY_FIELDS = (
    "start_deadline_seconds",
    "catchup_cap",
    "catchup_window_seconds",
    "overlap_max",
    "replace_grace_seconds",
    "jitter",
    "jitter_seconds",
)


def build_timing(fields: dict[str, Any], anchor: datetime) -> Timing:
    """A validated Timing from schedule fields; errors name the schedule field."""
    data = {name: fields.get(name) for name in (*TIMING_FIELDS, "timezone", "start_at", "end_at")}
    # Whole seconds: an interval counted from a creation time with microseconds would fire at
    # odd instants such as 02:32:26.874661.
    data["anchor_at"] = fields.get("start_at") or anchor.replace(microsecond=0)
    return build_validated_timing(data)


def timing_of(row: JobSchedule) -> Timing:
    """The Timing a stored schedule fires by."""
    return build_timing(row.model_dump(), row.created_at)


def normalised(timing: Timing) -> dict[str, Any]:
    """Timing fields in their canonical form (e.g. "9:05" stored as "09:05")."""
    return {"time_of_day": timing.time_of_day, "cron_expression": timing.cron_expression}


def check_policies(fields: dict[str, Any]) -> None:
    """Policy numbers in range (SCHEDULING.md rules 2-4, 9)."""
    rules.check_schedule_policies(**{name: fields[name] for name in _POLICY_FIELDS})


def check_once_in_future(timing: Timing, now: datetime) -> None:
    """A one-shot schedule in the past would never run, enabled or not."""
    if timing.schedule_type == "once" and timing.run_at is not None and timing.run_at <= now:
        raise ValidationFailed("run_at", f"{timing.run_at} is in the past; it would never run")


def next_run_for(is_active: bool, timing: Timing, now: datetime) -> datetime | None:
    """The next fire of an active schedule; refuses one that can never fire again."""
    if not is_active:
        return None
    upcoming = next_fire_time(timing, now)
    if upcoming is None:
        # An active schedule that can never fire again is a mistake worth stopping.
        if timing.schedule_type == "once":
            raise ValidationFailed("run_at", f"{timing.run_at} is in the past; it would never run")
        raise ValidationFailed("end_at", f"the window ended at {timing.end_at}; it would never run")
    return upcoming


def resolve_overrides(
    template: JobTemplate,
    overrides: dict[str, Any],
    stored: dict[str, Any] | None,
    seal: Sealer | None,
) -> dict[str, Any]:
    """Typed overrides; secret ones sealed; a masked value sent back keeps the stored one."""
    specs = [ParameterSpec.model_validate(p) for p in template.parameters]
    kept = stored or {}
    incoming = {k: kept.get(k) if v == MASK else v for k, v in overrides.items()}
    checked = rules.check_overrides(specs, incoming)
    for spec in specs:
        value = checked.get(spec.name)
        if spec.secret and value is not None and not is_sealed(value):
            if seal is None:
                raise ValidationFailed(
                    f"job_parameters.{spec.name}", "secret values need the secret key store"
                )
            checked[spec.name] = seal(str(value))
    return checked


def new_schedule_fields(
    spec: ScheduleSpec,
    *,
    template: JobTemplate,
    default_zone: str,
    now: datetime,
    seal: Sealer | None,
) -> dict[str, Any]:
    """Column values of a new schedule (all but its name, owner and timestamps)."""
    fields = spec.model_dump(exclude={"template", "job_identifier"})
    fields["timezone"] = spec.timezone or default_zone
    check_policies(fields)
    timing = build_timing(fields, now)
    fields.update(normalised(timing))
    check_once_in_future(timing, now)
    fields["job_parameters"] = resolve_overrides(template, spec.job_parameters, None, seal)
    fields["job_template_id"] = template.id
    fields["next_run"] = next_run_for(spec.is_active, timing, now)
    return fields


def check_clearable(patch: SchedulePatch) -> None:
    """Only the window bounds can be reset to none."""
    for name in patch.clear:
        if name not in CLEARABLE:
            raise ValidationFailed("clear", f"{name!r} cannot be cleared ({', '.join(CLEARABLE)})")


def schedule_changes(
    row: JobSchedule,
    patch: SchedulePatch,
    *,
    template: JobTemplate,
    now: datetime,
    seal: Sealer | None,
) -> dict[str, Any]:
    """The columns a patch changes, validated, with the next run where it must move.

    ``template`` is the patch's template when it names one, else the schedule's own. Giving
    ``schedule_type`` replaces the whole timing; a new name is checked for form only (the
    caller checks it is free). The next run is recomputed from now only when the timing,
    zone or window changes (or there is none): any other edit keeps it, so an occurrence that
    is due while no owner runs is still recorded when one starts. Enabling or disabling
    follows ``activation_changes``.
    """
    check_clearable(patch)
    changes = patch.model_dump(exclude_none=True, exclude={"clear", "template"})
    if "job_identifier" in changes:
        changes["job_identifier"] = rules.check_name(changes["job_identifier"], "job_identifier")
    merged = row.model_dump()
    if "schedule_type" in changes:
        # A new type replaces the whole timing: fields of the old type must not linger.
        for name in TIMING_FIELDS:
            merged[name] = None
    merged.update(changes)
    for name in patch.clear:
        merged[name] = changes[name] = None
    if patch.template is not None:
        changes["job_template_id"] = template.id
    if patch.job_parameters is not None or patch.template is not None:
        changes["job_parameters"] = resolve_overrides(
            template, merged.get("job_parameters") or {}, row.job_parameters, seal
        )
    check_policies(merged)
    timing = build_timing(merged, row.created_at)
    if {"run_at", "schedule_type"} & set(changes):
        check_once_in_future(timing, now)
    for key, value in normalised(timing).items():
        if merged.get(key) != value:
            merged[key] = changes[key] = value
    if "schedule_type" in changes:
        for name in TIMING_FIELDS:
            changes[name] = merged[name]
    changes["updated_at"] = now
    if merged["is_active"] != row.is_active:
        changes.update(activation_changes(row, merged["is_active"], now, timing))
    elif row.next_run is None or any(merged[name] != getattr(row, name) for name in WHEN_FIELDS):
        changes["next_run"] = next_run_for(merged["is_active"], timing, now)
    return changes


def activation_changes(
    row: JobSchedule, active: bool, now: datetime, timing: Timing | None = None
) -> dict[str, Any]:
    """The columns enabling or disabling a schedule changes (nothing when already so).

    Disabling stamps ``paused_at`` (an earlier stamp whose occurrences are not recorded yet
    stays). Enabling keeps it: the owner's scheduler (within a heartbeat, or at once when
    woken) records the occurrences between ``paused_at`` and the new next run as ``skipped:
    paused`` and then clears it (SCHEDULING.md rule 10), whether or not it runs in the process
    that enabled the schedule, or runs at all at the time.
    ``timing``: the timing to use when a patch changes it in the same write.
    """
    if row.is_active == active:
        return {}
    if not active:
        return {
            "is_active": False,
            "paused_at": row.paused_at or now,
            "updated_at": now,
            "next_run": None,
        }
    return {
        "is_active": True,
        "updated_at": now,
        "next_run": next_run_for(True, timing or timing_of(row), now),
    }
