"""The environment a job runs with: the owner's minus jobdeck's own settings, plus the run's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from core.errors import JobdeckError
from core.jobs.executor.procs import RUN_ID_ENV
from core.settings.secrets import SecretBox, is_sealed

#: jobdeck variables a job keeps (where data and config live; never credentials), so a job
#: can call the jobdeck CLI on the same database.
KEPT_JOBDECK_VARS = frozenset({"JOBDECK_HOME", "JOBDECK_CONFIG"})
#: Secrets shorter than this are not masked in logs: masking "a" would garble every line.
MIN_MASKED_SECRET = 3


class SetupFailed(Exception):
    """The attempt cannot start (broken job type, bad config, undecryptable secret)."""


def config_problem(exc: ValidationError) -> str:
    """``command: Field required``: the first problem of a config, naming the key."""
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    return f"{key}: {error['msg']}" if key else str(error["msg"])


def base_environment(parent: Mapping[str, str]) -> dict[str, str]:
    """``parent`` without JOBDECK_* variables: they hold the database URL, tokens, key paths."""
    return {
        key: value
        for key, value in parent.items()
        if not key.startswith("JOBDECK_") or key in KEPT_JOBDECK_VARS
    }


def iso_utc(instant: datetime) -> str:
    """``2026-03-02T08:00:00Z``: ISO-8601 in UTC, as jobs receive instants."""
    text = instant.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def env_value(value: Any) -> str:
    """A parameter value as an environment string (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class JobEnvironment:
    """What one attempt gets: its environment, its plain parameters and the secrets to mask."""

    env: dict[str, str]
    parameters: dict[str, Any]
    secrets: tuple[str, ...]


def job_environment(
    base: Mapping[str, str],
    *,
    run_id: int,
    attempt: int,
    scheduled_for: datetime | None,
    parameters: Mapping[str, Any],
    extra: Mapping[str, str],
    secrets: SecretBox | None,
) -> JobEnvironment:
    """The environment of one attempt; sealed parameters are decrypted here and only here."""
    plain: dict[str, Any] = {}
    masked: list[str] = []
    for name, value in parameters.items():
        if is_sealed(value):
            if secrets is None:
                raise SetupFailed(f"parameter {name!r} is a secret and no secret key is configured")
            try:
                value = secrets.open(value)
            except JobdeckError as exc:
                raise SetupFailed(f"parameter {name!r} cannot be decrypted: {exc}") from None
            if len(value) >= MIN_MASKED_SECRET:
                masked.append(value)
        plain[name] = value
    env = dict(base)
    env.update(extra)
    env["JOBDECK_ATTEMPT"] = str(attempt)
    env[RUN_ID_ENV] = str(run_id)
    if scheduled_for is not None:
        env["JOBDECK_SCHEDULED_FOR"] = iso_utc(scheduled_for)
    for name, value in plain.items():
        if value is not None:
            env[f"JOBDECK_PARAM_{name.upper()}"] = env_value(value)
    # Longest first, so a secret that contains another is masked whole.
    return JobEnvironment(env, plain, tuple(sorted(set(masked), key=len, reverse=True)))
