"""Pinned addresses, in the test process and on loopback only: a name is resolved once per
connection, every address checked, and the connection made to a checked address with the
Host header, TLS SNI and certificate verification on the name.

The resolver is a fake (jobscrape.pinned.default_resolver replaced), and so are the sockets
(default_network): LoopbackOnly records every address a connection is opened to and refuses
any but loopback, so a public answer such as 93.184.215.14 is never actually connected to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from jobscrape import pinned
from jobscrape.boards.base import BoardRef
from jobscrape.netguard import BlockedAddress
from jobscrape.notify.webhook import webhook_sink
from jobscrape.pinned import PinnedTransport
from jobscrape.postings import Change, ChangeKind, Posting
from jobscrape.runner.fetch import BoardFetch, FetchOptions, fetch_boards
from jobscrape_dev.receiver import WebhookReceiver

PUBLIC = "93.184.215.14"  # answered by the fakes, never connected to
BOARD = (Path(__file__).parents[1] / "fixtures" / "boards" /
         "greenhouse_jobs_content.json").read_bytes()
FAST = dict(retries=1, backoff_base=0.01, backoff_max=0.05, requests_per_second_per_host=1000,
            connect_timeout=5.0, read_timeout=5.0, total_timeout=30.0)
SECRET = "T0KEN-d0-not-leak"
HOOK_PATH = f"/api/webhooks/123456/{SECRET}"


# ----------------------------------------------------------------------------- fakes


@dataclass
class FakeDNS:
    """Answers from a table, or `first` to a name's first lookup and `later` to the rest (a
    rebinding DNS server); records every lookup."""

    table: dict[str, list[str]] = field(default_factory=dict)
    first: str | None = None
    later: str | None = None
    delay: float = 0.0
    lookups: list[str] = field(default_factory=list)

    async def __call__(self, host: str) -> Sequence[str]:
        seen = host in self.lookups
        self.lookups.append(host)
        if self.delay:
            await asyncio.sleep(self.delay)
        if host in self.table:
            return self.table[host]
        if self.first is not None:
            return [self.later if seen and self.later else self.first]
        raise OSError(f"[Errno -2] Name or service not known: {host}")


class LoopbackOnly(httpcore.AsyncNetworkBackend):
    """Real sockets to loopback addresses; any other address is recorded and refused."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.opened: list[tuple[str, int]] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        self.opened.append((host, port))
        if not ipaddress.ip_address(host).is_loopback:
            raise httpcore.ConnectError("the test's sockets reach loopback only")
        return await self.inner.connect_tcp(host, port, timeout=timeout,
                                            local_address=local_address,
                                            socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@dataclass
class Seen:
    """One request as the local server read it."""

    method: str
    target: str
    host: str | None
    connection: int


@dataclass
class LocalServer:
    """HTTP/1.1 (or HTTPS) on 127.0.0.1 answering every request with `body`; records
    connections, requests and the TLS server names asked for."""

    body: bytes = BOARD
    tls: ssl.SSLContext | None = None
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> LocalServer:
        if self.tls is not None:
            self.tls.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), 10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = self.connections
        try:
            while True:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip()
                           for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                if int(headers.get("content-length", "0")):
                    await reader.readexactly(int(headers["content-length"]))
                self.requests.append(Seen(method, target, headers.get("host"), conn))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(self.body) + self.body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, ssl.SSLError):
            pass
        finally:
            writer.close()


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeDNS, LoopbackOnly]]:
    """The fake resolver and sockets every PinnedTransport made in the test uses; no proxy."""
    dns, sockets = FakeDNS(), LoopbackOnly()
    monkeypatch.setattr(pinned, "default_resolver", dns)
    monkeypatch.setattr(pinned, "default_network", lambda: sockets)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    yield dns, sockets


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as s:
        yield s


def _board(url: str) -> BoardRef:
    return BoardRef(name="acme", type="greenhouse", token="acme", url=url)


async def _fetch(url: str, **kw: Any) -> BoardFetch:
    (result,) = await fetch_boards([_board(url)], FetchOptions(**{**FAST, **kw}))
    return result


# ----------------------------------------------------------------------------- board fetches


async def test_dns_rebinding_is_refused_and_nothing_reaches_loopback(net, server):
    dns, sockets = net
    dns.first, dns.later = PUBLIC, "127.0.0.1"
    result = await _fetch(f"http://rebind.test:{server.port}/v1/boards/acme/jobs")
    # attempt 1: the public answer is checked and connected to (refused by the test's
    # sockets, retried); attempt 2: the loopback answer is refused before any connection
    assert result.state == "Failing" and not result.ok and result.postings == []
    assert result.message == ("refused: rebind.test (127.0.0.1) is a loopback address; "
                              "allow private networks to fetch it")
    assert sockets.opened == [(PUBLIC, server.port)]  # the checked address, never loopback
    assert dns.lookups == ["rebind.test", "rebind.test"]  # one lookup per connection
    assert server.connections == 0 and server.requests == []


