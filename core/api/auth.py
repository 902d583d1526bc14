"""Bearer-token authentication and roles; deny by default: every route names the role it needs.

Roles are ordered (viewer < operator < admin): viewer reads; operator also runs, cancels and
retries runs, enables/disables schedules and steers workers; admin also edits templates,
schedules and tokens and deletes run history. ``create_app`` refuses to build an app with a
route (other than health and the OpenAPI document) that has no role.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.jobs.audit import Actor
from core.jobs.tokens import ROLES, Role, TokenService, token_hash

#: The OpenAPI security scheme; the dependency below does the real check.
bearer = HTTPBearer(
    auto_error=False,
    description="A jobdeck API token (`jobdeck token create NAME --role ROLE`).",
)

NOT_AUTHENTICATED = "Not authenticated"
BAD_CREDENTIALS = "Could not validate credentials"


@dataclass(frozen=True)
class Principal:
    """Who sent a request: the token's id, name and role."""

    token_id: int
    name: str
    role: Role

    def actor(self) -> Actor:
        """The audit log's "who": the token's name, through the API."""
        return Actor(self.name, "api")

    def may(self, role: Role) -> bool:
        """True when this principal's role is ``role`` or stronger."""
        return ROLES.index(self.role) >= ROLES.index(role)


class TokenCache:
    """Verified tokens, trusted for ``ttl`` seconds before the database is asked again."""

    def __init__(
        self,
        service: TokenService,
        ttl: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.ttl = ttl
        self.monotonic = monotonic
        # only tokens that verified are kept, so the size is bounded by the tokens issued
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def principal(self, token: str) -> Principal | None:
        """The principal of a live token, or None."""
        digest = token_hash(token)
        now = self.monotonic()
        hit = self._verified.get(digest)
        if hit is not None and now - hit[1] < self.ttl:
            return hit[0]
        view = await asyncio.to_thread(self.service.verify, token)
        if view is None:
            self._verified.pop(digest, None)
            return None
        found = Principal(view.id, view.name, view.role)
        self._verified[digest] = (found, now)
        return found

    def forget(self) -> None:
        """Drop every cached verification (after a revoke through the API)."""
        self._verified.clear()


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def token_cache(request: Request) -> TokenCache:
    """The app's token cache."""
    cache: TokenCache = request.app.state.tokens
    return cache


async def principal_of(request: Request) -> Principal | None:
    """The principal of the request's bearer token, or None (no token, bad token)."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    found = await token_cache(request).principal(token.strip())
    if found is not None:
        request.state.principal = found
    return found


RoleDependency = Callable[..., Awaitable[Principal]]


def require(role: Role) -> RoleDependency:
    """A dependency admitting tokens of ``role`` or stronger: 401 without one, 403 if weaker."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise _unauthorized(NOT_AUTHENTICATED)
        principal = await principal_of(request)
        if principal is None:
            raise _unauthorized(BAD_CREDENTIALS)
        if not principal.may(role):
            raise HTTPException(
                status_code=403,
                detail=f"Permission denied: {role} role required "
                f"(token {principal.name!r} is {principal.role})",
            )
        return principal

    dependency.__name__ = f"require_{role}"
    ROLE_OF[dependency] = role
    return dependency


#: Which role each dependency made by ``require`` admits (create_app checks every route).
ROLE_OF: dict[Callable[..., object], Role] = {}

VIEWER = require("viewer")
OPERATOR = require("operator")
ADMIN = require("admin")

#: Route parameter types: the principal of a token of (at least) that role.
Viewer = Annotated[Principal, Depends(VIEWER)]
Operator = Annotated[Principal, Depends(OPERATOR)]
Admin = Annotated[Principal, Depends(ADMIN)]
