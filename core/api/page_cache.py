"""Run pages kept as JSON until the database changes.

Consoles and scripts poll the same pages. With a million runs stored, reading a page of 100
and encoding it costs a few ms of server CPU per request (benchmarks/api_runs.py); sending a
kept one costs a tenth of that. A page is kept under the database's change token
(core/storage/data_version.py), read before the page is, so a page served from here is never
older than a fresh read would have been: any commit, by any process, retires every page.

Only the items and the next cursor are kept. ``total`` comes from TotalCache on every request,
under its own rules, so keeping pages changes no number a client sees.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from fastapi import Response
from pydantic import TypeAdapter

from core.api.schemas import JSON
from core.backend.views import RunPage, RunView
from core.storage.data_version import DataVersion

#: Pages kept (one per query string seen since the last change).
MAX_PAGES = 128

_ITEMS = TypeAdapter(tuple[RunView, ...])


@dataclass(frozen=True, slots=True)
class KeptPage:
    """One page's items as JSON, with its next cursor and the items' digest."""

    items_json: bytes
    next_cursor: str | None
    digest: bytes

    @classmethod
    def of(cls, found: RunPage) -> KeptPage:
        """``found`` encoded once."""
        items = _ITEMS.dump_json(found.items)
        return cls(items, found.next_cursor, hashlib.blake2b(items, digest_size=16).digest())

    def respond(self, total: int, page: int, page_size: int, if_none_match: str | None) -> Response:
        """The `GET /api/job-runs` answer (schemas.RunList, in its field order) with its entity
        tag, or 304 Not Modified when the client already holds it."""
        tail = json.dumps(
            {
                "total": total,
                "page": page,
                "page_size": page_size,
                "total_pages": (total + page_size - 1) // page_size,
                "next_cursor": self.next_cursor,
            },
            separators=(",", ":"),
        ).encode()
        # The tag covers the whole body: the items (by their digest) and the numbers after them.
        tag = '"' + hashlib.blake2b(self.digest + tail, digest_size=12).hexdigest() + '"'
        if if_none_match is not None and tag in (t.strip() for t in if_none_match.split(",")):
            return Response(status_code=304, headers={"ETag": tag})
        body = b'{"items":' + self.items_json + b"," + tail[1:]
        return Response(content=body, media_type=JSON, headers={"ETag": tag})


class PageCache:
    """Run pages by query string, valid while the database's change token is unchanged."""

    def __init__(self, version: DataVersion, max_pages: int = MAX_PAGES) -> None:
        self.version = version
        self.max_pages = max_pages
        self._token: Hashable = None
        self._pages: OrderedDict[str, KeptPage] = OrderedDict()

    async def token(self) -> Hashable:
        """The database's change token now (read on the loop when that costs no query)."""
        if self.version.inline:
            return self.version.current()
        return await asyncio.to_thread(self.version.current)

    def get(self, key: str, token: Hashable) -> KeptPage | None:
        """The page kept for ``key``, if the database has not changed since (``token``)."""
        if token != self._token:
            return None
        return self._pages.get(key)

    def keep(self, key: str, token: Hashable, found: RunPage) -> KeptPage:
        """Keep ``found``, read after ``token`` was, for ``key``; returns it as kept."""
        kept = KeptPage.of(found)
        if token != self._token:
            self._pages.clear()
            self._token = token
        self._pages[key] = kept
        self._pages.move_to_end(key)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        return kept

    def close(self) -> None:
        """Forget every page and release the token's connection."""
        self._pages.clear()
        self.version.close()
