"""netguard without a network: IPv6 forms that carry an IPv4 address are judged by it, the
usual IPv6 ranges, and URL secrets kept out of messages (redact_url) and out of postings
derived from a page URL (scrub_secrets through build_posting)."""

from __future__ import annotations

import ipaddress

import pytest

from jobscrape.boards import get_adapter
from jobscrape.boards.base import BoardRef
from jobscrape.netguard import (
    BlockedAddress,
    check_addresses,
    describe,
    embedded_ipv4,
    redact_url,
    scrub_secrets,
)

LINK_LOCAL = "a link-local address (where cloud metadata services live)"


def _v4_in_nat64_48(v4: str) -> str:
    """v4 in a /48 local-use NAT64 prefix (RFC 6052: bits 48-63, the u octet, bits 72-87)."""
    n = int(ipaddress.IPv4Address(v4))
    value = (int(ipaddress.IPv6Address("64:ff9b:1::")) | (n >> 16) << 64
             | (n & 0xFFFF) << 40)
    return str(ipaddress.IPv6Address(value))


def _teredo(server: str, client: str) -> str:
    """A Teredo address: 2001:0::/32, the server's IPv4, flags and port, the client's IPv4
    stored inverted (RFC 4380)."""
    s, c = int(ipaddress.IPv4Address(server)), int(ipaddress.IPv4Address(client))
    value = 0x20010000 << 96 | s << 64 | 0x8000 << 48 | 0xFFFF << 32 | (~c & 0xFFFFFFFF)
    return str(ipaddress.IPv6Address(value))


@pytest.mark.parametrize(("addr", "form", "v4", "why"), [
    ("::ffff:127.0.0.1", "IPv4-mapped", "127.0.0.1", "a loopback address"),
    ("::ffff:169.254.169.254", "IPv4-mapped", "169.254.169.254", LINK_LOCAL),
    ("::10.0.0.1", "IPv4-compatible", "10.0.0.1", "a private address"),
    ("::127.0.0.1", "IPv4-compatible", "127.0.0.1", "a loopback address"),
    ("2002:a00:1::", "6to4", "10.0.0.1", "a private address"),
    ("2002:a9fe:a9fe::1", "6to4", "169.254.169.254", LINK_LOCAL),
    ("2002:7f00:1:1::5", "6to4", "127.0.0.1", "a loopback address"),
    ("64:ff9b::a00:1", "NAT64", "10.0.0.1", "a private address"),
    ("64:ff9b::169.254.169.254", "NAT64", "169.254.169.254", LINK_LOCAL),
    ("64:ff9b:1::c0a8:101", "local NAT64", "192.168.1.1", "a private address"),
    (_v4_in_nat64_48("10.0.0.1"), "local NAT64", "10.0.0.1", "a private address"),
    (_teredo("10.0.0.1", "93.184.215.14"), "Teredo", "10.0.0.1", "a private address"),
    (_teredo("93.184.215.14", "127.0.0.1"), "Teredo", "127.0.0.1", "a loopback address"),
    (_teredo("93.184.215.14", "100.64.0.1"), "Teredo", "100.64.0.1", "not a public address"),
])
def test_transition_forms_carrying_a_private_ipv4_are_refused(addr, form, v4, why):
    assert describe(ipaddress.ip_address(addr)) == f"{why} ({form} form of {v4})"
    with pytest.raises(BlockedAddress) as e:
        check_addresses("h.example", [addr], allow_private=False)
    shown = str(ipaddress.ip_address(addr))
    assert str(e.value) == (f"refused: h.example ({shown}) is {why} ({form} form of {v4}); "
                            "allow private networks to fetch it")
    check_addresses("h.example", [addr], allow_private=True)


