"""Run logs: decoding, masking, head-and-tail capping (F26) and chunked storage."""

from __future__ import annotations

import asyncio
import re
import resource
from datetime import UTC, datetime
from typing import Any

from core.jobs.executor.logsink import CHUNK_BYTES, LogSink

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def sink(budget: int = 10_000, secrets: tuple[str, ...] = ()) -> LogSink:
    """A sink for run 1, attempt 1."""
    return LogSink(1, 1, next_seq=1, budget=budget, secrets=secrets, now=lambda: NOW)


def text(rows: list[dict[str, Any]], stream: str | None = None) -> str:
    """The rows' data joined (optionally one stream)."""
    return "".join(r["data"] for r in rows if stream is None or r["stream"] == stream)


def test_output_is_kept_in_arrival_order_as_few_rows() -> None:
    log = sink()
    for line in range(50):
        log.feed("stdout", f"line {line}\n".encode())
    log.feed("stderr", b"warning\n")
    log.feed("stdout", b"tail\n")
    rows = log.take_rows() + log.close()
    assert [r["stream"] for r in rows] == ["stdout", "stderr", "stdout"]
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert text(rows).startswith("line 0\nline 1\n")
    assert log.stored_bytes == len(text(rows).encode())


def test_utf8_split_across_reads_invalid_bytes_and_nul() -> None:
    log = sink()
    data = "grüße €\n".encode()
    for index in range(len(data)):  # one byte at a time: every character split
        log.feed("stdout", data[index : index + 1])
    log.feed("stdout", b"bad \xff\xfe bytes \x00 end\n")
    rows = log.close()
    assert text(rows) == "grüße €\nbad \ufffd\ufffd bytes \ufffd end\n"


def test_the_cap_keeps_head_and_tail_with_a_marker_saying_how_much_was_dropped() -> None:
    log = sink(budget=1000)
    body = b"".join(f"{n:05d}\n".encode() for n in range(2000))  # 12,000 bytes
    for start in range(0, len(body), 700):
        log.feed("stdout", body[start : start + 700])
    rows = log.take_rows() + log.close()
    out = text(rows, "stdout")
    assert out.startswith("00000\n00001\n")
    assert out.endswith("01998\n01999\n")
    assert len(out.encode()) == 1000
    [marker] = [r["data"] for r in rows if r["stream"] == "system"]
    assert "10.7 KiB (11000 bytes) dropped" in marker
    streams = [r["stream"] for r in rows]
    assert streams.index("system") == len(streams) - 2  # between head and tail
    assert log.dropped_bytes == 11_000


def test_output_just_under_the_cap_is_kept_whole() -> None:
    log = sink(budget=1000)
    payload = ("é" * 450).encode()  # 900 bytes: past the head half, under the cap
    for start in range(0, len(payload), 7):
        log.feed("stdout", payload[start : start + 7])
    rows = log.close()
    assert text(rows) == "é" * 450
    assert log.dropped_bytes == 0


def test_a_full_chunk_asks_for_a_flush_and_rows_stay_bounded() -> None:
    log = sink(budget=10 * CHUNK_BYTES)
    assert log.feed("stdout", b"x" * (CHUNK_BYTES - 1)) is False
    assert log.feed("stdout", b"x" * 10) is True
    rows = log.take_rows()
    assert max(len(r["data"]) for r in rows) <= CHUNK_BYTES


def test_secrets_are_masked_even_when_split_across_reads() -> None:
    log = sink(secrets=("hunter22", "tok"))
    log.feed("stdout", b"pass=hunt")
    log.feed("stdout", b"er22 and tok and hunter")
    log.feed("stdout", b"22\n")
    rows = log.take_rows() + log.close()
    assert text(rows) == "pass=******** and ******** and ********\n"


async def test_huge_binary_output_is_capped_and_memory_stays_bounded_f26(deck: Any) -> None:
    # 50 MB of random bytes (invalid UTF-8, NULs) between two readable markers.
    script = (
        "echo FIRST-LINE; head -c 50000000 /dev/urandom; echo; echo LAST-LINE; echo to-stderr >&2"
    )
    run_id = deck.run(deck.shell(script))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    executor = await deck.started(max_log_bytes=1024 * 1024)
    stalls: list[float] = []

    async def watch_loop() -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(0.01)
            stalls.append(loop.time() - started - 0.01)

    watcher = asyncio.create_task(watch_loop())
    run = await deck.wait_for(run_id, within=120)
    watcher.cancel()
    assert run.status == "completed"
    log = deck.log(run_id)
    assert log.startswith("FIRST-LINE\n")
    assert "LAST-LINE\n" in log[-2000:]
    assert deck.log(run_id, "stderr") == "to-stderr\n"
    marker = deck.log(run_id, "system")
    dropped = int(re.search(r"\((\d+) bytes\) dropped", marker).group(1))
    assert 48_000_000 < dropped < 50_000_100
    assert run.log_size <= 1024 * 1024 + 4 * 1024 * 1024  # replacement chars take 3 bytes
    assert run.log_size == len(log.encode())
    assert all(len(c.data) <= CHUNK_BYTES for c in deck.chunks(run_id))
    # ru_maxrss is in KiB: the owner never held the 50 MB.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 40 * 1024
    # The event loop (which the TUI shares) kept turning.
    assert max(stalls) < 0.5
    await executor.wait_idle()
