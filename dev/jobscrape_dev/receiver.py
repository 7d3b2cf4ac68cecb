"""A local recording webhook receiver for tests and the demo (loopback only).

It records every request (method, path, headers, body) and answers 204, or fails on demand
for the next N requests (or until switched back): an HTTP status, 429 with a Discord-style
body {"retry_after": x, "global": false} and a Retry-After header, a hang of T seconds, a
redirect. It can also send Discord's rate-limit headers with its answers. In-process, use the
methods (fail, rate_limit, hang, redirect, rate_limit_headers, ok, wait_for); as a process,
the control endpoints, which are not recorded:

    python -m jobscrape_dev.receiver --port 8099 --record /tmp/hooks.jsonl
    curl -X POST localhost:8099/_control -d '{"mode": "fail", "status": 500, "count": 3}'
    curl -X POST localhost:8099/_control -d '{"mode": "rate_limit", "retry_after": 2}'
    curl -X POST localhost:8099/_control -d '{"mode": "hang", "seconds": 30}'
    curl -X POST localhost:8099/_control -d '{"mode": "ok"}'
    curl localhost:8099/_requests           # what was recorded; DELETE clears it
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

MODES = ("fail", "rate_limit", "hang", "redirect")


@dataclass(frozen=True)
class Recorded:
    """One request as received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    time: float  # time.monotonic() on arrival

    @property
    def json(self) -> Any:
        """The body parsed as JSON; None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        """A header's value, the name compared case-insensitively."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record: the body parsed when it is JSON, else as text."""
        body = self.json
        return {"method": self.method, "path": self.path, "query": self.query,
                "headers": self.headers,
                "body": body if body is not None else self.body.decode("utf-8", "replace")}


@dataclass
class Fault:
    """What to answer instead of success, for `count` requests (None: until ok()), once
    `after` requests have been answered normally."""

    mode: str
    count: int | None = 1
    after: int = 0
    status: int = 500  # fail
    retry_after: float = 1.0  # rate_limit: seconds
    is_global: bool = False  # rate_limit: Discord's "global"
    discord_body: bool = True  # rate_limit: the JSON body (else Retry-After alone, as Slack)
    seconds: float = 5.0  # hang
    location: str = "/redirected"  # redirect

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Fault:
        """A fault from a control request: {"mode": ..., "count": ..., ...}."""
        if d.get("mode") not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)} or ok")
        kw = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "global" in d:
            kw["is_global"] = bool(d["global"])
        fault = cls(**kw)
        if fault.count is not None and (not isinstance(fault.count, int) or fault.count < 1):
            raise ValueError("count must be a positive integer or null (until ok)")
        return fault


def _local_address(host: str) -> bool:
    """Loopback, or an address of an interface of this machine (a local node's)."""
    if ipaddress.ip_address(host).is_loopback:
        return True
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, 0))
        except OSError:
            return False
    return True