async def test_a_name_with_any_private_address_is_refused_without_connecting(net, server):
    dns, sockets = net
    dns.table["mixed.test"] = [PUBLIC, "10.0.0.7"]
    dns.table["meta.test"] = ["64:ff9b::a9fe:a9fe"]  # NAT64 form of 169.254.169.254
    result = await _fetch(f"http://mixed.test:{server.port}/v1/boards/acme/jobs")
    assert result.state == "Failing"
    assert result.message.startswith("refused: mixed.test (10.0.0.7) is a private address")
    result = await _fetch(f"http://meta.test:{server.port}/v1/boards/acme/jobs")
    assert result.message.startswith("refused: meta.test (64:ff9b::a9fe:a9fe) is a link-local")
    assert "NAT64 form of 169.254.169.254" in result.message
    assert sockets.opened == [] and server.connections == 0


async def test_an_unresolvable_name_is_refused_like_before(net, server):
    result = await _fetch(f"http://nowhere.test:{server.port}/v1/boards/acme/jobs")
    assert result.state == "Failing" and result.message.startswith("cannot resolve nowhere.test")
    assert net[0].lookups == ["nowhere.test"]  # a refusal: not retried


async def test_allowed_private_networks_connect_to_the_resolved_address_with_the_name(
        net, server):
    dns, sockets = net
    dns.table["board.test"] = ["127.0.0.1"]
    result = await _fetch(f"http://board.test:{server.port}/v1/boards/acme/jobs",
                          allow_private_networks=True)
    assert result.state == "OK" and len(result.postings) == 2
    assert sockets.opened == [("127.0.0.1", server.port)]
    (seen,) = server.requests
    assert seen.host == f"board.test:{server.port}"
    assert seen.target == "/v1/boards/acme/jobs?content=true"


async def test_checked_addresses_are_tried_in_order(net, server):
    dns, sockets = net
    dns.table["two.test"] = ["127.0.0.2", "127.0.0.1"]  # nothing listens on 127.0.0.2
    result = await _fetch(f"http://two.test:{server.port}/v1/boards/acme/jobs",
                          allow_private_networks=True)
    assert result.state == "OK"
    assert sockets.opened == [("127.0.0.2", server.port), ("127.0.0.1", server.port)]
    assert dns.lookups == ["two.test"]


