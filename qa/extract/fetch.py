"""Getting a feed or a linked page over HTTP(S), safely: only public addresses, a deadline and a
byte budget per feed, no other schemes.

Only ``qa index --feed`` fetches anything, and only the feed it is given and the pages its entries
link to. Those URLs come from outside, so every request (the first and each redirect hop) is:

- **http(s) only**: ``file:``, ``ftp:``, ``gopher:``, ``javascript:``… are refused, on redirects too;
- **resolved, then judged by address** (``addresses.refusal``): a host that resolves to any
  loopback, private, link-local, multicast, reserved or unspecified address is refused, however the
  URL spells it, unless ``allow_private`` (``--allow-private-fetch``) admits intranet addresses;
- **connected to the address that was judged**: the connection goes to that pinned IP (the name
  is not looked up again, so DNS rebinding has no second answer to give), and the socket's peer
  address is checked once more before a byte is sent;
- **bounded**: each ``Fetcher`` (one per feed) has an overall deadline and a byte budget shared
  by the feed and all its pages; a watchdog closes the socket when the deadline passes, so a server
  that dribbles bytes cannot hold us. Each response is also limited to ``max_bytes``.

urllib3 does the HTTP (TLS with certificate and host-name checks against the URL's name, chunked
bodies, bounded decompression); redirects are followed here, by hand, so each hop is checked.
Proxies from the environment are not used: a proxy would connect to addresses we never saw.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import quote, urljoin, urlsplit

from .addresses import Resolver, refusal, system_resolver
from .base import LoadError

TIMEOUT_S = 20.0  # one connect or one read; the whole feed has FEED_DEADLINE_S
FEED_DEADLINE_S = 180.0
FEED_BUDGET_BYTES = 100_000_000
MAX_REDIRECTS = 5
ALLOW_PRIVATE_HINT = "pass --allow-private-fetch if this feed really lives on your own network"
_REDIRECTS = (301, 302, 303, 307, 308)
_SAFE_TARGET = "".join(chr(c) for c in range(33, 127))  # quote only spaces, controls and non-ASCII

# (address, timeout) -> a connected socket; injectable so tests can see where a connection would go.
Connector = Callable[[tuple[str, int], float | None], socket.socket]


class FetchError(LoadError):
    """The URL could not be fetched; the message says why."""


class AddressRefused(FetchError):
    """The URL (or a redirect) leads to an address feeds may not reach, or to a scheme not fetched."""


class BudgetSpent(FetchError):
    """The feed's deadline or byte budget ran out; re-running the feed fetches the rest."""


def _default_connect(address: tuple[str, int], timeout: float | None) -> socket.socket:
    return socket.create_connection(address, timeout)


