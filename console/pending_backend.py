"""A stand-in for the backend while it opens, so the console paints before the database is.

The screens hold the stand-in from the start: their first loads wait for the real backend,
then every call goes straight to it. Until then ``capabilities`` are provisional (the name
says what is being opened; writes are allowed unless the session is read-only). It stays the
app's backend for the whole session: when the console takes the lease or follows a new owner
(``console/succession.py``), ``resolve`` re-points it and the screens reload.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from core.backend.protocol import Backend, Capabilities


class PendingBackend:
    """Forwards the Backend protocol to a backend that is still being opened."""

    def __init__(self, provisional: Capabilities) -> None:
        self._provisional = provisional
        self._backend: Backend | None = None
        self._error: BaseException | None = None
        self._settled = asyncio.Event()

    @property
    def capabilities(self) -> Capabilities:
        """The real backend's, once open; provisional ones before."""
        return self._backend.capabilities if self._backend is not None else self._provisional

    @property
    def backend(self) -> Backend | None:
        """The real backend, once open."""
        return self._backend

    def resolve(self, backend: Backend) -> None:
        """The backend is open (or another one replaces it): calls go on to it."""
        self._backend = backend
        self._settled.set()

    def fail(self, error: BaseException) -> None:
        """Opening failed: waiting (and later) calls raise ``error``."""
        self._error = error
        self._settled.set()

    async def wait(self) -> Backend:
        """The real backend, once open (raises what opening raised)."""
        await self._settled.wait()
        if self._backend is None:
            assert self._error is not None
            raise self._error
        return self._backend

    async def close(self) -> None:
        """Close the real backend, if it was opened."""
        if self._backend is not None:
            await self._backend.close()

    def __getattr__(self, name: str) -> Any:
        backend = self.__dict__.get("_backend")
        if backend is not None:
            return getattr(backend, name)
        member = getattr(Backend, name, None)
        if name.startswith("_") or not inspect.iscoroutinefunction(member):
            raise AttributeError(name)
        return self._deferred(name)

    def _deferred(self, name: str) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            backend = await self.wait()
            return await getattr(backend, name)(*args, **kwargs)

        call.__name__ = name
        return call
