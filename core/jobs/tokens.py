"""API tokens: create (the plaintext is shown once), list, revoke, and verify a bearer token.

Only a token's SHA-256 is stored. A token is 32 random bytes, so a hash lookup is safe
against guessing and against timing (the attacker cannot steer which stored hash a guess
lands near); the final comparison is constant-time anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs.audit import Actor, record
from core.storage.database import Database
from core.storage.tables import ApiToken

Role = Literal["viewer", "operator", "admin"]
#: Weakest first: each role may do everything the ones before it may.
ROLES: tuple[str, ...] = ("viewer", "operator", "admin")
TOKEN_PREFIX = "jd_"
#: How many leading characters a listing shows, so tokens can be told apart.
SHOWN_PREFIX = 10
#: last_used_at is written at most this often per token (a busy client would write on
#: every request otherwise).
LAST_USED_GRANULARITY = timedelta(seconds=60)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_MAX_TOKEN_LENGTH = 128


class TokenView(BaseModel):
    """A token as listings show it: never the token itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    name: str
    role: Role
    prefix: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedToken(BaseModel):
    """A new token: its details and, this once only, the plaintext."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str
    info: TokenView


def token_hash(token: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_role(role: str) -> Role:
    """A known role, or ValidationFailed naming ``role``."""
    if role not in ROLES:
        raise ValidationFailed("role", f"unknown role {role!r} (use {', '.join(ROLES)})")
    return role  # type: ignore[return-value]


def check_name(name: str) -> str:
    """A token name: 1-64 letters, digits and . _ @ -, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidationFailed(
            "name", "1-64 characters: letters, digits and . _ @ -, starting with a letter or digit"
        )
    return name


def _view(row: ApiToken) -> TokenView:
    assert row.id is not None
    return TokenView(
        id=row.id,
        name=row.name,
        role=check_role(row.role),
        prefix=row.prefix,
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class TokenService:
    """Token writes (audited as ``actor``) and the bearer check of the API."""

    def __init__(self, db: Database, clock: Clock, actor: Actor) -> None:
        self.db = db
        self.clock = clock
        self.actor = actor

    def create(self, name: str, role: str) -> CreatedToken:
        """A new token for ``name`` with ``role``; the plaintext is in the answer only."""
        name = check_name(name)
        role = check_role(role)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock.now()
        try:
            with self.db.write() as session:
                if session.exec(select(ApiToken.id).where(ApiToken.name == name)).first():
                    raise Conflict(
                        f"a token named {name!r} already exists (revoked ones keep their name);"
                        " choose another name"
                    )
                row = ApiToken(
                    name=name,
                    role=role,
                    token_hash=token_hash(token),
                    prefix=token[:SHOWN_PREFIX],
                    created_by=self.actor.name,
                    created_at=now,
                )
                session.add(row)
                session.flush()
                record(
                    session,
                    self.actor,
                    now,
                    "token.create",
                    "token",
                    row.id,
                    name,
                    after={"role": role, "prefix": row.prefix},
                )
                view = _view(row)
        except IntegrityError:  # a concurrent create took the name first
            raise Conflict(f"a token named {name!r} already exists; choose another name") from None
        return CreatedToken(token=token, info=view)

    def list_tokens(self) -> list[TokenView]:
        """Every token, revoked ones included, by name."""
        with self.db.read() as session:
            rows = session.exec(select(ApiToken).order_by(col(ApiToken.name)))
            return [_view(row) for row in rows]

    def revoke(self, name: str) -> TokenView:
        """Revoke a token by name; it stops working at once (a cache may hold it seconds)."""
        now = self.clock.now()
        with self.db.write() as session:
            row = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
            if row is None:
                raise NotFound("token", name)
            if row.revoked_at is not None:
                raise Conflict(f"token {name!r} was already revoked at {row.revoked_at}")
            row.revoked_at = now
            session.add(row)
            record(
                session,
                self.actor,
                now,
                "token.revoke",
                "token",
                row.id,
                name,
                before={"role": row.role, "prefix": row.prefix},
            )
            return _view(row)

    def verify(self, token: str) -> TokenView | None:
        """The live token ``token`` is, or None (unknown, malformed or revoked)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN_LENGTH:
            return None
        digest = token_hash(token)
        with self.db.read() as session:
            row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
            if row is None or not hmac.compare_digest(row.token_hash, digest):
                return None
            if row.revoked_at is not None:
                return None
            view = _view(row)
        now = self.clock.now()
        if view.last_used_at is None or now - view.last_used_at >= LAST_USED_GRANULARITY:
            self._touch(view.id, now)
            view = view.model_copy(update={"last_used_at": now})
        return view

    def _touch(self, token_id: int, now: datetime) -> None:
        with self.db.write() as session:
            row = session.get(ApiToken, token_id)
            if row is not None:
                row.last_used_at = now
                session.add(row)
