"""JobdeckRemoteBackend: the Backend protocol over a jobdeck daemon's HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Self

from core.backend.protocol import Capabilities
from core.backend.views import ChangeBatch
from core.remote.calls import RemoteCalls, one
from core.remote.feed import IDLE_SECONDS, ChangeFeed
from core.remote.runs import RunCalls
from core.remote.schedules import ScheduleCalls
from core.remote.system import SystemCalls
from core.remote.templates import TemplateCalls
from core.remote.transport import NO_RETRY, RetryPolicy, Transport

#: `/api/changes` serves at most this many per call.
MAX_CHANGES = 1000


class JobdeckRemoteBackend(TemplateCalls, ScheduleCalls, RunCalls, SystemCalls, RemoteCalls):
    """A daemon reached over HTTP(S) or its unix socket, with a bearer token.

    Open it with ``await JobdeckRemoteBackend.connect(address, token)`` (which asks the daemon
    for its capabilities) and ``close()`` it. Reads retry on a dropped connection for a
    bounded time; writes carry an Idempotency-Key so a retry never acts twice; ``changes()``
    answers from the `/api/events` stream, read in the background once first asked.
    ``read_only`` refuses every write here, before anything is sent.
    """

    def __init__(
        self,
        address: str,
        token: str | None = None,
        *,
        read_only: bool = False,
        verify_tls: bool = True,
        retry: RetryPolicy | None = None,
        timeout_seconds: float = 30.0,
        connect_timeout_seconds: float = 5.0,
        live_wait_seconds: float = 3.0,
        feed_capacity: int = 10_000,
        idle_seconds: float = IDLE_SECONDS,
        renew_token: Callable[[], str | None] | None = None,
    ) -> None:
        self._http = Transport(
            address,
            token,
            renew_token=renew_token,
            verify_tls=verify_tls,
            retry=retry,
            timeout_seconds=timeout_seconds,
            connect_timeout_seconds=connect_timeout_seconds,
        )
        self._read_only = read_only
        self._live_wait_seconds = live_wait_seconds
        self.feed = ChangeFeed(self._http, capacity=feed_capacity, idle_seconds=idle_seconds)
        self._capabilities = Capabilities(name=self._label(), writable=not read_only)

    @classmethod
    async def connect(
        cls,
        address: str,
        token: str | None = None,
        *,
        probe_retry: RetryPolicy | None = None,
        **options: Any,
    ) -> Self:
        """A backend on ``address`` that has asked the daemon what it can do.

        Fails (BackendUnavailable, PermissionDenied, ...) when the daemon cannot be reached
        or refuses the token; ``probe_retry`` bounds that first request (default: the
        backend's policy), e.g. NO_RETRY to fall back at once when an owner is gone.
        """
        backend = cls(address, token, **options)
        try:
            await backend.refresh_capabilities(retry=probe_retry)
        except BaseException:
            await backend.close()
            raise
        return backend

    @property
    def address(self) -> str:
        """Where the daemon is (``http://host:port`` or ``unix:/path``)."""
        return self._http.address

    def _label(self) -> str:
        return f"jobdeck daemon {self._http.address}"

    @property
    def capabilities(self) -> Capabilities:
        """The daemon's capabilities (writes off here in read-only mode)."""
        return self._capabilities

    async def refresh_capabilities(self, *, retry: RetryPolicy | None = None) -> Capabilities:
        """Ask the daemon (again) what it can do."""
        theirs = await self.fetch_capabilities(retry=retry)
        self._capabilities = theirs.model_copy(
            update={"name": self._label(), "writable": theirs.writable and not self._read_only}
        )
        return self._capabilities

    async def changes(self, after: int | None = None, *, limit: int = 500) -> ChangeBatch:
        """What changed after ``after``, from the event stream's buffer while it is live,
        else from `GET /api/changes` (failing at once while the daemon is down)."""
        if not self.feed.started:
            self.feed.start(after)
            await self.feed.wait_live(self._live_wait_seconds)
        batch = self.feed.read(after, limit)
        if batch is not None:
            return batch
        params = {"after": after, "limit": min(limit, MAX_CHANGES)}
        return one(ChangeBatch, await self._get("/api/changes", params, retry=NO_RETRY))

    async def wait_for_changes(self, after: int | None, seconds: float) -> None:
        """Return as soon as the event stream brings something after ``after`` (or goes up or
        down), else after ``seconds``: an attached console shows a change when it happens."""
        if not self.feed.started:
            await asyncio.sleep(seconds)
            return
        await self.feed.wait_beyond(after, seconds)

    async def close(self) -> None:
        """Stop the event stream and close the connections."""
        await self.feed.close()
        await self._http.aclose()
