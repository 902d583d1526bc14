"""Framing between the executor and its fork server: length-prefixed JSON, fds alongside."""

from __future__ import annotations

import json
import os
import struct
from collections import deque
from collections.abc import Iterator
from typing import Any

_HEADER = struct.Struct("!I")
#: A request carries an environment and a config; anything bigger is a bug or an attack.
MAX_MESSAGE = 64 * 1024 * 1024


class ProtocolError(Exception):
    """The other side sent something that is not a message."""


def encode(message: dict[str, Any]) -> bytes:
    """One framed message. No pickle: only JSON crosses the process boundary."""
    payload = json.dumps(message, separators=(",", ":")).encode()
    if len(payload) > MAX_MESSAGE:
        raise ProtocolError(f"message of {len(payload)} bytes is over the limit")
    return _HEADER.pack(len(payload)) + payload


class Decoder:
    """Reassembles messages from a byte stream; a message claims its fds by count ("nfds")."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._fds: deque[int] = deque()

    def feed(self, data: bytes, fds: list[int] | None = None) -> None:
        """Add received bytes (and the fds that came with them, in order)."""
        self._buffer += data
        if fds:
            self._fds.extend(fds)

    def messages(self) -> Iterator[tuple[dict[str, Any], list[int]]]:
        """Every complete message received so far, with its fds."""
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > MAX_MESSAGE:
                raise ProtocolError(f"message of {size} bytes is over the limit")
            end = _HEADER.size + size
            if len(self._buffer) < end:
                return
            message = json.loads(bytes(self._buffer[_HEADER.size : end]))
            del self._buffer[:end]
            if not isinstance(message, dict):
                raise ProtocolError("a message must be a JSON object")
            count = int(message.get("nfds", 0))
            if count > len(self._fds):
                raise ProtocolError("a message claims more fds than were received")
            yield message, [self._fds.popleft() for _ in range(count)]

    def close_fds(self) -> None:
        """Close fds received but never claimed."""
        while self._fds:
            os.close(self._fds.popleft())
