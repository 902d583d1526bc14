"""Runner of the `http` job type: one request; status, elapsed time and a body excerpt."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from core.jobs.types.context import JobContext, JobFailed

if TYPE_CHECKING:
    import httpx
from core.jobs.types.http import HttpConfig

#: How much of the body the result keeps; the rest is never downloaded.
EXCERPT_BYTES = 2048


def warm() -> None:
    """Import httpx (the fork server calls this once, so children start warm)."""
    # Not at module level: importing httpx pulls in rich (its CLI), and core must not
    # import UI libraries (tests/test_layering.py).
    import httpx  # noqa: F401


def _read_excerpt(response: httpx.Response) -> bytes:
    buffer = bytearray()
    for piece in response.iter_bytes():
        buffer += piece
        if len(buffer) >= EXCERPT_BYTES:
            break
    return bytes(buffer[:EXCERPT_BYTES])


def run(context: JobContext) -> dict[str, Any]:
    """Send the request; fail (with the result kept) when the status is not an expected one."""
    import httpx

    config = context.config
    assert isinstance(config, HttpConfig)
    url = str(config.url)
    started = time.perf_counter()
    try:
        with (
            httpx.Client(verify=config.verify_tls, timeout=config.timeout_seconds) as client,
            client.stream(
                config.method,
                url,
                headers=config.headers,
                content=config.body.encode() if config.body is not None else None,
            ) as response,
        ):
            excerpt = _read_excerpt(response)
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
            encoding = response.charset_encoding or "utf-8"
    except httpx.HTTPError as exc:
        raise JobFailed(f"{config.method} {url} failed: {type(exc).__name__}: {exc}") from None
    result = {
        "status": response.status_code,
        "elapsed_ms": elapsed_ms,
        "body_excerpt": excerpt.decode(encoding, errors="replace"),
        "url": url,
    }
    print(f"{config.method} {url} -> {response.status_code} in {elapsed_ms} ms", flush=True)
    if response.status_code not in config.expected_status:
        expected = ", ".join(str(code) for code in config.expected_status)
        raise JobFailed(
            f"HTTP {response.status_code} is not an expected status ({expected})", result=result
        )
    return result
