"""Refuse board URLs that resolve to non-public addresses (SSRF protection).

Every address a host name resolves to must be globally routable; loopback, private,
link-local (cloud metadata at 169.254.169.254 included), carrier-grade NAT, multicast and
reserved ranges are refused unless private networks are allowed. Redirects are checked hop by
hop by the fetcher. Caveat: the address is checked before connecting and resolved again by
the HTTP client, so a DNS server that answers differently within milliseconds (rebinding)
could still steer a request; run untrusted sources with egress network policies as well.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

RESOLVE_TIMEOUT = 5.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(ValueError):
    """The URL may not be fetched; the message says why (no query string, no credentials)."""


def describe(ip: IPAddress) -> str | None:
    """Why an address is not public, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return describe(ip.ipv4_mapped)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "not a public address"
    return None


def host_of(url: str) -> str:
    """The host of a URL, for messages (never the path, query or credentials)."""
    return urlsplit(url).hostname or "?"


def check_scheme(url: str) -> str:
    """The URL's host; BlockedAddress for anything but http(s) with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress(f"refused: scheme {parts.scheme or '(none)'!r} (only http and https)")
    if not parts.hostname:
        raise BlockedAddress("refused: the URL has no host")
    return parts.hostname


def check_addresses(host: str, addresses: list[str], allow_private: bool) -> None:
    """BlockedAddress if any address is not public (and private networks are not allowed)."""
    if allow_private:
        return
    for a in addresses:
        ip = ipaddress.ip_address(a.split("%", 1)[0])
        why = describe(ip)
        if why:
            shown = host if host == str(ip) else f"{host} ({ip})"
            raise BlockedAddress(f"refused: {shown} is {why}; allow private networks to fetch it")


async def check_url(url: str, allow_private: bool) -> None:
    """Resolve the URL's host and refuse it unless every address is public."""
    host = check_scheme(url)
    if allow_private:
        return
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT)
        except (TimeoutError, OSError) as e:
            raise BlockedAddress(f"cannot resolve {host}: {e}") from None
        addresses = sorted({str(i[4][0]) for i in infos})
    check_addresses(host, addresses, allow_private)
