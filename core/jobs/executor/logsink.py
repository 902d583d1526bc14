"""One attempt's output on its way to the run log: decoded, masked, capped (head and tail kept)."""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

#: A chunk row holds at most this much; a sink holding this much asks for a flush.
CHUNK_BYTES = 64 * 1024
#: PostgreSQL text cannot hold NUL; binary output keeps its length with a visible stand-in.
_NUL_STANDIN = "\ufffd"


def _decoder() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")(errors="replace")


def describe_bytes(count: int) -> str:
    """``12.5 MiB (13107200 bytes)``."""
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{count} bytes" if unit == "bytes" else f"{size:.1f} {unit} ({count} bytes)"
        size /= 1024
    raise AssertionError("unreachable")


class _Masker:
    """Replaces secret values; holds back a stream's last few characters, which may start one."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = secrets
        self.hold = max((len(s) for s in secrets), default=1) - 1
        self.carry: dict[str, str] = {}

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "********")
        return text

    def feed(self, stream: str, text: str) -> str:
        if not self.secrets:
            return text
        text = self._mask(self.carry.pop(stream, "") + text)
        if self.hold and len(text) > self.hold:
            self.carry[stream] = text[-self.hold :]
            return text[: -self.hold]
        self.carry[stream] = text
        return ""

    def finish(self, stream: str) -> str:
        return self._mask(self.carry.pop(stream, ""))


class LogSink:
    """Collects output as chunk rows; past the cap it keeps only a bounded tail in memory (F26)."""

    def __init__(
        self,
        run_id: int,
        attempt: int,
        *,
        next_seq: int,
        budget: int,
        secrets: tuple[str, ...],
        now: Callable[[], datetime],
    ) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.seq = next_seq
        self.head_room = budget // 2
        self.tail_room = budget - self.head_room
        self.now = now
        self.stored_bytes = 0
        self.dropped_bytes = 0
        self._decoders: dict[str, codecs.IncrementalDecoder] = {}
        self._masker = _Masker(secrets)
        # (stream, pieces) in arrival order; pieces are joined only when rows are made.
        self._pending: list[tuple[str, list[str]]] = []
        self._pending_size = 0
        self._tail: deque[tuple[str, bytes]] = deque()
        self._tail_size = 0

    @property
    def pending_size(self) -> int:
        """Characters waiting to become rows."""
        return self._pending_size

    def feed(self, stream: str, data: bytes) -> bool:
        """Take output; True when enough is waiting that it should be flushed now."""
        if self.head_room > 0:
            head = data[: self.head_room]
            self.head_room -= len(head)
            self._add_text(stream, self._decode(stream, head))
            data = data[len(head) :]
        if data:
            self._keep_tail(stream, data)
        return self._pending_size >= CHUNK_BYTES

    def system(self, text: str) -> None:
        """A line from jobdeck itself (why a run ended, what was dropped)."""
        self._add_raw("system", text if text.endswith("\n") else text + "\n")

    def take_rows(self) -> list[dict[str, Any]]:
        """The chunk rows collected since the last call, in order."""
        if not self._pending:
            return []
        created_at = self.now()
        rows = []
        for stream, pieces in self._pending:
            text = "".join(pieces)
            for start in range(0, len(text), CHUNK_BYTES):
                piece = text[start : start + CHUNK_BYTES]
                self.stored_bytes += len(piece.encode())
                rows.append(
                    {
                        "run_id": self.run_id,
                        "attempt": self.attempt,
                        "seq": self.seq,
                        "stream": stream,
                        "created_at": created_at,
                        "data": piece,
                    }
                )
                self.seq += 1
        self._pending = []
        self._pending_size = 0
        return rows

    def close(self, note: str | None = None) -> list[dict[str, Any]]:
        """The last rows: the rest of the head, the drop marker, the tail, then ``note``."""
        if self.dropped_bytes == 0:
            # Nothing was dropped: the tail continues the head seamlessly.
            for stream, data in self._tail:
                self._add_text(stream, self._decode(stream, data))
        self._finish_streams()
        if self.dropped_bytes:
            self.system(
                f"[jobdeck] output over the log cap: {describe_bytes(self.dropped_bytes)} "
                "dropped here; the first and the last part of the output are kept"
            )
            self._decoders = {}
            started: set[str] = set()
            for stream, data in self._tail:
                if stream not in started:
                    started.add(stream)
                    # The cut may fall inside a character: skip its continuation bytes.
                    skip = 0
                    while skip < 3 and skip < len(data) and 0x80 <= data[skip] < 0xC0:
                        skip += 1
                    data = data[skip:]
                self._add_text(stream, self._decode(stream, data))
            self._finish_streams()
        self._tail.clear()
        self._tail_size = 0
        if note:
            self.system(note)
        return self.take_rows()

    def _decode(self, stream: str, data: bytes) -> str:
        decoder = self._decoders.get(stream)
        if decoder is None:
            decoder = self._decoders[stream] = _decoder()
        return decoder.decode(data)

    def _finish_streams(self) -> None:
        for stream, decoder in list(self._decoders.items()):
            self._add_text(stream, decoder.decode(b"", final=True))
            self._add_raw(stream, self._masker.finish(stream))

    def _add_text(self, stream: str, text: str) -> None:
        self._add_raw(stream, self._masker.feed(stream, text))

    def _add_raw(self, stream: str, text: str) -> None:
        if not text:
            return
        if "\x00" in text:
            text = text.replace("\x00", _NUL_STANDIN)
        if self._pending and self._pending[-1][0] == stream:
            self._pending[-1][1].append(text)
        else:
            self._pending.append((stream, [text]))
        self._pending_size += len(text)

    def _keep_tail(self, stream: str, data: bytes) -> None:
        self._tail.append((stream, data))
        self._tail_size += len(data)
        excess = self._tail_size - self.tail_room
        while excess > 0:
            old_stream, oldest = self._tail[0]
            if len(oldest) <= excess:
                self._tail.popleft()
                cut = len(oldest)
            else:
                self._tail[0] = (old_stream, oldest[excess:])
                cut = excess
            self._tail_size -= cut
            self.dropped_bytes += cut
            excess -= cut