@pytest.mark.parametrize(("addr", "form"), [
    ("::ffff:93.184.215.14", "IPv4-mapped"),
    ("::93.184.215.14", "IPv4-compatible"),
    ("2002:5db8:d70e::1", "6to4"),
    ("64:ff9b::93.184.215.14", "NAT64"),  # what DNS64 answers in an IPv6-only cluster
    ("64:ff9b:1::5db8:d70e", "local NAT64"),
    (_v4_in_nat64_48("93.184.215.14"), "local NAT64"),
    (_teredo("93.184.215.14", "8.8.8.8"), "Teredo"),
])
def test_transition_forms_carrying_a_public_ipv4_are_public(addr, form):
    found = embedded_ipv4(ipaddress.IPv6Address(addr))
    assert found is not None and found[0] == form
    assert describe(ipaddress.ip_address(addr)) is None
    check_addresses("h.example", [addr], allow_private=False)


def test_teredo_carries_the_server_and_the_deobfuscated_client():
    # RFC 4380's example: server 65.54.227.120, client 192.0.2.45 behind port 40000
    assert embedded_ipv4(ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:3fff:fdd2")) == (
        "Teredo", [ipaddress.IPv4Address("65.54.227.120"),
                   ipaddress.IPv4Address("192.0.2.45")])
    assert _teredo("65.54.227.120", "192.0.2.45").startswith("2001:0:4136:e378:8000:ffff:")


def test_a_local_nat64_address_is_refused_when_any_reading_of_it_is_private():
    # The operator picks the prefix length: 10.0.0.1 at /48 also reads as 0.0.1.0 at /56
    # and 0.1.0.0 at /64; the /96 reading of it (all zero) is the padding and is left out.
    form, v4s = embedded_ipv4(ipaddress.IPv6Address(_v4_in_nat64_48("10.0.0.1")))
    assert form == "local NAT64" and ipaddress.IPv4Address("10.0.0.1") in v4s
    assert describe(ipaddress.ip_address("64:ff9b:1::")) == (
        "a private address (local NAT64 form of 0.0.0.0)")
    assert describe(ipaddress.ip_address("64:ff9b:1:0:100::")) == (
        "not a public address (a malformed local NAT64 address)")  # the u octet is not zero


@pytest.mark.parametrize(("addr", "why"), [
    ("::1", "a loopback address"),
    ("::", "a private address"),
    ("fd00:ec2::254", "a private address"),  # unique local (fc00::/7), AWS's metadata
    ("fc00::1", "a private address"),
    ("fe80::1", LINK_LOCAL),
    ("fec0::1", "a site-local address"),  # deprecated, yet Python calls it global
    ("ff02::1", "a multicast address"),
    ("2001:db8::1", "a private address"),  # documentation
    ("100::1", "a private address"),  # discard-only
    ("::ffff:0:a00:1", "not a public address"),  # SIIT, reserved
])
def test_the_usual_ipv6_ranges_are_refused(addr, why):
    assert describe(ipaddress.ip_address(addr)) == why


@pytest.mark.parametrize("addr", ["2606:4700:4700::1111", "2a00:1450:4001:82a::200e",
                                  "93.184.215.14"])
def test_global_addresses_pass(addr):
    assert describe(ipaddress.ip_address(addr)) is None


# ----------------------------------------------------------------------------- redact_url


@pytest.mark.parametrize("name", [
    "api_key", "apikey", "key", "token", "access_token", "secret", "client_secret", "password",
    "signature", "sig", "auth", "API_KEY", "ApiKey", "Token", "X-Amz-Signature", "x_api_key",
    "refresh_token", "api-key", "accessToken",
])
def test_secret_query_values_are_redacted(name):
    url = f"https://jobs.example.com/feed?page=2&{name}=s3cr3t&lang=en"
    assert redact_url(url) == f"https://jobs.example.com/feed?page=2&{name}=***&lang=en"


