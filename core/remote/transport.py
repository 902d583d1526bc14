"""One daemon's HTTP client: bearer token, bounded retries with backoff, Idempotency-Key.

Reads (GET, and POSTs that only compute, like a timing preview) are retried on a dropped
connection, a timeout or a 502/503/504, with exponential backoff and jitter, for at most
``RetryPolicy.budget_seconds``. A write gets one Idempotency-Key per call, repeated on every
retry of that call: if the first attempt reached the daemon and only its answer was lost, the
daemon answers the retry from its record instead of acting again (core/api/idempotency.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from core.errors import JobdeckError
from core.remote.errors import (
    IDEMPOTENCY_HEADER,
    detail_of,
    error_for,
    is_idempotency_conflict,
    unreachable,
)

if TYPE_CHECKING:
    import httpx

#: Answers worth asking again: the daemon (or a proxy in front) is briefly unable to serve.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
UNIX_PREFIX = "unix:"

QueryValue = str | int | float | bool | datetime | tuple[str, ...] | tuple[int, ...] | None


@dataclass(frozen=True)
class RetryPolicy:
    """How long a call may keep trying, and how the pauses between tries grow."""

    budget_seconds: float = 5.0
    first_delay: float = 0.1
    max_delay: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The pause before try ``attempt + 1``: doubling, capped, with jitter (50-100 %)."""
        ceiling = min(self.max_delay, self.first_delay * 2.0**attempt)
        return ceiling * rng.uniform(0.5, 1.0)


#: Fail on the first error (the TUI's change poll: the event stream does the reconnecting).
NO_RETRY = RetryPolicy(budget_seconds=0.0)


def encode_query(params: Mapping[str, QueryValue]) -> dict[str, str]:
    """Query parameters as the API reads them: lists comma-separated, booleans lowercase."""
    encoded: dict[str, str] = {}
    for name, value in params.items():
        if value is None or value == ():
            continue
        if isinstance(value, bool):
            encoded[name] = "true" if value else "false"
        elif isinstance(value, tuple):
            encoded[name] = ",".join(str(part) for part in value)
        elif isinstance(value, datetime):
            encoded[name] = value.isoformat()
        else:
            encoded[name] = str(value)
    return encoded


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Transport:
    """Requests to one daemon (``http(s)://host:port`` or ``unix:/path/api.sock``)."""

    def __init__(
        self,
        address: str,
        token: str | None,
        *,
        verify_tls: bool = True,
        retry: RetryPolicy | None = None,
        timeout_seconds: float = 30.0,
        connect_timeout_seconds: float = 5.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        renew_token: Callable[[], str | None] | None = None,
    ) -> None:
        self.address = address.rstrip("/")
        #: where a fresh token comes from when the daemon refuses ours (an owner restarted
        #: and published a new local credential); None: a refusal is final
        self.renew_token = renew_token
        self.verify_tls = verify_tls
        self.retry = retry or RetryPolicy()
        self.timeout_seconds = timeout_seconds
        self.connect_timeout_seconds = connect_timeout_seconds
        self._token = token
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        """The pooled httpx client (made on first use, in the running event loop)."""
        import httpx

        if self._client is None:
            headers = {"Accept": "application/json", "User-Agent": "jobdeck-remote"}
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            if self.address.startswith(UNIX_PREFIX):
                transport = httpx.AsyncHTTPTransport(uds=self.address[len(UNIX_PREFIX) :])
                base_url = "http://jobdeck"
            else:
                # Certificates matter only over TLS; loading the CA bundle costs ~0.2 s.
                tls = self.address.startswith("https:")
                transport = httpx.AsyncHTTPTransport(verify=self.verify_tls if tls else False)
                base_url = self.address
            self._client = httpx.AsyncClient(
                base_url=base_url,
                headers=headers,
                transport=transport,
                timeout=httpx.Timeout(self.timeout_seconds, connect=self.connect_timeout_seconds),
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        """Close the pooled connections."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: str | None = None,
        write: bool = False,
        retry: RetryPolicy | None = None,
        unsupported_409: bool = False,
    ) -> bytes:
        """Send one request (retrying as the policy allows); the body of its 2xx answer."""
        import httpx

        policy = retry or self.retry
        headers: dict[str, str] = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if write:
            # One key per call, repeated by each retry of it: the daemon acts at most once.
            headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
        query = encode_query(params or {})
        content = None if body is None else body.encode("utf-8")
        started = time.monotonic()
        attempt = 0
        renewed = False
        while True:
            hint: float | None = None
            try:
                response = await self.client().request(
                    method, path, params=query, content=content, headers=headers
                )
            except httpx.TransportError as exc:  # refused, reset, dropped answer, timeout
                failure: BaseException = exc
            else:
                status = response.status_code
                if status < 400:
                    return response.content
                if status == 401 and not renewed and self._renewed_token():
                    renewed = True
                    continue
                error = error_for(
                    status,
                    response.content,
                    address=self.address,
                    unsupported_409=unsupported_409,
                    token_given=bool(self._token),
                )
                if not self._retryable(status, response.content, write=write, attempt=attempt):
                    raise error
                failure, hint = error, _retry_after(response)
            pause = policy.delay(attempt, self._rng)
            if hint is not None:
                pause = max(pause, min(hint, policy.max_delay))
            elapsed = time.monotonic() - started
            if elapsed + pause > policy.budget_seconds:
                if isinstance(failure, JobdeckError):
                    raise failure
                raise unreachable(self.address, failure, retried_for=elapsed) from failure
            await self._sleep(pause)
            attempt += 1

    def _renewed_token(self) -> bool:
        """Take a fresh token from ``renew_token`` when it differs from ours."""
        fresh = self.renew_token() if self.renew_token else None
        if not fresh or fresh == self._token:
            return False
        self._token = fresh
        self.client().headers["Authorization"] = f"Bearer {fresh}"
        return True

    @staticmethod
    def _retryable(status: int, body: bytes, *, write: bool, attempt: int) -> bool:
        if status in RETRYABLE_STATUSES:
            return True
        # After an attempt whose answer was lost, the daemon may still be acting on it: its
        # record says "not finished" (409) until it is, then replays the answer.
        return write and attempt > 0 and is_idempotency_conflict(status, detail_of(body))

    @contextlib.asynccontextmanager
    async def stream_lines(
        self,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        headers: Mapping[str, str] | None = None,
        idle_seconds: float,
    ) -> AsyncIterator[AsyncIterator[str]]:
        """A streamed GET (server-sent events), as lines; ends with BackendUnavailable when the
        connection drops or says nothing (not even a heartbeat) for ``idle_seconds``."""
        import httpx

        try:
            async with self.client().stream(
                "GET",
                path,
                params=encode_query(params or {}),
                headers=dict(headers or {}),
                timeout=httpx.Timeout(idle_seconds, connect=self.connect_timeout_seconds),
            ) as response:
                if response.status_code >= 400:
                    body = await response.aread()
                    if response.status_code == 401:
                        self._renewed_token()  # the reconnect that follows uses it
                    raise error_for(
                        response.status_code,
                        body,
                        address=self.address,
                        token_given=bool(self._token),
                    )
                yield response.aiter_lines()
        except httpx.TransportError as exc:
            raise unreachable(self.address, exc) from exc
