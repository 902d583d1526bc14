"""Open the backend an interface should talk to, from settings: the local one, a daemon given
with ``--backend``, or the database's live owner over its API."""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from core.backend.local import LocalBackend
from core.backend.protocol import Backend
from core.clock import Clock
from core.errors import BackendUnavailable, PermissionDenied, ValidationFailed
from core.jobs.audit import Actor
from core.settings.config import Settings
from core.settings.secrets import SecretBox
from core.storage.database import Database
from core.storage.migrate import upgrade

if TYPE_CHECKING:
    from core.remote.transport import RetryPolicy

log = logging.getLogger("jobdeck.backend")


def current_user() -> str:
    """The operator's login name, for the audit log."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def open_database(settings: Settings) -> Database:
    """The configured database, migrated to the newest schema."""
    try:
        db = Database(settings.resolved_database_url())
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ValidationFailed("database_url", f"not a usable database URL: {exc}") from exc
    try:
        upgrade(db)
    except OperationalError as exc:
        db.dispose()
        raise BackendUnavailable(f"database {db.describe()} unavailable: {exc.orig}") from exc
    return db


def open_local_backend(
    settings: Settings, *, source: str, clock: Clock | None = None
) -> LocalBackend:
    """The embedded backend on the configured database (migrations applied)."""
    return local_backend_on(settings, open_database(settings), source=source, clock=clock)


def local_backend_on(
    settings: Settings, db: Database, *, source: str, clock: Clock | None = None
) -> LocalBackend:
    """The embedded backend on an opened (migrated) database."""
    actor = Actor(settings.actor or current_user(), source)
    return LocalBackend(
        db,
        actor=actor,
        default_zone=settings.timezone,
        clock=clock,
        read_only=settings.read_only,
        secrets=SecretBox(settings.resolved_secret_key_file()),
        scheduler=settings.scheduler,
    )


Warn = Callable[[str], None]


async def open_backend_for(
    settings: Settings,
    source: str,
    backend_arg: str | None = None,
    token: str | None = None,
    *,
    insecure: bool = False,
    warn: Warn | None = None,
    clock: Clock | None = None,
) -> tuple[Backend, str]:
    """The backend an interface talks to, and a few words saying which (for a status bar).

    ``backend_arg`` (``--backend URL|NAME``) attaches to that daemon, or fails. Without it, a
    live owner of the database whose lease records an API address is attached to when a token
    for it is at hand (``token``, else the owner's ``owner.token``); when its API cannot be
    reached, ``warn`` says so in one line and the database is used directly. Otherwise the
    local backend on the database (mode "read-only" or "starting": the caller may own it).
    """
    say = warn or log.warning
    if backend_arg:
        from core.remote.attach import target_for

        target = target_for(settings, backend_arg, token, insecure=insecure)
        _warn_clear_text(target.address, target.token, say)
        remote = await _connect(settings, target.address, target.token, target.verify_tls)
        return remote, f"attached to {target.label}"
    db = await asyncio.to_thread(open_database, settings)
    try:
        attached = await attach_to_owner(settings, db, token, say)
    except BaseException:
        await asyncio.to_thread(db.dispose)
        raise
    if attached is not None:
        await asyncio.to_thread(db.dispose)
        return attached
    local = local_backend_on(settings, db, source=source, clock=clock)
    return local, "read-only" if settings.read_only else "starting"


async def _connect(
    settings: Settings,
    address: str,
    token: str | None,
    verify_tls: bool,
    *,
    probe_retry: RetryPolicy | None = None,
    renew_token: Callable[[], str | None] | None = None,
) -> Backend:
    from core.remote.backend import JobdeckRemoteBackend

    return await JobdeckRemoteBackend.connect(
        address,
        token,
        read_only=settings.read_only,
        verify_tls=verify_tls,
        probe_retry=probe_retry,
        renew_token=renew_token,
    )


async def attach_to_owner(
    settings: Settings, db: Database, token: str | None, warn: Warn
) -> tuple[Backend, str] | None:
    """The live owner's API, when it has one and this process holds a token for it."""
    from core.clock import SystemClock
    from core.jobs.scheduler.lease import Lease
    from core.remote.attach import listening, owner_target
    from core.remote.transport import NO_RETRY

    lease = await asyncio.to_thread(Lease.current, db, SystemClock())
    if lease is None or not lease.live:
        return None
    found = owner_target(settings, lease, token)
    if found.target is None:
        if found.problem:
            warn(f"{found.problem}; using the database directly")
        return None
    target = found.target
    if not await asyncio.to_thread(listening, target.address):
        warn(
            f"cannot use the API of {target.label}: nothing listens there (the owner stopped "
            "or died); using the database directly"
        )
        return None
    renew = None
    if token is None:
        # The token came from the owner's file: an owner that restarts publishes a new one.
        from core.remote.credentials import read_owner_token

        def renew() -> str | None:
            return read_owner_token(settings, target.address)

    try:
        remote = await _connect(
            settings, target.address, target.token, True, probe_retry=NO_RETRY, renew_token=renew
        )
    except (BackendUnavailable, PermissionDenied) as exc:
        warn(f"cannot use the API of {target.label}: {exc}; using the database directly")
        return None
    return remote, f"attached to {target.label}"


def _warn_clear_text(address: str, token: str | None, warn: Warn) -> None:
    from core.remote.attach import is_loopback_address

    if token and address.startswith("http://") and not is_loopback_address(address):
        warn(f"the token travels in clear text to {address}: use https:// (a TLS proxy)")
