"""Polite, bounded, async fetching of boards with httpx.

Politeness: at most `concurrency` boards at once and `requests_per_second_per_host` per host;
connect and read timeouts; retries with jittered exponential backoff on connection errors, 429
and 5xx and none on other 4xx (Retry-After honoured up to `max_retry_after`: a longer one, or a
429 that outlasts the retries, ends the board as RateLimited, naming the server's Retry-After);
conditional requests on a board's first page; every URL and redirect hop checked against
private addresses, each connection made to the very address checked (jobscrape.pinned).

Bounds, so that a hostile board can exhaust neither memory, CPU nor time, nor take the healthy
boards of the run down with it (each is a FetchOptions field):
- bytes, counted after decompression as the body inflates (gzip and deflate are inflated here
  a bounded piece at a time: a bomb stops at the cap, never more than the cap is held): each
  response (`max_bytes`) and all of a board's pages together (`max_board_bytes`);
- postings: a board listing more than `max_postings` is incomplete (Failing; nothing of it is
  stored or reported removed);
- fetch time (`total_timeout`): the time a board spends fetching its pages, retries and their
  backoff included; waiting for its host's rate limit, or for and in a parser, is not counted;
- parse time (`parse_timeout`): pages are parsed in worker processes
  (jobscrape.runner.parsepool) with a hard limit per board: a parse past it is killed with its
  worker and only its board fails ("parsing took longer than 30 s");
- descriptions too long or nested too deeply for the HTML sanitiser are kept as plain text
  (jobscrape.boards.normalise.DescriptionLimits).
An item of a page that cannot be read is skipped and counted (`skipped`); a page none of whose
items can be read fails its board. A board's failure never escapes: it comes back as its result.

Requests: a board's pages are GETs of each page's `next_url`, or whatever requests its adapter
names (jobscrape.boards.base.Request: a POST of a JSON body, as Workday's list is). A POST is
retried like a GET (the lists POSTed to are searches, which change nothing); a 303, or a 301 or
302 in answer to a POST, is followed with a GET, a 307 or 308 with the same request.
Conditional requests go with a first page that is a GET.

Details: an adapter with detail hooks (detail_url, parse_detail) has one GET per posting
fetched once its list is read whole, in list order, for at most `max_detail_requests` (default
100) postings per board and run (a posting's retries count as one): the same postings get their
details every run, and those past the cap keep their list data, so neither flaps between runs.
Detail requests go through everything a page goes through: the host's rate limit (a detail
counts against its host's rate like any request), the address checks and pinned connections,
retries, both byte budgets (a detail's body counts in the board's), the fetch time and, parsed
in the same workers as the pages, the board's parse time and the workers' memory limit. Each
detail is parsed with the posting it completes.

A detail that fails (404 or 410: the posting closed since the list was read; another 4xx; a 5xx
or connection failure after the retries; a body over `max_bytes`, or one its adapter cannot
read, such as a maintenance page) leaves that posting as the list gave it, and the board's
message counts the failures. Such a posting differs from its detailed version, so the store
sees an update, and another when a later run reads its detail again; and the board saves no
validators that run, so the next run does not take an unchanged list for an unchanged board
(conditional request or digest) and fetches the details again. When no detail of a board could
be read and at least one failed for a reason other than 404/410 (the tenant is down, say), the
board is Failing instead, and the store keeps its postings as they were. A 429 the retries do
not outlast ends the board as RateLimited, as on a page; a board over its byte budget, its
fetch time or its parse time is Failing, as it would be on a page (a board that runs out of
time in its details is better served by a lower `max_detail_requests` than by a cut that would
fall somewhere else each run). The list's digest is taken before the details: when the list's
bytes are those of the last run, the board is "unchanged" and the store keeps the postings
(details included) it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import zlib
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

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
from jobscrape.boards.base import (
    Adapter,
    BoardRef,
    ParseError,
    Request,
    detail_url,
    first_request,
    has_details,
)
from jobscrape.boards.normalise import DescriptionLimits
from jobscrape.heap import return_large_blocks
from jobscrape.httpcache import Validators
from jobscrape.netguard import BlockedAddress, host_of
from jobscrape.pinned import PinnedTransport, check_url
from jobscrape.postings import Posting, clean_line
from jobscrape.runner.bodybudget import BodyBudget, BodyHold
from jobscrape.runner.parsepool import (
    Body,
    PageParser,
    Parsed,
    ParseFailed,
    ParseRequest,
    ParseTimeout,
    TooManyPostings,
    available_cpus,
    start_parser,
    unpickle_postings,
)
from jobscrape.runner.ratelimit import HostRateLimiter
from jobscrape.runner.spill import PostingBatches

USER_AGENT = f"jobscrape/{__version__} (+{PROJECT_URL})"
MAX_REDIRECTS = 5
#: The content codings asked for: those inflated here with a bound (no brotli, no zstd).
ACCEPT_ENCODING = "gzip, deflate"
MiB = 1024 * 1024
_PIECE = 256 * 1024  # the most bytes one inflate step produces
T = TypeVar("T")


@dataclass(frozen=True)
class FetchOptions:
    """Limits of one run's fetching; the budgets are per board."""

    concurrency: int = 8
    requests_per_second_per_host: float = 2.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    #: seconds spent fetching a board's pages, retries and backoff included (not waiting
    #: for the host's rate limit, a parser or parsing)
    total_timeout: float = 120.0
    max_bytes: int = 20 * MiB  # one response, decompressed
    max_board_bytes: int = 64 * MiB  # all of a board's pages, decompressed
    #: bodies all boards of the run hold at once, read but not yet parsed (see bodybudget)
    max_buffered_bytes: int = 32 * MiB
    max_postings: int = 50_000  # a board with more is incomplete
    parse_timeout: float = 30.0  # seconds a board's pages may spend being parsed
    parse_workers: int | None = None  # parse processes; None: the CPUs available (>= 1)
    parse_memory: int | None = 512 * MiB  # a parse process's data segment (RLIMIT_DATA)
    max_description_chars: int = 512 * 1024  # longer descriptions are kept as plain text
    max_description_depth: int = 256  # more deeply nested ones too
    retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 60.0  # a 429 asking for longer ends the board as RateLimited
    max_pages: int = 200
    #: detail requests per board and run (boards whose adapter reads details: the first this
    #: many postings, in list order, get theirs; 0: none)
    max_detail_requests: int = 100
    allow_private_networks: bool = False


