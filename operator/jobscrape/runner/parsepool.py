"""Parsing pages off the event loop, with a hard time limit per board.

A small pool of worker processes (as many as the CPUs this process may use, at least one) runs
the adapter on each page (`adapter.parse(body, board, url)`, or its parse_response for a
request other than a GET) and on each posting's detail (`adapter.parse_detail(body, posting,
board)`: a detail is parsed like a page, under the same time and memory limits, its time
counted in its board's parse time) and sends the postings back as pickles of the frozen
dataclasses, in batches of a few MB (about 5% of the time the parse itself takes). The runner
keeps them pickled (UTF-8: about half the memory of the objects, whose text is often UCS-2)
until its board has been read whole, beyond 8 MiB in a temporary file (runner.spill), and lets
go of a body once it is sent. A parse that
runs past the time its board has left is killed with its worker, which is replaced; that
board fails, the others never notice.
A worker also has a memory limit (RLIMIT_DATA): a page that needs more fails its board. A
worker that has grown (the heap a large page needed is rarely given back to the system) ends
after its reply and is replaced by a fresh fork.

Workers are started with the 'forkserver' method: the fork server is a fresh, single-threaded
interpreter that imports the board adapters once (preload) and forks each worker from there.
So a worker inherits no event loop, no thread, no client socket and no store connection of the
runner, and replacing a killed one costs a fork, not an interpreter start (about 0.7 s of
imports with 'spawn', which is used where there is no fork server). 'fork' from the runner
itself is refused: it would copy the running event loop, httpx's open connections, the SQLite
store (and its lock) and whatever threads hold locks at that moment.

As with 'spawn', each worker imports the program's main module (not as `__main__`): a script
that runs fetches must keep its work under `if __name__ == "__main__":` (the `jobscrape`
command does).

When no worker process can be started at all (a sandbox without fork or a writable temporary
directory), pages are parsed in threads instead, and says so in a warning: the time limit
then still fails the board, but the thread parsing it cannot be stopped and runs to its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from jobscrape.api.vocabulary import BOARD_TYPES
from jobscrape.boards.base import (
    Adapter,
    BoardRef,
    Page,
    ParseError,
    Request,
    parse_detail,
    parse_page,
)
from jobscrape.boards.normalise import DescriptionLimits, description_limits
from jobscrape.heap import return_large_blocks
from jobscrape.postings import Posting
from jobscrape.runner.spill import PostingBatches

log = logging.getLogger("jobscrape.parse")

#: What the fork server imports once, so that every worker starts with it.
PRELOAD = ["jobscrape.runner.parsepool", *(f"jobscrape.boards.{t}" for t in BOARD_TYPES)]


class ParseTimeout(Exception):
    """The board's pages took longer to parse than its parse budget."""


class ParseFailed(Exception):
    """The parse ended without a page: the worker died, ran out of memory, or the adapter
    raised something other than ParseError (a bug). The message says which."""


class TooManyPostings(Exception):
    """The page holds more postings than the board has room for; `count` says how many."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} postings")
        self.count = count


@dataclass(frozen=True)
class ParseRequest:
    """One page to parse: its board, where it came from, and the limits it is parsed under.
    `request` is the request it answers when that was not a GET of `url`; with `posting`, the
    body is that posting's detail, and the page holds the posting completed from it."""

    board: BoardRef
    url: str
    max_postings: int
    limits: DescriptionLimits
    request: Request | None = None
    posting: Posting | None = None


class Body:
    """A page's body, handed over: the parser takes it, so the caller keeps no reference
    while the page is parsed (a body can be 20 MiB)."""

    def __init__(self, data: bytes | bytearray) -> None:
        self._data: bytes | bytearray | None = data

    def take(self) -> bytes | bytearray:
        """The body; the holder is empty afterwards."""
        data, self._data = self._data, None
        if data is None:
            raise RuntimeError("the body was taken already")
        return data


