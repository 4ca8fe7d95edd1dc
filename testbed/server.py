"""Serve a whole testbed network from one process: one listening socket per portal address.

Every portal listens on its own loopback address (127.x.y.z), all on the same port, in a
single asyncio event loop; pages and files are produced by a small thread pool so that a
large xlsx never stalls the other portals. HTTP/1.1 with keep-alive, GET and HEAD only.

Conditional requests (RFC 9110, section 13): every 200 answer of the site itself (pages,
files, robots.txt, static assets) carries a strong ``ETag`` (from its bytes) and a
``Last-Modified``: a file's is the day that version was uploaded (``resources.published_at``),
a page's the first publication (``PUBLISHED_ON``) or, in a later generation, the
re-publication day when its bytes differ from generation 1's. ``If-None-Match`` (weak
comparison, ``*`` included) and, only without it, ``If-Modified-Since`` turn a GET or HEAD
into ``304 Not Modified`` with no body. Defects' answers (503, captchas, soft 404s, block
pages…) carry no validators and ignore conditional headers, as before.

The fault catalog's transport faults (``testbed.faults``) are answers with a
``Response.transport``: a request held unanswered, a connection reset, a body dripped a
byte a second, a body streamed with no Content-Length; a jammed portal's address is a raw
listening socket whose accept queue is filled at start, so connecting to it times out.

Linux routes the whole 127.0.0.0/8 block to the loopback interface, so no address needs
configuring; 8,646 portals need as many file descriptors, so the soft RLIMIT_NOFILE is
raised to the hard limit at start (``raise_nofile_limit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from testbed import html
from testbed.defects import DEFECTS, Response
from testbed.model import PortalSpec
from testbed.network import Network, generate_network
from testbed.resources import (
    FIXED_TIME,
    REPUBLISHED_TIME,
    published_at,
    render_file,
    render_hyperlink_pdf,
)

MAX_REQUEST_LINE = 8192
MAX_HEADERS = 100
IDLE_TIMEOUT = 15.0
FD_MARGIN = 256
# Transport faults (testbed.faults): how long a hung request is held, the pause between two
# dripped bytes, and the connections that fill a jammed address's accept queue.
HANG_SECONDS = 120.0
DRIP_SECONDS = 1.0
JAM_FILLERS = 4
DEFAULT_ROBOTS = "User-agent: *\nDisallow: /admin/\nDisallow: /cgi-bin/\n"
CSS = b"body{font-family:sans-serif;margin:0}nav ul{list-style:none}.alert{color:#a00}\n"
# 1x1 transparent PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
NOT_FOUND = (b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>"
             b"<h1>Not Found</h1><p>The requested URL was not found on this server.</p>"
             b"</body></html>\n")
# Last-Modified of pages and static assets as first published, and of what a later
# generation re-published.
FIRST_PUBLISHED = FIXED_TIME.replace(tzinfo=UTC)
REPUBLISHED = REPUBLISHED_TIME.replace(tzinfo=UTC)
ENTITY_TAG = re.compile(r'[\s,]*(?:W/)?"([^"]*)"\s*(?:,|$)')


# ---- file descriptors --------------------------------------------------------------------
def raise_nofile_limit(needed: int) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; fail clearly if still below
    ``needed``. Returns (soft, hard) after the change."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise OSError(f"the testbed needs {needed} file descriptors but RLIMIT_NOFILE is "
                      f"{soft} (hard {hard}); raise it (ulimit -n) or serve a smaller network")
    return soft, hard


# ---- responses ---------------------------------------------------------------------------
def self_signed_context(addresses: list[str]) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for ``addresses``: what a
    portal with an invalid certificate presents (clients that verify refuse it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal-autofirmado.testbed")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]), critical=False)
        .sign(key, hashes.SHA256()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="testbed-tls-") as folder:
        cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context.load_cert_chain(cert_file, key_file)
    return context


# ---- validators and conditional requests (RFC 9110) ------------------------------------
def entity_tag(body: bytes) -> str:
    """A strong entity tag: the first 128 bits of the bytes' SHA-256, quoted."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def with_validators(response: Response, last_modified: datetime,
                    etag: str | None = None) -> Response:
    return replace(response, etag=etag or entity_tag(response.body),
                   last_modified=last_modified)


