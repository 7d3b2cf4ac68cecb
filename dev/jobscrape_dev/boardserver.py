"""A local job-board server for tests, benchmarks and the demo.

It serves the real captured payloads (tests/fixtures/boards) at each board type's real URL
path, and injects faults per board token: an HTTP status, 429 with Retry-After for the first
requests, slow, truncated, malformed or oversized bodies, and ETag/304. `scale` synthesises
N postings per board by cloning real entries with new ids and titles. Some tokens serve a
variant of a captured payload instead (VARIANTS: the greenhouse board `hostile` answers
hostile_greenhouse.json, titles and links made to attack terminals, spreadsheets and browsers).

    python -m jobscrape_dev.boardserver --port 8089
    curl -X POST localhost:8089/_faults -d '{"acme": {"status": 500}}'
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable
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


def clone_items(items: list[dict[str, Any]], n: int, id_key: str, title_key: str
                ) -> list[dict[str, Any]]:
    """`n` real entries cloned round-robin, each with a new id and title (nothing else
    changes, so the format stays the captured one)."""
    out = []
    for i in range(n):
        item = copy.deepcopy(items[i % len(items)])
        base = item[id_key]
        item[id_key] = base * 100000 + i if isinstance(base, int) else f"{base}-{i}"
        item[title_key] = f"{item[title_key]} #{i}"
        out.append(item)
    return out


@dataclass
class Fault:
    """What to do wrong for one board token."""

    status: int | None = None  # answer with this status
    retry_after: int | None = None  # with 429: seconds in Retry-After
    times: int | None = None  # only for the first N requests, then behave
    delay: float = 0.0  # seconds before answering
    truncate: bool = False  # cut the body in half
    malformed: bool = False  # send garbage
    oversize: int = 0  # stream this many bytes
    etag: bool = False  # send an ETag and answer If-None-Match with 304
    scale: int = 0  # synthesise this many postings
    seen: int = 0

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Fault:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__
                      and k != "seen"})


@dataclass
class BoardServer:
    """The server; runs in a thread of its own (start/stop) or as a process (main)."""

    fixtures: Path = DEFAULT_FIXTURES
    host: str = "127.0.0.1"
    port: int = 0
    unknown: set[str] = field(default_factory=lambda: {"no-such-board", "unknown"})
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    #: greenhouse token -> a function that edits the board's JSON document before it is
    #: served (tests change, add and remove postings between runs)
    edits: dict[str, Callable[[dict[str, Any]], None]] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
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
        if f.etag:
            tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if request.headers.get("If-None-Match") == tag:
                return web.Response(status=304, headers={"ETag": tag})
            return web.Response(body=body, content_type=content_type, headers={"ETag": tag})
        return web.Response(body=body, content_type=content_type)

    def _scale(self, token: str) -> int:
        f = self.faults.get(token)
        return f.scale if f else 0

    async def _greenhouse(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        name = VARIANTS["greenhouse"].get(token, "greenhouse_jobs_content.json")
        n = self._scale(token)
        if not n and token not in self.edits:
            return await self._serve(request, self._raw(name), "application/json")
        doc = self._json(name)
        if n:
            doc["jobs"] = clone_items(doc["jobs"], n, "id", "title")
            doc.setdefault("meta", {})["total"] = n
        if token in self.edits:
            self.edits[token](doc)
        return await self._serve(request, json.dumps(doc).encode(), "application/json")

    async def _lever(self, request: web.Request) -> web.StreamResponse:
        items = self._json("lever_postings.json")
        n = self._scale(request.match_info["token"])
        if n:
            items = clone_items(items, n, "id", "text")
        skip = int(request.query.get("skip", 0))
        limit = int(request.query.get("limit", len(items) or 1))
        return await self._serve(request, json.dumps(items[skip:skip + limit]).encode(),
                                 "application/json")

    async def _ashby(self, request: web.Request) -> web.StreamResponse:
        n = self._scale(request.match_info["token"])
        if not n:
            return await self._serve(request, self._raw("ashby_job_board.json"),
                                     "application/json")
        doc = self._json("ashby_job_board.json")
        doc["jobs"] = clone_items(doc["jobs"], n, "id", "title")
        return await self._serve(request, json.dumps(doc).encode(), "application/json")

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
    args = p.parse_args(argv)
    server = BoardServer(fixtures=args.fixtures, host=args.host, port=args.port).start()
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
