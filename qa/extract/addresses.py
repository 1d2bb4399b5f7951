"""Which network addresses a feed may make us fetch from (the SSRF guard of ``fetch.py``).

A feed is outside content: its links must never reach the newsroom's own services. So a host is
resolved first and every address it resolves to is judged by what it *is* (``ipaddress``), never
by how the URL spells it: ``127.1``, ``2130706433``, ``0x7f.0.0.1``, ``0177.0.0.1``, ``[::ffff:7f00:1]``
and ``localhost.`` all come out as 127.0.0.1 and are refused alike. IPv6 forms that carry an IPv4
address inside (IPv4-mapped, 6to4, Teredo, NAT64) are judged by that address too.

``allow_private`` (``qa index --allow-private-fetch``) is for a newsroom whose feeds really live
on its intranet: it admits loopback, private and other non-public unicast addresses, but never
link-local (169.254.169.254 is where cloud machines keep their credentials), multicast,
broadcast, unspecified (0.0.0.0, ::) or reserved ones: no feed server lives there.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the IP addresses it resolves to, as strings; injectable so tests never use DNS.
Resolver = Callable[[str, int], list[str]]

_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "this host on this network": 0.x.y.z reaches us
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: someone's internal network

# Kinds never fetched, whatever the flag says.
ALWAYS_REFUSED = frozenset({"unspecified", "link-local", "multicast", "reserved", "broadcast"})


def address_kind(addr: Address) -> str | None:
    """What makes ``addr`` non-public ("loopback", "private", ...), or None for a public address."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:
            addr = ipaddress.IPv6Address(str(addr).split("%", 1)[0])
        inner = _embedded_ipv4(addr)
        if inner:
            kinds = [k for k in (address_kind(a) for a in inner) if k]
            if kinds:
                return kinds[0]
            if addr.ipv4_mapped is not None:
                return None  # ::ffff:a.b.c.d is a.b.c.d
    if addr.is_unspecified or (isinstance(addr, ipaddress.IPv4Address) and addr in _THIS_NETWORK):
        return "unspecified"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast:
        return "multicast"
    if isinstance(addr, ipaddress.IPv4Address) and addr == ipaddress.IPv4Address("255.255.255.255"):
        return "broadcast"
    if addr.is_reserved:
        return "reserved"
    if isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local:
        return "private"
    if addr.is_private:
        return "private"
    if isinstance(addr, ipaddress.IPv4Address) and addr in _SHARED:
        return "private"
    if not addr.is_global:
        return "not publicly routable"
    return None


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = []
    if addr.ipv4_mapped is not None:
        found.append(addr.ipv4_mapped)
    if addr.sixtofour is not None:
        found.append(addr.sixtofour)
    if addr.teredo is not None:
        found.extend(addr.teredo)
    if addr in _NAT64:
        found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return found


def refusal(ip: str, allow_private: bool) -> str | None:
    """Why ``ip`` may not be fetched from (a phrase such as "a loopback address"), or None."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return f"not an IP address ({ip[:60]!r})"
    kind = address_kind(addr)
    if kind is None or (allow_private and kind not in ALWAYS_REFUSED):
        return None
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IP literals in any spelling the C library accepts
    come back as themselves, normalised)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: list[str] = []
    for *_, sockaddr in infos:
        ip = str(sockaddr[0])
        if ip not in seen:
            seen.append(ip)
    return seen
