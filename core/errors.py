"""The one error hierarchy every backend raises and every interface reports."""

from __future__ import annotations


class JobdeckError(Exception):
    """Base of every error jobdeck reports to a user."""

    #: True when the caller is at fault (bad input): the CLI exits 2, the API answers 4xx.
    bad_input: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(JobdeckError):
    """The named object does not exist."""

    bad_input = True

    def __init__(self, kind: str, ref: object) -> None:
        super().__init__(f"{kind} {ref!r} not found")
        self.kind = kind
        self.ref = ref


class Conflict(JobdeckError):
    """The request contradicts the current state (duplicate name, object in use, wrong status)."""

    bad_input = True


class ValidationFailed(JobdeckError):
    """Input was rejected; ``field`` names where, as a dotted path."""

    bad_input = True

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class PermissionDenied(JobdeckError):
    """The caller may not do this (read-only mode, missing role)."""


class BackendUnavailable(JobdeckError):
    """The backend (database, daemon, remote server) cannot be reached right now."""


class Unsupported(JobdeckError):
    """The backend lacks the capability this operation needs."""