def test_redact_url_drops_userinfo_and_keeps_the_rest():
    assert redact_url("https://user:pa%40ss@jobs.example.com:8443/a/b?q=x#top") == (
        "https://jobs.example.com:8443/a/b?q=x#top")
    assert redact_url("http://tok@[2001:db8::1]:8080/x?sig=abc&sig=def;auth=z") == (
        "http://[2001:db8::1]:8080/x?sig=***&sig=***;auth=***")
    assert redact_url("https://h.example/cb#access_token=abc&state=1") == (
        "https://h.example/cb#access_token=***&state=1")
    for kept in ("https://h.example/", "https://h.example/x?monkey=1&keyword=go&token=",
                 "https://h.example/x?token"):
        assert redact_url(kept) == kept  # nothing secret (an empty or missing value)
    once = redact_url("https://u:p@h.example/?token=t")
    assert redact_url(once) == once == "https://h.example/?token=***"
    assert redact_url("http://[::1/x") == "(unreadable URL)"


def test_scrub_secrets_takes_out_what_a_page_url_lends():
    page = "https://user:pw@h.example/feed.xml?page=2&token=SECRET&key=k1"
    text = ("https://user:pw@h.example/jobs/1 | https://h.example/feed.xml?page=2&token=SECRET"
            "#x | <a href=\"https://h.example/?key=k1&amp;token=SECRET\"> | mail user@h.example"
            " | https://other.example/?token=SECRETS | token=SECRET")
    assert scrub_secrets(text, page) == (
        "https://h.example/jobs/1 | https://h.example/feed.xml?page=2&token=***#x | "
        "<a href=\"https://h.example/?key=***&amp;token=***\"> | mail user@h.example | "
        "https://other.example/?token=SECRETS | token=SECRET")
    assert scrub_secrets(text, None) == text
    assert scrub_secrets(text, "https://h.example/feed.xml?page=2") == text


# ----------------------------------------------------------------------------- postings

SECRET_PAGE = "https://user:pw@careers.example.com/jobs.html?api_key=K3Y&lang=en"


def _leaks(value: object) -> bool:
    return any(s in str(value) for s in ("user:pw", "pw@", "K3Y"))


def test_jsonld_postings_carry_no_secret_of_the_page_url():
    html = b"""<html><script type="application/ld+json">[
      {"@type": "JobPosting", "title": "Relative", "url": "/jobs/2"},
      {"@type": "JobPosting", "title": "No url"},
      {"@type": "JobPosting", "title": "Fragment", "url": "#engineer"},
      {"@type": "JobPosting", "title": "Elsewhere",
       "url": "https://boards.greenhouse.io/embed/job_app?for=acme&token=4567890"}
    ]</script></html>"""
    board = BoardRef(name="careers", type="jsonld", url=SECRET_PAGE)
    postings = get_adapter("jsonld").parse(html, board, SECRET_PAGE).postings
    assert [p.url for p in postings] == [
        "https://careers.example.com/jobs/2",
        "https://careers.example.com/jobs.html?api_key=***&lang=en",
        "https://careers.example.com/jobs.html?api_key=***&lang=en#engineer",
        "https://boards.greenhouse.io/embed/job_app?for=acme&token=4567890",  # board data
    ]
    for p in postings:
        assert not _leaks(p.id) and not _leaks(p.source_id) and not _leaks(p.to_dict())


def test_feed_postings_carry_no_secret_of_the_feed_url():
    feed = b"""<rss version="2.0"><channel><title>Jobs</title>
      <item><title>Acme: Engineer</title><link>/jobs/1</link>
        <description>&lt;a href="/apply?x=1"&gt;apply&lt;/a&gt;</description></item>
      <item><title>Beta: Designer</title><link>?job=7</link></item>
    </channel></rss>"""
    url = "https://user:pw@feeds.example.com/jobs.xml?token=K3Y"
    board = BoardRef(name="feed", type="feed", url=url)
    postings = get_adapter("feed").parse(feed, board, url).postings
    assert [p.url for p in postings] == ["https://feeds.example.com/jobs/1",
                                         "https://feeds.example.com/jobs.xml?job=7"]
    assert 'href="https://feeds.example.com/apply?x=1"' in postings[0].description_html
    for p in postings:
        assert not _leaks(p.to_dict()) and "K3Y" not in p.id
