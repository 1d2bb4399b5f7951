"""Which addresses count as "this machine only", and which Host / Origin a served page may carry.

Loopback is decided by address, never by spelling: an IP literal is parsed (``ipaddress``) and
``localhost`` is resolved (through ``resolve``, a hook so tests never look anything up). Any other
name is not loopback even when it resolves to 127.0.0.1 today (``127.0.0.1.nip.io``): a name can
resolve elsewhere when the server binds, or later, so a server bound by name needs a login.

``ServedNames`` is the set of names a running server answers to. A request whose ``Host`` is not
one of them is refused (DNS rebinding: a page on evil.example re-pointed at 127.0.0.1 still sends
``Host: evil.example``), and so is a request whose ``Origin`` is another site (a cross-origin POST,
which a browser sends without asking when it is a form or multipart upload).
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Resolver = Callable[[str], list[str]]


def system_resolve(name: str) -> list[str]:
    """The addresses ``name`` resolves to on this machine (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [info[4][0] for info in infos]


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` spells literally (``[::1]`` and a zone ``%eth0`` allowed), else None."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    return mapped or address


def is_loopback(host: str, resolve: Resolver = system_resolve) -> bool:
    """True when ``host`` can only mean this machine: a loopback IP literal, or ``localhost``
    when every address it resolves to is loopback. Every other name is False (see the module doc)."""
    if not isinstance(host, str) or not host:
        return False
    address = ip_literal(host)
    if address is not None:
        return address.is_loopback
    if host.lower() != "localhost":
        return False
    addresses = [ip_literal(a) for a in resolve("localhost")]
    return bool(addresses) and all(a is not None and a.is_loopback for a in addresses)


def split_host(value: str) -> tuple[str, int | None] | None:
    """(lower-case host name, port or None) of a ``Host`` header value; None when malformed."""
    value = value.strip()
    if not value or any(c in value for c in "/\\@?# \t\r\n"):
        return None
    try:
        parts = urlsplit(f"//{value}")
        port = parts.port
    except ValueError:
        return None
    name = parts.hostname
    if not name or (parts.username is not None):
        return None
    return name.lower().rstrip("."), port


def split_origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, host name, port) of an ``Origin`` header value; None when it is not http(s)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    return parts.scheme, parts.hostname.lower().rstrip("."), port or (443 if parts.scheme == "https" else 80)


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class ServedNames:
    """The host names a server answers to: the loopback names, the address it is bound to, this
    machine's own name and the operator's ``--allowed-host`` names (``*``: any, behind a proxy
    that checks Host itself). ``accepted_suffixes``: e.g. ``.gradio.live`` for a share link."""

    names: frozenset[str]
    any_name: bool = False
    accepted_suffixes: tuple[str, ...] = field(default=())

    @classmethod
    def for_server(cls, bind: str, extra: Iterable[str] = (), share: bool = False) -> "ServedNames":
        names = set(LOOPBACK_NAMES)
        bound = ip_literal(bind)
        if bound is None or not bound.is_unspecified:
            names.add(bind.lower().strip("[]"))
        if bound is None or not bound.is_loopback:  # reachable from the network: its own name too
            names.add(socket.gethostname().lower())
        extra = [e.strip().lower().rstrip(".") for e in extra if e and e.strip()]
        return cls(frozenset(names | {e.strip("[]") for e in extra if e != "*"}), any_name="*" in extra,
                   accepted_suffixes=(".gradio.live",) if share else ())

    def allows(self, host_name: str, local_address: str | None = None) -> bool:
        """True for a served name, or for the IP literal of the interface the request came in on
        (``local_address``: a client that typed this server's address; no DNS was involved)."""
        if self.any_name or host_name in self.names:
            return True
        if any(host_name.endswith(s) for s in self.accepted_suffixes):
            return True
        literal = ip_literal(host_name)
        if literal is not None and local_address:
            local = ip_literal(local_address)
            return local is not None and literal == local
        return False

    def refusal(self, host_header: str | None, origin: str | None, local_address: str | None = None,
                fetch_site: str | None = None, method: str = "GET") -> str | None:
        """Why a request with these headers must be refused, or None when it may pass."""
        if not host_header:
            return "the request has no Host header"
        host = split_host(host_header)
        if host is None:
            return "the request's Host header is malformed"
        if not self.allows(host[0], local_address):
            return (f"this server does not answer to the name {host[0]!r}; if that is its public name, "
                    f"start it with --allowed-host {host[0]}")
        if origin is not None:
            parsed = split_origin(origin)
            if parsed is None:
                return f"requests from the origin {origin[:80]!r} are not accepted"
            _, origin_name, origin_port = parsed
            if origin_name != host[0] or (host[1] is not None and host[1] != origin_port):
                return f"cross-origin requests are not accepted (from {origin[:80]!r})"
        elif fetch_site == "cross-site" and method not in ("GET", "HEAD", "OPTIONS"):
            return "cross-site requests are not accepted"
        return None
