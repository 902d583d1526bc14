"""Which daemon to talk to, with which token: ``--backend URL|NAME`` or the database's owner.

``target_for`` reads ``--backend``: an address (``http(s)://host:port``, ``unix:/path``) or the
name of a profile in the config file's ``[backends]`` table. ``owner_target`` reads the lease:
a live owner that records an ``api_address`` is reachable from here when it runs on this host
(or listens on a non-loopback address), and the token is the one given (``--token``,
``JOBDECK_TOKEN``) or the owner's own local credential (``owner.token``).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from core.errors import Unsupported, ValidationFailed
from core.remote.credentials import owner_token_path, read_owner_token
from core.settings.config import Settings

if TYPE_CHECKING:
    from core.jobs.scheduler.lease import LeaseInfo

_SCHEMES = ("http", "https")
_ANY_HOST = {"0.0.0.0": "127.0.0.1", "::": "::1"}


@dataclass(frozen=True)
class RemoteTarget:
    """A daemon to attach to: its address, the token, TLS verification, and how to name it."""

    address: str
    token: str | None
    label: str
    verify_tls: bool = True


def looks_like_address(text: str) -> bool:
    """True for ``scheme://...`` and ``unix:...`` (anything else names a profile)."""
    return "://" in text or text.startswith("unix:")


def check_address(address: str, option: str = "--backend") -> str:
    """An address the remote backend can use, or ValidationFailed naming ``option``."""
    if address.startswith("unix:"):
        if len(address) <= len("unix:"):
            raise ValidationFailed(option, "unix: needs a socket path (unix:/path/to/api.sock)")
        return address
    parts = urlsplit(address)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise ValidationFailed(
            option,
            f"{address!r} is not a daemon address (http://host:port, https://host:port, "
            "unix:/path/to/api.sock)",
        )
    return address.rstrip("/")


def target_for(
    settings: Settings, backend: str, token: str | None, *, insecure: bool = False
) -> RemoteTarget:
    """The daemon ``--backend`` names (an address, or a profile of the config file)."""
    if looks_like_address(backend):
        address = check_address(backend)
        return RemoteTarget(address, token, address, verify_tls=not insecure)
    profile = settings.backends.get(backend)
    if profile is None:
        known = ", ".join(sorted(settings.backends)) or "none configured"
        raise ValidationFailed(
            "--backend",
            f"no backend profile named {backend!r} in the config file's [backends] table "
            f"(known: {known}); or give an address like http://127.0.0.1:8765",
        )
    if profile.kind != "jobdeck":
        raise Unsupported(
            f"backend profile {backend!r} is a {profile.kind} server; this build attaches to "
            "jobdeck daemons only"
        )
    address = check_address(profile.url, f"backends.{backend}.url")
    return RemoteTarget(
        address,
        token or profile.token,
        f"{backend} ({address})",
        verify_tls=profile.verify_tls and not insecure,
    )


def is_loopback_address(address: str) -> bool:
    """True for unix sockets and loopback hosts: only reachable on the owner's own host."""
    if address.startswith("unix:"):
        return True
    host = urlsplit(address).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _dialable(address: str, owner_host: str) -> str:
    """A wildcard listen address (0.0.0.0, ::) made into one a client can connect to."""
    parts = urlsplit(address)
    host = parts.hostname or ""
    if host not in _ANY_HOST:
        return address
    here = owner_host == socket.gethostname()
    replacement = _ANY_HOST[host] if here else owner_host
    if ":" in replacement:
        replacement = f"[{replacement}]"
    netloc = f"{replacement}:{parts.port}" if parts.port else replacement
    return parts._replace(netloc=netloc).geturl()


def listening(address: str, seconds: float = 0.5) -> bool:
    """Whether something accepts connections at ``address`` (``unix:/path`` or
    ``http(s)://host:port``): a dead owner's address is refused at once, before any HTTP
    client is even loaded."""
    if address.startswith("unix:"):
        family, target = socket.AF_UNIX, address.removeprefix("unix:")
        probe = socket.socket(family, socket.SOCK_STREAM)
        where: str | tuple[str, int] = target
    else:
        parts = urlsplit(address)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        except OSError:
            return False
        probe = socket.socket(info[0], socket.SOCK_STREAM)
        where = (str(info[4][0]), int(info[4][1]))
    probe.settimeout(seconds)
    try:
        probe.connect(where)
    except OSError:
        return False
    finally:
        probe.close()
    return True


@dataclass(frozen=True)
class OwnerApi:
    """What the lease says about reaching the owner: a target, or why there is none."""

    holder: str
    target: RemoteTarget | None
    #: why this process cannot attach (None when it can, or when it should stay quiet)
    problem: str | None


def owner_target(settings: Settings, lease: LeaseInfo, token: str | None) -> OwnerApi:
    """How to reach the live owner's API from this process, if at all."""
    holder = f"{lease.host} pid {lease.pid}"
    if not lease.api_address:
        return OwnerApi(holder, None, None)
    on_this_host = lease.host == socket.gethostname()
    if is_loopback_address(lease.api_address) and not on_this_host:
        return OwnerApi(holder, None, None)  # another host's loopback: the database it is
    address = _dialable(lease.api_address, lease.host)
    credential = token or read_owner_token(settings, lease.api_address)
    if credential is None:
        if not on_this_host:
            return OwnerApi(holder, None, None)
        problem = (
            f"{holder} owns the database and serves its API on {address}, but no token for it "
            f"was found (JOBDECK_TOKEN, --token, or {owner_token_path(settings)})"
        )
        return OwnerApi(holder, None, problem)
    return OwnerApi(holder, RemoteTarget(address, credential, f"{holder} ({address})"), None)
