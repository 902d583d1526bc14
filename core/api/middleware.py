"""ASGI guards around the app: a body size limit, and a sanitised 500 for anything unexpected."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("jobdeck.api")

INTERNAL_ERROR = "An internal error occurred"


def internal_error(error_id: str) -> JSONResponse:
    """The only thing a client learns about a server fault: an id to quote (Cockpit's shape)."""
    return JSONResponse(
        {"detail": {"message": INTERNAL_ERROR, "error_id": error_id}}, status_code=500
    )


class _BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit (handled as a 413)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body too large (at most {max_bytes} bytes)")


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by Content-Length or as they stream."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body too large (at most {self.max_bytes} bytes)"},
            status_code=413,
        )
        await response(scope, receive, send)


class ServerErrorGuard:
    """Turn an unexpected exception into a sanitised 500, logged here with its error id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_id = str(uuid.uuid4())
            log.exception("internal error %s on %s %s", error_id, scope.get("method"), _path(scope))
            if not started:  # a stream that already began can only be cut short
                await internal_error(error_id)(scope, receive, send)


def _path(scope: dict[str, Any] | Scope) -> str:
    return str(scope.get("path", ""))
