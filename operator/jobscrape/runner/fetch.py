"""Polite, bounded, async fetching of boards with httpx.

At most `concurrency` boards at once and `requests_per_second_per_host` per host; connect,
read and per-board total timeouts; a streamed size cap; retries with jittered exponential
backoff on connection errors, 429 and 5xx (Retry-After honoured, bounded) and none on other
4xx; conditional requests on a board's first page; every URL and redirect hop checked
against private addresses, each connection made to the very address checked (jobscrape.pinned).
A board's failure never escapes: it comes back as its result.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from jobscrape import PROJECT_URL, __version__
from jobscrape.api.vocabulary import BoardState
from jobscrape.boards.base import Adapter, BoardRef, ParseError
from jobscrape.httpcache import Validators
from jobscrape.netguard import BlockedAddress, host_of
from jobscrape.pinned import PinnedTransport, check_url
from jobscrape.postings import Posting
from jobscrape.runner.ratelimit import HostRateLimiter

USER_AGENT = f"jobscrape/{__version__} (+{PROJECT_URL})"
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class FetchOptions:
    """Limits of one run's fetching."""

    concurrency: int = 8
    requests_per_second_per_host: float = 2.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0  # per board, all pages and retries
    max_bytes: int = 20 * 1024 * 1024
    retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 60.0
    max_pages: int = 200
    allow_private_networks: bool = False


@dataclass
class BoardFetch:
    """How one board's fetch ended."""

    board: BoardRef
    ok: bool
    postings: list[Posting] = field(repr=False)  # large: keep reprs (and logs) short
    not_modified: bool
    http_status: int | None
    state: BoardState
    message: str
    validators: Validators | None = None
    pages: int = 0
    bytes: int = 0
    duration_seconds: float = 0.0


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after, self.status = retry_after, status


