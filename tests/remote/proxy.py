"""A TCP proxy that can lose an answer: it forwards a request, then drops the response."""

from __future__ import annotations

import asyncio
import contextlib


class DroppingProxy:
    """Forwards 127.0.0.1:port to an upstream; ``drop_next()`` loses the next answer.

    The upstream receives the request and answers; the proxy discards the answer's bytes and
    closes the client's connection, as a network failure after the server acted would.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.dropped = 0
        self.connections = 0
        self._drop = False
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def drop_next(self) -> None:
        """Lose the next answer coming back from the upstream."""
        self._drop = True

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._pumps):
            task.cancel()
        for task in list(self._pumps):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        upstream_r, upstream_w = await asyncio.open_connection(*self.upstream)
        up = asyncio.create_task(self._pump(client_r, upstream_w, answer=False))
        down = asyncio.create_task(self._pump(upstream_r, client_w, answer=True))
        self._pumps |= {up, down}
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            for writer in (client_w, upstream_w):
                writer.close()
            self._pumps -= {up, down}

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, answer: bool
    ) -> None:
        while data := await reader.read(65536):
            if answer and self._drop:
                self._drop = False
                self.dropped += 1
                return  # the answer is lost; _serve closes both sides
            writer.write(data)
            await writer.drain()
