"""The real console in a pseudo-terminal, with what it drew readable as text.

A thread drains the terminal into a buffer (a console whose output nobody reads blocks); the
text is the output with its escape sequences taken out, enough to find what a widget wrote
(a label's text goes out in one piece).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JOBDECK = [sys.executable, "-c", "from console.entry import main; raise SystemExit(main())"]
_ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|.)")


class PtyConsole:
    """`jobdeck ARGS` on a terminal of ``columns`` x ``rows``; killed at the end of ``with``."""

    def __init__(
        self,
        env: dict[str, str],
        *args: str,
        columns: int = 200,
        rows: int = 40,
        program: list[str] | None = None,
    ) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            [*(program or JOBDECK), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color"},
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self._output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._output.extend(chunk)

    def mark(self) -> int:
        """A position in the output: ``text(after=mark)`` is what was drawn since."""
        with self._lock:
            return len(self._output)

    def text(self, after: int = 0) -> str:
        """What the console drew after ``after``, without escape sequences."""
        with self._lock:
            raw = bytes(self._output[after:])
        return _ESCAPES.sub(b"", raw).decode(errors="replace")

    def wait_for(self, pattern: str, seconds: float = 60, after: int = 0) -> re.Match[str]:
        """The first match of ``pattern`` drawn after ``after``, waiting up to ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            found = re.search(pattern, self.text(after))
            if found:
                return found
            if self.process.poll() is not None:
                raise AssertionError(f"the console exited {self.process.returncode}")
            if time.monotonic() > deadline:
                tail = self.text(after)[-3000:]
                raise AssertionError(f"{pattern!r} not drawn within {seconds}s; drew:\n{tail}")
            time.sleep(0.1)

    def type(self, keys: bytes) -> None:
        """Type ``keys`` into the console's terminal."""
        os.write(self.master, keys)

    def __enter__(self) -> PtyConsole:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
        self.process.wait()
        os.close(self.master)
        self._reader.join(5)


def until(check: Callable[[], object], seconds: float, what: str) -> float:
    """Poll ``check`` until it is true; the seconds it took (AssertionError after ``seconds``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"{what}: not within {seconds}s")
        time.sleep(0.1)
    return time.monotonic() - started
