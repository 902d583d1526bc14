"""What a job type's runner gets and gives back: the job context, exec plans, clean failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class JobContext:
    """One attempt of a run, as a runner in the fork server's child sees it."""

    run_id: int
    attempt: int
    #: the occurrence the run stands for, ISO-8601 UTC (also in $JOBDECK_SCHEDULED_FOR)
    scheduled_for: str
    #: the schedule identifier or template name of the run
    job_name: str
    #: the template's name when known (git uses it to name its checkout)
    template_name: str | None
    #: the job type's validated config model
    config: BaseModel
    #: the run's parameters, secrets decrypted (they are also in $JOBDECK_PARAM_<NAME>)
    parameters: dict[str, Any]
    #: the jobdeck data directory, for caches such as git checkouts
    home: Path


@dataclass(frozen=True)
class ExecPlan:
    """How an exec-style job type (shell) runs: an argv executed directly, never via a shell."""

    argv: list[str]
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)


class JobFailed(Exception):
    """Raised by a runner to fail the run with a clear message (no traceback in the log)."""

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result
