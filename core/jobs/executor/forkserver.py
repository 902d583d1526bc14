"""The fork server: a warm helper process that forks one child per python/http/git attempt.

It imports jobdeck and every job type's runner once, then forks on request, so an attempt
costs a fork instead of a fresh interpreter. It reaps its children and reports how they
ended; it kills its children and exits when the owner goes away (socket EOF or re-parenting).
Started by ``ForkServer`` in ``forkclient``; this module runs in that separate interpreter.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import selectors
import signal
import socket
import sys
import time
import traceback
from typing import Any

from core.jobs.executor.protocol import Decoder, encode

#: How often the server checks that its owner is still alive when nothing else happens.
OWNER_CHECK_SECONDS = 1.0


class _Server:
    def __init__(self, sock: socket.socket, owner_pid: int, grace: float) -> None:
        self.sock = sock
        self.owner_pid = owner_pid
        self.grace = grace
        self.children: dict[int, int] = {}  # pid -> request id
        self.decoder = Decoder()
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.stopping = False
        self.pid = os.getpid()

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.sock.sendall(encode(message))
        except OSError:
            self.stopping = True  # the owner is gone

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ)
        selector.register(self.wake_r, selectors.EVENT_READ)
        while not self.stopping:
            for key, _ in selector.select(OWNER_CHECK_SECONDS):
                if key.fileobj is self.sock:
                    self._receive()
                else:
                    self._drain_wakeups()
            self._reap()
            if os.getppid() != self.owner_pid:
                self.stopping = True
        self._shutdown()

    def _on_term(self, *_: object) -> None:
        self.stopping = True

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _receive(self) -> None:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, 1 << 16, 8)
        except InterruptedError:
            return
        except OSError:
            data, fds = b"", []
        if not data:
            for fd in fds:
                os.close(fd)
            self.stopping = True
            return
        self.decoder.feed(data, fds)
        for message, claimed in self.decoder.messages():
            if message.get("t") == "spawn":
                self._spawn(message, claimed)
            else:
                for fd in claimed:
                    os.close(fd)

    def _spawn(self, request: dict[str, Any], fds: list[int]) -> None:
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            self.send({"t": "failed", "id": request["id"], "error": f"fork failed: {exc}"})
            return
        if pid == 0:
            from core.jobs.executor.forkchild import child_main

            request["server_pid"] = self.pid
            child_main(request, fds, [self.sock.fileno(), self.wake_r, self.wake_w])
        for fd in fds:
            os.close(fd)
        self.children[pid] = request["id"]
        self.send({"t": "started", "id": request["id"], "pid": pid})

    def _reap(self) -> None:
        while self.children:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid == 0:
                return
            pid = info.si_pid
            # The leader is a zombie, so its pid (the group id) cannot be reused yet: kill
            # whatever the job left behind in its group, then reap.
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            request_id = self.children.pop(pid, None)
            if request_id is not None:
                self.send({"t": "exited", "id": request_id, "status": status})

    def _shutdown(self) -> None:
        """The owner is gone or asked us to stop: end every job (TERM, grace, KILL)."""
        for pid in self.children:
            _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for pid in self.children:
            _signal_group(pid, signal.SIGKILL)
        while self.children:
            self._reap()
            time.sleep(0.01)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


def _preload() -> list[str]:
    """Import jobdeck's job types and their runners now, so forked children start warm."""
    from core.jobs.executor.forkchild import load_runner
    from core.jobs.types import registered_job_types

    problems = []
    for job_type in registered_job_types().values():
        if job_type.runner:
            try:
                runner = load_runner(job_type.runner)
                # A runner module may import its heavy libraries lazily and offer warm().
                warm = getattr(sys.modules.get(runner.__module__), "warm", None)
                if callable(warm):
                    warm()
            except Exception as exc:
                problems.append(f"job type {job_type.name}: runner {job_type.runner}: {exc!r}")
    return problems


def serve(sock_fd: int, owner_pid: int, grace: float) -> None:
    """Entry point of the fork server process."""
    sock = socket.socket(fileno=sock_fd)
    server = _Server(sock, owner_pid, grace)
    try:
        problems = _preload()
        # Everything imported so far is shared with every child: keep the collector away
        # from it, so a child does not copy (write to) those pages just by collecting.
        gc.collect()
        gc.freeze()
        # Start-up errors went to the owner's pipe; from now on nothing may write there.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        server.send({"t": "ready", "pid": os.getpid(), "problems": problems})
        server.serve()
    except Exception:
        server.send({"t": "log", "text": traceback.format_exc()})
        server._shutdown()
        sys.exit(1)
