"""A daemon's HTTP answers and transport failures as the errors of core/errors.py.

404 NotFound, 409 Conflict, 422 ValidationFailed (the field from ``detail[0].loc``), 401/403
PermissionDenied (the server's words), 400/413 ValidationFailed, 5xx and anything unusable
BackendUnavailable naming the daemon's address.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.errors import (
    BackendUnavailable,
    Conflict,
    JobdeckError,
    NotFound,
    PermissionDenied,
    Unsupported,
    ValidationFailed,
)

#: Where FastAPI says a request value came from; the field path starts after it.
_LOCATIONS = frozenset({"body", "query", "path"})
_NOT_FOUND = re.compile(r"^(?P<kind>\w[\w ]*?) (?P<ref>'.*'|\".*\"|-?\d+) not found$", re.DOTALL)
#: The idempotency layer's own 409s: the first request with that key has not finished.
IDEMPOTENCY_HEADER = "Idempotency-Key"


def detail_of(body: bytes) -> Any:
    """The ``detail`` of an error answer (FastAPI's shape), or the body's text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict) and "detail" in data:
        return data["detail"]
    return data


def describe(detail: Any) -> str:
    """One line of text for any detail shape."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict) and "message" in detail:
        error_id = detail.get("error_id")
        return f"{detail['message']} (error id {error_id})" if error_id else str(detail["message"])
    return json.dumps(detail)


def _not_found(detail: str) -> NotFound:
    match = _NOT_FOUND.match(detail)
    ref: object = detail
    kind = "object"
    if match:
        kind, raw = match["kind"], match["ref"]
        ref = raw[1:-1] if raw[0] in "'\"" else int(raw)
    error = NotFound(kind, ref)
    error.message = detail  # the server's words exactly ("template 'x' not found")
    error.args = (detail,)
    return error


def _validation(detail: Any) -> ValidationFailed:
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = [str(part) for part in first.get("loc", ())]
        if len(loc) > 1 and loc[0] in _LOCATIONS:
            loc = loc[1:]
        return ValidationFailed(".".join(loc), str(first.get("msg", "invalid")))
    return ValidationFailed("", describe(detail))


def is_idempotency_conflict(status: int, detail: Any) -> bool:
    """True for the 409 meaning "the first request with this key is still running"."""
    return status == 409 and isinstance(detail, str) and IDEMPOTENCY_HEADER in detail


def error_for(
    status: int,
    body: bytes,
    *,
    address: str,
    unsupported_409: bool = False,
    token_given: bool = True,
) -> JobdeckError:
    """The jobdeck error an HTTP error answer stands for.

    ``unsupported_409``: on this route the server answers 409 only for Unsupported (the API
    maps both Conflict and Unsupported to 409 and says nothing else to tell them apart).
    """
    detail = detail_of(body)
    text = describe(detail)
    if status == 404:
        return _not_found(text)
    if status == 409:
        if unsupported_409 and not is_idempotency_conflict(status, detail):
            return Unsupported(text)
        return Conflict(text)
    if status == 422:
        return _validation(detail)
    if status == 401:
        why = "refused the token" if token_given else "needs a token"
        return PermissionDenied(
            f"{text} (the daemon at {address} {why}: give one with --token, JOBDECK_TOKEN "
            "or the backend profile's token)"
        )
    if status == 403:
        return PermissionDenied(text)
    if status in (400, 413):
        return ValidationFailed("", text)
    if status >= 500:
        return BackendUnavailable(f"the jobdeck daemon at {address} answered {status}: {text}")
    return BackendUnavailable(
        f"the jobdeck daemon at {address} answered {status} ({text}): is it a jobdeck daemon "
        "of a compatible version?"
    )


def unreachable(
    address: str, exc: BaseException, *, retried_for: float = 0.0
) -> BackendUnavailable:
    """The error for a request that got no answer (refused, reset, timed out)."""
    reason = str(exc).strip() or exc.__class__.__name__
    tail = f" (retried for {retried_for:.1f}s)" if retried_for >= 0.05 else ""
    return BackendUnavailable(f"the jobdeck daemon at {address} is unreachable: {reason}{tail}")
