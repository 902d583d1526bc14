"""`/api/capabilities`, `/api/me` and `/api/audit`: what the backend can do, who is asking,
and who did what."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from core.api.auth import Viewer
from core.api.schemas import ERRORS, Me, respond
from core.api.state import reader
from core.backend.protocol import Capabilities
from core.backend.views import AuditView

router = APIRouter(tags=["system"])


@router.get("/api/capabilities", response_model=Capabilities, responses=ERRORS)
async def capabilities(*, request: Request, _: Viewer) -> Response:
    """What the daemon's backend can do (a remote client greys out the rest)."""
    return respond(reader(request).capabilities)


@router.get("/api/me", response_model=Me, responses=ERRORS)
async def me(*, who: Viewer) -> Response:
    """The token this request was made with: its name and role."""
    return respond(Me(name=who.name, role=who.role))


@router.get("/api/audit", response_model=list[AuditView], responses=ERRORS)
async def audit_log(
    *,
    request: Request,
    limit: int = Query(100, ge=1, le=10_000, description="at most this many, newest first"),
    _: Viewer,
) -> Response:
    """The newest audit records (every write: who, from where, what, before/after)."""
    return respond(await reader(request).audit_log(limit=limit))
