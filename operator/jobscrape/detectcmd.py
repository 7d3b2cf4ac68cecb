"""`jobscrape detect URL...`: the `spec.boards` entries for careers page URLs, as YAML.

Each URL is read by jobscrape.detect: a hosted board, job, embed or API URL of a supported
board type gives its entry without any request. With `--fetch`, a URL of no known shape (a
custom careers domain) is fetched once and its page searched for embedded boards (script and
iframe sources, links), a feed, or schema.org JobPosting data (the `jsonld` type). The fetch
goes through the project's SSRF guard and pinned transport (jobscrape.pinned: every address
checked, the connection made to the address checked, each redirect hop checked again), with
a timeout, at most MAX_PAGE_BYTES of the page read and at most MAX_REDIRECTS redirects.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml

from jobscrape.detect import Detected, Refused, detect_url, jsonld_hint, parse_url, sniff_page
from jobscrape.netguard import redact_url
from jobscrape.postings import clean_line
from jobscrape.runner.main import allow_private_default

if TYPE_CHECKING:
    import httpx

MAX_PAGE_BYTES = 4 * 1024 * 1024  # of a fetched page read (the rest is not looked at)
FETCH_TIMEOUT = 20.0  # seconds for one page, redirects included
SHOWN = 200  # characters of an input shown in a message

EPILOG = """\
exit status: 0 when every URL gave a board entry; 1 when some did not (unknown page, a page
that could not be fetched, or an entry that needs more than the URL carries: the message on
stderr says what); 2 for bad usage (no URL, or input that is not an http(s) URL).

Unknown pages: if the page carries schema.org JobPosting data, use {type: jsonld, url: URL}."""


class FetchFailed(Exception):
    """The page could not be fetched; the message says why in one line (no URL secrets)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `jobscrape detect`."""
    p.description = __doc__.split("\n\n")[0] if __doc__ else None
    p.epilog = EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("urls", nargs="+", metavar="URL",
                   help="careers page, job, board, embed or API URL")
    p.add_argument("--fetch", action="store_true",
                   help="fetch pages of no known shape and look for embedded boards, feeds "
                        "and JobPosting data (through the SSRF guard)")
    p.add_argument("--allow-private-networks", action="store_true",
                   default=allow_private_default(),
                   help="let --fetch reach private and loopback addresses (tests only)")


@dataclass
class Outcome:
    """What one input gave: entries, the lines for stderr, and its exit status."""

    shown: str
    found: list[Detected] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    status: int = 0
    fetched: bool = False


def shown(url: str) -> str:
    """The input fit for a message: one line, no user info or secret query values, short."""
    text = clean_line(redact_url(url.strip()) if isinstance(url, str) else "?")
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


async def fetch_page(url: str, allow_private: bool, *,
                     transport: httpx.AsyncBaseTransport | None = None,
                     max_bytes: int | None = None,
                     timeout: float | None = None) -> tuple[str, bytes]:
    """(final URL, at most `max_bytes` (MAX_PAGE_BYTES) of the body) of a page, GET through
    the SSRF guard (PinnedTransport unless `transport` is given; each redirect hop checked)
    within `timeout` (FETCH_TIMEOUT) seconds; FetchFailed naming the cause otherwise
    (BlockedAddress's refusal, an HTTP status, a timeout...)."""
    import httpx

    from jobscrape.netguard import BlockedAddress, host_of
    from jobscrape.pinned import PinnedTransport, check_url
    from jobscrape.runner.fetch import MAX_REDIRECTS, USER_AGENT

    cap = MAX_PAGE_BYTES if max_bytes is None else max_bytes
    seconds = FETCH_TIMEOUT if timeout is None else timeout

    async def get(client: httpx.AsyncClient) -> tuple[str, bytes]:
        nonlocal url
        for _ in range(MAX_REDIRECTS + 1):
            await check_url(url, allow_private)
            async with client.stream("GET", url) as resp:
                if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                    url = str(httpx.URL(url).join(resp.headers["location"]))
                    continue
                if not 200 <= resp.status_code < 300:
                    raise FetchFailed(f"HTTP {resp.status_code} from {host_of(url)}")
                coding = resp.headers.get("content-encoding", "identity").strip().lower()
                if coding not in ("", "identity"):  # not asked for: not inflated here
                    raise FetchFailed(f"{host_of(url)} sent the page {clean_line(coding)[:20]}-"
                                      "encoded though asked for identity")
                body = bytearray()
                async for chunk in resp.aiter_raw():
                    body += chunk
                    if len(body) >= cap:
                        break  # the rest of the page is not looked at
                return url, bytes(body[:cap])
        raise FetchFailed(f"more than {MAX_REDIRECTS} redirects from {host_of(url)}")

    client = httpx.AsyncClient(
        transport=transport or PinnedTransport(allow_private),
        follow_redirects=False, timeout=httpx.Timeout(seconds),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity",
                 "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5"})
    try:
        async with client:
            return await asyncio.wait_for(get(client), seconds)
    except BlockedAddress as e:
        raise FetchFailed(str(e)) from None
    except (TimeoutError, httpx.TimeoutException):
        raise FetchFailed(f"timed out after {seconds:g} s") from None
    except httpx.HTTPError as e:
        raise FetchFailed(f"cannot fetch it from {host_of(url)} ({type(e).__name__})") from None


