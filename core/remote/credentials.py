"""The owner's local credential: an admin token in ``$JOBDECK_HOME/owner.token`` (mode 0600).

The lease tells a CLI or a TUI where the owner's API is (``api_address``); this file gives the
same user on the same host a token for it, so they attach without any set-up. The owner
publishes it once it holds the lease and its API listens, and withdraws it when it stops
owning (the token is revoked, the file removed)::

    credential = await asyncio.to_thread(OwnerCredential.publish, settings, db, api.address)
    ...
    await asyncio.to_thread(credential.withdraw)

An owner killed with SIGKILL cannot withdraw: the next owner revokes the token it finds in
the file before writing its own, and a reader ignores a file naming another address.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

from core.clock import Clock, SystemClock
from core.errors import Conflict, NotFound
from core.jobs.audit import Actor
from core.jobs.tokens import TokenService
from core.settings.config import Settings
from core.storage.database import Database

log = logging.getLogger("jobdeck.remote")

OWNER_TOKEN_FILE = "owner.token"
#: The audit log's "from where" for the token's own creation and revocation.
SOURCE = "owner"


def owner_token_path(settings: Settings) -> Path:
    """Where the owner's credential lives: ``$JOBDECK_HOME/owner.token``."""
    return settings.home / OWNER_TOKEN_FILE


def _user(settings: Settings) -> str:
    if settings.actor:
        return settings.actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _token_name(user: str) -> str:
    """``alice.via-owner-1a2b3c``: whose session it is, unique per owner start."""
    safe = re.sub(r"[^A-Za-z0-9._@-]", "-", user).lstrip("._@-") or "user"
    return f"{safe[:40]}.via-owner-{secrets.token_hex(3)}"


def _read(path: Path) -> dict[str, Any] | None:
    """The file's content when it is ours and private (never follow a planted symlink)."""
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            return None
        if info.st_mode & 0o077:
            log.warning("ignoring %s: it is readable by other users (chmod 600 it)", path)
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, born 0600 (no moment where another user could read it)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def read_owner_token(settings: Settings, address: str) -> str | None:
    """The owner's token for ``address``, or None (no file, not private, another address)."""
    data = _read(owner_token_path(settings))
    if data is None or data.get("address") != address:
        return None
    token = data.get("token")
    return token if isinstance(token, str) and token else None


class OwnerCredential:
    """The admin token an owner published for local clients (blocking calls: use a thread)."""

    def __init__(self, path: Path, service: TokenService, name: str, token: str) -> None:
        self.path = path
        self.service = service
        self.name = name
        self.token = token

    @classmethod
    def publish(
        cls, settings: Settings, db: Database, address: str, *, clock: Clock | None = None
    ) -> OwnerCredential:
        """Revoke a dead predecessor's token, create ours, write the file (0600)."""
        path = owner_token_path(settings)
        user = _user(settings)
        service = TokenService(db, clock or SystemClock(), Actor(user, SOURCE))
        leftover = _read(path)
        if leftover is not None and isinstance(leftover.get("name"), str):
            with contextlib.suppress(NotFound, Conflict):
                service.revoke(leftover["name"])
        name = _token_name(user)
        created = service.create(name, "admin")
        record = {"address": address, "token": created.token, "name": name, "pid": os.getpid()}
        _write_private(path, record)
        return cls(path, service, name, created.token)

    def withdraw(self) -> None:
        """Remove the file (if it still holds our token) and revoke the token."""
        current = _read(self.path)
        if current is not None and current.get("token") == self.token:
            self.path.unlink(missing_ok=True)
        with contextlib.suppress(NotFound, Conflict):
            self.service.revoke(self.name)
