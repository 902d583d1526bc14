"""Cockpit's page numbers over jobdeck's keyset pages.

The backend pages runs by cursor (stable under inserts, no OFFSET scans). ``page=N`` is served
by walking cursors from the nearest page whose cursor is remembered: page N+1 right after
page N costs one query. A remembered cursor is a position in the sort order, so within its
TTL a page does not shift when new runs arrive (unlike OFFSET, which repeats rows then).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from core.backend.inputs import RunQuery
from core.backend.protocol import Backend
from core.backend.views import RunPage
from core.errors import ValidationFailed

#: Rows read per step while walking to a deep page (the backend's largest page).
WALK_STEP = 1000
_MAX_QUERIES = 256


class PageCursors:
    """Where page N of a listing starts, per (filters, page size), for ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._listings: OrderedDict[str, tuple[float, dict[int, str]]] = OrderedDict()

    def _pages(self, key: str) -> dict[int, str]:
        now = time.monotonic()
        entry = self._listings.get(key)
        if entry is None or now - entry[0] >= self.ttl:
            entry = (now, {})
            self._listings[key] = entry
            while len(self._listings) > _MAX_QUERIES:
                self._listings.popitem(last=False)
        return entry[1]

    def nearest(self, key: str, page: int) -> tuple[int, str | None]:
        """The highest remembered page at or below ``page`` and its cursor (page 1: None)."""
        pages = self._pages(key)
        known = [p for p in pages if p <= page]
        if not known:
            return 1, None
        best = max(known)
        return best, pages[best]

    def remember(self, key: str, page: int, cursor: str | None) -> None:
        """Page ``page`` starts after ``cursor``."""
        if cursor is not None:
            self._pages(key)[page] = cursor


async def numbered_page(
    backend: Backend,
    query: RunQuery,
    page: int,
    page_size: int,
    cursors: PageCursors,
    max_offset: int,
) -> RunPage:
    """Page ``page`` (1-based) of ``page_size`` runs matching ``query``."""
    offset = (page - 1) * page_size
    if offset > max_offset:
        raise ValidationFailed(
            "page",
            f"pages past row {max_offset} are served by cursor: follow next_cursor "
            "(?cursor=...) instead of a page number",
        )
    key = f"{page_size}:{query.model_dump_json(exclude={'cursor', 'limit'})}"
    at, cursor = cursors.nearest(key, page)
    step_pages = max(1, WALK_STEP // page_size)
    while at < page:
        pages = min(step_pages, page - at)
        probe = await backend.list_runs(
            query.model_copy(update={"limit": pages * page_size, "cursor": cursor})
        )
        if probe.next_cursor is None:  # the listing ends before the page asked for
            return RunPage(items=(), total=probe.total, next_cursor=None)
        at, cursor = at + pages, probe.next_cursor
        cursors.remember(key, at, cursor)
    found = await backend.list_runs(query.model_copy(update={"limit": page_size, "cursor": cursor}))
    cursors.remember(key, page + 1, found.next_cursor)
    return found


@dataclass(slots=True)
class _Total:
    counted_at: float
    #: when the change feed was last seen at ``version`` (the total was exact then)
    checked_at: float
    version: int
    total: int


class TotalCache:
    """Cockpit's ``total`` per filter set, counted again only when something changed.

    An unfiltered COUNT over a million runs costs ~100-200 ms; a listing polled by several
    clients must not pay it per request. A total is reused while the change feed has not
    moved (one primary-key read tells), and at most ``busy_seconds`` old while it moves on
    a busy system (then it may lag a little; the items never do). Within ``busy_seconds`` of
    the last look at the feed the total is reused without looking again, sparing a listing
    request a query and a thread hop.
    """

    def __init__(
        self,
        ttl: float,
        busy_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.busy_seconds = busy_seconds
        self.monotonic = monotonic
        self._totals: OrderedDict[str, _Total] = OrderedDict()

    async def total(self, backend: Backend, query: RunQuery) -> int:
        """How many runs match ``query`` (filters only; sort, cursor and limit ignored)."""
        key = query.model_dump_json(include=FILTER_FIELDS)
        now = self.monotonic()
        cached = self._totals.get(key)
        if cached is not None and now - cached.checked_at < self.busy_seconds:
            return cached.total
        version = (await backend.changes(None)).cursor
        if cached is not None and cached.version == version and now - cached.counted_at < self.ttl:
            cached.checked_at = now
            return cached.total
        counts = await backend.run_counts(query)
        self._totals[key] = _Total(now, now, version, sum(counts.values()))
        self._totals.move_to_end(key)
        while len(self._totals) > _MAX_QUERIES:
            self._totals.popitem(last=False)
        return self._totals[key].total


#: The RunQuery fields that decide which runs match.
FILTER_FIELDS = {
    "status",
    "job_type",
    "triggered_by",
    "template_id",
    "schedule_id",
    "since",
    "until",
    "search",
}
