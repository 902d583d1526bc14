"""Server-sent events, parsed line by line (the text/event-stream format of the HTML spec)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerEvent:
    """One dispatched event: its type (``message`` when unnamed), data and id (if it had one)."""

    event: str
    data: str
    id: str | None


class EventParser:
    """Feed lines (without their line ending); complete events come back one at a time."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        #: the reconnection delay the server asked for (``retry:``), in seconds
        self.retry_seconds: float | None = None

    def feed(self, line: str) -> ServerEvent | None:
        """Take one line; a blank line ends an event and returns it (if it carried data)."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the server's heartbeat
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_seconds = int(value) / 1000.0
        return None

    def _dispatch(self) -> ServerEvent | None:
        event, data, self._event, self._data = self._event, self._data, "", []
        if not data:
            return None
        return ServerEvent(event or "message", "\n".join(data), self._id)