async def test_connections_are_pooled_per_name_never_across_names(net, server):
    dns, _ = net
    dns.table.update({"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]})
    async with httpx.AsyncClient(transport=PinnedTransport(True), timeout=5) as client:
        for name in ("a.test", "a.test", "b.test", "a.test"):
            assert (await client.get(f"http://{name}:{server.port}/x")).status_code == 200
    by_connection = {(s.connection, s.host) for s in server.requests}
    assert by_connection == {(1, f"a.test:{server.port}"), (2, f"b.test:{server.port}")}
    assert dns.lookups == ["a.test", "b.test"]  # a reused connection needs no lookup


async def test_a_slow_resolver_is_bounded(net):
    dns, sockets = net
    dns.table["slow.test"], dns.delay = ["127.0.0.1"], 30
    async with httpx.AsyncClient(transport=PinnedTransport(False, resolve_timeout=0.2),
                                 timeout=5) as client:
        with pytest.raises(BlockedAddress, match=r"cannot resolve slow\.test: timed out"):
            await asyncio.wait_for(client.get("http://slow.test/"), 5)
    async with httpx.AsyncClient(transport=PinnedTransport(True), timeout=0.2) as client:
        with pytest.raises(httpx.ConnectTimeout):  # the connect timeout bounds it too
            await asyncio.wait_for(client.get("http://slow.test/"), 5)
    assert sockets.opened == []


async def test_secrets_of_a_board_url_never_reach_a_board_message(net, boards):
    dns, _ = net
    dns.table["boards.test"] = ["127.0.0.1"]
    secret_url = "http://user:pw@{host}:{port}/v1/boards/{token}/jobs?api_key=K3Y&Token=T0K"
    boards.set_fault("broken", status=500)
    boards.set_fault("junk", malformed=True)
    cases = [("refused", "boards.test", "acme", False), ("broken", "boards.test", "broken", True),
             ("junk", "boards.test", "junk", True), ("gone", "boards.test", "no-such-board", True),
             ("unknown", "nowhere.test", "acme", False)]
    for _, host, token, allow in cases:
        url = secret_url.format(host=host, port=boards.port, token=token)
        result = await _fetch(url, allow_private_networks=allow)
        assert result.state in ("Failing", "NotFound"), result
        for secret in ("user", "pw", "K3Y", "T0K", "api_key", "/v1/"):
            assert secret not in result.message, (token, result.message)


# ----------------------------------------------------------------------------- TLS


def _certificates(tmp_path: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for `name` signed by it: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jobscrape test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[LocalServer, Path]]:
    ca, cert, key = _certificates(tmp_path, "pinned.test")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    async with LocalServer(tls=ctx) as s:
        yield s, ca


async def test_tls_sni_and_verification_are_for_the_name(net, tls_server, monkeypatch):
    dns, sockets = net
    server, ca = tls_server
    dns.table.update({"pinned.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the fetcher's client trusts the test CA
    result = await _fetch(f"https://pinned.test:{server.port}/v1/boards/acme/jobs",
                          allow_private_networks=True)
    assert result.state == "OK" and len(result.postings) == 2
    assert server.server_names == ["pinned.test"]  # SNI: the name, not 127.0.0.1
    assert [s.host for s in server.requests] == [f"pinned.test:{server.port}"]
    assert sockets.opened == [("127.0.0.1", server.port)]
    # the same address under another name: the certificate does not match, no request
    result = await _fetch(f"https://other.test:{server.port}/v1/boards/acme/jobs",
                          allow_private_networks=True)
    assert result.state == "Failing"
    assert result.message == "connection to other.test failed (ConnectError) after 1 retries"
    assert len(server.requests) == 1


async def test_tls_verification_with_an_explicit_context(net, tls_server):
    dns, _ = net
    server, ca = tls_server
    dns.table["pinned.test"] = ["127.0.0.1"]
    url = f"https://pinned.test:{server.port}/"
    trusting = ssl.create_default_context(cafile=str(ca))
    async with httpx.AsyncClient(transport=PinnedTransport(True, verify=trusting),
                                 timeout=5) as client:
        assert (await client.get(url)).status_code == 200
    async with httpx.AsyncClient(transport=PinnedTransport(True), timeout=5) as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(url)  # certifi does not know the test CA


# ----------------------------------------------------------------------------- webhooks


def _change() -> Change:
    p = Posting(id="greenhouse:acme:1", board="acme", board_type="greenhouse", source_id="1",
                title="Backend Engineer", url="https://jobs.example.com/1")
    return Change(seq=1, target="hook", kind=ChangeKind.CREATED, source="jobs/acme",
                  board="acme", posting=p, idempotency_key="key-1",
                  created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


async def test_webhook_rebinding_is_refused_and_nothing_is_delivered(net, receiver):
    dns, sockets = net
    dns.first, dns.later = PUBLIC, "127.0.0.1"
    sink = webhook_sink("hook", "json", f"http://rebind.test:{receiver.port}{HOOK_PATH}",
                        "signing-key", allow_private=False)
    try:
        first = await sink.send([_change()])
        second = await sink.send([_change()])
    finally:
        await sink.aclose()
    assert first.sent == [] and first.error == "cannot post to rebind.test: ConnectError"
    assert second.sent == [] and second.error == (
        "refused: rebind.test (127.0.0.1) is a loopback address; allow private networks to "
        "fetch it")
    assert sockets.opened == [(PUBLIC, receiver.port)]
    assert receiver.requests == []
    for error in (first.error, second.error):
        assert SECRET not in error and "/api/" not in error and "123456" not in error


async def test_webhook_delivery_goes_to_the_resolved_address_with_the_name(net, receiver):
    dns, sockets = net
    dns.table["hooks.test"] = ["127.0.0.1"]
    sink = webhook_sink("hook", "json", f"http://hooks.test:{receiver.port}{HOOK_PATH}", None,
                        allow_private=True)
    try:
        result = await sink.send([_change()])
    finally:
        await sink.aclose()
    assert result.sent == [1] and not result.error
    (req,) = receiver.requests
    assert req.path == HOOK_PATH and req.header("host") == f"hooks.test:{receiver.port}"
    assert sockets.opened == [("127.0.0.1", receiver.port)]


# ----------------------------------------------------------------------------- proxies


async def test_an_environment_proxy_is_used_after_the_same_check(net, server, monkeypatch):
    dns, sockets = net
    dns.table.update({"public.test": [PUBLIC], "internal.test": ["10.0.0.8"]})
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    async with httpx.AsyncClient(transport=PinnedTransport(False), timeout=5) as client:
        assert (await client.get("http://public.test/jobs?page=1")).status_code == 200
        with pytest.raises(BlockedAddress, match=r"internal.test \(10.0.0.8\) is a private"):
            await client.get("http://internal.test/jobs")
    assert [s.target for s in server.requests] == ["http://public.test/jobs?page=1"]
    assert sockets.opened == []  # the proxy's connection is not pinned; nothing else opened
    monkeypatch.setenv("NO_PROXY", "public.test")
    async with httpx.AsyncClient(transport=PinnedTransport(False), timeout=5) as client:
        with pytest.raises(httpx.ConnectError):  # pinned again: PUBLIC, refused by the fake
            await client.get("http://public.test/jobs")
    assert sockets.opened == [(PUBLIC, 80)] and len(server.requests) == 1