@dataclass
class Parsed:
    """A parsed page as the runner holds it: its paging, its skipped items, and its `count`
    postings pickled in `batches` (see postings())."""

    next_url: str | None
    skipped: int
    skip_reasons: tuple[str, ...]
    count: int
    batches: list[bytes] | PostingBatches
    next_request: Request | None = None

    @staticmethod
    def of(page: Page) -> Parsed:
        """A Page, pickled."""
        batches = [] if not page.postings else [
            pickle.dumps(page.postings, protocol=pickle.HIGHEST_PROTOCOL)]
        return Parsed(page.next_url, page.skipped, page.skip_reasons, len(page.postings),
                      batches, page.next_request)

    def following(self) -> Request | None:
        """The request for the next page, or None on the last page (as Page.following)."""
        if self.next_request is not None:
            return self.next_request
        return Request(self.next_url) if self.next_url else None


def unpickle_postings(batches: list[bytes] | PostingBatches) -> list[Posting]:
    """The postings of the batches, in order; each batch is let go once read (the list is
    emptied), so the pickles and the objects are not both held whole."""
    if isinstance(batches, PostingBatches):
        return batches.postings()
    out: list[Posting] = []
    batches.reverse()
    while batches:
        out.extend(pickle.loads(batches.pop()))
    return out


class PageParser(Protocol):
    """Parses pages for fetch_boards."""

    async def parse(self, request: ParseRequest, body: Body, timeout: float
                    ) -> tuple[Parsed, float]:
        """The page and the seconds its parse took (waiting for a free parser not counted);
        ParseError (unreadable body), ParseTimeout (over `timeout` seconds), TooManyPostings
        or ParseFailed. The parser takes the body."""
        ...

    async def aclose(self) -> None:
        """Stop whatever the parser started."""
        ...


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask, bounded by a cgroup v2 CPU quota
    (a container limited to 1.5 CPUs on a 64-core node gets 2), at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, n)


# ----------------------------------------------------------------------------- the worker side

#: About how many bytes of postings one message back to the runner carries.
BATCH_BYTES = 4 * 1024 * 1024
#: A worker whose resident memory is above this after a page ends (and is replaced).
RECYCLE_RSS = 192 * 1024 * 1024


def _rss() -> int:
    """This process's resident memory in bytes (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _parse_one(request: ParseRequest, body: bytes, adapter: Adapter) -> tuple[str, Any]:
    """The reply to one request: ("ok", Page), ("parse_error", message),
    ("too_many", count) or ("error", message)."""
    try:
        with description_limits(request.limits):
            if request.posting is not None:
                page = Page([parse_detail(adapter, body, request.posting, request.board)])
            else:
                page = parse_page(adapter, body, request.board,
                                  request.request or Request(request.url))
    except ParseError as e:
        return "parse_error", str(e)
    except RecursionError:
        return "parse_error", "the body is nested too deeply"
    except MemoryError:
        raise
    except Exception as e:  # an adapter bug: the board fails, the worker goes on
        return "error", f"internal error: {type(e).__name__}"
    if len(page.postings) > request.max_postings:
        return "too_many", len(page.postings)
    return "ok", page


def _send_reply(conn: Connection, reply: tuple[str, Any], retire: bool) -> None:
    """Send a reply as (kind, value, retire); a Page goes as ("page", (next_url, skipped,
    reasons, count, next_request), retire) followed by its postings pickled in batches of
    about BATCH_BYTES (so neither side holds one large pickle) and an empty message.
    `retire`: this worker ends after the reply."""
    kind, value = reply
    if kind != "ok":
        conn.send((kind, value, retire))
        return
    page: Page = value
    conn.send(("page", (page.next_url, page.skipped, page.skip_reasons, len(page.postings),
                        page.next_request), retire))
    batch: list[Any] = []
    size = 0
    for posting in page.postings:
        batch.append(posting)
        size += len(posting.description_html) + len(posting.description_text) + 1024
        if size >= BATCH_BYTES:
            conn.send_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
            batch, size = [], 0
    if batch:
        conn.send_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
    conn.send_bytes(b"")


def _serve(conn: Connection, memory_limit: int | None) -> None:
    """A worker: parse each request received on `conn` and send the reply, until the
    connection closes. Out of memory, it replies so and exits (a fresh worker replaces it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    return_large_blocks()
    if memory_limit:
        import resource

        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_DATA, (memory_limit, memory_limit))
    from jobscrape.boards import get_adapter

    while True:
        try:
            request: ParseRequest = conn.recv()
            body = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            reply = _parse_one(request, body, get_adapter(request.board.type))
            del body
            retire = _rss() > RECYCLE_RSS
            _send_reply(conn, reply, retire)
            del reply
        except MemoryError:
            with contextlib.suppress(Exception):
                conn.send(("memory", None, True))
            return
        except (EOFError, OSError):
            return
        if retire:
            return


