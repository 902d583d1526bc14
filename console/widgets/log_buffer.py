"""A run log as display lines: chunks split into clean lines, capped, searchable (no UI here).

A job may print 100k lines a second, so lines are kept in columns (texts, widths) that grow
by C-speed list extends; where a line came from (stream, time) is kept once per chunk.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from rich.cells import cell_len

from core.backend.views import LogChunkView

# Terminal escape sequences (colours, cursor moves, titles) would show as garbage: drop them.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
# Control characters other than tab and carriage return (those are handled first); a stray ESC
# left after the escape sequences are gone is one of them.
_CONTROLS = re.compile("[\x00-\x08\x0a-\x0c\x0e-\x1f\x7f]")


class LogLine(NamedTuple):
    """One display line: its text, the stream it came from, when it arrived, its width."""

    text: str
    stream: str
    at: datetime
    cells: int


class ParsedChunk(NamedTuple):
    """A chunk split into clean lines; ``open_end``: its last line is not finished yet."""

    stream: str
    attempt: int
    at: datetime
    texts: list[str]
    widths: list[int]
    open_end: bool


def clean(raw: str) -> str:
    """A line as a terminal would leave it: no escapes, tabs expanded, ``\\r`` overwrites."""
    return _clean_line(_ESCAPES.sub("", raw) if "\x1b" in raw else raw)


def _clean_line(line: str) -> str:
    line = line.rstrip("\r")
    if "\r" in line:
        line = line.rsplit("\r", 1)[1]
    if "\t" in line:
        line = line.expandtabs()
    return _CONTROLS.sub("\ufffd", line)


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def parse_chunks(chunks: Sequence[LogChunkView]) -> list[ParsedChunk]:
    """Split chunks into clean lines with their widths.

    The common case (printable ASCII) takes only C-speed passes; other lines are cleaned one
    by one.
    """
    parsed = []
    for chunk in chunks:
        data = chunk.data
        if "\x1b" in data:
            data = _ESCAPES.sub("", data)
        texts = data.split("\n")
        open_end = texts[-1] != ""
        if not open_end:
            texts.pop()
        if not all(map(str.isprintable, texts)):
            texts = [text if text.isprintable() else _clean_line(text) for text in texts]
        widths = list(map(len if data.isascii() else _width, texts))
        parsed.append(
            ParsedChunk(chunk.stream, chunk.attempt, chunk.created_at, texts, widths, open_end)
        )
    return parsed


class LogBuffer:
    """The newest ``max_lines`` lines of a log.

    Lines have stable numbers (``number``) that survive dropping old lines; indexes into
    ``texts`` and ``widths`` shift by ``dropped`` whenever old lines go.
    """

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self.texts: list[str] = []
        self.widths: list[int] = []
        self.dropped = 0
        self.widest = 0
        # Where each chunk's lines start (line numbers) and its (stream, time).
        self._starts: list[int] = []
        self._origins: list[tuple[str, datetime]] = []
        # stream -> number of its last line while that line is still unfinished
        self._open: dict[str, int] = {}
        self._attempt: int | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def number(self, index: int) -> int:
        """The stable number of the line at ``index``."""
        return self.dropped + index

    def index(self, number: int) -> int:
        """The index of line ``number`` (negative once it was dropped)."""
        return number - self.dropped

    def line(self, index: int) -> LogLine:
        """The line at ``index`` with where it came from."""
        origin = bisect_right(self._starts, self.number(index)) - 1
        stream, at = self._origins[origin]
        return LogLine(self.texts[index], stream, at, self.widths[index])

    def extend(self, parsed: Sequence[ParsedChunk]) -> tuple[int, int]:
        """Add parsed chunks; returns the number of the first new or changed line and how many
        old lines were dropped to stay within ``max_lines``."""
        first_changed = self.number(len(self.texts))
        for chunk in parsed:
            if self._attempt is not None and chunk.attempt != self._attempt:
                self._open.clear()
                self._add("system", chunk.at, [f"── attempt {chunk.attempt} ──"], None)
            self._attempt = chunk.attempt
            texts, widths = chunk.texts, chunk.widths
            last = self._open.pop(chunk.stream, None)
            if last is not None and texts and last >= self.dropped:
                index = self.index(last)
                self.texts[index] += texts[0]
                self.widths[index] += widths[0]
                self.widest = max(self.widest, self.widths[index])
                first_changed = min(first_changed, last)
                texts, widths = texts[1:], widths[1:]
            if texts:
                self._add(chunk.stream, chunk.at, texts, widths)
                last = self.number(len(self.texts) - 1)
            if chunk.open_end and last is not None:
                self._open[chunk.stream] = last
        return first_changed, self._prune()

    def _add(self, stream: str, at: datetime, texts: list[str], widths: list[int] | None) -> None:
        if not self._origins or self._origins[-1] != (stream, at):
            self._starts.append(self.number(len(self.texts)))
            self._origins.append((stream, at))
        self.texts.extend(texts)
        widths = widths if widths is not None else [cell_len(text) for text in texts]
        self.widths.extend(widths)
        self.widest = max(self.widest, max(widths))

    def _prune(self) -> int:
        # Drop in batches of a tenth, so a steady stream does not shift the lists every time.
        excess = len(self.texts) - self.max_lines
        if excess <= 0 or (excess < self.max_lines // 10 and excess < 10_000):
            return 0
        del self.texts[:excess], self.widths[:excess]
        self.dropped += excess
        still_used = bisect_right(self._starts, self.dropped) - 1
        del self._starts[:still_used], self._origins[:still_used]
        return excess

    def find(self, term: str, start: int = 0) -> list[tuple[int, int, int]]:
        """Every hit of ``term`` from index ``start`` on, as (line number, start, end).

        Smart case: a term in lower case matches any case; one with capitals matches exactly.
        """
        if not term:
            return []
        fold = term == term.lower()
        hits = []
        width = len(term)
        for index in range(start, len(self.texts)):
            text = self.texts[index]
            haystack = text.lower() if fold else text
            position = haystack.find(term)
            while position != -1:
                hits.append((self.dropped + index, position, position + width))
                position = haystack.find(term, position + width)
        return hits
