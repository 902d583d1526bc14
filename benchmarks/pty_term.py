"""A process on a pseudo-terminal, timed from the outside as a terminal would see it."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Mapping

#: CSI/OSC escape sequences and other control bytes, removed before looking for text.
_ESCAPES = re.compile(
    r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b."
)


def plain(data: str) -> str:
    """Terminal output without escape sequences (good enough to find a word on screen)."""
    return _ESCAPES.sub("", data)


class Terminal:
    """Starts ``argv`` on a pty of ``columns`` x ``rows`` and reads what it draws."""

    def __init__(
        self,
        argv: list[str],
        *,
        columns: int = 120,
        rows: int = 40,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        full_env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(rows))
        full_env.update(env or {})
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.output = ""

    @property
    def pid(self) -> int:
        """The process id (for RSS readings)."""
        return self.process.pid

    def read(self, timeout: float) -> str:
        """Whatever arrives within ``timeout`` seconds (returns as soon as something does)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return ""
        try:
            chunk = os.read(self.master, 1 << 16).decode("utf-8", "replace")
        except OSError:
            return ""
        self.output += chunk
        return chunk

    def wait_for(self, text: str, timeout: float = 60.0, *, since: int = 0) -> float:
        """Seconds until ``text`` is on screen (searched in output after offset ``since``)."""
        began = time.perf_counter()
        while time.perf_counter() - began < timeout:
            if text in plain(self.output[since:]):
                return time.perf_counter() - began
            self.read(0.01)
        raise TimeoutError(f"{text!r} did not appear within {timeout}s")

    def shown_since_start(self, text: str, timeout: float = 60.0) -> float:
        """Seconds from the process start until ``text`` is on screen."""
        self.wait_for(text, timeout)
        return time.perf_counter() - self.started

    def first_output_after(self, keys: str, timeout: float = 5.0) -> float:
        """Send ``keys`` and return the seconds until the terminal receives the next bytes."""
        self.drain(0.0)
        sent = time.perf_counter()
        os.write(self.master, keys.encode())
        while time.perf_counter() - sent < timeout:
            if self.read(timeout):
                return time.perf_counter() - sent
        raise TimeoutError(f"no output within {timeout}s after {keys!r}")

    def visible_after(self, keys: str, text: str, timeout: float = 5.0) -> float:
        """Send ``keys`` and return the seconds until ``text`` appears in the new output."""
        self.drain(0.0)
        mark = len(self.output)
        sent = time.perf_counter()
        os.write(self.master, keys.encode())
        self.wait_for(text, timeout, since=mark)
        return time.perf_counter() - sent

    def send(self, keys: str) -> None:
        """Type ``keys``."""
        os.write(self.master, keys.encode())

    def drain(self, quiet: float = 0.05) -> None:
        """Read until nothing has arrived for ``quiet`` seconds."""
        while self.read(quiet):
            pass

    def rss_mb(self) -> float:
        """Resident memory of the process, in MB."""
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        """Stop the process (SIGTERM to its group, then SIGKILL) and the pty."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        os.close(self.master)
