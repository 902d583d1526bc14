"""The function the python-job benchmark calls (in a forked child, or a fresh interpreter)."""

from __future__ import annotations

import hashlib
from typing import Any


def work(rounds: int = 100) -> dict[str, Any]:
    """A little CPU work and a JSON-able result, like a small maintenance job."""
    digest = b""
    for index in range(rounds):
        digest = hashlib.sha256(digest + index.to_bytes(4, "big")).digest()
    return {"rounds": rounds, "digest": digest.hex()}