# ----------------------------------------------------------------------------- the runner side


@dataclass
class _Worker:
    process: Any  # multiprocessing.process.BaseProcess
    conn: Connection

    def kill(self) -> None:
        """Kill the process at once (a parse cannot be interrupted any other way)."""
        with contextlib.suppress(Exception):
            self.process.kill()

    def close(self) -> None:
        """Reap the process and close the connection (the process is gone or going)."""
        self.process.join(5)
        if self.process.is_alive():
            self.kill()
            self.process.join(5)
        self.conn.close()


def _roundtrip(conn: Connection, request: ParseRequest, body: Body
               ) -> tuple[str, Any, bool]:
    """Send a page to a worker and wait for its reply (in a thread: both block)."""
    data = body.take()
    conn.send(request)
    conn.send_bytes(data)
    del data  # sent: let it go before the postings come back
    kind, value, retire = conn.recv()
    if kind != "page":
        return kind, value, retire
    next_url, skipped, reasons, count, next_request = value
    batches = PostingBatches()  # a page of large postings spills to a temporary file
    while batch := conn.recv_bytes():  # an empty message ends the batches
        batches.extend((batch,))
    return "ok", Parsed(next_url, skipped, reasons, count, batches, next_request), retire


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)  # no effect once the server runs: it is preloaded
        return ctx
    return multiprocessing.get_context("spawn")


class ProcessParser:
    """Parses pages in `size` worker processes; see the module's description."""

    def __init__(self, size: int, memory_limit: int | None = None) -> None:
        self.size = max(1, size)
        self.memory_limit = memory_limit
        self._idle: list[_Worker] = []
        self._slots = asyncio.Semaphore(self.size)
        # one thread per slot talks to a worker (send the page, wait for the reply), so the
        # event loop never blocks on a pipe; one more reaps workers
        self._threads = ThreadPoolExecutor(self.size + 1, thread_name_prefix="jobscrape-parse")
        self._fallback: ThreadParser | None = None
        self._closed = False
        self.started = 0  # workers started (a replaced one counts again)

    def _start_worker(self) -> _Worker:
        ctx = _context()
        ours, theirs = ctx.Pipe(duplex=True)
        process = ctx.Process(target=_serve, args=(theirs, self.memory_limit), daemon=True,
                              name="jobscrape-parse")
        try:
            process.start()
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.started += 1
        return _Worker(process, ours)

    async def _worker(self) -> _Worker | None:
        """An idle worker, or a new one; None when workers cannot be started here."""
        if self._idle:
            return self._idle.pop()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._threads, self._start_worker)
        except Exception as e:  # no fork, no /dev/shm, no writable TMPDIR...
            log.warning("parse workers cannot be started here (%s: %s): parsing in threads, "
                        "where a parse over its time limit fails its board but cannot be "
                        "stopped", type(e).__name__, e)
            self._fallback = ThreadParser()
            return None

    def _retire(self, w: _Worker, future: asyncio.Future[Any] | None = None) -> None:
        """Kill a worker whose parse did not end well (or that ends itself); reap it once the
        thread talking to it is done (it sees the connection close: EOFError, read here)."""
        w.kill()

        def reap(done: asyncio.Future[Any]) -> None:
            if not done.cancelled():
                done.exception()  # the abandoned exchange's end: nobody else reads it
            self._close_later(w)

        if future is None:
            self._close_later(w)
        elif future.done():
            reap(future)
        else:
            future.add_done_callback(reap)

    def _close_later(self, w: _Worker) -> None:
        """Reap a killed worker in a thread (here, once the threads are shut down)."""
        try:
            self._threads.submit(w.close)
        except RuntimeError:  # after aclose: the process is killed, so this is quick
            w.close()

    async def parse(self, request: ParseRequest, body: Body, timeout: float
                    ) -> tuple[Parsed, float]:
        """See PageParser.parse. Waiting for a free worker is not part of `timeout`."""
        if self._fallback is not None:
            return await self._fallback.parse(request, body, timeout)
        async with self._slots:
            w = await self._worker()
            if w is None:
                assert self._fallback is not None
                return await self._fallback.parse(request, body, timeout)
            loop = asyncio.get_running_loop()
            t0 = time.monotonic()
            future = loop.run_in_executor(self._threads, _roundtrip, w.conn, request, body)
            try:
                kind, value, retire = await asyncio.wait_for(asyncio.shield(future),
                                                             max(timeout, 0.0))
            except TimeoutError:
                self._retire(w, future)
                raise ParseTimeout() from None
            except (EOFError, OSError):
                await loop.run_in_executor(self._threads, w.process.join, 2)
                code = w.process.exitcode
                self._retire(w)
                how = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
                raise ParseFailed(f"the parser process died ({how})") from None
            except BaseException:  # cancelled: the worker is busy with a page nobody awaits
                self._retire(w, future)
                raise
            if kind == "memory":
                self._retire(w)
                raise ParseFailed("parsing needed more than "
                                  f"{(self.memory_limit or 0) // 2**20} MiB of memory")
            if retire or self._closed:
                self._retire(w)
            else:
                self._idle.append(w)
        return _reply(kind, value), time.monotonic() - t0

    async def aclose(self) -> None:
        """Stop every worker (each exits when its connection closes) and the threads."""
        self._closed = True
        idle, self._idle = self._idle, []
        for w in idle:
            w.conn.close()
        loop = asyncio.get_running_loop()
        for w in idle:
            await loop.run_in_executor(self._threads, w.process.join, 5)
            if w.process.is_alive():
                w.kill()
        self._threads.shutdown(wait=False)
        if self._fallback is not None:
            await self._fallback.aclose()


