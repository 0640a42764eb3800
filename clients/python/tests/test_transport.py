"""The transport on its own, against a small local HTTP server: Retry-After with a bounded wait, keep-alive reuse."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List, Tuple

import pytest

from docket_client import Client, RateLimited


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next (status, Retry-After) of the server's script, then 200."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        server = self.server
        server.seen.append((time.monotonic(), self.client_address[1]))  # type: ignore[attr-defined]
        status, retry_after = server.script.pop(0) if server.script else (200, None)  # type: ignore[attr-defined]
        body = json.dumps({"queues": []} if status == 200 else {"error": {"code": "RATE_LIMITED", "message": "slow down", "details": {}}}).encode()
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def scripted() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.script: List[Tuple[int, object]] = []  # type: ignore[misc]
    server.seen: List[Tuple[float, int]] = []  # type: ignore[misc]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_a_429_is_retried_after_its_retry_after(scripted: ThreadingHTTPServer) -> None:
    scripted.script[:] = [(429, "0.3"), (429, "0.2")]
    began = time.monotonic()
    assert Client(url(scripted), "k").queues() == []
    assert len(scripted.seen) == 3
    assert time.monotonic() - began >= 0.5


def test_the_wait_is_bounded_and_so_are_the_retries(scripted: ThreadingHTTPServer) -> None:
    scripted.script[:] = [(429, "3600")] * 10
    client = Client(url(scripted), "k", max_retries=2, max_backoff=0.1)
    began = time.monotonic()
    with pytest.raises(RateLimited) as limited:
        client.queues()
    assert limited.value.retry_after == 3600
    assert len(scripted.seen) == 3
    assert time.monotonic() - began < 2


def test_calls_reuse_one_kept_alive_connection_per_thread(scripted: ThreadingHTTPServer) -> None:
    client = Client(url(scripted), "k")
    for _ in range(5):
        client.queues()
    ports = {port for _, port in scripted.seen}
    assert len(ports) == 1
