"""A real uvicorn serving core.api on loopback (in the test's event loop) over a LocalBackend."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from core.api.app import create_app
from core.api.config import ApiSettings
from core.api.serve import ApiServer, Listen, start_api
from core.backend.local import LocalBackend
from core.backend.protocol import Backend
from core.clock import Clock
from core.jobs.audit import Actor
from core.jobs.tokens import SHOWN_PREFIX, TOKEN_PREFIX, token_hash
from core.storage.database import Database
from core.storage.tables import ApiToken

#: Streams poll fast and heartbeat often, so tests see changes (and dead links) quickly.
FAST = ApiSettings(poll_seconds=0.05, heartbeat_seconds=1.0, token_cache_seconds=0.0)


class AuditedFrom:
    """A LocalBackend whose API writes are audited as the token's name from ``source``.

    The daemon records source "api"; the contract suite checks one (actor, source) pair on
    every implementation, so its server records the harness's source instead (the actor is
    still the token's name: that the remote backend's writes carry who sent them is what the
    suite checks). tests/remote checks the real "api" source.
    """

    def __init__(self, backend: LocalBackend, source: str) -> None:
        self.backend = backend
        self.source = source

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def with_actor(self, actor: Actor) -> Backend:
        """The local backend acting as ``actor``'s name, from this source."""
        return self.backend.with_actor(Actor(actor.name, self.source))


def seed_token(db: Database, name: str, role: str, clock: Clock) -> str:
    """Store an API token directly (not audited, unlike TokenService.create); returns it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session:
        session.add(
            ApiToken(
                name=name,
                role=role,
                token_hash=token_hash(token),
                prefix=token[:SHOWN_PREFIX],
                created_by=None,
                created_at=clock.now(),
            )
        )
    return token


@asynccontextmanager
async def live_api(
    backend: LocalBackend,
    db: Database,
    clock: Clock,
    *,
    audit_source: str | None = None,
    port: int = 0,
    settings: ApiSettings = FAST,
) -> AsyncIterator[ApiServer]:
    """Serve ``backend`` on 127.0.0.1 (``port`` 0: a free one) until the block ends."""
    served: Any = backend if audit_source is None else AuditedFrom(backend, audit_source)
    app = create_app(served, db, settings, clock)
    server = await start_api(app, Listen(host="127.0.0.1", port=port), graceful_seconds=1.0)
    try:
        yield server
    finally:
        await server.stop()
