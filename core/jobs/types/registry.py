"""The job type registry: built-ins plus plug-ins from the `jobdeck.job_types` entry points."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from core.errors import ValidationFailed

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "jobdeck.job_types"


@dataclass(frozen=True)
class JobType:
    """A kind of job: its name, a one-line description and the model that validates config."""

    name: str
    description: str
    config_model: type[BaseModel]

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Validate ``config``; the error names the config key that was wrong."""
        try:
            model = self.config_model.model_validate(config)
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(part) for part in error["loc"])
            field = f"config.{key}" if key else "config"
            raise ValidationFailed(field, f"{error['msg']} (job type {self.name})") from exc
        return model.model_dump(mode="json", exclude_defaults=False)

    def config_schema(self) -> dict[str, Any]:
        """The JSON schema of the config, for forms and the API."""
        return self.config_model.model_json_schema()


def _builtin_types() -> list[JobType]:
    from core.jobs.types.git import GitConfig
    from core.jobs.types.http import HttpConfig
    from core.jobs.types.python import PythonConfig
    from core.jobs.types.shell import ShellConfig

    return [
        JobType(
            "shell", "Run a command (argv list; a shell script only when shell=true)", ShellConfig
        ),
        JobType(
            "python",
            "Call module:function in a child process; its return is the result",
            PythonConfig,
        ),
        JobType("http", "Send an HTTP request and check the status", HttpConfig),
        JobType(
            "git", "Pull a repository, optionally run a command, commit and push changes", GitConfig
        ),
    ]


@cache
def registered_job_types() -> dict[str, JobType]:
    """Every job type by name: built-ins first, then entry-point plug-ins that load cleanly."""
    types = {job_type.name: job_type for job_type in _builtin_types()}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry_point.load()
            job_type = loaded() if callable(loaded) and not isinstance(loaded, JobType) else loaded
        except Exception:  # a broken plug-in must not take jobdeck down
            log.exception("job type plug-in %s failed to load", entry_point.name)
            continue
        if isinstance(job_type, JobType) and job_type.name not in types:
            types[job_type.name] = job_type
    return types


def job_type_names() -> list[str]:
    """The registered job type names, sorted."""
    return sorted(registered_job_types())


def lookup_job_type(name: str) -> JobType | None:
    """The job type called ``name``, or None when it is not installed (a broken template)."""
    return registered_job_types().get(name)
