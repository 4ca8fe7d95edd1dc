"""A small HTTP server on 127.0.0.1 for tests that need real sockets.

Each test builds a route table of handlers (``server.route("/x", respond(b"hi"))``) and points
the code under test at ``server.url("/x")``. Handlers cover the misbehaviours portals show:
slow answers, dripping bodies, huge or compressed bodies, redirect chains and loops, flaky 5xx,
reset connections. Everything is bounded (sleeps end, streams stop when the client leaves, the
server stops waiting when closed) so a failing test cannot hang the suite.

    with LoopbackServer() as server:
        server.route("/robots.txt", robots("User-agent: *\\nDisallow: /private\\n"))
        server.route("/a", redirect("/b"))
        ...
        assert server.hits("/a") == 1
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Handler = Callable[["Exchange"], None]


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str  # with query
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


class Exchange(BaseHTTPRequestHandler):
    """The request handler; handlers receive it and answer through its helpers."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def _dispatch(self) -> None:
        owner = self.server.owner
        owner._record(Seen(self.command, self.path, dict(self.headers.items()), time.monotonic()))
        handler = owner.handler_for(urlsplit(self.path).path)
        try:
            handler(self)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence the default stderr access log."""

    # --- helpers for handlers ----------------------------------------------------------------

    @property
    def stopping(self) -> threading.Event:
        return self.server.owner.stopping

    def send_body(self, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> None:
        """A complete response with Content-Length (HEAD gets the headers only)."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def pause(self, seconds: float) -> bool:
        """Sleep, but wake when the server stops; True when the full time elapsed."""
        return not self.stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: LoopbackServer

    def verify_request(self, request: object, client_address: object) -> bool:
        self.owner._count_connection()
        return True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up or speak TLS are expected here; keep test output clean."""


def not_found(exchange: Exchange) -> None:
    """Default handler for paths without a route."""
    exchange.send_body(404, b"not found", [("Content-Type", "text/plain; charset=utf-8")])


class LoopbackServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 and an ephemeral port."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._routes: dict[str, Handler] = {}
        self._seen: list[Seen] = []
        self._connections = 0
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = _Server((host, 0), Exchange)
        self._httpd.owner = self
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- routes and observations -------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        """``host:port``, e.g. for ``FetchPolicy.allowed_endpoints``."""
        return f"{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.origin}{path}"

    def route(self, path: str, handler: Handler) -> LoopbackServer:
        with self._lock:
            self._routes[path] = handler
        return self

    def handler_for(self, path: str) -> Handler:
        with self._lock:
            return self._routes.get(path, not_found)

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    def _count_connection(self) -> None:
        with self._lock:
            self._connections += 1

    @property
    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (including those that never sent a request)."""
        with self._lock:
            return self._connections

    def hits(self, path: str) -> int:
        """How many requests asked for ``path`` (query ignored)."""
        return sum(1 for seen in self.requests if urlsplit(seen.path).path == path)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- handler factories -------------------------------------------------------------------


def respond(
    body: bytes | str = b"",
    status: int = 200,
    content_type: str | None = "text/html; charset=utf-8",
    headers: Iterable[tuple[str, str]] = (),
) -> Handler:
    """A fixed response."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    extra = list(headers)
    if content_type is not None:
        extra.insert(0, ("Content-Type", content_type))

    def handle(exchange: Exchange) -> None:
        exchange.send_body(status, data, extra)

    return handle


def robots(text: str, status: int = 200) -> Handler:
    """A robots.txt file."""
    return respond(text, status=status, content_type="text/plain; charset=utf-8")


def redirect(location: str, status: int = 302, headers: Iterable[tuple[str, str]] = ()) -> Handler:
    """A redirect to ``location`` (relative or absolute, sent as given)."""
    return respond(
        b"moved",
        status=status,
        content_type="text/plain",
        headers=[("Location", location), *headers],
    )


def sleep_then(seconds: float, handler: Handler) -> Handler:
    """Wait before sending anything (a read timeout for impatient clients)."""

    def handle(exchange: Exchange) -> None:
        if exchange.pause(seconds):
            handler(exchange)
        else:
            exchange.close_connection = True

    return handle


def drip(
    total: int = 1000, every: float = 0.05, piece: bytes = b"x", content_type: str = "text/plain"
) -> Handler:
    """Send the headers, then ``piece`` every ``every`` seconds until ``total`` bytes."""

    def handle(exchange: Exchange) -> None:
        exchange.send_response(200)
        exchange.send_header("Content-Type", content_type)
        exchange.send_header("Content-Length", str(total))
        exchange.end_headers()
        sent = 0
        while sent < total and exchange.pause(every):
            chunk = piece[: total - sent]
            exchange.wfile.write(chunk)
            exchange.wfile.flush()
            sent += len(chunk)
        exchange.close_connection = True

    return handle


def huge(
    size: int,
    declare_length: bool = True,
    chunked: bool = False,
    content_type: str = "application/octet-stream",
) -> Handler:
    """A body of ``size`` bytes streamed in 64 KiB pieces; stops when the client hangs up.

    With ``declare_length`` False and ``chunked`` False the length is unknown and the end is
    the connection closing; with ``chunked`` the body uses chunked transfer coding.
    """
    block = b"0123456789abcdef" * 4096

    def handle(exchange: Exchange) -> None:
        exchange.send_response(200)
        exchange.send_header("Content-Type", content_type)
        if chunked:
            exchange.send_header("Transfer-Encoding", "chunked")
        elif declare_length:
            exchange.send_header("Content-Length", str(size))
        else:
            exchange.send_header("Connection", "close")
        exchange.end_headers()
        sent = 0
        while sent < size and not exchange.stopping.is_set():
            chunk = block[: size - sent]
            if chunked:
                exchange.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            else:
                exchange.wfile.write(chunk)
            sent += len(chunk)
        if chunked:
            exchange.wfile.write(b"0\r\n\r\n")
        exchange.close_connection = not (declare_length or chunked)

    return handle


def gzip_bomb(decoded_size: int, content_type: str = "text/plain") -> Handler:
    """A small gzip body (Content-Encoding: gzip) that inflates to ``decoded_size`` zeros."""
    payload = gzip.compress(b"\x00" * decoded_size, compresslevel=9)

    def handle(exchange: Exchange) -> None:
        exchange.send_body(
            200, payload, [("Content-Type", content_type), ("Content-Encoding", "gzip")]
        )

    return handle


@dataclass
class FailThen:
    """Answer ``status`` for the first ``times`` requests, then delegate to ``then``."""

    times: int
    then: Handler
    status: int = 503
    headers: list[tuple[str, str]] = field(default_factory=list)
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, exchange: Exchange) -> None:
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.times
        if failing:
            exchange.send_body(
                self.status, b"try later", [("Content-Type", "text/plain"), *self.headers]
            )
        else:
            self.then(exchange)


def fail_then(
    times: int, then: Handler, status: int = 503, headers: Iterable[tuple[str, str]] = ()
) -> FailThen:
    """``status`` ``times`` times, then ``then`` (e.g. 503 twice, then 200)."""
    return FailThen(times=times, then=then, status=status, headers=list(headers))


def reset(exchange: Exchange) -> None:
    """Abort the connection with a TCP RST instead of answering."""
    sock = exchange.connection
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    exchange.close_connection = True
    sock.close()
