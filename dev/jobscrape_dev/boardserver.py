"""A local job-board server for tests, benchmarks and the demo.

It serves the real captured payloads (tests/fixtures/boards) at each board type's real URL
path, and injects faults per board token: an HTTP status, 429 with Retry-After for the first
requests, slow, truncated, malformed or oversized bodies, and ETag/304. `scale` synthesises
N postings per board by cloning real entries with new ids and titles. Some tokens serve a
variant of a captured payload instead (VARIANTS: the greenhouse board `hostile` answers
hostile_greenhouse.json, titles and links made to attack terminals, spreadsheets and browsers).

Hostile boards (Fault fields; HOSTILE names a ready-made one per token, --hostile installs
them): a gzip or deflate bomb (`bomb`: the bytes it inflates to), a body sent compressed
(`encoding`), a description of `nested` nested <div>s (greenhouse), pages made large by
`pad` characters of text per posting (with `scale`: many large pages), one posting without its
id (`bad_item`) and one invalid UTF-8 byte in a title (`bad_byte`) (greenhouse, lever, ashby),
and 429 with a long Retry-After (`status`, `retry_after`).

Boards with a detail per posting: Workday (`POST /wday/cxs/{tenant}/{site}/jobs`, offset
paging over the capture's 20 postings, or `scale` clones of them; `total` only on the first
page, 0 after, as Workday does; `limit` over 20 is refused with 400; the detail at
`GET /wday/cxs/{tenant}/{site}/job/...` for each listed externalPath: the captured detail made
that posting's) and BambooHR (`/bamboohr/{company}/careers/list` and `.../careers/{id}/detail`,
likewise). Their faults: `outage` (the tenant answers an HTML maintenance page, status 200,
instead of JSON), `detail_status` (detail requests answer that status; `detail_times`: only
the first N of them). WORKDAY_BOARDS names the captures each Workday tenant serves.

    python -m jobscrape_dev.boardserver --port 8089 --hostile
    curl -X POST localhost:8089/_faults -d '{"acme": {"status": 500}}'
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import gzip
import hashlib
import html
import json
import threading
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from jobscrape_dev import REPO_ROOT

DEFAULT_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "boards"
#: Board type → token → the fixture served for that token instead of the type's usual one.
VARIANTS: dict[str, dict[str, str]] = {
    "greenhouse": {"hostile": "hostile_greenhouse.json"},
}
#: One board of every type this server serves: type → (a token its alphabet accepts, the
#: path of its first page). Tests and benchmarks that cover every type start here.
ENTRIES: dict[str, tuple[str, str]] = {
    "greenhouse": ("acme", "/v1/boards/acme/jobs"),
    "lever": ("acme", "/v0/postings/acme"),
    "ashby": ("acme", "/posting-api/job-board/acme"),
    "workable": ("acme", "/api/v1/widget/accounts/acme"),
    "smartrecruiters": ("acme", "/v1/companies/acme/postings"),
    "recruitee": ("acme", "/recruitee/acme/api/offers/"),
    "personio": ("acme", "/personio/acme/xml"),
    "jsonld": ("acme", "/jsonld/acme.html"),
    "feed": ("acme", "/feed/acme.xml"),
    "workday": ("acme.wd5/External", "/wday/cxs/acme/External/jobs"),
    "bamboohr": ("acme", "/bamboohr/acme/careers/list"),
    "teamtailor": ("acme", "/teamtailor/acme/jobs.rss"),
    "breezy": ("acme", "/breezy/acme/json"),
    "rippling": ("acme", "/platform/api/ats/v1/board/acme/jobs"),
    "gem": ("acme", "/job_board/v0/acme/job_posts"),
    "pinpoint": ("acme", "/pinpoint/acme/postings.json"),
    "comeet": ("F6.003:0a1b2c3d", "/careers-api/2.0/company/F6.003/positions"),
    "arbeitnow": ("all", "/api/job-board-api"),
    "themuse": ("all", "/api/public/jobs"),
    "hackernews": ("hiring", "/api/v1/search_by_date?tags=story,author_whoishiring"
                             "&query=hiring&hitsPerPage=12"),
}
#: Board types served as their capture, whatever the token: path → (capture, content type).
FIXED_ROUTES: dict[str, tuple[str, str]] = {
    "/teamtailor/{token}/jobs.rss": ("teamtailor_rss_ferd.xml", "application/rss+xml"),
    "/teamtailor/{token}/jobs.json": ("teamtailor_jobsjson_teamtailor_trimmed.json",
                                      "application/feed+json"),
    "/breezy/{token}/json": ("breezy_json_gacc.json", "application/json"),
    "/platform/api/ats/v1/board/{token}/jobs": ("rippling_v1_jobs_rippling_trimmed.json",
                                                "application/json"),
    "/job_board/v0/{token}/job_posts": ("gem_job_posts_gem_trimmed.json", "application/json"),
    "/careers-api/2.0/company/{token}/positions": ("comeet_positions_wiliot_trimmed.json",
                                                   "application/json"),
}
#: Workday tenant → (list capture, detail capture) it serves; other tenants serve Hitachi's.
WORKDAY_BOARDS: dict[str, tuple[str, str]] = {
    "nvidia": ("workday_list_nvidia_trimmed.json", "workday_detail_nvidia.json"),
}
WORKDAY_DEFAULT = ("workday_list_hitachi.json", "workday_detail_hitachi.json")
WORKDAY_PAGE_LIMIT = 20  # a larger `limit` is answered with 400, as some tenants do
BAMBOOHR_LIST = "bamboohr_list_collectivemeasures.json"
BAMBOOHR_DETAIL = "bamboohr_detail_collectivemeasures_trimmed.json"
#: What `outage` answers instead of JSON (written here, not captured).
OUTAGE_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Workday is currently unavailable</title>"
               b"</head><body><h1>Workday is currently unavailable.</h1><p>We are performing "
               b"scheduled maintenance. Please try again later.</p></body></html>\n")


def clone_items(items: list[dict[str, Any]], n: int, id_key: str, title_key: str,
                start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
    """`n` real entries cloned round-robin, each with a new id and title (nothing else
    changes, so the format stays the captured one); with `start`/`stop`, only those of the n
    (the same ones, for a page of a large board)."""
    out = []
    for i in range(max(0, start), min(n, n if stop is None else stop)):
        item = copy.deepcopy(items[i % len(items)])
        base = item[id_key]
        item[id_key] = base * 100000 + i if isinstance(base, int) else f"{base}-{i}"
        item[title_key] = f"{item[title_key]} #{i}"
        out.append(item)
    return out


#: Inflated size of one cached gzip member of a bomb (members are concatenated).
BOMB_MEMBER = 64 * 1024 * 1024
#: Where `bad_byte` puts its byte (not valid UTF-8 on its own).
BAD_BYTE_MARK = "@@invalid-byte@@"
#: Filler text for `pad`.
FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. "
#: The key holding each posting's id and title, per board type that takes bad_item/bad_byte/pad.
KEYS: dict[str, tuple[str, str, str]] = {  # type -> (id, title, description)
    "greenhouse": ("id", "title", "content"),
    "lever": ("id", "text", "description"),
    "ashby": ("id", "title", "descriptionHtml"),
}


@functools.cache
def _gzip_member() -> bytes:
    return gzip.compress(bytes(BOMB_MEMBER), compresslevel=9, mtime=0)


@functools.cache
def bomb_body(size: int, encoding: str = "gzip") -> bytes:
    """A body that inflates to `size` zero bytes: concatenated gzip members, or one deflate
    (zlib) stream. About 1 KB per MB inflated."""
    if encoding in ("gzip", "x-gzip"):
        return _gzip_member() * max(1, -(-size // BOMB_MEMBER))
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS if encoding == "raw-deflate"
                         else zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [c.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + c.compress(bytes(size % len(block))) + c.flush()


def encode_body(body: bytes, encoding: str) -> bytes:
    """The body compressed as Content-Encoding `encoding` (gzip, deflate, or raw-deflate:
    deflate without its zlib wrapper, as some servers send it)."""
    if encoding in ("gzip", "x-gzip"):
        return gzip.compress(body, mtime=0)
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS if encoding == "raw-deflate"
                         else zlib.MAX_WBITS)
    return c.compress(body) + c.flush()


def nested_divs(depth: int) -> str:
    """HTML of `depth` nested <div>s around one word."""
    return "<div>" * depth + "deep" + "</div>" * depth


@dataclass
class Fault:
    """What to do wrong for one board token."""

    status: int | None = None  # answer with this status
    retry_after: int | None = None  # with 429: seconds in Retry-After
    times: int | None = None  # only for the first N requests, then behave
    delay: float = 0.0  # seconds before answering
    #: seconds to hold the answer open: headers at once, then a space (JSON whitespace) each
    #: second so that no read times out, then the body; BoardServer.release_holds ends it early
    hold: float = 0.0
    truncate: bool = False  # cut the body in half
    malformed: bool = False  # send garbage
    oversize: int = 0  # stream this many bytes
    etag: bool = False  # send an ETag and answer If-None-Match with 304
    scale: int = 0  # synthesise this many postings
    bomb: int = 0  # send a body compressed with `encoding` (gzip unless set) inflating to this
    encoding: str | None = None  # send bodies compressed: gzip, deflate or raw-deflate
    nested: int = 0  # greenhouse: the first job's content is this many nested <div>s
    pad: int = 0  # add this many characters of text to each posting's description
    bad_item: bool = False  # the first posting of each page has no id
    bad_byte: bool = False  # an invalid UTF-8 byte in the last title of each page
    outage: bool = False  # workday, bamboohr: an HTML maintenance page (200) instead of JSON
    detail_status: int | None = None  # workday, bamboohr: details answer this status
    #: with detail_status: only the first N detail requests to the token (all of them so far,
    #: BoardServer.detail_requests; retries count)
    detail_times: int | None = None
    seen: int = 0

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Fault:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__
                      and k != "seen"})


#: Ready-made hostile boards, by token (any board type): what `--hostile` installs.
HOSTILE: dict[str, dict[str, Any]] = {
    "bomb": {"bomb": 1024**3},  # gzip inflating to 1 GiB
    "deflate-bomb": {"bomb": 256 * 1024**2, "encoding": "deflate"},
    "deep": {"nested": 200_000},  # greenhouse: a 2 MB description of nested <div>s
    "bigpages": {"scale": 20_000, "pad": 190_000},  # lever: 200 pages of about 19 MB
    "badbits": {"scale": 5, "bad_item": True, "bad_byte": True},
    "ratelimited": {"status": 429, "retry_after": 3600},
}


@dataclass
class BoardServer:
    """The server; runs in a thread of its own (start/stop) or as a process (main)."""

    fixtures: Path = DEFAULT_FIXTURES
    host: str = "127.0.0.1"
    port: int = 0
    unknown: set[str] = field(default_factory=lambda: {"no-such-board", "unknown"})
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    #: requests per client address (which pod fetched from this server)
    peers: Counter[str] = field(default_factory=Counter)
    #: greenhouse token -> a function that edits the board's JSON document before it is
    #: served (tests change, add and remove postings between runs)
    edits: dict[str, Callable[[dict[str, Any]], None]] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    #: token -> detail requests received (workday, bamboohr)
    detail_requests: Counter[str] = field(default_factory=Counter)
    #: set: answers held open (Fault.hold) are sent at once
    holds_released: threading.Event = field(default_factory=threading.Event)
    _runner: web.AppRunner | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _cache: dict[str, bytes] = field(default_factory=dict)

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:43123"""
        return f"http://{self.host}:{self.port}"

    def start(self) -> BoardServer:
        """Serve in a background thread; returns once listening."""
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="boardserver")
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("board server did not start")
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)  # type: ignore[union-attr]
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> BoardServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_fault(self, token: str, **kw: Any) -> None:
        """Inject a fault for a board token (see Fault)."""
        self.faults[token] = Fault(**kw)
        if kw.get("hold"):
            self.holds_released.clear()

    def release_holds(self) -> None:
        """Send every answer held open (Fault.hold) now."""
        self.holds_released.set()

    def set_hostile(self) -> None:
        """Inject every HOSTILE fault under its token."""
        for token, kw in HOSTILE.items():
            self.set_fault(token, **kw)

    async def _start(self) -> None:
        app = web.Application()
        r = app.router
        r.add_get("/v1/boards/{token}/jobs", self._greenhouse)
        r.add_get("/v0/postings/{token}", self._lever)
        r.add_get("/posting-api/job-board/{token}", self._ashby)
        r.add_get("/api/v1/widget/accounts/{token}", self._workable)
        r.add_get("/v1/companies/{token}/postings", self._smartrecruiters)
        r.add_get("/recruitee/{token}/api/offers/", self._recruitee)
        r.add_get("/personio/{token}/xml", self._personio)
        r.add_get("/jsonld/{token}.html", self._jsonld)
        r.add_get("/feed/{token}.xml", self._feed)
        r.add_post("/wday/cxs/{token}/{site}/jobs", self._workday_list)
        r.add_get("/wday/cxs/{token}/{site}/job/{rest:.+}", self._workday_detail)
        r.add_get("/bamboohr/{token}/careers/list", self._bamboohr_list)
        r.add_get("/bamboohr/{token}/careers/{id}/detail", self._bamboohr_detail)
        for path, (name, ctype) in FIXED_ROUTES.items():
            r.add_get(path, self._fixed(name, ctype))
        r.add_get("/pinpoint/{token}/postings.json", self._pinpoint)
        r.add_get("/api/job-board-api", self._arbeitnow)
        r.add_get("/api/public/jobs", self._themuse)
        r.add_get("/api/v1/search_by_date", self._hn_stories)
        r.add_get("/api/v1/search", self._hn_comments)
        r.add_get("/redirect", self._redirect)
        r.add_post("/_faults", self._set_faults)
        r.add_get("/_stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    # --- payloads --------------------------------------------------------------------------
    def _raw(self, name: str) -> bytes:
        if name not in self._cache:
            self._cache[name] = (self.fixtures / name).read_bytes()
        return self._cache[name]

    def _json(self, name: str) -> Any:
        return json.loads(self._raw(name))


    # --- handlers --------------------------------------------------------------------------
    async def _serve(self, request: web.Request, body: bytes, content_type: str
                     ) -> web.StreamResponse:
        token = request.match_info.get("token", "")
        self.requests[request.path] += 1
        self.peers[request.remote or "?"] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._respond(request, token, body, content_type)
        finally:
            self.in_flight -= 1

    async def _respond(self, request: web.Request, token: str, body: bytes, content_type: str
                       ) -> web.StreamResponse:
        if token in self.unknown:
            return web.json_response({"status": 404, "error": "Job board not found"},
                                     status=404)
        f = self.faults.get(token)
        if f is None:
            return web.Response(body=body, content_type=content_type)
        f.seen += 1
        active = f.times is None or f.seen <= f.times
        if f.delay and active:
            await asyncio.sleep(f.delay)
        if f.status and active:
            headers = {"Retry-After": str(f.retry_after)} if f.retry_after is not None else {}
            return web.Response(status=f.status, text=f"fault {f.status}", headers=headers)
        if f.bomb and active:
            coding = f.encoding or "gzip"
            return web.Response(body=bomb_body(f.bomb, coding), headers={
                "Content-Type": content_type,
                "Content-Encoding": "deflate" if coding == "raw-deflate" else coding})
        if f.oversize and active:
            resp = web.StreamResponse(headers={"Content-Type": content_type})
            await resp.prepare(request)
            chunk = b" " * 65536
            sent = 0
            while sent < f.oversize:
                await resp.write(chunk)
                sent += len(chunk)
            await resp.write_eof()
            return resp
        if f.truncate and active:
            body = body[: len(body) // 2]
        if f.malformed and active:
            body = b"<html><body>Service temporarily unavailable" + b"\x00\xff" * 8
        headers = {}
        if f.encoding:
            body = encode_body(body, f.encoding)
            headers["Content-Encoding"] = "deflate" if f.encoding == "raw-deflate" else f.encoding
        if f.etag:
            tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if request.headers.get("If-None-Match") == tag:
                return web.Response(status=304, headers={"ETag": tag})
            headers["ETag"] = tag
        if f.hold and active:
            return await self._held(request, body, content_type, headers, f.hold)
        return web.Response(body=body, content_type=content_type, headers=headers)

    async def _held(self, request: web.Request, body: bytes, content_type: str,
                    headers: dict[str, str], seconds: float) -> web.StreamResponse:
        """The answer, held open for `seconds` (or until release_holds) with a space a
        second; a client that went away meanwhile is not an error."""
        resp = web.StreamResponse(headers={"Content-Type": content_type, **headers})
        try:
            await resp.prepare(request)
            until = time.monotonic() + seconds
            while time.monotonic() < until and not self.holds_released.is_set():
                await resp.write(b" ")
                await asyncio.sleep(1.0)
            await resp.write(body)
            await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client is gone
        return resp

    def _scale(self, token: str) -> int:
        f = self.faults.get(token)
        return f.scale if f else 0

    def _shaped(self, token: str) -> bool:
        """Whether the token's fault changes the document (so it is built, not read)."""
        f = self.faults.get(token)
        return f is not None and bool(f.scale or f.nested or f.pad or f.bad_item or f.bad_byte)

    def _spoil(self, token: str, board_type: str, items: list[dict[str, Any]]) -> None:
        """Apply the token's pad, nested and bad_item faults to one page of postings."""
        f = self.faults.get(token)
        if f is None or not items:
            return
        id_key, _, text_key = KEYS[board_type]
        if f.pad:
            filler = (FILLER * (f.pad // len(FILLER) + 1))[:f.pad]
            for item in items:
                item[text_key] = (item.get(text_key) or "") + (
                    html.escape(f"<p>{filler}</p>") if board_type == "greenhouse"
                    else f"<p>{filler}</p>")
        if f.nested and board_type == "greenhouse":
            items[0][text_key] = html.escape(nested_divs(f.nested))  # entity-escaped, as real
        if f.bad_item:
            items[0].pop(id_key, None)
        if f.bad_byte:  # marked here, made an invalid byte once serialised (_encoded)
            title_key = KEYS[board_type][1]
            items[-1][title_key] = BAD_BYTE_MARK + str(items[-1].get(title_key, ""))

    def _encoded(self, token: str, board_type: str, doc: Any) -> bytes:
        """The document as served: JSON, with the token's invalid byte if it has one."""
        body = json.dumps(doc).encode()
        f = self.faults.get(token)
        if f is not None and f.bad_byte:
            body = body.replace(BAD_BYTE_MARK.encode(), b"\xff", 1)
        return body

    async def _greenhouse(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        name = VARIANTS["greenhouse"].get(token, "greenhouse_jobs_content.json")
        n = self._scale(token)
        if not self._shaped(token) and token not in self.edits:
            return await self._serve(request, self._raw(name), "application/json")
        doc = self._json(name)
        if n:
            doc["jobs"] = clone_items(doc["jobs"], n, "id", "title")
            doc.setdefault("meta", {})["total"] = n
        self._spoil(token, "greenhouse", doc["jobs"])
        if token in self.edits:
            self.edits[token](doc)
        return await self._serve(request, self._encoded(token, "greenhouse", doc),
                                 "application/json")

    async def _lever(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        items = self._json("lever_postings.json")
        n = self._scale(token) or len(items)
        skip = int(request.query.get("skip", 0))
        limit = int(request.query.get("limit", n or 1))
        page = (clone_items(items, n, "id", "text", skip, skip + limit) if self._scale(token)
                else items[skip:skip + limit])
        self._spoil(token, "lever", page)
        return await self._serve(request, self._encoded(token, "lever", page),
                                 "application/json")

    async def _ashby(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if not self._shaped(token):
            return await self._serve(request, self._raw("ashby_job_board.json"),
                                     "application/json")
        doc = self._json("ashby_job_board.json")
        if self._scale(token):
            doc["jobs"] = clone_items(doc["jobs"], self._scale(token), "id", "title")
        self._spoil(token, "ashby", doc["jobs"])
        return await self._serve(request, self._encoded(token, "ashby", doc), "application/json")

    async def _workable(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._raw("workable_widget_details.json"),
                                 "application/json")

    async def _smartrecruiters(self, request: web.Request) -> web.StreamResponse:
        doc = self._json("smartrecruiters_postings.json")
        items = doc["content"]
        offset = int(request.query.get("offset", 0))
        limit = int(request.query.get("limit", 100))
        page = items[offset:offset + limit]
        doc.update({"offset": offset, "limit": limit, "totalFound": len(items),
                    "content": page})
        return await self._serve(request, json.dumps(doc).encode(), "application/json")

    async def _recruitee(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._raw("recruitee_offers.json"), "application/json")

    async def _personio(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._raw("personio_xml.xml"), "application/xml")

    async def _jsonld(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._raw("jsonld_jobposting_google_example.html"),
                                 "text/html")

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._raw("rss_jobs.xml"), "application/rss+xml")

    # --- the other board types: their capture at their real path ------------------------------
    def _fixed(self, name: str, content_type: str) -> Callable[[web.Request],
                                                              Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, self._raw(name), content_type)
        return handler

    async def _pinpoint(self, request: web.Request) -> web.StreamResponse:
        # the capture kept only the `data` array of the response: back in its envelope
        body = b'{"data": ' + self._raw("pinpoint_postings_workwithus_trimmed.json") + b"}"
        return await self._serve(request, body, "application/json")

    async def _arbeitnow(self, request: web.Request) -> web.StreamResponse:
        """Page 1 is the capture (whose links.next names page 2); later pages are empty."""
        if request.query.get("page", "1") == "1":
            return await self._serve(request, self._raw("arbeitnow_api_page1_full.json"),
                                     "application/json")
        doc = {"data": [], "links": {"first": None, "last": None, "prev": None, "next": None},
               "meta": {"current_page": int(request.query.get("page", "2"))}}
        return await self._serve(request, json.dumps(doc).encode(), "application/json")

    async def _themuse(self, request: web.Request) -> web.StreamResponse:
        """Page 0 is the capture; later pages have no results (the capture says there are
        thousands of pages: the adapter stops at the first empty one)."""
        if request.query.get("page", "0") == "0":
            return await self._serve(request, self._raw("themuse_jobs_page0_20240317.json"),
                                     "application/json")
        doc = self._json("themuse_jobs_page0_20240317.json")
        doc.update(page=int(request.query.get("page", "1")), results=[])
        return await self._serve(request, json.dumps(doc).encode(), "application/json")

    async def _hn_stories(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._raw("hn_algolia_search_stories_whoishiring.json"),
                                 "application/json")

    async def _hn_comments(self, request: web.Request) -> web.StreamResponse:
        """The captured thread's comments, whichever thread is asked for."""
        return await self._serve(
            request, self._raw("hn_algolia_search_comments_story47975571_may2026.json"),
            "application/json")

    # --- boards with a detail per posting (workday, bamboohr) ---------------------------------
    def _outage(self, token: str) -> bool:
        f = self.faults.get(token)
        return f is not None and f.outage

    def _detail_fault(self, request: web.Request, token: str) -> web.StreamResponse | None:
        """The answer `detail_status` gives this detail request, or None (serve it)."""
        self.detail_requests[token] += 1
        f = self.faults.get(token)
        if f is None or not f.detail_status or (
                f.detail_times is not None and self.detail_requests[token] > f.detail_times):
            return None
        self.requests[request.path] += 1
        return web.Response(status=f.detail_status, text=f"fault {f.detail_status}")

    def _workday_items(self, token: str) -> list[dict[str, Any]]:
        """Every posting of the tenant's board: the capture's, or `scale` clones of them."""
        items = self._json(WORKDAY_BOARDS.get(token, WORKDAY_DEFAULT)[0])["jobPostings"]
        n = self._scale(token)
        return clone_items(items, n, "externalPath", "title") if n else items

    async def _workday_list(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        try:
            query = await request.json()
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
        except (ValueError, TypeError, AttributeError):
            return web.json_response({"errorCode": "HTTP_400"}, status=400)
        if limit > WORKDAY_PAGE_LIMIT or offset < 0 or limit < 1:
            return web.json_response({"errorCode": "HTTP_400"}, status=400)
        if self._outage(token):
            return await self._serve(request, OUTAGE_PAGE, "text/html")
        doc = self._json(WORKDAY_BOARDS.get(token, WORKDAY_DEFAULT)[0])
        items = self._workday_items(token)
        doc["total"] = len(items) if offset == 0 else 0  # later pages: 0, as Workday does
        doc["jobPostings"] = items[offset:offset + limit]
        return await self._serve(request, json.dumps(doc).encode(), "application/json")

    async def _workday_detail(self, request: web.Request) -> web.StreamResponse:
        token, site = request.match_info["token"], request.match_info["site"]
        path = "/job/" + request.match_info["rest"]
        refused = self._detail_fault(request, token)
        if refused is not None:
            return refused
        if self._outage(token):
            return await self._serve(request, OUTAGE_PAGE, "text/html")
        item = next((i for i in self._workday_items(token) if i["externalPath"] == path), None)
        if item is None:
            self.requests[request.path] += 1
            return web.json_response({"errorCode": "HTTP_404"}, status=404)
        name = WORKDAY_BOARDS.get(token, WORKDAY_DEFAULT)[1]
        doc = self._json(name)
        info = doc["jobPostingInfo"]
        origin = info["externalUrl"].split("/")[:3]  # scheme, "", host of the capture
        if info["externalUrl"] == "/".join(origin) + f"/{site}{path}":  # the captured one
            return await self._serve(request, self._raw(name), "application/json")
        # another posting's: the captured detail made its
        info["title"] = item["title"]
        info["externalUrl"] = "/".join(origin) + f"/{site}{path}"
        info["jobPostingId"] = path.rsplit("/", 1)[-1]
        if item.get("bulletFields"):
            info["jobReqId"] = item["bulletFields"][0]
        if item.get("locationsText") and not item["locationsText"].endswith("Locations"):
            info["location"] = item["locationsText"]
        return await self._serve(request, json.dumps(doc).encode(), "application/json")

    def _bamboohr_items(self, token: str) -> list[dict[str, Any]]:
        items = self._json(BAMBOOHR_LIST)["result"]
        n = self._scale(token)
        return clone_items(items, n, "id", "jobOpeningName") if n else items

    async def _bamboohr_list(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if self._outage(token):
            return await self._serve(request, OUTAGE_PAGE, "text/html")
        if not self._scale(token):
            return await self._serve(request, self._raw(BAMBOOHR_LIST), "application/json")
        doc = self._json(BAMBOOHR_LIST)
        doc["result"] = self._bamboohr_items(token)
        doc["meta"]["totalCount"] = len(doc["result"])
        return await self._serve(request, json.dumps(doc).encode(), "application/json")

    async def _bamboohr_detail(self, request: web.Request) -> web.StreamResponse:
        token, posting_id = request.match_info["token"], request.match_info["id"]
        refused = self._detail_fault(request, token)
        if refused is not None:
            return refused
        if self._outage(token):
            return await self._serve(request, OUTAGE_PAGE, "text/html")
        item = next((i for i in self._bamboohr_items(token) if i["id"] == posting_id), None)
        if item is None:
            self.requests[request.path] += 1
            return web.json_response({"success": False}, status=404)
        doc = self._json(BAMBOOHR_DETAIL)
        opening = doc["result"]["jobOpening"]
        share = opening["jobOpeningShareUrl"]
        if share.endswith(f"/careers/{posting_id}"):  # the captured one
            return await self._serve(request, self._raw(BAMBOOHR_DETAIL), "application/json")
        # another posting's: the captured detail made its
        opening["jobOpeningShareUrl"] = share.rsplit("/", 1)[0] + f"/{posting_id}"
        opening["jobOpeningName"] = item["jobOpeningName"]
        opening["departmentLabel"] = item["departmentLabel"] or ""
        opening["departmentId"] = item["departmentId"]
        return await self._serve(request, json.dumps(doc).encode(), "application/json")

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        self.requests[request.path] += 1
        raise web.HTTPFound(request.query["to"])

    async def _set_faults(self, request: web.Request) -> web.StreamResponse:
        for token, spec in (await request.json()).items():
            if spec is None:
                self.faults.pop(token, None)
            else:
                self.faults[token] = Fault.from_json(spec)
        return web.json_response({"faults": sorted(self.faults)})

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"requests": dict(self.requests),
                                  "max_in_flight": self.max_in_flight})


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    p = argparse.ArgumentParser(prog="python -m jobscrape_dev.boardserver",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8089)
    p.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    p.add_argument("--hostile", action="store_true",
                   help=f"serve the hostile boards under their tokens: {', '.join(HOSTILE)}")
    args = p.parse_args(argv)
    server = BoardServer(fixtures=args.fixtures, host=args.host, port=args.port)
    if args.hostile:
        server.set_hostile()
    server.start()
    print(f"serving fixture boards on {server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
