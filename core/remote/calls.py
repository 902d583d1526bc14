"""What the per-resource method groups share: the transport, read-only refusal, view parsing,
and references that are safe in a URL path."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from core.errors import PermissionDenied
from core.remote.transport import QueryValue, RetryPolicy, Transport

M = TypeVar("M", bound=BaseModel)

READ_ONLY = "read-only mode: writes are disabled"


@cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def one(model: type[M], raw: bytes) -> M:
    """The view a JSON answer holds."""
    return model.model_validate_json(raw)


def many(model: type[M], raw: bytes) -> list[M]:
    """The views a JSON list answer holds."""
    found: list[M] = _list_adapter(model).validate_json(raw)
    return found


def segment(value: str | int) -> str:
    """One path segment: percent-encoded, slashes included."""
    return quote(str(value), safe="")


def path_safe(name: str, reserved: frozenset[str]) -> bool:
    """True when ``name`` can travel as a path segment and reach the ``{id}`` route.

    Not: names with a slash (the server decodes %2F before routing), dot segments (clients
    normalise them away), and names of fixed sibling routes (``types``); those are resolved
    to an id first.
    """
    return "/" not in name and name not in (".", "..") and name not in reserved


class RemoteCalls:
    """The base of the method groups: how they reach the daemon."""

    _http: Transport
    _read_only: bool

    async def _get(
        self,
        path: str,
        params: Mapping[str, QueryValue] | None = None,
        *,
        retry: RetryPolicy | None = None,
    ) -> bytes:
        return await self._http.call("GET", path, params=params, retry=retry)

    async def _compute(
        self, path: str, body: BaseModel, params: Mapping[str, QueryValue] | None = None
    ) -> bytes:
        """A POST that changes nothing (a preview): retried like a read, no key."""
        return await self._http.call("POST", path, params=params, body=body.model_dump_json())

    async def _write(
        self,
        method: str,
        path: str,
        body: BaseModel | dict[str, Any] | None = None,
        params: Mapping[str, QueryValue] | None = None,
        *,
        exclude_unset: bool = False,
        unsupported_409: bool = False,
    ) -> bytes:
        if self._read_only:
            raise PermissionDenied(READ_ONLY)
        if isinstance(body, BaseModel):
            text: str | None = body.model_dump_json(exclude_unset=exclude_unset)
        elif body is not None:
            text = TypeAdapter(dict[str, Any]).dump_json(body).decode()
        else:
            text = None
        return await self._http.call(
            method, path, params=params, body=text, write=True, unsupported_409=unsupported_409
        )
