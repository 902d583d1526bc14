"""Where the API listens: checking the address and binding the socket (no FastAPI here).

Binding comes first, before anything is served, so a bad address fails at once and an
ephemeral port is known; ``core.api.serve`` then serves on the bound socket, now or (for an
embedded console, ``core.api.on_demand``) at the first connection.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from core.errors import BackendUnavailable, ValidationFailed

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Where an embedded owner's socket lives, under JOBDECK_HOME.
SOCKET_NAME = "api.sock"
# sockaddr_un holds 108 bytes on Linux (104 on the BSDs), the terminating NUL included.
MAX_SOCKET_PATH = 103


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


def bind_tcp(host: str, port: int) -> socket.socket:
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


def bind_unix(path: Path) -> socket.socket:
    path = path.expanduser().absolute()
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
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


def address_of(sock: socket.socket) -> str:
    if sock.family == socket.AF_UNIX:
        return f"unix:{sock.getsockname()}"
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if sock.family == socket.AF_INET6 else f"http://{host}:{port}"


def embedded_listen(home: Path, *, prefer_socket: bool = True) -> Listen:
    """Where an embedded owner serves: ``home/api.sock`` when ``prefer_socket`` and the path
    fits a unix socket, else an ephemeral loopback port."""
    socket_path = home / SOCKET_NAME
    if prefer_socket and len(os.fsencode(socket_path.absolute())) <= MAX_SOCKET_PATH:
        return Listen(socket_path=socket_path)
    return Listen(host=DEFAULT_HOST, port=0)


def bind(listen: Listen) -> socket.socket:
    """Check ``listen``, then bind and listen there."""
    check_listen(listen)
    if listen.socket_path is not None:
        return bind_unix(listen.socket_path)
    return bind_tcp(listen.host, listen.port)
