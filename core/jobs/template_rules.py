"""What a template write stores, worked out without storage: shared by every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.backend.inputs import TemplatePatch, TemplateSpec
from core.errors import Conflict, ValidationFailed
from core.jobs import rules
from core.jobs.parameters import MASK, ParameterSpec
from core.jobs.types import lookup_job_type
from core.settings.secrets import is_sealed
from core.storage.tables import JobTemplate

#: Encrypts a secret value for storage (SecretBox.seal), or None where no key store exists.
Sealer = Callable[[str], str]

CLEARABLE = ("timeout_seconds", "deadline_seconds", "description", "overlap")
#: Retention keys (SCHEDULING.md rule 14; the retention pass reads them) and their upper bounds.
RETENTION_LIMITS = {"keep_success": 1_000_000, "keep_failure": 1_000_000, "max_age_days": 36_500}


def stored_parameters(params: list[ParameterSpec], seal: Sealer | None) -> list[dict[str, Any]]:
    """Parameters as stored: secret defaults sealed, never in clear text."""
    stored = []
    for spec in params:
        data = spec.model_dump(mode="json")
        if spec.secret and spec.default is not None and not is_sealed(spec.default):
            if seal is None:
                raise ValidationFailed(
                    f"parameters.{spec.name}.default",
                    "secret defaults need the secret key store, which this backend lacks",
                )
            data["default"] = seal(str(spec.default))
        stored.append(data)
    return stored


def check_retention(value: Any) -> dict[str, int] | None:
    """A retention setting checked key by key; None (or {}) means the defaults."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationFailed("retention", f"must be an object of {', '.join(RETENTION_LIMITS)}")
    checked: dict[str, int] = {}
    for key, number in value.items():
        field = f"retention.{key}"
        if key not in RETENTION_LIMITS:
            raise ValidationFailed(field, f"unknown key ({', '.join(RETENTION_LIMITS)})")
        limit = RETENTION_LIMITS[key]
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= limit:
            raise ValidationFailed(field, f"{number!r} must be a whole number from 0 to {limit}")
        checked[key] = number
    return checked or None


def shown_retention(stored: Any) -> dict[str, int] | None:
    """The usable part of a stored retention setting (one written by hand may hold junk,
    which the retention pass ignores too); None when nothing is set."""
    if not isinstance(stored, dict):
        return None
    shown = {
        key: value
        for key, value in stored.items()
        if key in RETENTION_LIMITS
        and isinstance(value, int)
        and not isinstance(value, bool)
        and value >= 0
    }
    return shown or None


def _check_policies(values: dict[str, Any]) -> None:
    rules.check_policies(
        timeout_seconds=values["timeout_seconds"],
        deadline_seconds=values["deadline_seconds"],
        retries=values["retries"],
        retry_delay_seconds=values["retry_delay_seconds"],
    )


def new_template_fields(spec: TemplateSpec, seal: Sealer | None) -> dict[str, Any]:
    """Column values of a new template (all but owner, revision and timestamps)."""
    name = rules.check_name(spec.name)
    rules.check_job_type(spec.job_type)
    config = rules.check_config(spec.job_type, spec.config)
    params = rules.check_parameters(spec.parameters)
    fields = spec.model_dump(exclude={"name", "config", "parameters", "tags"})
    _check_policies(fields)
    fields["retention"] = check_retention(spec.retention)
    return {
        **fields,
        "name": name,
        "config": config,
        "parameters": stored_parameters(params, seal),
        "tags": rules.check_tags(spec.tags),
    }


def check_clearable(patch: TemplatePatch) -> None:
    """Only optional settings can be reset to none."""
    for name in patch.clear:
        if name not in CLEARABLE:
            raise ValidationFailed("clear", f"{name!r} cannot be cleared ({', '.join(CLEARABLE)})")


def template_changes(row: JobTemplate, patch: TemplatePatch, seal: Sealer | None) -> dict[str, Any]:
    """The columns a patch changes, validated (empty when it changes nothing).

    A new name is checked for form only (the caller checks it is free); a masked secret
    default sent back from a view keeps the stored secret.
    """
    check_clearable(patch)
    changes = patch.model_dump(exclude_none=True, exclude={"clear"})
    if "name" in changes:
        changes["name"] = rules.check_name(changes["name"])
    if "config" in changes:
        changes["config"] = rules.check_config(row.job_type, changes["config"])
    if patch.parameters is not None:
        kept = {p["name"]: p.get("default") for p in row.parameters if p.get("type") == "secret"}
        params = rules.check_parameters(
            [
                p.model_copy(update={"default": kept.get(p.name)})
                if p.secret and p.default == MASK
                else p
                for p in patch.parameters
            ]
        )
        changes["parameters"] = stored_parameters(params, seal)
    if "tags" in changes:
        changes["tags"] = rules.check_tags(changes["tags"])
    if "retention" in changes:
        changes["retention"] = check_retention(changes["retention"])
    for name in patch.clear:
        changes[name] = None
    _check_policies({**row.model_dump(), **changes})
    return changes


def copy_spec(row: JobTemplate, new_name: str) -> TemplateSpec:
    """A spec creating a copy of ``row`` under ``new_name`` (schedules are not copied)."""
    if lookup_job_type(row.job_type) is None:
        raise Conflict(
            f"template {row.name!r} is broken (job type {row.job_type!r} is not installed); "
            "cannot copy it"
        )
    return TemplateSpec(
        name=new_name,
        job_type=row.job_type,
        config=row.config,
        parameters=tuple(ParameterSpec.model_validate(p) for p in row.parameters),
        description=row.description,
        tags=tuple(row.tags),
        timeout_seconds=row.timeout_seconds,
        deadline_seconds=row.deadline_seconds,
        retries=row.retries,
        retry_backoff=row.retry_backoff,
        retry_delay_seconds=row.retry_delay_seconds,
        overlap=row.overlap,
        is_global=row.is_global,
        retention=shown_retention(row.retention),
    )


def check_deletable(row: JobTemplate, schedule_names: tuple[str, ...], force: bool) -> None:
    """A template in use is deleted only when forced (and then its schedules go with it)."""
    if schedule_names and not force:
        raise Conflict(
            f"template {row.name!r} is used by {len(schedule_names)} schedule(s): "
            f"{', '.join(schedule_names)}; delete them first or force the delete"
        )
