"""`/api/health`: is the daemon up and its database reachable (no token needed)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, Request, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.api.config import api_version
from core.api.schemas import Health, respond
from core.api.state import api_state
from core.errors import BackendUnavailable
from core.storage.database import Database

router = APIRouter(tags=["health"])


def _database_ok(db: Database) -> bool:
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
    except (BackendUnavailable, SQLAlchemyError):
        return False
    return True


@router.get("/api/health", response_model=Health, responses={503: {"model": Health}})
async def health(*, request: Request) -> Response:
    """``healthy`` (200) when the database answers, ``degraded`` (503) when it does not;
    ``owner`` says who schedules and when its lease was renewed and its scheduler ticked."""
    state = api_state(request)
    ok = await asyncio.to_thread(_database_ok, state.db)
    owner = None
    if ok:
        with contextlib.suppress(BackendUnavailable, SQLAlchemyError):
            owner = await state.backend.owner_health()
    answer = Health(
        status="healthy" if ok else "degraded",
        timestamp=state.clock.now(),
        service="jobdeck",
        version=api_version(),
        database="ok" if ok else "unavailable",
        owner=owner,
    )
    return respond(answer, status_code=200 if ok else 503)
