"""The job type registry: built-ins plus plug-ins from the `jobdeck.job_types` entry points."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from core.errors import ValidationFailed
from core.jobs.types.context import ExecPlan

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "jobdeck.job_types"


@dataclass(frozen=True)
class JobType:
    """A kind of job: its name, description, config model, and how a run of it executes."""

    name: str
    description: str
    config_model: type[BaseModel]
    #: "module:function" called in a child of the executor's fork server with a JobContext;
    #: its JSON-serialisable return value is the run's result. A string, so the registry
    #: never imports heavy job libraries; the fork server imports every runner once, warm.
    runner: str | None = None
    #: for exec-style types (shell): builds the argv the executor runs directly
    plan: Callable[[BaseModel], ExecPlan] | None = None

    @property
    def runnable(self) -> bool:
        """True when the executor knows how to run this type."""
        return self.runner is not None or self.plan is not None

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
    from core.jobs.types.shell import ShellConfig, shell_plan

    return [
        JobType(
            "shell",
            "Run a command (argv list; a shell script only when shell=true)",
            ShellConfig,
            plan=shell_plan,
        ),
        JobType(
            "python",
            "Call module:function in a child process; its return is the result",
            PythonConfig,
            runner="core.jobs.types.run_python:run",
        ),
        JobType(
            "http",
            "Send an HTTP request and check the status",
            HttpConfig,
            runner="core.jobs.types.run_http:run",
        ),
        JobType(
            "git",
            "Pull a repository, optionally run a command, commit and push changes",
            GitConfig,
            runner="core.jobs.types.run_git:run",
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
