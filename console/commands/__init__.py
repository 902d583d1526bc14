"""The CLI's subcommands, one module per noun (template, schedule, run), over the Backend."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

from core.backend.protocol import Backend
from core.settings.config import Settings


@dataclass
class Context:
    """What a command handler needs: the backend, the operator's zone, and the settings."""

    backend: Backend
    zone: str
    settings: Settings | None = None

    def now(self) -> datetime:
        """The current time (aware UTC), for "2h ago" filters and past-instant checks."""
        return datetime.now(UTC)


Handler = Callable[[Context, argparse.Namespace], Awaitable[int]]
Subparsers: TypeAlias = "argparse._SubParsersAction[Any]"


def register(subparsers: Subparsers) -> None:
    """Add the template, schedule and run nouns to the top-level parser."""
    from console.commands import execution, runs, schedules, templates, tokens

    templates.register(subparsers)
    schedules.register(subparsers)
    runs.register(subparsers)
    execution.register(subparsers)
    tokens.register(subparsers)


def add_noun(subparsers: Subparsers, name: str, summary: str) -> Subparsers:
    """A noun (``jobdeck template``) whose verbs are added to the returned object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=summary, description=summary)
    verbs: Subparsers = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True)
    return verbs


def add_verb(
    verbs: Subparsers,
    name: str,
    handler: Handler,
    summary: str,
    *,
    writes: bool = False,
    json: bool = False,
) -> argparse.ArgumentParser:
    """A verb with its handler; ``writes`` marks it refused in read-only mode."""
    parser: argparse.ArgumentParser = verbs.add_parser(name, help=summary, description=summary)
    parser.set_defaults(handler=handler, writes=writes)
    if json:
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return parser
