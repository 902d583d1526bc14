"""`jobdeck token create|list|revoke`: bearer tokens of the daemon's HTTP API.

These act on the database directly (tokens are not part of the Backend seam): run them where
the database is, e.g. on the daemon's host. A token is printed once, on creation; only its
hash is stored.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from console.commands import Subparsers, add_noun
from console.commands.output import emit, print_json, table, when
from core.errors import PermissionDenied
from core.settings.config import Settings

ROLES = ("viewer", "operator", "admin")


def register(subparsers: Subparsers) -> None:
    """Add `jobdeck token` and its verbs."""
    verbs = add_noun(subparsers, "token", "API tokens of the daemon (viewer, operator, admin)")
    p = _verb(verbs, "create", create, "create a token and print it (shown only this once)")
    p.add_argument("name", metavar="NAME", help="who or what uses it (letters, digits, . _ @ -)")
    p.add_argument("--role", required=True, choices=ROLES, help="what the token may do")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p = _verb(verbs, "list", list_tokens, "list tokens (never the tokens themselves)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p = _verb(verbs, "revoke", revoke, "revoke a token: it stops working at once")
    p.add_argument("name", metavar="NAME")


def _verb(
    verbs: Subparsers, name: str, handler: Callable[[Any, argparse.Namespace], int], summary: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = verbs.add_parser(name, help=summary, description=summary)
    parser.set_defaults(standalone=handler)
    return parser


def _service(settings: Settings) -> Any:
    from core.backend.factory import current_user, open_database
    from core.clock import SystemClock
    from core.jobs.audit import Actor
    from core.jobs.tokens import TokenService

    actor = Actor(settings.actor or current_user(), "cli")
    return TokenService(open_database(settings), SystemClock(), actor)


def _refuse_read_only(settings: Settings, verb: str) -> None:
    if settings.read_only:
        raise PermissionDenied(
            f"read-only mode: 'jobdeck token {verb}' would change data "
            "(drop --read-only, or read_only in the config)"
        )


def create(settings: Settings, args: argparse.Namespace) -> int:
    """Create a token; print it (stdout) once."""
    _refuse_read_only(settings, "create")
    service = _service(settings)
    try:
        created = service.create(args.name, args.role)
    finally:
        service.db.dispose()
    if args.json:
        print_json({"token": created.token, **created.info.model_dump(mode="json")})
    else:
        emit(created.token)
    sys.stderr.write(
        f"jobdeck: token {created.info.name!r} ({created.info.role}) created; "
        "it is shown only now, store it safely\n"
    )
    return 0


def list_tokens(settings: Settings, args: argparse.Namespace) -> int:
    """List tokens: name, role, prefix, created, last used, revoked."""
    service = _service(settings)
    try:
        tokens = service.list_tokens()
    finally:
        service.db.dispose()
    if args.json:
        print_json(tokens)
        return 0
    table(
        ("NAME", "ROLE", "PREFIX", "CREATED", "LAST USED", "REVOKED", "BY"),
        (
            (
                t.name,
                t.role,
                t.prefix + "…",
                when(t.created_at, settings.timezone),
                when(t.last_used_at, settings.timezone) if t.last_used_at else None,
                when(t.revoked_at, settings.timezone) if t.revoked_at else None,
                t.created_by,
            )
            for t in tokens
        ),
    )
    return 0


def revoke(settings: Settings, args: argparse.Namespace) -> int:
    """Revoke a token by name."""
    _refuse_read_only(settings, "revoke")
    service = _service(settings)
    try:
        revoked = service.revoke(args.name)
    finally:
        service.db.dispose()
    emit(f"token {revoked.name!r} revoked")
    return 0