def http_date(value: str) -> datetime | None:
    """An HTTP-date (IMF-fixdate, RFC 850 or asctime) as an aware UTC datetime; None when
    it is not one."""
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def etag_matches(field: str, etag: str) -> bool:
    """Whether an If-None-Match value matches ``etag`` (weak comparison; ``*`` matches any
    current representation)."""
    if field.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    position, tags = 0, []
    while field[position:].strip(" \t,"):  # empty list elements are allowed
        found = ENTITY_TAG.match(field, position)
        if found is None:
            return False  # not a list of entity tags
        tags.append(f'"{found.group(1)}"')
        position = found.end()
    return opaque in tags


def evaluate_conditions(response: Response, method: str, headers: dict[str, str]) -> Response:
    """``response``, or a 304 for it, as RFC 9110 section 13.2.2 orders the preconditions a
    GET or HEAD may carry: If-None-Match when present, else If-Modified-Since (ignored when
    not a valid HTTP-date). Only responses with validators are ever turned into a 304."""
    if response.status != 200 or response.etag is None or method not in ("GET", "HEAD"):
        return response
    none_match = headers.get("if-none-match")
    if none_match is not None:
        return not_modified(response) if etag_matches(none_match, response.etag) else response
    since = headers.get("if-modified-since")
    if since is not None and response.last_modified is not None:
        when = http_date(since)
        if when is not None and response.last_modified <= when:
            return not_modified(response)
    return response


def not_modified(response: Response) -> Response:
    """304 Not Modified: no content, the validators the 200 would have carried."""
    return Response(304, b"", response.content_type, (), response.etag,
                    response.last_modified)


class Responder:
    """Turns (portal, method, target) into a ``Response``; safe to call from many threads."""

    def __init__(self, network: Network, file_cache: int = 256):
        self.network = network
        self._lock = threading.Lock()
        self._reference_lock = threading.Lock()
        self._reference: Responder | None = None
        self._file = lru_cache(maxsize=file_cache)(self._render_file)

    def site(self, portal: PortalSpec):
        with self._lock:
            return self.network.site(portal)

    def _render_file(self, portal_index: int, key: str) -> tuple[bytes, str, str]:
        portal = self.network.portals[portal_index]
        route = self.site(portal).routes[key]
        body, content_type = render_file(portal, route.file)
        return body, content_type, entity_tag(body)

    @property
    def reference(self) -> Responder | None:
        """Generation 1's responder, in a later generation (None in generation 1)."""
        if self.network.generation == 1:
            return None
        with self._reference_lock:
            if self._reference is None:
                self._reference = Responder(self.network.at_generation(1), file_cache=0)
            return self._reference

    def page_modified(self, portal: PortalSpec, target: str, body: bytes) -> datetime:
        """A page's Last-Modified: first publication, unless a later generation changed its
        bytes (a listing that no longer links a removed file)."""
        reference = self.reference
        if reference is None:
            return FIRST_PUBLISHED
        before = reference.respond(reference.network.portals[portal.index], target)
        return FIRST_PUBLISHED if before.body == body else REPUBLISHED

    def answer(self, portal: PortalSpec, method: str, target: str,
               headers: dict[str, str] | None = None) -> Response:
        """The response to a GET or HEAD of ``target``, conditional requests honoured."""
        return evaluate_conditions(self.respond(portal, target), method, headers or {})

    def robots(self, portal: PortalSpec) -> str:
        for spec in portal.defects:
            text = DEFECTS[spec.kind].robots_txt(portal, spec)
            if text is not None:
                return text
        return DEFAULT_ROBOTS

    def respond(self, portal: PortalSpec, target: str) -> Response:
        kinds = [DEFECTS[spec.kind] for spec in portal.defects]
        for kind in kinds:
            answer = kind.intercept(portal, target)
            if answer is not None:
                return answer
        parts = urlsplit(target)
        path = unquote(parts.path or "/")
        key = f"{path}?{parts.query}" if parts.query else path
        if path == "/robots.txt":
            return with_validators(Response(200, self.robots(portal).encode(),
                                            "text/plain; charset=utf-8"), FIRST_PUBLISHED)
        if path == "/static/estilos.css":
            return with_validators(Response(200, CSS, "text/css"), FIRST_PUBLISHED)
        if path == "/static/logo.png":
            return with_validators(Response(200, PNG, "image/png"), FIRST_PUBLISHED)
        if path.startswith("/documentos/hv/") and path.endswith(".pdf"):
            number = path.rsplit("/", 1)[-1][:-4]
            if number.isdigit():
                return with_validators(Response(200, render_hyperlink_pdf(portal, number),
                                                "application/pdf"), FIRST_PUBLISHED)
        site = self.site(portal)
        route = site.routes.get(key)
        if route is None:
            for kind in kinds:
                answer = kind.not_found(portal, target)
                if answer is not None:
                    return answer
            return Response(404, NOT_FOUND)
        if route.kind == "file":
            for kind in kinds:
                answer = kind.file_response(portal, route)
                if answer is not None:
                    return answer
            body, content_type, etag = self._file(portal.index, key)
            headers = ()
            if route.download_name:
                headers = (("Content-Disposition", "attachment; filename*=UTF-8''"
                            + quote(route.download_name)),)
            return with_validators(Response(200, body, content_type, headers),
                                   published_at(route.file), etag)
        content_type, codec = html.content_type_and_codec(portal)
        text = site.render(key)
        for kind in kinds:
            text = kind.transform_page(portal, text)
        body = text.encode(codec, errors="xmlcharrefreplace")
        return with_validators(Response(200, body, content_type),
                               self.page_modified(portal, target, body))


