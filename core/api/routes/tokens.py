"""`/api/tokens`: list, create and revoke API tokens (admin only; every write audited)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Path, Request, Response

from core.api.auth import Admin, Principal, token_cache
from core.api.idempotency import REDACT, IdempotencyKey, IdempotentRoute
from core.api.schemas import ERRORS, TokenRequest, respond
from core.api.state import api_state
from core.jobs.tokens import CreatedToken, TokenService, TokenView

router = APIRouter(prefix="/api/tokens", tags=["tokens"], route_class=IdempotentRoute)


def _service(request: Request, who: Principal) -> TokenService:
    state = api_state(request)
    return TokenService(state.db, state.clock, who.actor())


@router.get("", response_model=list[TokenView], responses=ERRORS)
async def list_tokens(*, request: Request, who: Admin) -> Response:
    """Every token (never the token itself), revoked ones included."""
    return respond(await asyncio.to_thread(_service(request, who).list_tokens))


@router.post("", response_model=CreatedToken, responses=ERRORS, openapi_extra={REDACT: ["token"]})
async def create_token(
    *,
    body: TokenRequest,
    request: Request,
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """A new token; ``token`` is in this answer only (a replay by Idempotency-Key has null)."""
    created = await asyncio.to_thread(_service(request, who).create, body.name, body.role)
    return respond(created)


@router.delete("/{name}", response_model=TokenView, responses=ERRORS)
async def revoke_token(
    *,
    request: Request,
    name: str = Path(description="the token's name"),
    who: Admin,
    _key: IdempotencyKey,
) -> Response:
    """Revoke a token: it stops working at once on this daemon."""
    revoked = await asyncio.to_thread(_service(request, who).revoke, name)
    token_cache(request).forget()
    return respond(revoked)
