"""Request and response bodies of the API where they differ from the backend's views and inputs.

Field names follow Cockpit-NG's where the concept is the same (``templates``/``total``,
``items``/``page``/``page_size``/``total_pages``, ``message``/``job_run``, ``deleted_count``);
jobdeck's extras are additional fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from core.backend.views import OwnerHealthView, RunView, TemplateView

JSON = "application/json"


class Body(BaseModel):
    """A request body: unknown fields are rejected, naming them."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(BaseModel):
    """A response body."""

    model_config = ConfigDict(frozen=True)


def respond(data: BaseModel | Sequence[BaseModel], status_code: int = 200) -> Response:
    """Serialise views straight to JSON bytes (pydantic-core), skipping FastAPI's re-validation."""
    if isinstance(data, BaseModel):
        content = data.model_dump_json()
    else:
        content = "[" + ",".join(item.model_dump_json() for item in data) + "]"
    return Response(content=content, media_type=JSON, status_code=status_code)


# -- requests ----------------------------------------------------------------------------------


class ExecuteRequest(Body):
    """Run a template now: parameter values (typed by the template) and whether to force."""

    parameters: dict[str, Any] = Field(default_factory=dict)
    force: bool = Field(default=False, description="ignore the template's pause and overlap")
    triggered_by: str = Field(
        default="manual", description="recorded with the run: manual, api, backfill or system"
    )


class RunNowRequest(Body):
    """Run a schedule now."""

    force: bool = Field(default=False, description="ignore the template's pause and overlap")


class CancelRequest(Body):
    """Why a run is cancelled (recorded with the run)."""

    reason: str | None = Field(default=None, max_length=1000)


class CopyRequest(Body):
    """The name of the copy."""

    name: str


class PoolRequest(Body):
    """The worker pool's new number of slots."""

    slots: int = Field(ge=1, le=1024)


class TokenRequest(Body):
    """A new API token."""

    name: str
    role: Literal["viewer", "operator", "admin"]


# -- responses ---------------------------------------------------------------------------------


class TemplateList(Answer):
    """`GET /api/job-templates` (Cockpit's ``JobTemplateListResponse``)."""

    templates: list[TemplateView]
    total: int


class JobTypeInfo(Answer):
    """A job type: Cockpit's ``value``/``label``/``description``, plus its config JSON schema."""

    value: str
    label: str
    description: str
    name: str
    config_schema: dict[str, Any]


class Deleted(Answer):
    """What a template or schedule delete removed."""

    message: str
    kind: str
    name: str
    removed_schedules: list[str]


class RunAction(Answer):
    """The run an action created or changed (Cockpit's cancel answer shape)."""

    message: str
    job_run: RunView


class RunList(Answer):
    """`GET /api/job-runs`: Cockpit's page, plus ``next_cursor`` (jobdeck's keyset cursor)."""

    items: list[RunView]
    total: int
    page: int
    page_size: int
    total_pages: int
    next_cursor: str | None


class RunDeleted(Answer):
    """`DELETE /api/job-runs/{id}`."""

    message: str
    deleted: bool


class RunsDeleted(Answer):
    """`DELETE /api/job-runs/cleanup`."""

    message: str
    deleted_count: int


class RunsCleared(Answer):
    """`DELETE /api/job-runs/clear-filtered`: what was deleted and by which filters."""

    message: str
    deleted_count: int
    filters: dict[str, Any]


class Progress(Answer):
    """`GET /api/job-runs/{id}/progress` (Cockpit's shape; jobdeck has no item counter)."""

    status: str
    completed: int | None = None
    total: int | None = None
    percentage: int | None = None
    message: str | None = None


class Health(Answer):
    """`GET /api/health`."""

    status: Literal["healthy", "degraded"]
    timestamp: datetime
    service: str
    version: str
    database: Literal["ok", "unavailable"]
    #: who schedules for the database and how recently it renewed its lease and ticked
    #: (jobdeck's extra; None while the database cannot be read)
    owner: OwnerHealthView | None = None


class Me(Answer):
    """The token a request was made with."""

    name: str
    role: str


class Problem(Answer):
    """An error answer (401, 403, 404, 409, 413, 503)."""

    detail: Any


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no token, or not a valid one"},
    403: {"model": Problem, "description": "the token's role may not do this"},
}
