"""Job processes and their pipes: spawn an argv in its own session, watch it, read its output."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Callable
from typing import Protocol

from core.jobs.executor.forkclient import ForkedProcess
from core.jobs.executor.logsink import LogSink
from core.jobs.executor.procs import signal_group, spawn_error
from core.jobs.types import ExecPlan

#: Bytes read per wake-up and pipe; a few reads per wake-up keep a chatty job cheap.
READ_SIZE = 64 * 1024
READS_PER_WAKEUP = 4


class JobProcess(Protocol):
    """A running attempt: the leader of its own process group."""

    pid: int
    exited: asyncio.Future[None]

    def signal(self, signum: int) -> bool: ...

    def finish(self) -> int: ...


class ExecProcess:
    """A direct child (shell jobs). Its exit is seen through a pidfd, before it is reaped."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid
        loop = asyncio.get_running_loop()
        self.exited: asyncio.Future[None] = loop.create_future()
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            # No pidfd: wait in a thread without reaping (WNOWAIT keeps the group id reserved).
            waiter = loop.run_in_executor(
                None, os.waitid, os.P_PID, self.pid, os.WEXITED | os.WNOWAIT
            )
            waiter.add_done_callback(lambda _: self._set_exited())
        else:
            loop.add_reader(self._pidfd, self._set_exited)

    def _set_exited(self) -> None:
        if self._pidfd is not None:
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        if not self.exited.done():
            self.exited.set_result(None)

    def signal(self, signum: int) -> bool:
        """Signal the whole group."""
        return signal_group(self.pid, signum)

    def finish(self) -> int:
        """After the leader exited: kill what it left in its group, reap it, its return code."""
        # The unreaped leader keeps the group id from being reused, so this hits only the job.
        signal_group(self.pid, signal.SIGKILL)
        return self.popen.wait()


class ForkProcess:
    """A child of the fork server (python, http, git jobs); the server reaps it and reports."""

    def __init__(self, child: ForkedProcess) -> None:
        self.child = child
        self.pid = child.pid
        self.exited: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        child.exited.add_done_callback(self._set_exited)

    def _set_exited(self, _: asyncio.Future[int]) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def signal(self, signum: int) -> bool:
        """Signal the whole group (the server already killed leftovers when it reaped)."""
        return signal_group(self.pid, signum)

    def finish(self) -> int:
        """The return code; raises ForkServerGone when the server died first."""
        return os.waitstatus_to_exitcode(self.child.exited.result())


def spawn_exec(plan: ExecPlan, env: dict[str, str], stdout: int, stderr: int) -> ExecProcess:
    """Start ``plan.argv`` directly (no shell) in a new session, stdio on the given pipes."""
    try:
        popen = subprocess.Popen(
            plan.argv,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=plan.cwd,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise spawn_error(exc, plan.argv, plan.cwd) from None
    return ExecProcess(popen)


class Pipes:
    """An attempt's stdout, stderr (into the log sink) and, for fork jobs, its result pipe."""

    def __init__(self, sink: LogSink, on_full: Callable[[], None], *, result: bool) -> None:
        self.sink = sink
        self.on_full = on_full
        self.result = bytearray()
        self.result_limit = 2 * 1024 * 1024
        self.write_fds: list[int] = []
        self._streams: dict[int, str] = {}
        names = ["stdout", "stderr"] + (["result"] if result else [])
        for name in names:
            read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
            os.set_blocking(read_fd, False)
            self._streams[read_fd] = name
            self.write_fds.append(write_fd)
        self._eof = asyncio.Event()
        loop = asyncio.get_running_loop()
        for fd in self._streams:
            loop.add_reader(fd, self._on_readable, fd)

    def close_write_ends(self) -> None:
        """Our copies of the write ends: closed once the child has its own."""
        for fd in self.write_fds:
            os.close(fd)
        self.write_fds = []

    def _on_readable(self, fd: int) -> None:
        stream = self._streams[fd]
        for _ in range(READS_PER_WAKEUP):
            try:
                data = os.read(fd, READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._close_read(fd)
                return
            if stream == "result":
                if len(self.result) < self.result_limit:
                    self.result += data
            elif self.sink.feed(stream, data):
                self.on_full()

    def _close_read(self, fd: int) -> None:
        asyncio.get_running_loop().remove_reader(fd)
        os.close(fd)
        del self._streams[fd]
        if not self._streams:
            self._eof.set()

    async def wait_eof(self, seconds: float) -> bool:
        """Until every pipe reached end of file; False when something still holds one open."""
        if self._eof.is_set():
            return True
        try:
            await asyncio.wait_for(self._eof.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Stop reading and close every fd still open."""
        self.close_write_ends()
        for fd in list(self._streams):
            self._close_read(fd)