class _Failed(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Response:
    status: int
    body: bytes
    headers: httpx.Headers
    url: str


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


@dataclass
class _Fetcher:
    options: FetchOptions
    client: httpx.AsyncClient
    limiter: HostRateLimiter
    stats: dict[str, int] = field(default_factory=lambda: {"bytes": 0})

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.options.max_retry_after)
        return wait_random_exponential(multiplier=self.options.backoff_base,
                                       max=self.options.backoff_max)(state)

    async def get(self, url: str, headers: dict[str, str]) -> _Response:
        """GET with retries; raises _Failed (no retry left) or BlockedAddress."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.options.retries + 1), wait=self._wait,
            retry=retry_if_exception_type(_Retryable), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(url, headers)
        except _Retryable as e:
            raise _Failed(f"{e} after {self.options.retries} retries", e.status) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, url: str, headers: dict[str, str]) -> _Response:
        for _ in range(MAX_REDIRECTS + 1):
            await check_url(url, self.options.allow_private_networks)
            await self.limiter.acquire(host_of(url))
            try:
                resp = await self._stream(url, headers)
            except httpx.TimeoutException:
                raise _Retryable(f"timed out talking to {host_of(url)}") from None
            except httpx.TransportError as e:
                raise _Retryable(f"connection to {host_of(url)} failed "
                                 f"({type(e).__name__})") from None
            if resp.status in (301, 302, 303, 307, 308) and "location" in resp.headers:
                url = str(httpx.URL(url).join(resp.headers["location"]))
                continue
            if resp.status == 429 or resp.status >= 500:
                raise _Retryable(f"HTTP {resp.status} from {host_of(url)}",
                                 retry_after_seconds(resp.headers.get("retry-after")),
                                 resp.status)
            return resp
        raise _Failed(f"more than {MAX_REDIRECTS} redirects from {host_of(url)}")

    async def _stream(self, url: str, headers: dict[str, str]) -> _Response:
        cap = self.options.max_bytes
        async with self.client.stream("GET", url, headers=headers) as resp:
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise _Failed(f"body larger than {cap // (1024 * 1024)} MiB", resp.status_code)
            chunks, size = [], 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    raise _Failed(f"body larger than {cap // (1024 * 1024)} MiB",
                                  resp.status_code)
                chunks.append(chunk)
            self.stats["bytes"] += size
            return _Response(resp.status_code, b"".join(chunks), resp.headers, url)


async def _fetch_board(f: _Fetcher, board: BoardRef, adapter: Adapter,
                       validators: Validators | None) -> BoardFetch:
    t0 = time.monotonic()
    postings: list[Posting] = []
    pages, status, saved = 0, None, None

    def done(state: BoardState, message: str, ok: bool, not_modified: bool = False) -> BoardFetch:
        return BoardFetch(board=board, ok=ok, postings=postings if ok else [],
                          not_modified=not_modified, http_status=status, state=state,
                          message=message, validators=saved if ok else None, pages=pages,
                          bytes=f.stats["bytes"], duration_seconds=time.monotonic() - t0)

    try:
        url: str | None = adapter.first_url(board)
    except ValueError as e:
        return done("Failing", str(e), ok=False)
    try:
        while url is not None:
            if pages >= f.options.max_pages:
                return done("Failing", f"more than {f.options.max_pages} pages", ok=False)
            headers = {}
            if pages == 0 and validators is not None:
                if validators.etag:
                    headers["If-None-Match"] = validators.etag
                if validators.last_modified:
                    headers["If-Modified-Since"] = validators.last_modified
            resp = await f.get(url, headers)
            status = resp.status
            pages += 1
            if pages == 1 and resp.status == 304:
                saved = validators
                return done("OK", "not modified", ok=True, not_modified=True)
            if pages == 1 and resp.status in (404, 410):
                return done("NotFound", f"HTTP {resp.status} from {host_of(resp.url)}: "
                                        "no such board", ok=False)
            if resp.status >= 300:
                return done("Failing", f"HTTP {resp.status} from {host_of(resp.url)}",
                            ok=False)
            if pages == 1:
                etag, lm = resp.headers.get("etag"), resp.headers.get("last-modified")
                digest = hashlib.sha256(resp.body).hexdigest()
                saved = Validators(etag, lm)
                if validators is not None and validators.digest == digest:
                    saved = Validators(etag, lm, digest)  # same bytes as last run: no parse
                    return done("OK", "unchanged", ok=True, not_modified=True)
            page = adapter.parse(resp.body, board, resp.url)
            postings.extend(page.postings)
            url = page.next_url
            if pages == 1 and url is None:  # digests only for boards that fit on one page
                saved = Validators(saved.etag if saved else None,
                                   saved.last_modified if saved else None, digest)
    except BlockedAddress as e:
        return done("Failing", str(e), ok=False)
    except _Failed as e:
        status = e.status if e.status is not None else status
        return done("Failing", str(e), ok=False)
    except ParseError as e:
        return done("Failing", f"unreadable response: {e}"[:240], ok=False)
    if not postings:
        return done("Empty", "no postings", ok=True)
    return done("OK", f"{len(postings)} postings", ok=True)


async def fetch_boards(
    boards: list[BoardRef],
    options: FetchOptions,
    validators: dict[str, Validators] | None = None,
    on_board_done: Callable[[BoardFetch], None] | None = None,
    adapter_for: Callable[[str], Adapter] | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[BoardFetch]:
    """Fetch every board; results in input order. `validators` is keyed by first-page URL.
    A given `client` must pin and check addresses itself (PinnedTransport)."""
    if adapter_for is None:
        from jobscrape.boards import get_adapter as adapter_for
    validators = validators or {}
    sem = asyncio.Semaphore(options.concurrency)
    timeout = httpx.Timeout(connect=options.connect_timeout, read=options.read_timeout,
                            write=options.read_timeout, pool=options.total_timeout)
    own = client is None
    http = client or httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT},
        transport=PinnedTransport(
            options.allow_private_networks,
            limits=httpx.Limits(max_connections=options.concurrency * 2,
                                max_keepalive_connections=options.concurrency * 2)))
    limiter = HostRateLimiter(options.requests_per_second_per_host)

    async def one(b: BoardRef) -> BoardFetch:
        async with sem:
            f = _Fetcher(options, http, limiter)
            try:
                adapter = adapter_for(b.type)
                try:
                    first = adapter.first_url(b)
                except ValueError:
                    first = ""
                result = await asyncio.wait_for(
                    _fetch_board(f, b, adapter, validators.get(first)), options.total_timeout)
            except TimeoutError:
                result = BoardFetch(board=b, ok=False, postings=[], not_modified=False,
                                    http_status=None, state="Failing",
                                    message=f"timed out after {options.total_timeout:.0f}s")
            except Exception as e:  # a bug in an adapter must not take the run down
                result = BoardFetch(board=b, ok=False, postings=[], not_modified=False,
                                    http_status=None, state="Failing",
                                    message=f"internal error: {type(e).__name__}")
        if on_board_done is not None:
            on_board_done(result)
        return result

    try:
        return list(await asyncio.gather(*(one(b) for b in boards)))
    finally:
        if own:
            await http.aclose()
