"""HTTP jobs against a real loopback server: expected and unexpected status, body excerpt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class _Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str, bytes]] = []

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, self.headers.get("X-Token", ""), b""))
        if self.path == "/ok":
            self._reply(200, "héllo from the server\n".encode())
        elif self.path == "/big":
            self._reply(200, b"x" * 100_000)
        else:
            self._reply(503, b"down for maintenance")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append(("POST", self.path, self.headers.get("X-Token", ""), body))
        self._reply(201, b"created")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A loopback HTTP server; its base URL."""
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


async def test_expected_status_completes_with_status_time_and_excerpt(
    deck: Any, server: str
) -> None:
    run_id = deck.run(deck.template("http", {"url": f"{server}/ok"}))
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "completed"
    assert run.result["status"] == 200
    assert run.result["body_excerpt"] == "héllo from the server\n"
    assert run.result["elapsed_ms"] >= 0
    assert f"GET {server}/ok -> 200" in deck.log(run_id, "stdout")


async def test_unexpected_status_fails_and_keeps_the_result(deck: Any, server: str) -> None:
    run_id = deck.run(deck.template("http", {"url": f"{server}/down"}))
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "failed"
    assert run.error_message == "HTTP 503 is not an expected status (200)"
    assert run.result["status"] == 503
    assert run.result["body_excerpt"] == "down for maintenance"


async def test_method_headers_body_and_custom_expected_status(deck: Any, server: str) -> None:
    config = {
        "url": f"{server}/items",
        "method": "POST",
        "headers": {"X-Token": "abc"},
        "body": '{"name": "x"}',
        "expected_status": [201],
    }
    run_id = deck.run(deck.template("http", config))
    executor = await deck.started()
    await executor.wait_idle()
    assert deck.get(run_id).status == "completed"
    assert ("POST", "/items", "abc", b'{"name": "x"}') in _Handler.seen


async def test_the_excerpt_is_capped(deck: Any, server: str) -> None:
    run_id = deck.run(deck.template("http", {"url": f"{server}/big"}))
    executor = await deck.started()
    await executor.wait_idle()
    assert deck.get(run_id).result["body_excerpt"] == "x" * 2048


async def test_an_unreachable_server_fails_clearly(deck: Any) -> None:
    run_id = deck.run(deck.template("http", {"url": "http://127.0.0.1:9/", "timeout_seconds": 2}))
    executor = await deck.started()
    await executor.wait_idle()
    run = deck.get(run_id)
    assert run.status == "failed"
    assert run.error_message.startswith("GET http://127.0.0.1:9/ failed: ConnectError")
