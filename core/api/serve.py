"""Serving the API with uvicorn inside the caller's event loop (daemon or embedded TUI owner).

``start_api`` binds first (so a bad address fails before anything else starts, and an
ephemeral port is known at once), then runs ``uvicorn.Server.serve`` as a task of the running
loop; signal handling stays with the caller. ``ApiServer.address`` is what the owner records
in its lease: ``http://127.0.0.1:8765`` or ``unix:/path/to/api.sock``.

The embedded TUI owner uses ``serve_embedded``::

    server = await serve_embedded(backend, settings)   # a LocalBackend and its Settings
    owner = Owner(settings, backend.db, api_address=server.address)
    ...
    await server.stop()                                 # before closing the backend
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from core.api.app import create_app
from core.api.config import ApiSettings
from core.api.listen import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    SOCKET_NAME,
    Listen,
    address_of,
    bind,
    check_listen,
    embedded_listen,
    is_loopback,
)
from core.api.state import ApiState
from core.backend.local import LocalBackend
from core.clock import Clock
from core.errors import BackendUnavailable
from core.settings.config import Settings

log = logging.getLogger("jobdeck.api")


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the daemon or the TUI owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    """A running API server in this event loop."""

    def __init__(self, app: FastAPI, sock: socket.socket, *, graceful_seconds: float) -> None:
        self.app = app
        self.sock = sock
        self.address = address_of(sock)
        self.unix_path = Path(sock.getsockname()) if sock.family == socket.AF_UNIX else None
        config = uvicorn.Config(
            app,
            log_config=None,  # keep the caller's logging set-up
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=int(max(1.0, graceful_seconds)),
        )
        self.server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start serving; returns once the server accepts connections."""
        self._task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name="jobdeck-api")
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise BackendUnavailable(f"the API server on {self.address} did not start")
            await asyncio.sleep(0.01)
        log.info("API listening on %s", self.address)

    async def stop(self) -> None:
        """End the streams, finish in-flight requests (bounded), close the socket."""
        state: ApiState | None = getattr(self.app.state, "jobdeck", None)
        if state is not None:  # another FastAPI app (a benchmark's baseline) has no streams
            state.closing.set()
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if state is not None:
            state.close()
        if self.unix_path is not None:
            self.unix_path.unlink(missing_ok=True)
        log.info("API on %s stopped", self.address)


async def start_api(app: FastAPI, listen: Listen, *, graceful_seconds: float = 5.0) -> ApiServer:
    """Bind as ``listen`` says (checked first), then serve ``app`` in this loop."""
    sock = bind(listen)
    server = ApiServer(app, sock, graceful_seconds=graceful_seconds)
    try:
        await server.start()
    except BaseException:
        sock.close()
        if server.unix_path is not None:
            server.unix_path.unlink(missing_ok=True)
        raise
    return server


async def serve_embedded(
    backend: LocalBackend,
    settings: Settings,
    *,
    clock: Clock | None = None,
    api_settings: ApiSettings | None = None,
    prefer_socket: bool = True,
) -> ApiServer:
    """Serve an embedded owner's backend so the CLI and other TUIs reach it.

    On ``JOBDECK_HOME/api.sock`` (mode 0600, only this user can connect) when
    ``prefer_socket`` and the path fits a unix socket; otherwise on an ephemeral loopback
    port. ``backend`` is the owner's LocalBackend (its database also holds the tokens).
    Record ``server.address`` in the lease; call ``server.stop()`` before closing the backend.
    """
    app = create_app(backend, backend.db, api_settings, clock or backend.clock)
    return await start_api(app, embedded_listen(settings.home, prefer_socket=prefer_socket))


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "SOCKET_NAME",
    "ApiServer",
    "Listen",
    "check_listen",
    "is_loopback",
    "serve_embedded",
    "start_api",
]
