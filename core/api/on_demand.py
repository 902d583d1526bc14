"""An embedded console's API: the socket is bound at once, the server loads on first use.

FastAPI, uvicorn and the routes cost an embedded console ~14 MB and ~160 ms of CPU (measured)
that most sessions never use: the operator works in the console, nothing else calls. So the
console binds its socket when it takes the database (the lease records the address, the CLI
finds it) and starts the real server only when a client connects; that client's request
waits in the socket's backlog meanwhile (a few hundred milliseconds, once per session).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from core.api.listen import address_of, bind, embedded_listen

if TYPE_CHECKING:
    from core.api.serve import ApiServer
    from core.backend.local import LocalBackend
    from core.settings.config import Settings

log = logging.getLogger("jobdeck.api")


class OnDemandApiServer:
    """Listens on ``sock``; serves the API of ``backend`` from the first connection on."""

    def __init__(self, sock: socket.socket, start: Callable[[socket.socket], ApiServer]) -> None:
        self.sock = sock
        self.address = address_of(sock)
        self.unix_path = Path(sock.getsockname()) if sock.family == socket.AF_UNIX else None
        self._build = start
        self._server: ApiServer | None = None
        self._loading: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def loaded(self) -> bool:
        """True once the real server serves (a client has connected)."""
        return self._server is not None

    def start(self) -> None:
        """Wait for the first connection (without accepting it: the server will)."""
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._first_connection)

    def _first_connection(self) -> None:
        assert self._loop is not None
        self._loop.remove_reader(self.sock.fileno())
        if self._loading is None:
            self._loading = asyncio.create_task(self._load(), name="jobdeck-api-load")

    async def _load(self) -> None:
        # The imports run off the event loop, so the console stays responsive meanwhile.
        await asyncio.to_thread(import_module, "core.api.serve")
        try:
            server = self._build(self.sock)
            await server.start()
        except Exception:
            # Refuse connections from now on: clients then use the database directly.
            log.exception("the API server on %s did not start; not serving it", self.address)
            self._close_socket()
            raise
        self._server = server

    async def stop(self) -> None:
        """Stop serving (or waiting to), close the socket, remove its file."""
        if self._loop is not None and self._loading is None:
            self._loop.remove_reader(self.sock.fileno())
        if self._loading is not None:
            with contextlib.suppress(Exception):
                await self._loading
        if self._server is not None:
            await self._server.stop()
        self._close_socket()

    def _close_socket(self) -> None:
        self.sock.close()
        if self.unix_path is not None:
            self.unix_path.unlink(missing_ok=True)


def serve_embedded_on_demand(
    backend: LocalBackend, settings: Settings, *, prefer_socket: bool = True
) -> OnDemandApiServer:
    """Bind an embedded owner's API address now (``JOBDECK_HOME/api.sock``, mode 0600, or an
    ephemeral loopback port when the path is too long) and serve there on first use; call
    ``stop()`` before closing the backend. Must run in the event loop that will serve."""
    sock = bind(embedded_listen(settings.home, prefer_socket=prefer_socket))

    def build(bound: socket.socket) -> ApiServer:
        from core.api.app import create_app
        from core.api.serve import ApiServer

        app = create_app(backend, backend.db, None, backend.clock)
        return ApiServer(app, bound, graceful_seconds=5.0)

    server = OnDemandApiServer(sock, build)
    server.start()
    return server
