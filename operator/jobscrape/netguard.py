"""Refuse board URLs that resolve to non-public addresses (SSRF protection), and keep URL
secrets out of messages.

Every address a host name resolves to must be globally routable; loopback, private,
link-local (cloud metadata at 169.254.169.254 included), carrier-grade NAT, multicast and
reserved ranges are refused unless private networks are allowed. IPv6 forms that carry an IPv4
address (IPv4-mapped, IPv4-compatible, 6to4, NAT64 and Teredo) are judged by the IPv4 address
they carry, so 2002:a00:1:: (6to4 of 10.0.0.1) is as private as 10.0.0.1. Redirects are checked
hop by hop by the fetcher. These are the rules; jobscrape.pinned applies them where the
connection is made, resolving each host once and connecting to the very address checked (no
second lookup for a rebinding DNS server to answer differently).

redact_url and scrub_secrets keep a URL's userinfo and the values of secret-looking query
parameters (SECRET_PARAMS) out of messages and of what is derived from a page URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import unquote_plus, urlsplit, urlunsplit

RESOLVE_TIMEOUT = 5.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Query parameter names whose values are secrets (compared case-insensitively, "-" and "."
#: read as "_"); a name ending in "_" + one of them (x_api_key, refresh_token) is one too.
SECRET_PARAMS = frozenset({
    "api_key", "apikey", "key", "token", "access_token", "secret", "client_secret",
    "password", "signature", "sig", "auth",
})
_SECRET_ENDINGS = ("token", "secret", "password", "signature", "apikey")  # accessToken, ...
REDACTED = "***"

_6TO4 = ipaddress.IPv6Network("2002::/16")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052, the well-known prefix
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215, prefix length /48../96
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated (RFC 4291); not :: nor ::1


class BlockedAddress(ValueError):
    """The URL may not be fetched; the message says why (no query string, no credentials)."""


def _rfc6052(ip: ipaddress.IPv6Address, prefix_len: int) -> ipaddress.IPv4Address | None:
    """The IPv4 address embedded after a NAT64 prefix of this length (RFC 6052 2.2), or None
    when the address is not well-formed for it (the "u" octet, bits 64-71, or the suffix
    after the IPv4 address not zero)."""
    bits = f"{int(ip):0128b}"
    if "1" in bits[64:72]:
        return None
    if prefix_len == 96:
        return ipaddress.IPv4Address(int(bits[96:], 2))
    rest = bits[:64] + bits[72:]  # the u octet taken out
    v4, suffix = rest[prefix_len:prefix_len + 32], rest[prefix_len + 32:]
    return None if "1" in suffix else ipaddress.IPv4Address(int(v4, 2))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, list[ipaddress.IPv4Address]] | None:
    """The transition form of an IPv6 address and the IPv4 addresses it carries (both of
    Teredo's, the possible ones of a local-use NAT64 prefix), or None for other addresses.
    An empty list: a form with no well-formed IPv4 address in it."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", [ip.ipv4_mapped]
    if ip in _V4_COMPATIBLE and int(ip) > 1:
        return "IPv4-compatible", [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return "6to4", [ip.sixtofour]
    if ip.teredo is not None:
        server, client = ip.teredo  # the client's address is stored inverted ("obfuscated")
        return "Teredo", [server, client]
    if ip in _NAT64:
        return "NAT64", [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip in _NAT64_LOCAL:  # the prefix length is the operator's: every reading counts
        found = [v4 for v4 in (_rfc6052(ip, n) for n in (48, 56, 64, 96)) if v4 is not None]
        padding = ipaddress.IPv4Address(0)  # the zero tail a shorter prefix's form leaves
        return "local NAT64", [v4 for v4 in found if v4 != padding] or found
    return None


def describe(ip: IPAddress) -> str | None:
    """Why an address is not public, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address) and not (ip.is_loopback or ip.is_unspecified):
        embedded = embedded_ipv4(ip)
        if embedded is not None:
            form, v4s = embedded
            if not v4s:
                return f"not a public address (a malformed {form} address)"
            for v4 in v4s:
                why = describe(v4)
                if why:
                    return f"{why} ({form} form of {v4})"
            return None
        if ip.is_site_local:
            return "a site-local address"
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


def literal_address(host: str) -> str | None:
    """The host as a normalised IP address when it is a literal one ("[::1]" too), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


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


async def resolve(host: str) -> list[str]:
    """The host's addresses from the system resolver, in its order (the first preferred),
    without duplicates; OSError when it has none. No timeout of its own: callers bound it."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


async def check_url(url: str, allow_private: bool) -> None:
    """Resolve the URL's host and refuse it unless every address is public. (A check only:
    jobscrape.pinned checks and connects with one lookup.)"""
    host = check_scheme(url)
    if allow_private:
        return
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = await asyncio.wait_for(resolve(host), RESOLVE_TIMEOUT)
        except TimeoutError:
            raise BlockedAddress(f"cannot resolve {host}: timed out") from None
        except OSError as e:
            raise BlockedAddress(f"cannot resolve {host}: {e}") from None
    check_addresses(host, addresses, allow_private)


# ----------------------------------------------------------------------------- URL secrets


def is_secret_param(name: str) -> bool:
    """Whether a query parameter of this (raw or decoded) name carries a secret."""
    n = unquote_plus(name).strip().lower().replace("-", "_").replace(".", "_")
    return (n in SECRET_PARAMS or any(n.endswith("_" + s) for s in SECRET_PARAMS)
            or n.endswith(_SECRET_ENDINGS))


def _redact_pairs(text: str) -> str:
    """"a=1&token=x" with the values of secret-looking names replaced by ***."""
    out = []
    for part in re.split(r"([&;])", text):
        name, eq, value = part.partition("=")
        out.append(f"{name}={REDACTED}" if eq and value and is_secret_param(name) else part)
    return "".join(out)


def redact_url(url: str) -> str:
    """The URL fit for a message: userinfo dropped, the values of secret-looking query (and
    fragment) parameters replaced by ***; the rest as it was. Pure: no lookup, no I/O."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable URL)"
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc, query=_redact_pairs(parts.query),
                                     fragment=_redact_pairs(parts.fragment)))


def scrub_secrets(text: str, url: str | None) -> str:
    """The text without the secrets of `url`: its userinfo ("user:pass@") and the values of
    its secret-looking query parameters (token=*** wherever "token=<that value>" appears).
    For what a board derives from its page URL (relative links resolved against it)."""
    if not url or not text:
        return text
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:  # in URLs only ("//user:pass@host"): "jobs@example.com" is no secret
        text = text.replace("//" + userinfo + "@", "//")
    for part in re.split(r"[&;]", parts.query):
        name, eq, value = part.partition("=")
        if eq and value and is_secret_param(name):
            pattern = rf"(?<=[?&;#]){re.escape(name)}={re.escape(value)}(?![^&;#\s\"'<>])"
            text = re.sub(pattern, f"{name}={REDACTED}", text)
    return text
