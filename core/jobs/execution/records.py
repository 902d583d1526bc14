"""Build new run rows: resolved parameters (secrets sealed) and the template snapshot to run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.errors import Conflict, ValidationFailed
from core.jobs.parameters import ParameterSpec, resolve
from core.jobs.types import lookup_job_type
from core.settings.secrets import SecretBox, is_sealed
from core.storage.tables import JobRun, JobSchedule, JobTemplate


def template_specs(template: JobTemplate) -> list[ParameterSpec]:
    """The template's declared parameters."""
    return [ParameterSpec.model_validate(p) for p in template.parameters]


def run_parameters(
    template: JobTemplate,
    schedule: JobSchedule | None,
    given: dict[str, Any],
    secrets: SecretBox | None,
) -> dict[str, Any]:
    """Defaults, then schedule overrides, then ``given``; secret values stored sealed."""
    specs = template_specs(template)
    merged = {**(schedule.job_parameters if schedule else {}), **given}
    values = resolve(specs, merged)
    for spec in specs:
        value = values.get(spec.name)
        if spec.secret and value is not None and not is_sealed(value):
            if secrets is None:
                raise ValidationFailed(
                    f"parameters.{spec.name}", "secret values need the secret key store"
                )
            values[spec.name] = secrets.seal(str(value))
    return values


def template_snapshot(template: JobTemplate) -> dict[str, Any]:
    """What the run executes: the template as it is now (later edits do not change the run)."""
    return {
        "job_type": template.job_type,
        "config": template.config,
        "parameters": template.parameters,
        "timeout_seconds": template.timeout_seconds,
        "deadline_seconds": template.deadline_seconds,
        "retries": template.retries,
        "retry_backoff": template.retry_backoff,
        "retry_delay_seconds": template.retry_delay_seconds,
        "retry_on": template.retry_on,
    }


def new_run(
    *,
    template: JobTemplate,
    schedule: JobSchedule | None,
    triggered_by: str,
    scheduled_for: datetime | None,
    now: datetime,
    parameters: dict[str, Any],
    executed_by: str | None,
    retry_of_run_id: int | None = None,
) -> JobRun:
    """A pending run row (not yet added to a session). ``parameters`` are already resolved."""
    if lookup_job_type(template.job_type) is None:
        raise Conflict(
            f"template {template.name!r} is broken: job type {template.job_type!r} is not installed"
        )
    return JobRun(
        job_template_id=template.id,
        job_schedule_id=schedule.id if schedule else None,
        retry_of_run_id=retry_of_run_id,
        job_name=schedule.job_identifier if schedule else template.name,
        job_type=template.job_type,
        status="pending",
        triggered_by=triggered_by,
        scheduled_for=scheduled_for or now,
        queued_at=now,
        attempts=0,
        max_attempts=template.retries + 1,
        parameters=parameters,
        template_revision=template.revision,
        template_snapshot=template_snapshot(template),
        executed_by=executed_by,
        deadline_at=None,
    )
