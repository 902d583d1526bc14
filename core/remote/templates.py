"""Templates and job types over `/api/job-templates` (and running a template now)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from core.backend.inputs import TemplatePatch, TemplateSpec
from core.backend.protocol import Ref
from core.backend.views import (
    DeleteReport,
    JobTypeView,
    RunView,
    TemplateRevisionView,
    TemplateView,
)
from core.errors import NotFound
from core.remote.calls import RemoteCalls, many, one, path_safe, segment

TEMPLATES = "/api/job-templates"
#: Fixed routes beside `/api/job-templates/{id}` that a template name must not shadow.
_RESERVED = frozenset({"types"})


class _TemplateList(BaseModel):
    templates: list[TemplateView]
    total: int


class _Deleted(BaseModel):
    kind: str
    name: str
    removed_schedules: tuple[str, ...] = ()


class _RunAction(BaseModel):
    message: str
    job_run: RunView


class _JobType(BaseModel):
    name: str
    description: str
    config_schema: dict[str, Any]


class TemplateCalls(RemoteCalls):
    """The Backend's template methods."""

    async def _template_path(self, ref: Ref) -> str:
        if isinstance(ref, int) or ref.strip().isdigit() or path_safe(ref, _RESERVED):
            return f"{TEMPLATES}/{segment(ref)}"
        for template in await self.list_templates(search=ref):
            if template.name == ref:
                return f"{TEMPLATES}/{template.id}"
        raise NotFound("template", ref)

    async def job_types(self) -> list[JobTypeView]:
        """Installed job types with their config schemas (the daemon's)."""
        found = many(_JobType, await self._get(f"{TEMPLATES}/types"))
        return [JobTypeView(**job_type.model_dump()) for job_type in found]

    async def list_templates(
        self, *, job_type: str | None = None, tag: str | None = None, search: str | None = None
    ) -> list[TemplateView]:
        """Templates by name, filtered."""
        raw = await self._get(TEMPLATES, {"job_type": job_type, "tag": tag, "search": search})
        return one(_TemplateList, raw).templates

    async def get_template(self, ref: Ref) -> TemplateView:
        """One template."""
        return one(TemplateView, await self._get(await self._template_path(ref)))

    async def create_template(self, spec: TemplateSpec) -> TemplateView:
        """Create a template."""
        return one(TemplateView, await self._write("POST", TEMPLATES, spec))

    async def update_template(self, ref: Ref, patch: TemplatePatch) -> TemplateView:
        """Update a template (a new revision); only the fields the patch sets are sent."""
        path = await self._template_path(ref)
        return one(TemplateView, await self._write("PUT", path, patch, exclude_unset=True))

    async def delete_template(self, ref: Ref, *, force: bool = False) -> DeleteReport:
        """Delete a template (with its schedules when ``force``)."""
        path = await self._template_path(ref)
        deleted = one(_Deleted, await self._write("DELETE", path, params={"force": force}))
        return DeleteReport(**deleted.model_dump())

    async def copy_template(self, ref: Ref, new_name: str) -> TemplateView:
        """Copy a template under a new name."""
        path = f"{await self._template_path(ref)}/copy"
        return one(TemplateView, await self._write("POST", path, {"name": new_name}))

    async def template_revisions(self, ref: Ref) -> list[TemplateRevisionView]:
        """A template's revisions, newest first."""
        path = f"{await self._template_path(ref)}/revisions"
        return many(TemplateRevisionView, await self._get(path))

    async def run_template(
        self,
        ref: Ref,
        *,
        parameters: dict[str, Any] | None = None,
        triggered_by: str = "manual",
        force: bool = False,
    ) -> RunView:
        """Queue a run of a template now; the daemon's owner executes it."""
        path = f"{await self._template_path(ref)}/execute"
        body = {"parameters": parameters or {}, "force": force, "triggered_by": triggered_by}
        return one(_RunAction, await self._write("POST", path, body)).job_run