def _head(status: int, response: Response, length: int | None, keep_alive: bool) -> bytes:
    """The status line and headers (``length`` None: no Content-Length, the body ends when
    the connection closes)."""
    reason = {200: "OK", 302: "Found", 304: "Not Modified", 400: "Bad Request",
              401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
              405: "Method Not Allowed", 502: "Bad Gateway", 503: "Service Unavailable",
              504: "Gateway Timeout"}.get(status, "OK")
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}",
             "Server: Apache"]
    if status != 304:  # a 304 has no content, and says nothing about it but its validators
        lines.append(f"Content-Type: {response.content_type}")
        if length is not None:
            lines.append(f"Content-Length: {length}")
    lines.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
    if response.etag is not None:
        lines.append(f"ETag: {response.etag}")
    if response.last_modified is not None:
        lines.append(f"Last-Modified: {format_datetime(response.last_modified, usegmt=True)}")
    lines += [f"{k}: {v}" for k, v in response.headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


async def misbehave(response: Response, method: str, writer: asyncio.StreamWriter) -> None:
    """Answer as a broken server would (``Response.transport``, set by ``testbed.faults``)."""
    if response.transport == "hang":
        await asyncio.sleep(HANG_SECONDS)
    elif response.transport == "reset":
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    elif response.transport == "drip":
        writer.write(_head(response.status, response, len(response.body), False))
        for position in range(len(response.body) if method != "HEAD" else 0):
            writer.write(response.body[position:position + 1])
            await writer.drain()
            await asyncio.sleep(DRIP_SECONDS)
    elif response.transport == "stream":
        writer.write(_head(response.status, response, None, False))
        sent = 0
        while method != "HEAD" and sent < response.size:
            chunk = response.body[: response.size - sent]
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    else:
        raise ValueError(f"unknown transport fault {response.transport!r}")


def _quiet_tls_errors(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """Clients that refuse the self-signed certificate are the point: do not log them."""
    if isinstance(context.get("exception"), (ssl.SSLError, ConnectionError)):
        return
    loop.default_exception_handler(context)


# ---- the event loop ----------------------------------------------------------------------
class TestbedServer:
    """Every bound portal of ``network`` on its address and ``network.port``."""

    def __init__(self, network: Network, workers: int = 4):
        self.network = network
        self.responder = Responder(network)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="testbed")
        self.servers: list[asyncio.base_events.Server] = []
        self.portals = network.bound_portals()
        self.limits = (0, 0)
        self.connections: set[asyncio.Task] = set()
        self.jammed: list[socket.socket] = []

    async def start(self) -> None:
        self.limits = raise_nofile_limit(len(self.portals) + FD_MARGIN)
        secure = [p.address for p in self.portals if p.base_url.startswith("https:")]
        context = self_signed_context(secure) if secure else None
        if context is not None:
            asyncio.get_running_loop().set_exception_handler(_quiet_tls_errors)
        for portal in self.portals:
            server = await asyncio.start_server(
                lambda r, w, p=portal: self.handle(p, r, w), host=portal.address,
                port=self.network.port, reuse_address=True, backlog=64,
                ssl=context if portal.address in secure else None)
            self.servers.append(server)
        await self.jam(self.network.jammed_portals())

    async def close(self) -> None:
        """Stop listening, end open keep-alive connections, release the pool."""
        for server in self.servers:
            server.close()
        for held in self.jammed:
            held.close()
        self.jammed.clear()
        for task in list(self.connections):
            task.cancel()
        if self.connections:
            await asyncio.gather(*self.connections, return_exceptions=True)
        for server in self.servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self.servers.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def handle(self, portal: PortalSpec, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        self.connections.add(task)
        try:
            while True:
                request = await self.read_request(reader)
                if request is None:
                    break
                method, target, keep_alive, headers = request
                if method not in ("GET", "HEAD"):
                    response = Response(405, b"", "text/plain")
                else:
                    response = await loop.run_in_executor(
                        self.pool, self.responder.answer, portal, method, target, headers)
                if response.transport:
                    await misbehave(response, method, writer)
                    break
                writer.write(_head(response.status, response, len(response.body), keep_alive))
                if method != "HEAD":
                    writer.write(response.body)
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                TimeoutError, asyncio.CancelledError):
            pass
        finally:
            self.connections.discard(task)
            writer.close()

    async def jam(self, portals: list[PortalSpec]) -> None:
        """Listen on each jammed portal's address and fill its accept queue, so that further
        connections time out (nothing accepts them, and the kernel drops their SYNs)."""
        for portal in portals:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((portal.address, self.network.port))
            listener.listen(0)
            self.jammed.append(listener)
            for _ in range(JAM_FILLERS):
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError, OSError):
                    filler.connect((portal.address, self.network.port))
                self.jammed.append(filler)
            await asyncio.sleep(0.05)  # let the fillers' handshakes complete

    @staticmethod
    async def read_request(reader: asyncio.StreamReader
                           ) -> tuple[str, str, bool, dict[str, str]] | None:
        """(method, target, keep_alive, headers) of the next request, or None at end of
        stream. Header names are lower-cased, values kept as sent (entity tags are
        case-sensitive); repeated If-None-Match lines are joined into one list."""
        line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
        if not line:
            return None
        if len(line) > MAX_REQUEST_LINE:
            return None
        try:
            method, target, version = line.decode("latin-1").split()
        except ValueError:
            return None
        headers = {}
        for _ in range(MAX_HEADERS):
            raw = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "if-none-match" and name in headers:
                value = f"{headers[name]}, {value}"
            headers[name] = value
        connection = headers.get("connection", "").lower()
        keep_alive = (version == "HTTP/1.1" and connection != "close") or (
            connection == "keep-alive")
        if "content-length" in headers:
            with contextlib.suppress(ValueError):
                await reader.readexactly(min(int(headers["content-length"]), 1 << 20))
        if target.startswith("http://") or target.startswith("https://"):
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        return method, target or "/", keep_alive, headers


