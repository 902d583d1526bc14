"""SQLite runs pages are read on one thread of their own, off the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading

import pytest

from core.backend.inputs import RunQuery
from core.backend.local import LocalBackend
from core.backend.views import RunPage
from core.jobs.audit import Actor
from core.jobs.page_reader import STUCK_SECONDS, read_page
from core.storage.database import Database

REQUEST = contextvars.ContextVar("REQUEST", default="none")


def _where(tag: str, *, suffix: str = "") -> tuple[str, str, str]:
    return threading.current_thread().name, REQUEST.get(), tag + suffix


async def test_pages_are_read_on_one_thread_off_the_loop() -> None:
    REQUEST.set("req-1")
    calls = [read_page(_where, str(n), suffix="!") for n in range(8)]
    results = await asyncio.gather(*calls)
    threads = {thread for thread, _, _ in results}
    assert len(threads) == 1
    (thread,) = threads
    assert thread.startswith("jobdeck-pages") and thread != threading.current_thread().name
    assert [(context, tag) for _, context, tag in results] == [("req-1", f"{n}!") for n in range(8)]


async def test_pages_do_not_wait_behind_a_slow_page() -> None:
    release = threading.Event()

    def slow() -> str:
        release.wait(10)
        return threading.current_thread().name

    slow_page = asyncio.ensure_future(read_page(slow))
    await asyncio.sleep(STUCK_SECONDS * 3)  # the reader has been on the slow page for long
    thread, _, _ = await asyncio.wait_for(read_page(_where, "quick"), 5)
    assert not thread.startswith("jobdeck-pages")  # read in the default pool meanwhile
    assert not slow_page.done()
    release.set()
    assert (await slow_page).startswith("jobdeck-pages")
    thread, _, _ = await read_page(_where, "after")
    assert thread.startswith("jobdeck-pages")  # the reader is free again: back to it


async def test_an_error_on_the_reader_reaches_the_caller() -> None:
    def fail() -> None:
        raise LookupError("no such page")

    with pytest.raises(LookupError, match="no such page"):
        await read_page(fail)
    assert await read_page(len, "still serving") == len("still serving")


def _watched(database: Database) -> tuple[LocalBackend, list[str]]:
    """A local backend, and the names of the threads its runs pages are read on."""
    backend = LocalBackend(database, actor=Actor("tester", "cli"), default_zone="UTC")
    seen: list[str] = []
    real = backend.runs.page

    def page(query: RunQuery) -> RunPage:
        seen.append(threading.current_thread().name)
        return real(query)

    backend.runs.page = page  # type: ignore[method-assign]
    return backend, seen


async def test_the_local_backend_reads_sqlite_pages_on_the_reader(database: Database) -> None:
    backend, seen = _watched(database)
    found = await backend.list_runs(RunQuery(limit=5))
    assert found.items == ()
    (thread,) = seen
    assert thread != threading.current_thread().name
    # PostgreSQL pages keep the default pool: psycopg releases the GIL once per query
    assert thread.startswith("jobdeck-pages") == database.is_sqlite


async def test_a_quick_sqlite_page_is_read_on_the_loop(database: Database) -> None:
    backend, seen = _watched(database)
    await backend.list_runs(RunQuery(limit=100, with_total=False))
    await backend.list_runs(RunQuery(limit=100, with_total=False, status=("failed",)))
    quick, filtered = seen
    assert (quick == threading.current_thread().name) == database.is_sqlite
    assert filtered != threading.current_thread().name


def test_a_forked_child_reads_pages_on_a_thread_of_its_own() -> None:
    asyncio.run(read_page(len, "start the reader in the parent"))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            answer = asyncio.run(asyncio.wait_for(read_page(len, "child"), 10))
            os.write(write_end, str(answer).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        assert os.read(read_end, 16) == b"5"
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