def _reply(kind: str, value: Any) -> Parsed:
    if kind == "ok":
        return value if isinstance(value, Parsed) else Parsed.of(value)
    if kind == "parse_error":
        raise ParseError(value)
    if kind == "too_many":
        raise TooManyPostings(value)
    raise ParseFailed(value)


class ThreadParser:
    """Parses pages in threads of this process, for where no worker process can be started
    (and for adapters that are not the board types' modules). The time limit fails the
    board, but the thread runs its parse to the end."""

    def __init__(self, adapter_for: Callable[[str], Adapter] | None = None,
                 threads: int = 2) -> None:
        if adapter_for is None:
            from jobscrape.boards import get_adapter as adapter_for
        self.adapter_for = adapter_for
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="jobscrape-parse")
        self.overrun = threading.Event()  # set once a parse outlived its time limit

    async def parse(self, request: ParseRequest, body: Body, timeout: float
                    ) -> tuple[Parsed, float]:
        """See PageParser.parse (waiting for a free thread counts here)."""
        adapter = self.adapter_for(request.board.type)
        loop = asyncio.get_running_loop()
        t0 = time.monotonic()
        future = loop.run_in_executor(self._threads, _parse_one, request, body.take(), adapter)
        try:
            kind, value = await asyncio.wait_for(asyncio.shield(future), max(timeout, 0.0))
        except TimeoutError:
            self.overrun.set()
            raise ParseTimeout() from None
        return _reply(kind, value), time.monotonic() - t0

    async def aclose(self) -> None:
        """Let the threads go (a parse still running ends on its own)."""
        self._threads.shutdown(wait=False)


def start_parser(workers: int | None, memory_limit: int | None,
                 adapter_for: Callable[[str], Adapter] | None = None) -> PageParser:
    """The parser of one run: worker processes (`workers`, default the CPUs available), or
    threads when adapters other than the board types' modules are given."""
    if adapter_for is not None:
        return ThreadParser(adapter_for)
    return ProcessParser(workers or available_cpus(), memory_limit)
