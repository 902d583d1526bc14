"""The executor's side of the fork server: start it, ask it to fork jobs, learn how they ended."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from core.jobs.executor.environment import base_environment
from core.jobs.executor.protocol import Decoder, ProtocolError, encode

log = logging.getLogger("jobdeck.executor.forkserver")

#: A server that is not ready by then (imports hanging) is treated as broken.
READY_TIMEOUT_SECONDS = 60.0
_BOOTSTRAP = (
    "import sys, json; sys.path[:0] = json.loads(sys.argv[1]); "
    "from core.jobs.executor.forkserver import serve; "
    "serve(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))"
)


class ForkServerGone(Exception):
    """The fork server died or could not start; its running children cannot report back.

    ``sent`` says the request had reached the server: the job may have started.
    """

    sent = False


@dataclass
class ForkedProcess:
    """A job child of the fork server: its pid (also its process group) and its exit status."""

    pid: int
    exited: asyncio.Future[int]


class ForkServer:
    """One warm fork server per executor, restarted on demand if it dies."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ready: asyncio.Future[int] | None = None
        self._decoder = Decoder()
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[ForkedProcess]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._send_lock = asyncio.Lock()
        self._reapers: set[asyncio.Task[None]] = set()

    @property
    def pid(self) -> int | None:
        """The server's pid while it runs."""
        return self._process.pid if self._process and self._sock else None

    def start(self) -> None:
        """Launch the server (it warms up in the background)."""
        if self._sock is not None:
            return
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        paths = [entry for entry in sys.path if isinstance(entry, str)]
        argv = [sys.executable, "-c", _BOOTSTRAP, json.dumps(paths), str(theirs.fileno())]
        argv += [str(os.getpid()), str(self.grace)]
        self._process = subprocess.Popen(
            argv,
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Its own session: a Ctrl-C at the owner's terminal must not kill it.
            start_new_session=True,
            env=base_environment(os.environ),
        )
        theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._decoder = Decoder()
        self._ready = loop.create_future()
        loop.add_reader(ours, self._on_readable)

    async def spawn(self, request: dict[str, Any], fds: list[int]) -> ForkedProcess:
        """Fork a child running ``request`` with ``fds`` as stdout, stderr and result pipe."""
        if self._sock is None:
            self.start()
        assert self._ready is not None
        if not self._ready.done():
            await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT_SECONDS)
        elif self._ready.exception() is not None:
            raise ForkServerGone("the fork server could not start")
        self._next_id += 1
        request_id = self._next_id
        started: asyncio.Future[ForkedProcess] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = started
        message = {**request, "t": "spawn", "id": request_id, "nfds": len(fds)}
        await self._send(encode(message), fds)
        try:
            return await started
        except ForkServerGone as exc:
            exc.sent = True
            raise

    async def _send(self, data: bytes, fds: list[int]) -> None:
        async with self._send_lock:
            view = memoryview(data)
            while view:
                sock = self._sock
                if sock is None:
                    raise ForkServerGone("the fork server is not running")
                try:
                    sent = socket.send_fds(sock, [view], fds) if fds else sock.send(view)
                except BlockingIOError:
                    await self._writable(sock)
                    continue
                except OSError as exc:
                    raise ForkServerGone(f"the fork server went away: {exc}") from None
                fds = []  # they travel with the first byte
                view = view[sent:]

    async def _writable(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def _set() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_writer(sock, _set)
        try:
            await ready
        finally:
            loop.remove_writer(sock)

    def _on_readable(self) -> None:
        assert self._sock is not None
        try:
            data = self._sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._gone("the fork server exited")
            return
        self._decoder.feed(data)
        try:
            for message, _fds in self._decoder.messages():
                self._dispatch(message)
        except (ProtocolError, ValueError) as exc:
            self._gone(f"the fork server sent garbage: {exc}")

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("t")
        if kind == "ready" and self._ready and not self._ready.done():
            self._ready.set_result(int(message["pid"]))
            for problem in message.get("problems", []):
                log.warning("fork server: %s", problem)
        elif kind == "started":
            child = ForkedProcess(int(message["pid"]), asyncio.get_running_loop().create_future())
            self._children[message["id"]] = child
            waiter = self._pending.pop(message["id"], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(child)
        elif kind == "exited":
            exited = self._children.pop(message["id"], None)
            if exited is not None and not exited.exited.done():
                exited.exited.set_result(int(message["status"]))
        elif kind == "failed":
            waiter = self._pending.pop(message["id"], None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(ForkServerGone(str(message.get("error"))))
        elif kind == "log":
            log.error("fork server: %s", message.get("text"))

    def _gone(self, why: str, *, reap: bool = True) -> None:
        """The server is gone: everything waiting on it learns so; the next spawn restarts it."""
        sock, process = self._sock, self._process
        self._sock = None
        if sock is not None:
            asyncio.get_running_loop().remove_reader(sock)
            sock.close()
        detail = ""
        if process is not None and process.stderr is not None:
            os.set_blocking(process.stderr.fileno(), False)
            with contextlib.suppress(OSError, TypeError):
                detail = (process.stderr.read(4096) or b"").decode(errors="replace").strip()
        problem = ForkServerGone(f"{why}: {detail}" if detail else why)
        for waiter in [self._ready, *self._pending.values()]:
            if waiter is not None and not waiter.done():
                waiter.set_exception(problem)
                waiter.exception()  # retrieved: nobody may be waiting
        for child in self._children.values():
            if not child.exited.done():
                child.exited.set_exception(problem)
        self._pending.clear()
        self._children.clear()
        if process is not None and reap:
            task = asyncio.get_running_loop().create_task(self._reap(process))
            self._reapers.add(task)
            task.add_done_callback(self._reapers.discard)

    async def _reap(self, process: subprocess.Popen[bytes]) -> None:
        try:
            await asyncio.to_thread(process.wait, self.grace + 5)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        if process.stderr is not None:
            process.stderr.close()

    async def stop(self) -> None:
        """Close the server: it kills any child still running and exits."""
        process = self._process
        if self._sock is not None:
            self._gone("the fork server was stopped", reap=False)
        self._process = None
        if process is not None:
            # SIGTERM ends it at once while it still imports, or makes it end its children.
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            await self._reap(process)
        if self._reapers:
            await asyncio.gather(*self._reapers, return_exceptions=True)
