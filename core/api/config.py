"""Tunables of the HTTP API (timings, limits), with production defaults; tests shrink them."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version


@dataclass(frozen=True)
class ApiSettings:
    """How the API behaves; every field has the value the daemon uses."""

    #: an idle event or log stream sends a comment this often, so proxies keep it open
    heartbeat_seconds: float = 15.0
    #: how often a stream looks for new changes or log output
    poll_seconds: float = 0.5
    #: a verified token is trusted this long before the database is asked again (so a
    #: revocation takes effect within this time)
    token_cache_seconds: float = 5.0
    #: how long an Idempotency-Key is remembered
    idempotency_ttl_seconds: float = 24 * 3600.0
    #: bodies larger than this are refused with 413
    max_body_bytes: int = 1024 * 1024
    #: `GET /api/job-runs?page=N` walks the keyset to reach deep pages; past this many rows
    #: the client must follow `next_cursor` instead
    max_page_offset: int = 10_000
    #: page cursors remembered for offset pages (so page N+1 after page N is one query)
    page_cursor_ttl_seconds: float = 60.0
    #: the longest a listing's ``total`` is reused while nothing changed
    run_total_ttl_seconds: float = 60.0


def api_version() -> str:
    """The installed jobdeck version (or the checkout's)."""
    try:
        return version("jobdeck")
    except PackageNotFoundError:
        return "0.1.0"