# ---- in-process handle ---------------------------------------------------------------------
@dataclass
class ServerHandle:
    """A running testbed; ``stop()`` (or leaving the ``with`` block) shuts it down."""

    network: Network
    server: TestbedServer
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread

    @property
    def urls(self) -> list[str]:
        return [p.portal_url for p in self.network.portals]

    @property
    def nofile_limit(self) -> tuple[int, int]:
        return self.server.limits

    def stop(self) -> None:
        if not self.loop.is_closed() and self.thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self.server.close(), self.loop)
            with contextlib.suppress(Exception):
                future.result(timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_in_thread(network: Network, workers: int = 4, timeout: float = 60.0,
                    generation: int | None = None) -> ServerHandle:
    """Serve ``network`` (``generation``: that generation of it instead of its own) from a
    background thread; returns once every address listens."""
    if generation is not None:
        network = network.at_generation(generation)
    server = TestbedServer(network, workers)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)
            ready.set()
            loop.run_until_complete(server.close())
            loop.close()
            return
        ready.set()
        loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name="testbed-server", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise TimeoutError(f"testbed did not start within {timeout} s")
    if failure:
        raise failure[0]
    return ServerHandle(network, server, loop, thread)


def serve_forever(network: Network, workers: int = 4, on_ready=None,
                  generation: int | None = None) -> None:
    """Serve ``network`` (``generation``: that generation of it instead of its own) until
    SIGINT or SIGTERM (the CLI's ``serve``)."""
    if generation is not None:
        network = network.at_generation(generation)

    async def main() -> None:
        server = TestbedServer(network, workers)
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if on_ready is not None:
            on_ready(server)
        await stop.wait()
        await server.close()

    asyncio.run(main())


