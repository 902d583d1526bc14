"""`/api/job-templates`: list, read, create, update, delete, copy, revisions, execute, types."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request, Response

from core.api.auth import Admin, Operator, Viewer
from core.api.idempotency import IdempotencyKey, IdempotentRoute
from core.api.schemas import (
    ERRORS,
    CopyRequest,
    Deleted,
    ExecuteRequest,
    JobTypeInfo,
    RunAction,
    TemplateList,
    respond,
)
from core.api.state import reader, ref, writer
from core.backend.inputs import TemplatePatch, TemplateSpec
from core.backend.views import TemplateRevisionView, TemplateView

router = APIRouter(prefix="/api/job-templates", tags=["templates"], route_class=IdempotentRoute)

TEMPLATE_ID = Path(description="the template's id, or its name")


@router.get("", response_model=TemplateList, responses=ERRORS)
async def list_templates(
    *,
    request: Request,
    job_type: str | None = Query(None, description="only templates of this job type"),
    tag: str | None = Query(None, description="only templates with this tag"),
    search: str | None = Query(None, description="only names containing this text"),
    _: Viewer,
) -> Response:
    """Templates by name (Cockpit: ``{templates, total}``)."""
    found = await reader(request).list_templates(job_type=job_type, tag=tag, search=search)
    return respond(TemplateList(templates=found, total=len(found)))


@router.get("/types", response_model=list[JobTypeInfo], responses=ERRORS)
async def job_types(*, request: Request, _: Viewer) -> Response:
    """Installed job types, each with the JSON schema of its template ``config``."""
    types = await reader(request).job_types()
    return respond(
        [
            JobTypeInfo(
                value=t.name,
                label=t.name.replace("_", " ").title(),
                description=t.description,
                name=t.name,
                config_schema=t.config_schema,
            )
            for t in types
        ]
    )


@router.post("", response_model=TemplateView, responses=ERRORS)
async def create_template(
    *,
    spec: TemplateSpec,
    request: Request,
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Create a template (200, the new template)."""
    return respond(await writer(request, who).create_template(spec))


@router.get("/{template_id}", response_model=TemplateView, responses=ERRORS)
async def get_template(*, request: Request, template_id: str = TEMPLATE_ID, _: Viewer) -> Response:
    """One template."""
    return respond(await reader(request).get_template(ref(template_id, "template")))


@router.put("/{template_id}", response_model=TemplateView, responses=ERRORS)
async def update_template(
    *,
    patch: TemplatePatch,
    request: Request,
    template_id: str = TEMPLATE_ID,
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Change a template (a new revision); fields left out or null stay as they are."""
    target = ref(template_id, "template")
    return respond(await writer(request, who).update_template(target, patch))


@router.delete("/{template_id}", response_model=Deleted, responses=ERRORS)
async def delete_template(
    *,
    request: Request,
    template_id: str = TEMPLATE_ID,
    force: bool = Query(False, description="also delete the schedules that use it"),
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Delete a template (409 while schedules use it, unless ``force``)."""
    report = await writer(request, who).delete_template(ref(template_id, "template"), force=force)
    return respond(
        Deleted(
            message="Job template deleted successfully",
            kind=report.kind,
            name=report.name,
            removed_schedules=list(report.removed_schedules),
        )
    )


@router.post("/{template_id}/copy", response_model=TemplateView, responses=ERRORS)
async def copy_template(
    *,
    body: CopyRequest,
    request: Request,
    template_id: str = TEMPLATE_ID,
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Copy a template under a new name."""
    target = ref(template_id, "template")
    return respond(await writer(request, who).copy_template(target, body.name))


@router.get("/{template_id}/revisions", response_model=list[TemplateRevisionView], responses=ERRORS)
async def template_revisions(
    *, request: Request, template_id: str = TEMPLATE_ID, _: Viewer
) -> Response:
    """A template's saved revisions, newest first."""
    return respond(await reader(request).template_revisions(ref(template_id, "template")))


@router.post("/{template_id}/execute", response_model=RunAction, responses=ERRORS)
async def execute_template(
    *,
    request: Request,
    body: ExecuteRequest | None = None,
    template_id: str = TEMPLATE_ID,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Queue a run of the template now (triggered_by ``manual``); the owner executes it."""
    body = body or ExecuteRequest()
    run = await writer(request, who).run_template(
        ref(template_id, "template"),
        parameters=body.parameters,
        triggered_by=body.triggered_by,
        force=body.force,
    )
    return respond(RunAction(message="Job queued", job_run=run))
