"""`/api/workers`: list and read executors; resize, pause, resume and drain the owner's pool."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response

from core.api.auth import Operator, Viewer
from core.api.idempotency import IdempotencyKey, IdempotentRoute
from core.api.schemas import ERRORS, PoolRequest, respond
from core.api.state import reader, writer
from core.backend.views import WorkerView
from core.errors import NotFound

router = APIRouter(prefix="/api/workers", tags=["workers"], route_class=IdempotentRoute)
NAME = Path(description="the worker's name (e.g. local@host)")


@router.get("", response_model=list[WorkerView], responses=ERRORS)
async def list_workers(*, request: Request, _: Viewer) -> Response:
    """Every known executor: the owner's pool (and Celery workers, later)."""
    return respond(await reader(request).list_workers())


@router.get("/{name}", response_model=WorkerView, responses=ERRORS)
async def get_worker(*, request: Request, name: str = NAME, _: Viewer) -> Response:
    """One worker."""
    for worker in await reader(request).list_workers():
        if worker.name == name:
            return respond(worker)
    raise NotFound("worker", name)


@router.post("/{name}/pool", response_model=WorkerView, responses=ERRORS)
async def resize_pool(
    *,
    body: PoolRequest,
    request: Request,
    name: str = NAME,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Resize the pool to ``slots`` (runs beyond a smaller size finish first)."""
    return respond(await writer(request, who).resize_worker(name, body.slots))


@router.post("/{name}/pause", response_model=WorkerView, responses=ERRORS)
async def pause_worker(
    *,
    request: Request,
    name: str = NAME,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Claim nothing new until resumed; running runs continue."""
    return respond(await writer(request, who).pause_worker(name))


@router.post("/{name}/resume", response_model=WorkerView, responses=ERRORS)
async def resume_worker(
    *,
    request: Request,
    name: str = NAME,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Claim again after a pause or a drain."""
    return respond(await writer(request, who).resume_worker(name))


@router.post("/{name}/drain", response_model=WorkerView, responses=ERRORS)
async def drain_worker(
    *,
    request: Request,
    name: str = NAME,
    who: Operator,
    _key: IdempotencyKey,
) -> Response:
    """Finish what runs, take nothing new."""
    return respond(await writer(request, who).drain_worker(name))
