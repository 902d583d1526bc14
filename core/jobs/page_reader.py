"""One thread per process reads SQLite runs pages, off the event loop.

sqlite3 releases the GIL around every row it steps to, so several threads reading pages at
once hand the GIL to each other about once per row; each handoff is a context switch. Four
listing requests at once spent more CPU on that than on the query (benchmarks/api_runs.py:
~3.0 ms of server CPU per request in the default pool, ~2.3 ms with one reader thread). One
thread reads the pages in turn instead: the Python part of reading them holds the GIL
anyway, so only the overlap of disk reads is given up.

A quick page (core.jobs.runs.quick_page: no filter, no total, an indexed order) is read on
the event loop instead (LocalBackend.list_runs): it holds the loop about a millisecond, and
reading it there spares the GIL handoffs between this thread and the loop serving others.

A page that needs a sort or a scan (sorting 1M runs by name takes ~1 s) must not hold up the
pages behind it: once the reader has been on one page for ``STUCK_SECONDS``, new pages go to
the default pool until it is free again. Counts and other reads always use the default pool,
and so do PostgreSQL pages: psycopg waits for a query's rows once, not row by row.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: How long one page may occupy the reader before new pages are read in the default pool.
STUCK_SECONDS = 0.05

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()
#: when the reader started the page it is on (monotonic), None while it is idle
_busy_since: float | None = None


def _forget() -> None:
    """In a forked child the reader thread does not exist: start afresh on first use."""
    global _executor, _lock, _busy_since
    _executor = None
    _lock = threading.Lock()
    _busy_since = None


os.register_at_fork(after_in_child=_forget)


def _reader() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobdeck-pages")
        return _executor


def _timed(call: Callable[[], T]) -> T:
    global _busy_since
    _busy_since = time.monotonic()
    try:
        return call()
    finally:
        _busy_since = None


async def read_page(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` on the page reader thread, or in the default pool while the
    reader is stuck on a slow page (with the caller's context vars, as ``asyncio.to_thread``
    runs it)."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    loop = asyncio.get_running_loop()
    since = _busy_since
    if since is not None and time.monotonic() - since >= STUCK_SECONDS:
        return await loop.run_in_executor(None, call)
    return await loop.run_in_executor(_reader(), functools.partial(_timed, call))
