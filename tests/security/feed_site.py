"""A loopback web site for the feed probes, and a resolver and connector that stand for the
internet without reaching it.

- ``Site`` serves routes on 127.0.0.1 and records every request (path and Host header): the
  ``/secret`` page is the "internal service" no probe may ever reach.
- ``names`` resolves made-up names from a table and IP literals in any spelling the C library
  accepts (``AI_NUMERICHOST``: no DNS query ever leaves the machine); ``PUBLIC`` is a public address
  that ``connect`` routes to the loopback site while the socket still says it reached ``PUBLIC``,
  so a "public" feed can be served from here. Any other non-loopback address is refused by the
  connector before a packet is sent.
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

PUBLIC = "93.184.215.14"  # looks public; never contacted (``connect`` answers for it from loopback)
SECRET = "the internal admin panel password is hunter2"

NAMES = {
    "news.example": [PUBLIC],
    "other.example": [PUBLIC],
    "localhost": ["127.0.0.1"],
    "rebind.example": ["127.0.0.1"],
    "intranet.example": ["10.1.2.3"],
    "router.example": ["192.168.1.1"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": [PUBLIC, "127.0.0.1"],
    "v6loop.example": ["::1"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "nat64.example": ["64:ff9b::7f00:1"],
    "sixtofour.example": ["2002:7f00:1::1"],
    "cgnat.example": ["100.64.0.1"],
    "multicast.example": ["224.0.0.1"],
    "broadcast.example": ["255.255.255.255"],
    "zero.example": ["0.0.0.0"],
    "ula.example": ["fd00::1"],
    "linklocal6.example": ["fe80::1"],
}


def names(table: dict[str, list[str]] | None = None) -> Callable[[str, int], list[str]]:
    table = NAMES if table is None else table

    def resolve(host: str, port: int) -> list[str]:
        if host.lower() in table:
            return list(table[host.lower()])
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        return [i[4][0] for i in infos]

    return resolve


class _PublicLooking:
    """A socket connected to loopback that reports ``peer`` as its peer address."""

    def __init__(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        self._sock, self._peer = sock, peer

    def getpeername(self):
        return self._peer

    def __getattr__(self, name):
        return getattr(self._sock, name)


def connector(site_port: int, seen: list[tuple[str, int]]):
    """Connects PUBLIC to the loopback site (looking public), loopback to itself, nothing else."""

    def connect(address, timeout):
        seen.append((address[0], address[1]))
        host = address[0]
        if host == PUBLIC:
            return _PublicLooking(socket.create_connection(("127.0.0.1", site_port), timeout), (PUBLIC, address[1]))
        if host in ("127.0.0.1", "::1"):
            return socket.create_connection((host, address[1]), timeout)
        raise ConnectionRefusedError(f"the test connector never leaves loopback ({host})")

    return connect


@dataclass
class Request:
    path: str
    host: str


@dataclass
class Site:
    port: int
    requests: list[Request] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def reached_secret(self) -> bool:
        return any(r.path.startswith("/secret") for r in self.requests)


def rss(items: list[tuple[str, str, str]], title: str = "Probe News") -> bytes:
    """An RSS feed of (title, link, summary) items."""
    body = "".join(f"<item><title>{t}</title><link>{_xml(link)}</link><guid>{_xml(t)}-{i}</guid>"
                   f"<description>{_xml(summary)}</description></item>" for i, (t, link, summary) in enumerate(items))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{body}</channel></rss>'
            ).encode("utf-8")


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ARTICLE = ("<html><head><title>Harbour reopens</title></head><body><article><h1>Harbour reopens</h1>"
           + "".join(f"<p>Paragraph {i}: the harbour reopened on Monday after crews finished repairs to the "
                     f"breakwater, section {i} of which had cracked in the autumn storms.</p>" for i in range(8))
           + "</article></body></html>").encode("utf-8")
SECRET_PAGE = ("<html><head><title>Admin</title></head><body><article><h1>Admin panel</h1>"
               + "".join(f"<p>Note {i}: {SECRET}, and the backup code for system {i} is 0000-{i}.</p>" for i in range(8))
               + "</article></body></html>").encode("utf-8")


@contextlib.contextmanager
def serve_site(feeds: dict[str, bytes] | None = None) -> Iterator[Site]:
    """Routes: ``/feed/<name>`` (from ``feeds``), ``/article``, ``/secret``, ``/redirect?to=URL``
    (302), ``/loop`` (redirects to itself), ``/slow?delay=S`` (a byte every S seconds), ``/hang``
    (headers never come), ``/big?n=BYTES`` (chunked, no length), ``/gzipbomb``, ``/status?code=N``."""
    feeds = dict(feeds or {})
    stop = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, body: bytes, ctype: str = "text/html", code: int = 200, extra: dict | None = None):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            site.requests.append(Request(self.path, self.headers.get("Host", "")))
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            route = parts.path
            try:
                if route.startswith("/feed/") and route[6:] in feeds:
                    self._send(feeds[route[6:]], "application/rss+xml")
                elif route == "/article":
                    self._send(ARTICLE)
                elif route.startswith("/secret"):
                    self._send(SECRET_PAGE)
                elif route == "/redirect":
                    self._send(b"", code=int(query.get("code", 302)), extra={"Location": query.get("to", "/")})
                elif route == "/loop":
                    self._send(b"", code=302, extra={"Location": "/loop"})
                elif route == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(100000):
                        if stop.wait(float(query.get("delay", 0.2))):
                            return
                        self.wfile.write(b"<")
                        self.wfile.flush()
                elif route == "/hang":
                    stop.wait(30)
                elif route == "/big":
                    n = int(query.get("n", 1_000_000))
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    block = b"<p>" + b"a" * 65536 + b"</p>"
                    sent = 0
                    while sent < n and not stop.is_set():
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                        sent += len(block)
                    self.wfile.write(b"0\r\n\r\n")
                elif route == "/gzipbomb":
                    self._send(_gzip_bomb(), extra={"Content-Encoding": "gzip"})
                elif route == "/status":
                    self._send(b"no", code=int(query.get("code", 500)))
                else:
                    self._send(b"not here", code=404)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site = Site(server.server_port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


@functools.lru_cache(maxsize=1)
def _gzip_bomb() -> bytes:
    """50 MB of spaces in about 50 kB."""
    return gzip.compress(b" " * 50_000_000, 6)


def timed(fn, *args, **kwargs):
    """(result or exception, seconds)."""
    start = time.monotonic()
    try:
        out = fn(*args, **kwargs)
    except Exception as exc:  # the probe inspects it
        out = exc
    return out, time.monotonic() - start