async def detect_one(url: str, fetch: bool, allow_private: bool) -> Outcome:
    """The entries of one input, fetching the page when --fetch asks and the URL alone does
    not do (unknown shape, or an entry that needs what only the page carries)."""
    out = Outcome(shown(url))
    try:
        d = detect_url(url)
    except Refused as e:
        out.messages.append(str(e))
        out.status = 2
        return out
    if d is not None and not (d.note and fetch):
        out.found = [d]
    elif fetch:
        out.fetched = True
        try:
            final, body = await fetch_page(parse_url(url).url, allow_private)
            out.found = sniff_page(final, body)
        except (FetchFailed, Refused) as e:
            out.messages.append(f"--fetch: {e}")
            out.status = 1
            return out
    for found in out.found:
        if found.note:
            out.messages.append(found.note)
            out.status = 1
    if not out.found:
        try:
            hint = jsonld_hint(url)
        except Refused:  # pragma: no cover - detect_url refused it already
            hint = {"type": "jsonld", "url": "URL"}
        where = "in the page" if out.fetched else "in the URL (--fetch reads the page)"
        out.messages.append(
            f"no supported board found {where}; if the page carries schema.org JobPosting "
            f"data, use {{type: jsonld, url: {shown(hint['url'])}}}")
        out.status = 1
    return out


def render(outcomes: list[Outcome]) -> str:
    """The entries as a YAML list for `spec.boards`, each after a comment naming its input;
    names made unique (a clash gets the type, then a number, appended); an entry found twice
    is given once."""
    names: set[str] = set()
    seen: set[tuple[str, str, str]] = set()
    parts: list[str] = []
    for o in outcomes:
        for d in o.found:
            entry = d.entry()
            key = (entry["type"], entry.get("token", ""), entry.get("url", ""))
            if key in seen:
                continue
            seen.add(key)
            entry["name"] = _unique(entry["name"], d.type, names)
            note = " (found in the page)" if o.fetched else ""
            parts.append(f"# {o.shown}{note}\n"
                         + yaml.safe_dump([entry], sort_keys=False, allow_unicode=False,
                                          width=1000))
    return "".join(parts)


def _unique(name: str, kind: str, taken: set[str]) -> str:
    """`name`, else `name-kind`, else `name-kind-2`... not in `taken` (at most 63 chars)."""
    candidates = [name, f"{name[:62 - len(kind)]}-{kind}"]
    candidates += [f"{candidates[1][:58]}-{i}" for i in range(2, 1000)]
    for c in candidates:
        if c not in taken:
            taken.add(c)
            return c
    raise AssertionError("unreachable")  # pragma: no cover


def run(args: argparse.Namespace) -> int:
    """Print the entries of the URLs; messages for the others on stderr (see EPILOG)."""

    async def all_of() -> list[Outcome]:  # one after the other: a polite pace
        return [await detect_one(u, args.fetch, args.allow_private_networks)
                for u in args.urls]

    outcomes = asyncio.run(all_of())
    sys.stdout.write(render(outcomes))
    for o in outcomes:
        for m in o.messages:
            print(f"jobscrape detect: {o.shown}: {m}", file=sys.stderr)
    return max((o.status for o in outcomes), default=0)
