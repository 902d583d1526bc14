"""Schedules, their previews and the occurrence ledger over `/api/job-schedules`."""

from __future__ import annotations

from pydantic import BaseModel

from core.backend.inputs import SchedulePatch, ScheduleSpec
from core.backend.protocol import Ref
from core.backend.views import DeleteReport, FireTimeView, OccurrenceView, RunView, ScheduleView
from core.errors import NotFound
from core.remote.calls import RemoteCalls, many, one, path_safe, segment

SCHEDULES = "/api/job-schedules"
#: No fixed GET route shares `/api/job-schedules/{id}` (`.../preview` is POST only).
_RESERVED: frozenset[str] = frozenset()


class _Deleted(BaseModel):
    kind: str
    name: str
    removed_schedules: tuple[str, ...] = ()


class _RunAction(BaseModel):
    job_run: RunView


class ScheduleCalls(RemoteCalls):
    """The Backend's schedule and ledger methods."""

    async def _schedule_path(self, ref: Ref) -> str:
        if isinstance(ref, int) or ref.strip().isdigit() or path_safe(ref, _RESERVED):
            return f"{SCHEDULES}/{segment(ref)}"
        for schedule in await self.list_schedules():
            if schedule.job_identifier == ref:
                return f"{SCHEDULES}/{schedule.id}"
        raise NotFound("schedule", ref)

    async def list_schedules(
        self, *, template: Ref | None = None, is_active: bool | None = None
    ) -> list[ScheduleView]:
        """Schedules by name, filtered."""
        params = {"template": None if template is None else str(template), "is_active": is_active}
        return many(ScheduleView, await self._get(SCHEDULES, params))

    async def get_schedule(self, ref: Ref) -> ScheduleView:
        """One schedule."""
        return one(ScheduleView, await self._get(await self._schedule_path(ref)))

    async def create_schedule(self, spec: ScheduleSpec) -> ScheduleView:
        """Create a schedule."""
        return one(ScheduleView, await self._write("POST", SCHEDULES, spec))

    async def update_schedule(self, ref: Ref, patch: SchedulePatch) -> ScheduleView:
        """Update a schedule; only the fields the patch sets are sent."""
        path = await self._schedule_path(ref)
        return one(ScheduleView, await self._write("PUT", path, patch, exclude_unset=True))

    async def delete_schedule(self, ref: Ref) -> DeleteReport:
        """Delete a schedule (its runs stay)."""
        deleted = one(_Deleted, await self._write("DELETE", await self._schedule_path(ref)))
        return DeleteReport(**deleted.model_dump())

    async def set_schedule_active(self, ref: Ref, active: bool) -> ScheduleView:
        """Enable or disable a schedule."""
        path = f"{await self._schedule_path(ref)}/{'enable' if active else 'disable'}"
        return one(ScheduleView, await self._write("POST", path))

    async def run_schedule(self, ref: Ref, *, force: bool = False) -> RunView:
        """Run a schedule now (`POST .../run-now`): its template with its overrides."""
        path = f"{await self._schedule_path(ref)}/run-now"
        return one(_RunAction, await self._write("POST", path, {"force": force})).job_run

    async def preview_schedule(
        self, ref: Ref, n: int = 10, *, viewer_zone: str | None = None
    ) -> list[FireTimeView]:
        """Next fire times of a stored schedule."""
        path = f"{await self._schedule_path(ref)}/preview"
        return many(FireTimeView, await self._get(path, {"n": n, "viewer_zone": viewer_zone}))

    async def preview_timing(
        self, spec: ScheduleSpec, n: int = 10, *, viewer_zone: str | None = None
    ) -> list[FireTimeView]:
        """Next fire times of unsaved timing (computed by the daemon, nothing stored)."""
        params = {"n": n, "viewer_zone": viewer_zone}
        return many(FireTimeView, await self._compute(f"{SCHEDULES}/preview", spec, params))

    async def list_occurrences(
        self, *, schedule: Ref | None = None, limit: int = 200
    ) -> list[OccurrenceView]:
        """The occurrence ledger, newest first."""
        params = {"schedule": None if schedule is None else str(schedule), "limit": limit}
        return many(OccurrenceView, await self._get("/api/occurrences", params))