@dataclass
class BoardFetch:
    """How one board's fetch ended. `bytes` are the board's bodies (details included)
    decompressed; `skipped` counts the items that could not be read and were left out;
    `details` the detail requests made (their retries not counted), `detail_failures` those
    that left their posting with its list data."""

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
    skipped: int = 0
    parse_seconds: float = 0.0
    details: int = 0
    detail_failures: int = 0


class _Retryable(Exception):
    def __init__(self, message: str, host: str, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.host, self.retry_after, self.status = host, retry_after, status


class _Failed(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _OverBudget(_Failed):
    """The board's bodies together passed `max_board_bytes`."""


class _RateLimited(Exception):
    """The host keeps answering 429, or asks to come back later than we wait."""

    def __init__(self, host: str, retry_after: float | None, detail: str = "") -> None:
        self.host, self.retry_after = host, retry_after
        when = (f"retry after {retry_after:.0f} s" if retry_after is not None
                else "HTTP 429 without Retry-After")
        super().__init__(f"rate limited by {host}: {when}{detail}")


@dataclass
class _Response:
    status: int
    body: bytes | bytearray
    headers: httpx.Headers
    url: str
    hold: BodyHold | None = None  # what the body holds of the run's BodyBudget

    def drop(self) -> None:
        """Let go of the body (parsed or not needed): its bytes leave the run's budget."""
        self.body = b""
        if self.hold is not None:
            self.hold.release()


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


def _mib(n: int) -> str:
    return f"{n / MiB:g} MiB"


# ----------------------------------------------------------------------------- bodies


class _Identity:
    """A body without content coding."""

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of `data`."""
        if data:
            yield data

    def flush(self) -> Iterator[bytes]:
        """Whatever is left at the end of the body."""
        return iter(())


class _Inflater:
    """Inflates a gzip (every member) or deflate (zlib-wrapped or raw) body at most _PIECE
    bytes at a time, so that its reader can stop at a cap before more is produced."""

    def __init__(self, gzip: bool) -> None:
        self.gzip = gzip
        # deflate: zlib-wrapped or raw (as some servers send it), told by its first two bytes
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        self._head = b""
        self._members = 1
        self._done = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The inflated bytes of `data`, piece by piece; zlib.error on a corrupt body."""
        if self._d is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            cmf, flg = data[0], data[1]
            wrapped = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
            self._d = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        while data and not self._done:
            if self._d.eof:  # a gzip member ended; another one follows
                self._members += 1
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                out = self._d.decompress(data, _PIECE)
            except zlib.error:
                if self._members > 1:  # bytes after the last member: ignored, as browsers do
                    self._done = True
                    return
                raise
            data = self._d.unconsumed_tail
            if self._d.eof:
                data = self._d.unused_data
                self._done = not self.gzip
            if out:
                yield out

    def flush(self) -> Iterator[bytes]:
        """Whatever the inflater still holds at the end of the body (a few bytes at most)."""
        if self._d is not None and not self._done and not self._d.eof:
            out = self._d.flush()
            if out:
                yield out


def _decoder(coding: str | None) -> _Identity | _Inflater:
    """The decoder of a Content-Encoding; _Failed when it is one we did not ask for."""
    codings = [c.strip().lower() for c in (coding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _Identity()
    if codings in (["gzip"], ["x-gzip"]):
        return _Inflater(gzip=True)
    if codings == ["deflate"]:
        return _Inflater(gzip=False)
    raise _Failed(f"unsupported Content-Encoding {clean_line(coding or '')[:40]!r}")


# ----------------------------------------------------------------------------- one board


class _Clock:
    """The time a board has spent fetching: wall time less the time it spent waiting (for
    its host's rate limit, for a parser and in it)."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._waited = 0.0
        self._since: float | None = None
        self._depth = 0

    def spent(self) -> float:
        """Seconds spent fetching so far."""
        now = time.monotonic()
        pause = now - self._since if self._since is not None else 0.0
        return now - self._start - self._waited - pause

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Time inside the block is not counted (blocks may nest)."""
        if self._depth == 0:
            self._since = time.monotonic()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._since is not None:
                self._waited += time.monotonic() - self._since
                self._since = None


@dataclass
class _Fetcher:
    """One board's fetching: its client, limits and what it has used of its budgets."""

    options: FetchOptions
    client: httpx.AsyncClient
    limiter: HostRateLimiter
    parser: PageParser
    clock: _Clock = field(default_factory=_Clock)
    budget: BodyBudget = field(default_factory=lambda: BodyBudget(None))  # the run's
    bytes: int = 0  # decompressed bytes of this board's pages so far
    parse_seconds: float = 0.0
    backing_off: _Retryable | None = None  # the 429 being waited out, if one is

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.options.max_retry_after)
        return wait_random_exponential(multiplier=self.options.backoff_base,
                                       max=self.options.backoff_max)(state)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.backing_off = exc if isinstance(exc, _Retryable) and exc.status == 429 else None

    async def _sleep(self, seconds: float) -> None:
        """Back off; a 429 whose wait would outlast the board's fetch time ends it now."""
        e = self.backing_off
        if e is not None and seconds >= self.options.total_timeout - self.clock.spent():
            raise _RateLimited(e.host, e.retry_after)
        await asyncio.sleep(seconds)
        self.backing_off = None

    async def send(self, request: Request, headers: dict[str, str]) -> _Response:
        """The request (GET, or POST of its JSON body) with retries; raises _Failed (no retry
        left), _RateLimited or BlockedAddress."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.options.retries + 1), wait=self._wait,
            retry=retry_if_exception_type(_Retryable), reraise=True,
            before_sleep=self._before_sleep, sleep=self._sleep)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(request, headers)
        except _Retryable as e:
            if e.status == 429:
                raise _RateLimited(e.host, e.retry_after,
                                   f" (after {self.options.retries} retries)") from None
            raise _Failed(f"{e} after {self.options.retries} retries", e.status) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, request: Request, headers: dict[str, str]) -> _Response:
        url, method = request.url, request.method
        content = (None if request.json_body is None or method != "POST" else
                   json.dumps(request.json_body, separators=(",", ":")).encode())
        for _ in range(MAX_REDIRECTS + 1):
            host = host_of(url)
            await check_url(url, self.options.allow_private_networks)
            with self.clock.waiting():
                await self.limiter.acquire(host)
            try:
                resp = await self._stream(url, headers, method, content)
            except httpx.TimeoutException:
                raise _Retryable(f"timed out talking to {host}", host) from None
            except httpx.TransportError as e:
                raise _Retryable(f"connection to {host} failed ({type(e).__name__})",
                                 host) from None
            if resp.status in (301, 302, 303, 307, 308) and "location" in resp.headers:
                url = str(httpx.URL(url).join(resp.headers["location"]))
                if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                    method, content = "GET", None  # as browsers do
                continue
            if resp.status == 429:
                wait = retry_after_seconds(resp.headers.get("retry-after"))
                if wait is not None and wait > self.options.max_retry_after:
                    raise _RateLimited(host, wait)  # not worth waiting for within a run
                raise _Retryable(f"HTTP 429 from {host}", host, wait, 429)
            if resp.status >= 500:
                raise _Retryable(f"HTTP {resp.status} from {host}", host,
                                 retry_after_seconds(resp.headers.get("retry-after")),
                                 resp.status)
            return resp
        raise _Failed(f"more than {MAX_REDIRECTS} redirects from {host_of(url)}")

    async def _stream(self, url: str, headers: dict[str, str], method: str = "GET",
                      content: bytes | None = None) -> _Response:
        """The response; a 2xx body read whole, decompressed, within the response's and the
        board's byte budgets (others are not read: only their status matters). `content` is
        sent as JSON."""
        opts = self.options
        room = opts.max_board_bytes - self.bytes
        cap = min(opts.max_bytes, room)

        def too_big(status: int) -> _Failed:
            if cap < opts.max_bytes:
                return _OverBudget(f"more than {_mib(opts.max_board_bytes)} across its pages",
                                   status)
            return _Failed(f"body larger than {_mib(opts.max_bytes)}", status)

        sent = {"Accept-Encoding": ACCEPT_ENCODING, **headers}
        if content is not None:
            sent["Content-Type"] = "application/json"
        async with self.client.stream(method, url, headers=sent, content=content) as resp:
            status = resp.status_code
            if not 200 <= status < 300:
                return _Response(status, b"", resp.headers, url)
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > opts.max_bytes:
                raise _Failed(f"body larger than {_mib(opts.max_bytes)}", status)
            decoder = _decoder(resp.headers.get("content-encoding"))
            body = bytearray()
            raw = 0
            hold = self.budget.hold()

            async def add(piece: bytes) -> None:
                if len(body) + len(piece) > cap:
                    raise too_big(status)
                if self.budget.fits(len(piece)):
                    await hold.grow(len(piece))
                else:  # other boards' bodies fill the run's budget: not this board's time
                    with self.clock.waiting():
                        await hold.grow(len(piece))
                body.extend(piece)

            try:
                async for chunk in resp.aiter_raw():
                    raw += len(chunk)
                    if raw > opts.max_bytes:  # compressed bytes that inflate to nothing
                        raise _Failed(f"body larger than {_mib(opts.max_bytes)}", status)
                    for piece in decoder.feed(chunk):
                        await add(piece)
                for piece in decoder.flush():
                    await add(piece)
            except zlib.error:
                body.clear()
                hold.release()
                raise _Failed(f"body is not valid {resp.headers.get('content-encoding')} "
                              "data", status) from None
            except BaseException:
                # the exception's traceback holds this frame, and tenacity's retry state holds
                # the exception: a cycle that only the garbage collector frees, some time later.
                # Free the body (up to the cap) now.
                body.clear()
                hold.release()
                raise
            self.bytes += len(body)
            return _Response(status, body, resp.headers, url, hold)

    async def parse(self, board: BoardRef, resp: _Response, max_postings: int,
                    request: Request | None = None, posting: Posting | None = None) -> Parsed:
        """The page (the answer to `request`, when that was not a GET), or `posting`
        completed from its detail, parsed within what is left of the board's parse time. The
        response's body goes to the parser (it is empty afterwards)."""
        opts = self.options
        left = opts.parse_timeout - self.parse_seconds
        if left <= 0:
            raise ParseTimeout()
        if request is not None and request == Request(request.url):
            request = None  # a plain GET: parsed from its (final) URL, as ever
        elif request is not None:
            request = replace(request, url=resp.url)
        job = ParseRequest(board, resp.url, max_postings, DescriptionLimits(
            opts.max_description_chars, opts.max_description_depth), request, posting)
        body = Body(resp.body)
        try:
            resp.body = b""
            with self.clock.waiting():
                page, seconds = await self.parser.parse(job, body, left)
        finally:
            resp.drop()
        self.parse_seconds += seconds
        return page

    def timed_out(self, board: BoardRef, t0: float) -> BoardFetch:
        """The board's result when its fetch time ran out: RateLimited when that happened
        waiting out a 429, Failing otherwise."""
        e = self.backing_off
        if e is not None:
            return BoardFetch(board=board, ok=False, postings=[], not_modified=False,
                              http_status=429, state="RateLimited",
                              message=str(_RateLimited(e.host, e.retry_after)),
                              bytes=self.bytes, duration_seconds=time.monotonic() - t0)
        return BoardFetch(board=board, ok=False, postings=[], not_modified=False,
                          http_status=None, state="Failing",
                          message=f"timed out after {self.options.total_timeout:g} s of "
                                  "fetching", bytes=self.bytes,
                          duration_seconds=time.monotonic() - t0)


async def _fetch_board(f: _Fetcher, board: BoardRef, adapter: Adapter,
                       validators: Validators | None) -> BoardFetch:
    t0 = time.monotonic()
    opts = f.options
    postings: list[Posting] = []
    batches = PostingBatches()  # the postings, pickled, until the board is read whole
    count, pages, status, saved, skipped, reasons = 0, 0, None, None, 0, []
    details = _Details()

    def done(state: BoardState, message: str, ok: bool, not_modified: bool = False) -> BoardFetch:
        batches.clear()
        return BoardFetch(board=board, ok=ok, postings=postings if ok else [],
                          not_modified=not_modified, http_status=status, state=state,
                          message=message, validators=saved if ok else None, pages=pages,
                          bytes=f.bytes, duration_seconds=time.monotonic() - t0,
                          skipped=skipped if ok else 0, parse_seconds=f.parse_seconds,
                          details=details.requested, detail_failures=details.failed)

    try:
        request: Request | None = first_request(adapter, board)
    except ValueError as e:
        return done("Failing", str(e), ok=False)
    try:
        while request is not None:
            if pages >= opts.max_pages:
                return done("Failing", f"more than {opts.max_pages} pages", ok=False)
            headers = {}
            if pages == 0 and validators is not None and request.method == "GET":
                if validators.etag:
                    headers["If-None-Match"] = validators.etag
                if validators.last_modified:
                    headers["If-Modified-Since"] = validators.last_modified
            resp = await f.send(request, headers)
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
                    resp.drop()
                    saved = Validators(etag, lm, digest)  # same bytes as last run: no parse
                    return done("OK", "unchanged", ok=True, not_modified=True)
            page = await f.parse(board, resp, opts.max_postings - count, request)
            batches.extend(page.batches)
            count += page.count
            skipped += page.skipped
            reasons.extend(page.skip_reasons[:max(0, 3 - len(reasons))])
            request = page.following()
            if pages == 1 and request is None:  # digests only for boards that fit on one page
                saved = Validators(saved.etag if saved else None,
                                   saved.last_modified if saved else None, digest)
        postings = await asyncio.to_thread(batches.postings)  # GIL-bound
        if postings and has_details(adapter) and opts.max_detail_requests > 0:
            await _fetch_details(f, board, adapter, postings, details)
            if details.failed:  # the next run must not skip this one's missing details
                saved = Validators()
            if details.failed and not details.read and details.failed > details.gone:
                return done("Failing", f"no detail could be read: {details.reasons[0]}"[:240],
                            ok=False)
    except BlockedAddress as e:
        return done("Failing", str(e), ok=False)
    except _RateLimited as e:
        status = 429
        return done("RateLimited", str(e), ok=False)
    except _Failed as e:
        status = e.status if e.status is not None else status
        return done("Failing", str(e), ok=False)
    except ParseError as e:
        return done("Failing", f"unreadable response: {e}"[:240], ok=False)
    except ParseTimeout:
        return done("Failing", f"parsing took longer than {opts.parse_timeout:g} s", ok=False)
    except TooManyPostings as e:
        return done("Failing", f"more than {opts.max_postings} postings (at least "
                               f"{count + e.count}): not read whole, nothing of it "
                               "changed", ok=False)
    except ParseFailed as e:
        return done("Failing", f"parsing failed: {e}", ok=False)
    if not postings:
        return done("Empty", "no postings" + _skips(skipped, reasons), ok=True)
    return done("OK", f"{len(postings)} postings" + _skips(skipped, reasons)
                + details.summary(opts.max_detail_requests), ok=True)


@dataclass
class _Details:
    """How a board's detail requests went: `wanted` postings had a detail, `requested` were
    asked for (the cap), `read` completed their posting; `failed` did not (`gone` of them with
    404 or 410); the first few reasons."""

    wanted: int = 0
    requested: int = 0
    read: int = 0
    failed: int = 0
    gone: int = 0
    reasons: list[str] = field(default_factory=list)

    def fail(self, reason: str, gone: bool = False) -> None:
        """Count a failed detail."""
        self.failed += 1
        self.gone += gone
        if len(self.reasons) < 3:
            self.reasons.append(clean_line(reason)[:200])

    def summary(self, cap: int) -> str:
        """", details: 40 read, 2 failed (first: ...), 10 past the cap of 50" for a board
        message; nothing when no posting had a detail."""
        if not self.wanted:
            return ""
        text = f", details: {self.read} read"
        if self.failed:
            text += f", {self.failed} failed (first: {self.reasons[0][:160]})"
        if self.wanted > self.requested:
            text += f", {self.wanted - self.requested} past the cap of {cap}"
        return text


async def _fetch_details(f: _Fetcher, board: BoardRef, adapter: Adapter,
                         postings: list[Posting], details: _Details) -> None:
    """Complete the first `max_detail_requests` postings that have a detail, in list order,
    each from its detail (in place); a failed one keeps its list data and is counted in
    `details`. Raises what ends the board (see the module's description)."""
    for i, posting in enumerate(postings):
        try:
            url = detail_url(adapter, posting, board)
        except ValueError:
            url = None
        if url is None:
            continue
        details.wanted += 1
        if details.requested >= f.options.max_detail_requests:
            continue  # past the cap: counted, not fetched
        details.requested += 1
        try:
            resp = await f.send(Request(url), {})
        except _OverBudget:
            raise
        except (_Failed, BlockedAddress) as e:
            details.fail(str(e))
            continue
        if resp.status >= 300:
            details.fail(f"HTTP {resp.status} from {host_of(resp.url)}",
                         gone=resp.status in (404, 410))
            continue
        try:
            parsed = await f.parse(board, resp, 1, posting=posting)
        except ParseError as e:
            details.fail(f"unreadable detail: {e}")
            continue
        completed = unpickle_postings(parsed.batches)
        if len(completed) == 1 and completed[0].id == posting.id:
            postings[i] = completed[0]
            details.read += 1
        else:  # an adapter bug: the detail must complete its posting, nothing else
            details.fail("the detail did not give back its posting")


def _skips(skipped: int, reasons: list[str]) -> str:
    """", 2 items skipped (first: ...)" for a board message, or nothing."""
    if not skipped:
        return ""
    first = f" ({reasons[0][:160]})" if reasons else ""
    return f", {skipped} unreadable item{'s' if skipped > 1 else ''} skipped{first}"


async def _within(clock: _Clock, budget: float, coro: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result; TimeoutError once `clock` has spent `budget` seconds (the
    coroutine is cancelled). Time the clock does not count does not use the budget."""
    task = asyncio.ensure_future(coro)
    try:
        while not task.done():
            left = budget - clock.spent()
            if left <= 0:
                task.cancel()
                try:
                    return await task
                except asyncio.CancelledError:
                    raise TimeoutError from None
            await asyncio.wait({task}, timeout=left)
        return task.result()
    finally:
        if not task.done():
            task.cancel()


async def fetch_boards(
    boards: list[BoardRef],
    options: FetchOptions,
    validators: dict[str, Validators] | None = None,
    on_board_done: Callable[[BoardFetch], None] | None = None,
    adapter_for: Callable[[str], Adapter] | None = None,
    client: httpx.AsyncClient | None = None,
    parser: PageParser | None = None,
) -> list[BoardFetch]:
    """Fetch every board; results in input order. `validators` is keyed by first-page URL.
    A given `client` must pin and check addresses itself (PinnedTransport). Pages are parsed
    by `parser`, by default worker processes started for this call (threads when
    `adapter_for` gives adapters of its own)."""
    return_large_blocks()
    custom = adapter_for is not None
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
    own_parser = parser is None
    pages = parser or start_parser(
        min(options.parse_workers or available_cpus(), options.concurrency),
        options.parse_memory, adapter_for if custom else None)
    limiter = HostRateLimiter(options.requests_per_second_per_host)
    budget = BodyBudget(options.max_buffered_bytes)

    async def one(b: BoardRef) -> BoardFetch:
        async with sem:
            f = _Fetcher(options, http, limiter, pages, budget=budget)
            t0 = time.monotonic()
            try:
                adapter = adapter_for(b.type)
                try:
                    first = adapter.first_url(b)
                except ValueError:
                    first = ""
                result = await _within(f.clock, options.total_timeout,
                                       _fetch_board(f, b, adapter, validators.get(first)))
            except TimeoutError:
                result = f.timed_out(b, t0)
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
        if own_parser:
            await pages.aclose()

