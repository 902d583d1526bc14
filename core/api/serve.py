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
import errno
import ipaddress
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from core.api.app import create_app
from core.api.config import ApiSettings
from core.api.state import ApiState
from core.backend.local import LocalBackend
from core.clock import Clock
from core.errors import BackendUnavailable, ValidationFailed
from core.settings.config import Settings

log = logging.getLogger("jobdeck.api")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Where an embedded owner's socket lives, under JOBDECK_HOME.
SOCKET_NAME = "api.sock"
# sockaddr_un holds 108 bytes on Linux (104 on the BSDs), the terminating NUL included.
_MAX_SOCKET_PATH = 103


@dataclass(frozen=True)
class Listen:
    """Where to serve: a TCP host and port (0: any free port), or a unix socket path."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    socket_path: Path | None = None
    #: listen on a non-loopback address (tokens then cross the network in clear text)
    allow_remote: bool = False


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(listen: Listen) -> None:
    """Refuse a non-loopback host unless allowed, and ports outside 0..65535."""
    if listen.socket_path is not None:
        return
    if not 0 <= listen.port <= 65535:
        raise ValidationFailed("--port", f"{listen.port} is outside 0..65535")
    if not is_loopback(listen.host) and not listen.allow_remote:
        raise ValidationFailed(
            "--host",
            f"{listen.host} is not a loopback address: the API would be reachable from other "
            "machines (with tokens in clear text unless a TLS proxy is in front); pass "
            "--allow-remote to listen there anyway",
        )


def _bind_tcp(host: str, port: int) -> socket.socket:
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    # proto IPPROTO_TCP (not 0, as socket.create_server leaves it): asyncio only sets
    # TCP_NODELAY on accepted sockets whose proto says TCP, and without it Nagle's algorithm
    # and delayed ACKs add ~40 ms to every response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((bare, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        why = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise BackendUnavailable(f"cannot listen on {host}:{port}: {why}") from exc
    return sock


def _bind_unix(path: Path) -> socket.socket:
    path = path.expanduser().absolute()
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        raise ValidationFailed("--socket", f"{path} is too long for a unix socket path")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # born 0600: no window where others could connect
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise BackendUnavailable(f"cannot listen on {path}: {exc.strerror}") from exc
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(2048)
    return sock


def _remove_stale_socket(path: Path) -> None:
    """Remove a socket file nobody listens on; refuse to touch a live one or a non-socket."""
    import stat

    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise ValidationFailed("--socket", f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # left behind by a process that died
        return
    finally:
        probe.close()
    raise BackendUnavailable(f"another process is serving on {path}")


def _address(sock: socket.socket) -> str:
    if sock.family == socket.AF_UNIX:
        return f"unix:{sock.getsockname()}"
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if sock.family == socket.AF_INET6 else f"http://{host}:{port}"


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
        self.address = _address(sock)
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
        if self.unix_path is not None:
            self.unix_path.unlink(missing_ok=True)
        log.info("API on %s stopped", self.address)


async def start_api(app: FastAPI, listen: Listen, *, graceful_seconds: float = 5.0) -> ApiServer:
    """Bind as ``listen`` says (checked first), then serve ``app`` in this loop."""
    check_listen(listen)
    if listen.socket_path is not None:
        sock = _bind_unix(listen.socket_path)
    else:
        sock = _bind_tcp(listen.host, listen.port)
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
    socket_path = settings.home / SOCKET_NAME
    if prefer_socket and len(os.fsencode(socket_path.absolute())) <= _MAX_SOCKET_PATH:
        return await start_api(app, Listen(socket_path=socket_path))
    return await start_api(app, Listen(host=DEFAULT_HOST, port=0))
