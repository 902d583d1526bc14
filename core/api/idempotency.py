"""Idempotency-Key on writes: a retried request is answered from the record, never acted twice.

For each (token, key) the first request reserves a row before it acts and stores its 2xx
answer after; the same key again with the same method, path, query and body replays that
answer (header ``Idempotent-Replayed: true``). The same key with a different request is
refused (422 naming the header); while the first is still running, 409. A request that did
not succeed (4xx) changed nothing, so its reservation is dropped and a retry acts normally.
Keys are forgotten after ``ApiSettings.idempotency_ttl_seconds`` (24 h).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.api.auth import principal_of
from core.clock import Clock
from core.errors import Conflict, ValidationFailed
from core.storage.database import Database
from core.storage.tables import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
#: status_code of a reservation whose request is still being handled
IN_PROGRESS = 0
_PURGE_EVERY_SECONDS = 60.0
_FIELD = f"header.{HEADER}"
#: openapi_extra key of a route: top-level answer fields never stored (a replay has null)
REDACT = "x-idempotency-redact"


def check_key(value: str) -> str:
    """A usable key: 1-255 visible ASCII characters (a UUID is a good choice)."""
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in value):
        raise ValidationFailed(_FIELD, f"must be 1-{MAX_KEY_LENGTH} visible ASCII characters")
    return value


async def idempotency_key(
    key: str | None = Header(
        None,
        alias=HEADER,
        description="Makes a retried write safe: the same key with the same request replays "
        "the first answer instead of acting again (remembered 24 h per token).",
    ),
) -> str | None:
    """Declares (and checks) the header on a write route; IdempotentRoute does the replay."""
    return None if key is None else check_key(key)


#: The route parameter type that makes a write route idempotent.
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


@dataclass(frozen=True)
class Stored:
    """A remembered answer."""

    status_code: int
    body: Any


class IdempotencyStore:
    """The idempotency_keys table: reserve, finish, abandon, and purge old keys."""

    def __init__(self, db: Database, clock: Clock, ttl_seconds: float) -> None:
        self.db = db
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_seconds)
        self._purged_at: float | None = None

    def begin(
        self, token_id: int, key: str, method: str, path: str, request_hash: str
    ) -> Stored | None:
        """Reserve ``key`` for this request (None), or the answer to replay."""
        for _ in range(2):
            try:
                return self._begin(token_id, key, method, path, request_hash)
            except IntegrityError:  # a concurrent request reserved it first: look again
                continue
        raise Conflict(f"{HEADER} {key!r} is being used by another request right now")

    def _begin(
        self, token_id: int, key: str, method: str, path: str, request_hash: str
    ) -> Stored | None:
        now = self.clock.now()
        with self.db.write() as session:
            self._purge(session, now)
            row = session.exec(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key
                )
            ).first()
            if row is not None and row.created_at <= now - self.ttl:
                session.delete(row)
                session.flush()
                row = None
            if row is None:
                session.add(
                    IdempotencyRecord(
                        token_id=token_id,
                        key=key,
                        method=method,
                        path=path,
                        request_hash=request_hash,
                        status_code=IN_PROGRESS,
                        response=None,
                        created_at=now,
                    )
                )
                return None
            if row.request_hash != request_hash:
                raise ValidationFailed(
                    _FIELD,
                    f"already used for a different request ({row.method} {row.path}); "
                    "use a new key for a new request",
                )
            if row.status_code == IN_PROGRESS:
                raise Conflict(
                    f"the request with {HEADER} {key!r} has not finished (or was interrupted);"
                    " check the outcome, then retry with a new key if it did not happen"
                )
            return Stored(row.status_code, row.response)

    def finish(self, token_id: int, key: str, status_code: int, body: Any) -> None:
        """Store the answer of a request that succeeded."""
        with self.db.write() as session:
            row = self._row(session, token_id, key)
            if row is not None:
                row.status_code = status_code
                row.response = body
                session.add(row)

    def abandon(self, token_id: int, key: str) -> None:
        """Drop the reservation of a request that changed nothing (or failed)."""
        with self.db.write() as session:
            row = self._row(session, token_id, key)
            if row is not None and row.status_code == IN_PROGRESS:
                session.delete(row)

    @staticmethod
    def _row(session: Any, token_id: int, key: str) -> IdempotencyRecord | None:
        row: IdempotencyRecord | None = session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key
            )
        ).first()
        return row

    def _purge(self, session: Any, now: Any) -> None:
        mono = time.monotonic()
        if self._purged_at is not None and mono - self._purged_at < _PURGE_EVERY_SECONDS:
            return
        self._purged_at = mono
        session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= now - self.ttl)
        )


def request_hash(request: Request, body: bytes) -> str:
    """What makes two requests "the same": method, path, query (any order) and body."""
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, query):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\n")
    digest.update(body)
    return digest.hexdigest()


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class IdempotentRoute(APIRoute):
    """A route that honours Idempotency-Key when it declares the ``idempotency_key`` header."""

    def get_route_handler(self) -> Handler:
        """The FastAPI handler, wrapped with reserve / replay / remember on write routes."""
        handler: Handler = super().get_route_handler()
        calls = {dependency.call for dependency in self.dependant.dependencies}
        if idempotency_key not in calls:
            return handler

        async def idempotent_handler(request: Request) -> Response:
            raw = request.headers.get(HEADER)
            if raw is None:
                return await handler(request)
            principal = await principal_of(request)
            if principal is None:
                return await handler(request)  # answers 401
            key = check_key(raw)
            store: IdempotencyStore = request.app.state.idempotency
            body = await request.body()
            digest = request_hash(request, body)
            token, method, path = principal.token_id, request.method, request.url.path
            stored = await asyncio.to_thread(store.begin, token, key, method, path, digest)
            if stored is not None:
                return JSONResponse(
                    stored.body,
                    status_code=stored.status_code,
                    headers={REPLAYED_HEADER: "true"},
                )
            try:
                response = await handler(request)
            except BaseException:
                await asyncio.to_thread(store.abandon, token, key)
                raise
            if 200 <= response.status_code < 300:
                answer = json.loads(bytes(response.body)) if response.body else None
                for secret in (self.openapi_extra or {}).get(REDACT, ()):
                    if isinstance(answer, dict) and secret in answer:
                        answer[secret] = None  # a secret is shown once, never stored
                await asyncio.to_thread(store.finish, token, key, response.status_code, answer)
            else:
                await asyncio.to_thread(store.abandon, token, key)
            return response

        return idempotent_handler