class Fetcher:
    """Fetches the URLs of one feed under one deadline and one byte budget (see the module doc).

    ``resolve`` and ``connect`` default to the system's; tests pass their own to stand for public
    names and rebinding answers without any traffic leaving loopback.
    """

    def __init__(self, allow_private: bool = False, deadline_s: float = FEED_DEADLINE_S,
                 max_total_bytes: int = FEED_BUDGET_BYTES, timeout_s: float = TIMEOUT_S,
                 max_redirects: int = MAX_REDIRECTS, resolve: Resolver | None = None,
                 connect: Connector | None = None) -> None:
        if deadline_s <= 0 or max_total_bytes <= 0 or timeout_s <= 0 or max_redirects < 0:
            raise ValueError(f"need a positive deadline, budget and timeout and redirects >= 0, got "
                             f"{deadline_s}, {max_total_bytes}, {timeout_s}, {max_redirects}")
        self.allow_private = allow_private
        self.deadline_s = deadline_s
        self.max_total_bytes = max_total_bytes
        self.timeout_s = timeout_s
        self.max_redirects = max_redirects
        self.resolve = resolve or system_resolver
        self.connect = connect or _default_connect
        self.started = time.monotonic()
        self.bytes_read = 0
        self._sockets: list[socket.socket] = []
        self._expired = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------ budget

    def remaining_s(self) -> float:
        return self.deadline_s - (time.monotonic() - self.started)

    def _check_budget(self, url: str) -> None:
        if self.remaining_s() <= 0:
            raise BudgetSpent(f"the feed's deadline of {self.deadline_s:g} s passed before {_short(url)} "
                              "could be fetched")
        if self.bytes_read >= self.max_total_bytes:
            raise BudgetSpent(f"the feed's budget of {self.max_total_bytes:,} bytes was spent before "
                              f"{_short(url)} could be fetched")

    # ------------------------------------------------------------ fetching

    def fetch(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """(body, final URL after redirects) of ``url``, or ``FetchError`` saying why not."""
        current = url
        for hop in range(self.max_redirects + 1):
            status, location, body = self._get(current, max_bytes, first=hop == 0)
            if location is None:
                return body, current
            target = urljoin(current, location.strip())
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise AddressRefused(f"{_short(current)} redirected to {_short(target)}: only http(s) "
                                     "addresses are fetched")
            current = target
        raise FetchError(f"more than {self.max_redirects} redirects from {_short(url)}")

    def _get(self, url: str, max_bytes: int, first: bool) -> tuple[int, str | None, bytes]:
        """One request: (status, Location for a redirect or None, body)."""
        import urllib3

        host, port, scheme, target, host_header = _parse(url)
        where = "" if first else f" (reached by a redirect to {_short(url)})"
        self._check_budget(url)
        ip = self._pinned_address(host, port, where)
        timeout = urllib3.Timeout(connect=self._op_timeout(), read=self._op_timeout())
        conn_kw = {"guard": self}
        if scheme == "https":
            literal = _is_ip(host)
            pool = urllib3.HTTPSConnectionPool(
                ip, port, timeout=timeout, retries=False, maxsize=1, cert_reqs="CERT_REQUIRED",
                server_hostname=None if literal else host, assert_hostname=host, **conn_kw)
            pool.ConnectionCls = _GuardedHTTPSConnection
        else:
            pool = urllib3.HTTPConnectionPool(ip, port, timeout=timeout, retries=False, maxsize=1, **conn_kw)
            pool.ConnectionCls = _GuardedHTTPConnection
        watchdog = threading.Timer(max(self.remaining_s(), 0.0), self._expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            response = pool.urlopen("GET", target, headers={
                "Host": host_header, "User-Agent": "qa-news (feed reader)",
                "Accept": "application/rss+xml, application/atom+xml, application/xml, text/html;q=0.9, */*;q=0.5"},
                redirect=False, retries=False, preload_content=False, assert_same_host=False)
            try:
                if response.status in _REDIRECTS and response.headers.get("Location"):
                    return response.status, response.headers["Location"], b""
                if not 200 <= response.status < 300:
                    raise FetchError(f"the server answered HTTP {response.status} ({response.reason}){where}")
                return response.status, None, self._read(response, url, max_bytes)
            finally:
                response.release_conn()
                response.close()
        except FetchError:
            raise
        except Exception as exc:  # urllib3 and socket errors: timeouts, resets, TLS, bad responses
            if self._expired:
                raise BudgetSpent(f"the feed's deadline of {self.deadline_s:g} s passed while fetching "
                                  f"{_short(url)}") from None
            raise FetchError(f"cannot fetch {_short(url)}{where}: {_reason(exc)}") from None
        finally:
            watchdog.cancel()
            pool.close()
            with self._lock:
                for sock in self._sockets:
                    sock.close()
                self._sockets.clear()

    def _read(self, response, url: str, max_bytes: int) -> bytes:
        body = bytearray()
        for part in response.stream(64 * 1024, decode_content=True):
            body += part
            self.bytes_read += len(part)
            if len(body) > max_bytes:
                raise FetchError(f"{_short(url)} is larger than {max_bytes:,} bytes")
            if self.bytes_read > self.max_total_bytes:
                raise BudgetSpent(f"the feed's budget of {self.max_total_bytes:,} bytes was spent while "
                                  f"fetching {_short(url)}")
        if self._expired:
            raise BudgetSpent(f"the feed's deadline of {self.deadline_s:g} s passed while fetching {_short(url)}")
        return bytes(body)

    def _op_timeout(self) -> float:
        return max(min(self.timeout_s, self.remaining_s()), 0.05)

    def _pinned_address(self, host: str, port: int, where: str) -> str:
        """The one address this request connects to: every address ``host`` resolves to must be
        allowed (a mixed answer is the rebinding trick), and the first is used."""
        try:
            addresses = _within(lambda: self.resolve(host, port), self._op_timeout())
        except TimeoutError:
            raise FetchError(f"looking up {host} took longer than {self._op_timeout():.0f} s{where}") from None
        except (OSError, UnicodeError, ValueError) as exc:
            raise FetchError(f"cannot look up {host}{where}: {_reason(exc)}") from None
        if not addresses:
            raise FetchError(f"{host} has no address{where}")
        for ip in addresses:
            why = refusal(ip, self.allow_private)
            if why:
                shown = host if host == ip else f"{host} (it resolves to {ip})"
                rule = (f"{why}, which is never fetched" if refusal(ip, allow_private=True) else
                        f"{why}; feeds may only reach public addresses ({ALLOW_PRIVATE_HINT})")
                raise AddressRefused(f"refused {shown}{where}: {rule}")
        return addresses[0].split("%", 1)[0]  # a scope id only comes with link-local, refused above

    # ------------------------------------------------------------ connections (called by urllib3)

    def open_socket(self, address: tuple[str, int], timeout: float | None) -> socket.socket:
        """Connect to the pinned address, then check the peer actually reached before anything is sent."""
        sock = self.connect(address, timeout)
        with self._lock:
            # A duplicate of the descriptor: TLS wrapping detaches ``sock``, the watchdog still needs
            # something to shut (shutdown acts on the connection, whichever descriptor names it).
            self._sockets.append(sock.dup())
            expired = self._expired
        if expired:
            _shut(sock)
            sock.close()
            raise BudgetSpent(f"the feed's deadline of {self.deadline_s:g} s passed")
        try:
            peer = str(sock.getpeername()[0])
        except OSError as exc:
            _shut(sock)
            sock.close()
            raise FetchError(f"the connection closed at once ({_reason(exc)})") from None
        why = refusal(peer, self.allow_private)
        if why:
            _shut(sock)
            sock.close()
            hint = "never fetched" if refusal(peer, allow_private=True) else f"not public ({ALLOW_PRIVATE_HINT})"
            raise AddressRefused(f"refused: the connection to {address[0]} reached {peer}, {why}: {hint}")
        return sock

    def _expire(self) -> None:
        """The watchdog: the deadline passed, so every open socket is shut (a blocked read returns)."""
        with self._lock:
            self._expired = True
            for sock in self._sockets:
                _shut(sock)


def fetch(url: str, max_bytes: int, timeout: float = TIMEOUT_S, allow_private: bool = False) -> tuple[bytes, str]:
    """(body, final URL after redirects) of one URL with a fetcher of its own; see ``Fetcher``."""
    return Fetcher(allow_private=allow_private, timeout_s=timeout, deadline_s=max(timeout * 3, 1.0)).fetch(url, max_bytes)


# ------------------------------------------------------------------ helpers


def _guarded(base):
    class Guarded(base):
        def __init__(self, *args, guard: Fetcher, **kwargs):
            super().__init__(*args, **kwargs)
            self._guard = guard

        def _new_conn(self) -> socket.socket:
            from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

            try:
                sock = self._guard.open_socket((self.host, self.port), self.timeout)
            except FetchError:
                raise
            except socket.timeout as exc:
                raise ConnectTimeoutError(self, f"connecting timed out after {self.timeout} s") from exc
            except OSError as exc:
                raise NewConnectionError(self, f"cannot connect ({exc.strerror or exc})") from exc
            return sock

    Guarded.__name__ = f"Guarded{base.__name__}"
    return Guarded


def _connection_classes():
    from urllib3.connection import HTTPConnection, HTTPSConnection

    return _guarded(HTTPConnection), _guarded(HTTPSConnection)


_GuardedHTTPConnection, _GuardedHTTPSConnection = _connection_classes()


def _parse(url: str) -> tuple[str, int, str, str, str]:
    """(host as resolvable ASCII, port, scheme, request target, Host header) or ``FetchError``."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise FetchError(f"{_short(url)} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise AddressRefused(f"{_short(url)} is not an http(s) address; only http(s) is fetched")
    try:
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError(f"{_short(url)} is not a valid URL ({exc})") from None
    if not host:
        raise FetchError(f"{_short(url)} names no host")
    if not _is_ip(host):
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise FetchError(f"{_short(url)} has a host name that cannot be looked up ({host[:60]!r})") from None
    target = quote(parts.path or "/", safe=_SAFE_TARGET)
    if parts.query:
        target += "?" + quote(parts.query, safe=_SAFE_TARGET)
    shown = f"[{host}]" if ":" in host else host
    default = port == (443 if scheme == "https" else 80)
    return host, port, scheme, target, shown if default else f"{shown}:{port}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _within(fn, timeout: float):
    """``fn()``, or ``TimeoutError`` after ``timeout`` seconds (name look-ups cannot be interrupted,
    so a slow one is left behind in a daemon thread)."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box["value"]


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        exc = reason
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."
