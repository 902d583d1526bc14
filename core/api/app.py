"""The FastAPI app: ``create_app`` wires routes, auth, idempotency and the error mapping.

Errors: NotFound 404, Conflict 409, ValidationFailed 422 (``detail[].loc`` names the field, as
FastAPI's own 422 does), PermissionDenied 403, BackendUnavailable 503, Unsupported 409 (the
backend cannot do it in its current state, e.g. a worker owned by another process). Anything
unexpected is a sanitised 500 ``{"detail": {"message", "error_id"}}``, logged with the id.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIRouter

from core.api.auth import ROLE_OF, TokenCache
from core.api.config import ApiSettings, api_version
from core.api.idempotency import IdempotencyStore
from core.api.middleware import BodyLimit, ServerErrorGuard
from core.api.paging import PageCursors, TotalCache
from core.api.routes import events, health, runs, schedules, system, templates, tokens, workers
from core.api.state import ApiState, ScopedBackend
from core.clock import Clock, SystemClock
from core.errors import (
    BackendUnavailable,
    Conflict,
    JobdeckError,
    NotFound,
    PermissionDenied,
    Unsupported,
    ValidationFailed,
)
from core.jobs.audit import Actor
from core.jobs.tokens import TokenService
from core.storage.database import Database

#: Routes anyone may call (no token): the health check.
PUBLIC_PATHS = frozenset({"/api/health"})

DESCRIPTION = """\
The jobdeck daemon's API. Routes and JSON field names mirror Cockpit-NG's jobs API
(`/api/job-templates`, `/api/job-schedules`, `/api/job-runs`); jobdeck's extras are
additional fields and routes. Every route but `/api/health` needs
`Authorization: Bearer <token>`; the role each route needs is in `x-required-role`.
Writes accept an `Idempotency-Key` header. Times are ISO-8601 in UTC.
See docs/api.md for the route table and the rules.
"""


def error_status(exc: JobdeckError) -> int:
    """The HTTP status of a jobdeck error."""
    for kind, status in (
        (NotFound, 404),
        (ValidationFailed, 422),
        (Conflict, 409),
        (PermissionDenied, 403),
        (BackendUnavailable, 503),
        (Unsupported, 409),
    ):
        if isinstance(exc, kind):
            return status
    return 400 if exc.bad_input else 500


async def jobdeck_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a jobdeck error with its status; validation failures name the field."""
    assert isinstance(exc, JobdeckError)
    status = error_status(exc)
    if status == 500:
        raise exc  # not a user's error: ServerErrorGuard logs it and answers a sanitised 500
    if isinstance(exc, ValidationFailed):
        loc = exc.field.split(".") if exc.field else []
        content: object = [{"loc": loc, "msg": exc.problem, "type": "value_error"}]
    else:
        content = exc.message
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse({"detail": content}, status_code=status, headers=headers)


def create_app(
    backend: ScopedBackend,
    db: Database,
    settings: ApiSettings | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The API over ``backend`` (for reads; writes act through ``backend.with_actor``).

    ``db`` holds the tokens and idempotency keys (the backend's own database), ``settings``
    the API's timings and limits (defaults: ApiSettings()), ``clock`` the time for records.
    """
    settings = settings or ApiSettings()
    clock = clock or SystemClock()
    app = FastAPI(
        title="jobdeck daemon API",
        version=api_version(),
        description=DESCRIPTION,
        docs_url=None,  # Swagger UI would load assets from a CDN; /openapi.json is enough
        redoc_url=None,
    )
    app.state.jobdeck = ApiState(backend=backend, db=db, settings=settings, clock=clock)
    app.state.tokens = TokenCache(
        TokenService(db, clock, Actor("api", "api")), settings.token_cache_seconds
    )
    app.state.idempotency = IdempotencyStore(db, clock, settings.idempotency_ttl_seconds)
    app.state.page_cursors = PageCursors(settings.page_cursor_ttl_seconds)
    app.state.run_totals = TotalCache(settings.run_total_ttl_seconds)
    for router in ROUTERS:
        check_roles(router)
        app.include_router(router)
    app.add_exception_handler(JobdeckError, jobdeck_error)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ServerErrorGuard)
    return app


#: Every router the app serves.
ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (health, templates, schedules, runs, workers, events, system, tokens)
)


def api_routes(router: APIRouter) -> list[APIRoute]:
    """The router's API routes (paths include the router's prefix)."""
    return [route for route in router.routes if isinstance(route, APIRoute)]


def check_roles(router: APIRouter) -> None:
    """Deny by default: every route but the public ones must name exactly one role.

    The role is also published in the OpenAPI document as ``x-required-role``.
    """
    for route in api_routes(router):
        if route.path in PUBLIC_PATHS:
            continue
        roles = {ROLE_OF[d.call] for d in route.dependant.dependencies if d.call in ROLE_OF}
        if len(roles) != 1:
            methods = ",".join(sorted(route.methods or ()))
            raise RuntimeError(f"{methods} {route.path} must require exactly one role")
        route.openapi_extra = {**(route.openapi_extra or {}), "x-required-role": roles.pop()}


def route_roles() -> dict[tuple[str, str], str | None]:
    """(method, path) -> the role it needs (None: public); for docs and the role tests."""
    table: dict[tuple[str, str], str | None] = {}
    for router in ROUTERS:
        check_roles(router)
        for route in api_routes(router):
            role = (route.openapi_extra or {}).get("x-required-role")
            for method in route.methods or ():
                table[(method, route.path)] = role
    return table
