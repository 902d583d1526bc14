"""Typed template parameters: declaration, validation of defaults, coercion of run values."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from core.errors import ValidationFailed

ParameterType = Literal["string", "int", "float", "bool", "choice", "secret"]
PARAMETER_TYPES: tuple[str, ...] = ("string", "int", "float", "bool", "choice", "secret")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", re.ASCII)
_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}
MASK = "********"


class ParameterSpec(BaseModel):
    """One declared parameter; it reaches a job as JOBDECK_PARAM_<NAME>."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: ParameterType = "string"
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    description: str | None = None

    @property
    def secret(self) -> bool:
        """Secret values are masked wherever they are shown."""
        return self.type == "secret"

    @model_validator(mode="after")
    def _consistent(self) -> ParameterSpec:
        if not _NAME.match(self.name):
            raise ValueError(
                f"parameter name {self.name!r} must be letters, digits and _ (not starting "
                "with a digit), at most 64 characters"
            )
        if self.type == "choice" and not self.choices:
            raise ValueError(f"choice parameter {self.name!r} needs at least one choice")
        if self.type != "choice" and self.choices:
            raise ValueError(f"only choice parameters take choices ({self.name!r} is {self.type})")
        if self.default is not None:
            object.__setattr__(self, "default", coerce(self, self.default, field="default"))
        return self


def coerce(spec: ParameterSpec, raw: Any, *, field: str | None = None) -> Any:
    """Convert ``raw`` to the parameter's type, or fail naming the parameter."""
    where = f"parameters.{spec.name}.{field}" if field else f"parameters.{spec.name}"
    text = raw if isinstance(raw, str) else None
    try:
        if spec.type in ("string", "secret"):
            if not isinstance(raw, str | int | float) or isinstance(raw, bool):
                raise ValueError
            return str(raw)
        if spec.type == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(text.strip() if text is not None else raw)
        if spec.type == "float":
            if isinstance(raw, bool):
                raise ValueError
            return float(text.strip() if text is not None else raw)
        if spec.type == "bool":
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError
        if spec.type == "choice":
            if str(raw) not in spec.choices:
                raise ValidationFailed(where, f"{raw!r} is not one of {', '.join(spec.choices)}")
            return str(raw)
    except (ValueError, TypeError):
        raise ValidationFailed(where, f"{raw!r} is not a valid {spec.type}") from None
    raise ValidationFailed(where, f"unknown type {spec.type}")


def validate_specs(specs: list[ParameterSpec]) -> list[ParameterSpec]:
    """Reject duplicate names (case-insensitively: they share one environment variable)."""
    seen: set[str] = set()
    for spec in specs:
        key = spec.name.upper()
        if key in seen:
            raise ValidationFailed(f"parameters.{spec.name}", "declared twice")
        seen.add(key)
    return specs


def resolve(specs: list[ParameterSpec], given: dict[str, Any]) -> dict[str, Any]:
    """The values a run gets: defaults, overridden by ``given``; unknown or missing ones fail."""
    by_name = {spec.name: spec for spec in specs}
    for name in given:
        if name not in by_name:
            known = ", ".join(by_name) or "none declared"
            raise ValidationFailed(f"parameters.{name}", f"unknown parameter (known: {known})")
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.name in given and given[spec.name] is not None:
            values[spec.name] = coerce(spec, given[spec.name])
        elif spec.default is not None:
            values[spec.name] = spec.default
        elif spec.required:
            raise ValidationFailed(f"parameters.{spec.name}", "required and has no default")
    return values


def masked(specs: list[ParameterSpec], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every secret replaced by a mask, for display, logs and the audit log."""
    secret_names = {spec.name for spec in specs if spec.secret}
    return {key: MASK if key in secret_names else value for key, value in values.items()}


def parse_parameter_declaration(text: str) -> ParameterSpec:
    """Parse the CLI form ``NAME:TYPE[=DEFAULT]``; choices as ``NAME:choice(a|b|c)[=a]``."""
    name, sep, rest = text.partition(":")
    if not sep:
        rest = "string"
    type_part, has_default, default = rest.partition("=")
    choices: tuple[str, ...] = ()
    match = re.fullmatch(r"choice\((.*)\)", type_part.strip())
    if match:
        choices = tuple(part.strip() for part in match.group(1).split("|") if part.strip())
        type_part = "choice"
    type_name = type_part.strip().lower() or "string"
    if type_name not in PARAMETER_TYPES:
        raise ValidationFailed(
            f"--param {text}", f"unknown type {type_name!r} (use {', '.join(PARAMETER_TYPES)})"
        )
    data: dict[str, Any] = {"name": name.strip(), "type": type_name, "choices": choices}
    if has_default:
        data["default"] = default
    else:
        data["required"] = type_name != "bool"
    return make_spec(data, field=f"--param {text}")


def make_spec(data: dict[str, Any], field: str = "parameters") -> ParameterSpec:
    """Build a ParameterSpec, turning pydantic errors into a ValidationFailed naming ``field``."""
    from pydantic import ValidationError

    try:
        return ParameterSpec.model_validate(data)
    except ValidationFailed:
        raise
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error.get("ctx", {}).get("error") or error["msg"])
        loc = ".".join(str(p) for p in error["loc"])
        raise ValidationFailed(f"{field}{'.' + loc if loc else ''}", message) from None