# ---- child process ------------------------------------------------------------------------
@dataclass
class SubprocessHandle:
    """A testbed served by ``python -m testbed serve`` in a child process."""

    process: subprocess.Popen
    network: Network
    out_dir: Path

    @property
    def urls(self) -> list[str]:
        return [p.portal_url for p in self.network.portals]

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode

    def __enter__(self) -> SubprocessHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_until_accepting(addresses: list[tuple[str, int]], deadline: float,
                         process: subprocess.Popen | None = None) -> None:
    """Poll each address until it accepts a connection (bounded by ``deadline``)."""
    pending = list(addresses)
    while pending:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"testbed server exited with status {process.returncode}")
        still = []
        for host, port in pending:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    pass
            except OSError:
                still.append((host, port))
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} testbed addresses never accepted, e.g. "
                                   f"{pending[0][0]}:{pending[0][1]}")
            time.sleep(0.2)


def start_subprocess(seed: int, size: int, out_dir: str | Path, port: int = 8080,
                     base: str = "127.20.0.1", timeout: float | None = None,
                     catalog: object | None = None, generation: int = 1,
                     faults: bool = False) -> SubprocessHandle:
    """Run ``python -m testbed serve`` (of ``generation``; ``faults``: the fault catalog on
    ``base``, ``seed`` and ``size`` ignored) in a child process and wait until every portal
    that should listen accepts connections."""
    if faults:
        from testbed.fault_catalog import generate_fault_catalog

        network = generate_fault_catalog(port, base, catalog)
        size = network.size
    else:
        network = generate_network(seed, size, base, port, catalog, generation)
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "testbed", "serve", "--seed", str(seed), "--size",
               str(size), "--port", str(port), "--base", base, "--out", str(out_dir),
               "--generation", str(generation)] + (["--faults"] if faults else [])
    process = subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    limit = timeout if timeout is not None else 60.0 + size / 50
    try:
        wait_until_accepting([(p.address, port) for p in network.bound_portals()],
                             time.monotonic() + limit, process)
    except BaseException:
        process.kill()
        process.wait(10)
        err = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"testbed child failed to start: {err[-2000:]}") from None
    return SubprocessHandle(process, network, Path(out_dir))


def describe(network: Network, count: int = 5) -> str:
    """A few lines for humans: which portals, with which family and defects."""
    lines = []
    for portal in network.portals[:count]:
        defects = ", ".join(d.kind for d in portal.defects) or "sin defectos"
        lines.append(f"  {portal.portal_url}  {portal.subject.name[:60]}  "
                     f"[{portal.family}; {defects}]")
    return "\n".join(lines)
