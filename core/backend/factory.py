"""Open the backend an interface should talk to, from settings."""

from __future__ import annotations

import getpass

from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from core.backend.local import LocalBackend
from core.clock import Clock
from core.errors import BackendUnavailable, ValidationFailed
from core.jobs.audit import Actor
from core.settings.config import Settings
from core.settings.secrets import SecretBox
from core.storage.database import Database
from core.storage.migrate import upgrade


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
    actor = Actor(settings.actor or current_user(), source)
    return LocalBackend(
        open_database(settings),
        actor=actor,
        default_zone=settings.timezone,
        clock=clock,
        read_only=settings.read_only,
        secrets=SecretBox(settings.resolved_secret_key_file()),
    )