@dataclass
class WebhookReceiver:
    """The receiver; serves in a thread of its own (start/stop, or `with`)."""

    host: str = "127.0.0.1"
    port: int = 0
    record: Path | None = None  # append each request as one JSON line
    ok_status: int = 204
    requests: list[Recorded] = field(default_factory=list)
    _faults: list[Fault] = field(default_factory=list)
    _headers: dict[str, str] = field(default_factory=dict)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _runner: web.AppRunner | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _hangs: set[asyncio.Event] = field(default_factory=set)  # touched in the loop only

    def __post_init__(self) -> None:
        if self.host != "localhost" and not _local_address(self.host):
            raise ValueError("the receiver listens on an address of this machine only")

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:43123"""
        return f"http://{self.host}:{self.port}"

    def hook_url(self, path: str = "/hook") -> str:
        """The URL of a webhook path on this receiver."""
        return self.url + path

    def start(self) -> WebhookReceiver:
        """Serve in a background thread; returns once listening."""
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="webhook-receiver")
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("webhook receiver did not start")
        return self

    def stop(self) -> None:
        """Release hung requests, stop serving and join the thread."""
        if self._loop is None or self._runner is None:
            return
        self._release_hangs()
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- control ---------------------------------------------------------------------------
    def fail(self, status: int = 500, count: int | None = 1, after: int = 0) -> None:
        """Answer `count` requests (after the next `after`) with `status`."""
        self._add(Fault("fail", count, after, status=status))

    def rate_limit(self, retry_after: float = 1.0, count: int | None = 1, after: int = 0,
                   is_global: bool = False, discord_body: bool = True) -> None:
        """Answer `count` requests (after the next `after`) with 429, Retry-After (whole
        seconds, rounded up) and, unless discord_body is False, Discord's JSON body."""
        self._add(Fault("rate_limit", count, after, retry_after=retry_after,
                        is_global=is_global, discord_body=discord_body))

    def hang(self, seconds: float, count: int | None = 1, after: int = 0) -> None:
        """Hold `count` requests (after the next `after`) for `seconds` before answering."""
        self._add(Fault("hang", count, after, seconds=seconds))

    def redirect(self, location: str = "/redirected", count: int | None = 1,
                 after: int = 0) -> None:
        """Answer `count` requests (after the next `after`) with 307 to `location`."""
        self._add(Fault("redirect", count, after, location=location))

    def rate_limit_headers(self, remaining: int, reset_after: float) -> None:
        """Send Discord's X-RateLimit-Remaining/-Reset-After with every answer."""
        with self._lock:
            self._headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": str(remaining),
                             "X-RateLimit-Reset-After": f"{reset_after:g}"}

    def ok(self) -> None:
        """Back to answering success: faults and rate-limit headers cleared, hangs released."""
        with self._lock:
            self._faults.clear()
            self._headers = {}
        self._release_hangs()

    def clear(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Recorded]:
        """The recorded requests once there are at least `n`; TimeoutError otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= n, timeout):
                raise TimeoutError(f"{len(self.requests)} of {n} requests after {timeout}s")
            return list(self.requests)

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _release_hangs(self) -> None:
        def release() -> None:
            for event in self._hangs:
                event.set()

        if self._loop is not None:
            self._loop.call_soon_threadsafe(release)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            if fault.after > 0:
                fault.after -= 1
                return None
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.pop(0)
            return fault

    # --- serving ---------------------------------------------------------------------------
    async def _start(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/_control", self._control)
        app.router.add_get("/_requests", self._list)
        app.router.add_delete("/_requests", self._clear)
        app.router.add_route("*", "/{tail:.*}", self._hook)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _hook(self, request: web.Request) -> web.StreamResponse:
        rec = Recorded(request.method, request.path, request.query_string,
                       dict(request.headers), await request.read(), time.monotonic())
        with self._lock:
            self.requests.append(rec)
            headers = dict(self._headers)
            self._lock.notify_all()
        if self.record is not None:
            with self.record.open("a", encoding="utf-8") as f:
                f.write(json.dumps(rec.to_dict(), ensure_ascii=False) + "\n")
        fault = self._next_fault()
        if fault is None:
            return web.Response(status=self.ok_status, headers=headers)
        if fault.mode == "fail":
            return web.Response(status=fault.status, text=f"fault {fault.status}")
        if fault.mode == "rate_limit":
            wait = {"Retry-After": str(math.ceil(fault.retry_after))}
            if not fault.discord_body:
                return web.Response(status=429, text="rate_limited", headers=wait)
            body = {"message": "You are being rate limited.", "retry_after": fault.retry_after,
                    "global": fault.is_global}
            return web.json_response(body, status=429, headers={
                **wait, "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{fault.retry_after:g}"})
        if fault.mode == "redirect":
            return web.Response(status=307, headers={"Location": fault.location})
        release = asyncio.Event()
        self._hangs.add(release)
        try:  # hang: until the time is up, ok() or stop()
            await asyncio.wait_for(release.wait(), fault.seconds)
        except TimeoutError:
            pass
        finally:
            self._hangs.discard(release)
        return web.Response(status=self.ok_status, headers=headers)

    async def _control(self, request: web.Request) -> web.StreamResponse:
        try:
            spec = await request.json()
            if not isinstance(spec, dict):
                raise ValueError("a JSON object is expected")
            if spec.get("mode") == "ok":
                self.ok()
            elif spec.get("mode") == "rate_limit_headers":
                self.rate_limit_headers(int(spec["remaining"]), float(spec["reset_after"]))
            else:
                self._add(Fault.from_json(spec))
        except (ValueError, TypeError, KeyError) as e:
            return web.json_response({"error": str(e)}, status=400)
        with self._lock:
            return web.json_response({"faults": [asdict(f) for f in self._faults],
                                      "headers": self._headers})

    async def _list(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            return web.json_response([r.to_dict() for r in self.requests])

    async def _clear(self, request: web.Request) -> web.StreamResponse:
        self.clear()
        return web.json_response({"cleared": True})


def main(argv: list[str] | None = None) -> int:
    """Receive until interrupted."""
    p = argparse.ArgumentParser(prog="python -m jobscrape_dev.receiver", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="a loopback address")
    p.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    p.add_argument("--record", type=Path, help="append each request to this file (JSON lines)")
    p.add_argument("--status", type=int, default=204, help="the status of a success")
    args = p.parse_args(argv)
    receiver = WebhookReceiver(host=args.host, port=args.port, record=args.record,
                               ok_status=args.status).start()
    print(f"receiving webhooks on {receiver.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
