"""Pinned addresses: an httpx transport that connects to the very address the SSRF guard checked.

A check before the request (netguard.check_url) and httpx's own lookup when it connects are two
DNS answers: a rebinding server can give a public address to the first and 127.0.0.1 to the
second. PinnedTransport has one: when httpcore opens a connection, PinnedBackend resolves the
host once (bounded by a timeout, through an injectable resolver), refuses it unless every
address passes netguard's rules (BlockedAddress, as the fetcher and the webhook sink expect),
and opens the TCP connection to one of those checked addresses. The URL is left alone, so the
Host header, TLS SNI and certificate verification are all for the host name.

Extension point: httpcore's documented `network_backend` of AsyncConnectionPool, whose
`connect_tcp(host, port, ...)` is the one place a connection is opened. httpx 0.28 has no
parameter to pass it to its default transport (encode/httpx PR #3749 proposes one), so
PinnedTransport subclasses httpx.AsyncHTTPTransport and swaps the pool it built for one with
the pinning backend: httpx's request/response conversion and its httpcore-to-httpx exception
mapping (ConnectError, ConnectTimeout... that the fetcher's retries rely on) stay httpx's own.
The pool attribute is checked at construction, so an httpx that renames it fails loudly
instead of connecting unpinned. Rejected: rewriting the URL to the IP with the `sni_hostname`
request extension -- the pool is then keyed by IP, so a TLS connection verified for one name
would be reused for another name on the same IP, and the Host header and redirects would need
patching; a wrapper that checks before delegating -- that is the second lookup again.

Pooling: httpcore keys connections by (scheme, host name, port), so a connection is reused only
for the host it was opened (and checked) for; a reused connection needs no lookup and goes to
an address checked when it was opened.

Proxies: a request an environment proxy applies to (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY, as the
httpx clients used before; trust_env=False turns them off) goes through the proxy after the
same check, resolved here; the proxy resolves the name again, so it is not pinned.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

from jobscrape.netguard import (
    RESOLVE_TIMEOUT,
    BlockedAddress,
    check_addresses,
    check_scheme,
    literal_address,
    resolve,
)

#: A resolver: host name -> its addresses as strings, the preferred first.
Resolver = Callable[[str], Awaitable[Sequence[str]]]

#: The lookup PinnedTransport uses unless given one (tests replace it).
default_resolver: Resolver = resolve


def default_network() -> httpcore.AsyncNetworkBackend:
    """The sockets PinnedTransport uses unless given others (httpcore's anyio backend, what
    httpx uses under asyncio)."""
    return httpcore.AnyIOBackend()


async def check_url(url: str, allow_private: bool) -> None:
    """What can be refused before connecting, without a lookup: a scheme other than http(s),
    no host, a literal non-public address. A host name is resolved and checked once, when
    PinnedTransport connects."""
    host = check_scheme(url)
    literal = literal_address(host)
    if literal is not None:
        check_addresses(host, [literal], allow_private)


async def checked_addresses(host: str, allow_private: bool, resolver: Resolver,
                            timeout: float) -> list[str]:
    """The host's addresses, one lookup bounded by `timeout`, every one checked.

    BlockedAddress when one is not public (private networks not allowed), or when the name
    does not resolve while the guard is on (as netguard.check_url); with private networks
    allowed a failed lookup is httpcore's ConnectError/ConnectTimeout (retried like any
    connection failure).
    """
    host = host.strip("[]")
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = list(await asyncio.wait_for(resolver(host), timeout))
        except TimeoutError:
            if allow_private:
                raise httpcore.ConnectTimeout(f"cannot resolve {host}: timed out") from None
            raise BlockedAddress(f"cannot resolve {host}: timed out") from None
        except (OSError, UnicodeError) as e:  # UnicodeError: a label getaddrinfo refuses
            if allow_private:
                raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from None
            raise BlockedAddress(f"cannot resolve {host}: {e}") from None
        if not addresses:
            if allow_private:
                raise httpcore.ConnectError(f"cannot resolve {host}: no address")
            raise BlockedAddress(f"cannot resolve {host}: no address")
    check_addresses(host, addresses, allow_private)
    return addresses


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """A network backend whose connect_tcp resolves and checks the host once, then connects
    to the checked addresses in the resolver's order until one answers (within the connect
    timeout as a whole)."""

    def __init__(self, allow_private: bool, resolver: Resolver,
                 network: httpcore.AsyncNetworkBackend,
                 resolve_timeout: float = RESOLVE_TIMEOUT) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._network = network
        self._resolve_timeout = resolve_timeout

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        """Connect to a checked address of `host` (see the class)."""
        started = time.monotonic()
        limit = self._resolve_timeout if timeout is None else min(timeout, self._resolve_timeout)
        addresses = await checked_addresses(host, self._allow_private, self._resolver, limit)
        error: Exception = httpcore.ConnectError(f"cannot connect to {host}")
        for address in addresses:
            left = None if timeout is None else timeout - (time.monotonic() - started)
            if left is not None and left <= 0:
                raise httpcore.ConnectTimeout(f"timed out connecting to {host}")
            try:
                return await self._network.connect_tcp(
                    address, port, timeout=left, local_address=local_address,
                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e
        raise error

    async def sleep(self, seconds: float) -> None:
        """As the underlying backend (httpcore's pause between connection retries)."""
        await self._network.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with connections pinned to checked addresses (see the module).

    `verify` as httpx's (True: certifi, or SSL_CERT_FILE/SSL_CERT_DIR with trust_env; or an
    ssl.SSLContext); `limits` replaces the client's, which httpx ignores once a transport is
    given (default: httpx's). `resolver` and `network` default to default_resolver and
    default_network().
    """

    def __init__(self, allow_private: bool, *, resolver: Resolver | None = None,
                 network: httpcore.AsyncNetworkBackend | None = None,
                 verify: ssl.SSLContext | bool = True,
                 limits: httpx.Limits | None = None,
                 trust_env: bool = True,
                 resolve_timeout: float = RESOLVE_TIMEOUT) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        super().__init__(verify=ssl_context, limits=limits, trust_env=trust_env)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx.AsyncHTTPTransport has no connection pool to pin "
                               "(httpx changed): refusing to connect unpinned")
        self._allow_private = allow_private
        self._resolver = resolver or default_resolver
        self._resolve_timeout = resolve_timeout
        self._ssl_context, self._limits = ssl_context, limits
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(allow_private, self._resolver,
                                          network or default_network(), resolve_timeout),
        )
        self._proxies = urllib.request.getproxies_environment() if trust_env else {}
        self._via: dict[str, httpx.AsyncHTTPTransport] = {}

    def _proxy_for(self, url: httpx.URL) -> str | None:
        if not self._proxies or urllib.request.proxy_bypass_environment(url.host, self._proxies):
            return None
        return self._proxies.get(url.scheme) or self._proxies.get("all")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request over a pinned connection, or through the environment's proxy
        after the same check."""
        proxy = self._proxy_for(request.url)
        if proxy is None:
            return await super().handle_async_request(request)
        if not self._allow_private:  # (allowed: nothing to check, the proxy resolves)
            await checked_addresses(request.url.host, False, self._resolver,
                                    self._resolve_timeout)
        if proxy not in self._via:
            self._via[proxy] = httpx.AsyncHTTPTransport(
                verify=self._ssl_context, limits=self._limits, proxy=proxy)
        return await self._via[proxy].handle_async_request(request)

    async def aclose(self) -> None:
        """Close the pool and the proxies' transports."""
        await super().aclose()
        for transport in self._via.values():
            await transport.aclose()
