"""HTTP to a Docket server: one persistent (keep-alive) connection per thread, JSON in and out.

A worker calls the server from several threads at once (claims, heartbeats,
handlers' reports); each keeps its own connection, so that no call waits for
another's and no call pays a new TCP handshake. A connection the server
closed while it sat idle is opened again once, at once. A 429 (or a 503 with
Retry-After) is retried after the time the server asks for, a bounded number
of times with a bounded wait.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.parse
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

from ._version import __version__
from .errors import DocketError, RateLimited, Unavailable, error_from_response

Body = Union[bytes, Iterable[bytes], None]

# Errors that mean the server closed a kept-alive connection before it read the request.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class Response:
    """A finished answer (``body`` read), or an open one (``raw``) for streams."""

    def __init__(
        self,
        status: int,
        headers: http.client.HTTPMessage,
        body: bytes,
        raw: Optional[http.client.HTTPResponse] = None,
        sock: Optional[socket.socket] = None,
    ):
        self.status = status
        self.headers = headers
        self.body = body
        self.raw = raw
        self.sock = sock  # a stream's socket, to change its read timeout

    def close(self) -> None:
        """Ends a stream: its answer and its connection."""
        if self.raw is not None:
            self.raw.close()
        if self.sock is not None:
            self.sock.close()

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _retry_after_seconds(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Transport:
    def __init__(
        self,
        url: str,
        key: Optional[str],
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        max_backoff: float = 30.0,
    ) -> None:
        parts = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._key = key
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_backoff = max_backoff
        self._local = threading.local()
        self._all: "set[http.client.HTTPConnection]" = set()
        self._lock = threading.Lock()
        self._interrupts = 0  # interrupt() calls so far: a call they broke is not sent again
        self.requests = 0  # how many HTTP requests were sent (the benchmark and tests read it)

    # Connections

    def _new_connection(self, timeout: Optional[float]) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = cls(self._host, self._port, timeout=timeout)
        connection.connect()
        # Small requests and answers: send each at once rather than wait for Nagle's timer.
        if connection.sock is not None:
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._all.add(connection)
        return connection

    def _connection(self, timeout: Optional[float]) -> Tuple[http.client.HTTPConnection, bool]:
        """This thread's connection (and whether it was reused), its timeout set for this call."""
        connection: Optional[http.client.HTTPConnection] = getattr(self._local, "connection", None)
        if connection is not None and connection.sock is not None:
            connection.sock.settimeout(timeout)
            connection.timeout = timeout
            return connection, True
        connection = self._new_connection(timeout)
        self._local.connection = connection
        return connection, False

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._lock:
            self._all.discard(connection)
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None

    def interrupt(self) -> None:
        """Breaks every open connection (a long poll in another thread ends at once); new calls reconnect."""
        with self._lock:
            self._interrupts += 1
            connections = list(self._all)
        for connection in connections:
            sock = connection.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        with self._lock:
            connections = list(self._all)
            self._all.clear()
        for connection in connections:
            connection.close()

    # Requests

    def path(self, path: str, query: Optional[Mapping[str, Any]] = None) -> str:
        full = self._prefix + path
        if query:
            pairs = [(k, _query_value(v)) for k, v in query.items() if v is not None]
            if pairs:
                full += "?" + urllib.parse.urlencode(pairs)
        return full

    def headers(self, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        headers = {"User-Agent": f"docket-client-python/{__version__}", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = "Bearer " + self._key
        if extra:
            headers.update(extra)
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        json_body: Any = None,
        body: Body = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
        stream: bool = False,
        retry: bool = True,
    ) -> Response:
        """Sends one call; answers 2xx, raises DocketError for anything else.

        ``stream``: the answer's body is left unread in ``response.raw`` (the
        caller reads and closes it; its connection is not reused).
        """
        h = self.headers(headers)
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            h["Content-Type"] = "application/json"
        target = self.path(path, query)
        attempt = 0
        while True:
            response = self._send(method, target, body, h, self.timeout if timeout is None else timeout, stream)
            if response.status < 400:
                return response
            wait = _retry_after_seconds(response.headers.get("Retry-After"))
            error = error_from_response(response.status, _json_or_none(response.body), wait)
            retryable = isinstance(error, RateLimited) or (response.status == 503 and wait is not None)
            # A body we streamed cannot be sent again.
            resendable = body is None or isinstance(body, bytes)
            if not (retry and retryable and resendable) or attempt >= self.max_retries:
                raise error
            attempt += 1
            time.sleep(min(self.max_backoff, wait if wait is not None else 0.5 * 2 ** attempt))

    def _send(self, method: str, target: str, body: Body, headers: Dict[str, str], timeout: Optional[float], stream: bool) -> Response:
        interrupts = self._interrupts
        for fresh_try in (False, True):
            try:
                connection, reused = self._connection(timeout)
            except OSError as error:
                raise Unavailable("UNAVAILABLE", f"cannot reach {self.url}: {error}", {}, 0) from error
            try:
                self.requests += 1
                chunked = body is not None and not isinstance(body, bytes) and "Content-Length" not in headers
                connection.request(method, target, body=body, headers=headers, encode_chunked=chunked)
                raw = connection.getresponse()
            except _STALE as error:
                self._drop(connection)
                # The server closed the idle connection before reading this request: send it again, once.
                again = reused and not fresh_try and interrupts == self._interrupts
                if again and (body is None or isinstance(body, bytes)):
                    continue
                raise Unavailable("UNAVAILABLE", f"{self.url} closed the connection: {error}", {}, 0) from error
            except socket.timeout as error:
                self._drop(connection)
                raise Unavailable("UNAVAILABLE", f"{self.url} did not answer within {timeout} s", {}, 0) from error
            except OSError as error:
                self._drop(connection)
                raise Unavailable("UNAVAILABLE", f"cannot reach {self.url}: {error}", {}, 0) from error
            if stream and raw.status < 400:
                # The stream owns the connection now: this thread opens another next time.
                self._local.connection = None
                with self._lock:
                    self._all.discard(connection)
                return Response(raw.status, raw.headers, b"", raw, connection.sock)
            try:
                data = raw.read()
            except (OSError, http.client.HTTPException) as error:
                self._drop(connection)
                raise Unavailable("UNAVAILABLE", f"{self.url} broke off its answer: {error}", {}, 0) from error
            if raw.will_close:
                self._drop(connection)
            return Response(raw.status, raw.headers, data)
        raise DocketError("UNAVAILABLE", "unreachable")  # pragma: no cover


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
