"""The operator's asynchronous Kubernetes client: its hot path on the event loop kopf runs.

Every request goes out through kopf's own API session (aiohttp, one connection pool, the
credentials of the operator's login handler, re-login on 401), so a reconcile costs no thread
and no blocking call. Chosen by measurement (`bench/client_bench.py`): per request it costs
about a third of the CPU of the official client on a thread pool, and it adds no import (kopf
loads aiohttp anyway). kopf's client module is private: the two names used here are pinned by
tests/unit/controller/test_apiclient.py. The official `kubernetes` package stays the client of
the runner, the CLI and configuration loading (`jobscrape.kubeclient`, `jobscrape.kubelogin`):
this process never imports it.

The verbs the reconciler needs, on the paths of `jobscrape.kubeapi`, with its errors
(NotFound, Conflict, NamespaceTerminating, ApiError), a bound on requests in flight, a
timeout per request, and a count of requests by verb for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import msgspec

from jobscrape.api import contract
from jobscrape.kubeapi import (
    ApiError,
    Conflict,
    NamespaceTerminating,
    NotFound,
    all_namespaces_path,
    collection_path,
    is_namespace_terminating,
    status_message,
)

Obj = dict[str, Any]
# (method, path with query, body or None, content type) -> (HTTP status, body)
Send = Callable[[str, str, bytes | None, str], Awaitable[tuple[int, bytes]]]
# (path with query, seconds) -> (HTTP status, the response's lines: for a watch, one event each)
Stream = Callable[[str, float], Awaitable[tuple[int, AsyncIterator[bytes]]]]
JSON = "application/json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"  # JSON is YAML
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TLS_READ_BUFFER = 32 * 1024
MAX_LINE = 4 * 2**20  # a watch event larger than any object etcd stores (1.5 MiB) is an error
_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


class Expired(Exception):
    """A watch's resourceVersion is too old to resume from (HTTP 410): list again."""


@dataclass
class ListMeta:
    """What a list says of itself once all its pages are read."""

    resource_version: str = ""


def small_tls_read_buffers(size: int = TLS_READ_BUFFER) -> None:
    """Give each TLS connection of this process a read buffer of `size` bytes. asyncio keeps
    one of `SSLProtocol.max_size` (256 KiB) per connection for as long as it is open: about
    10 MiB for the operator's ~40 connections to the API server (32 requests in flight, the
    watches). A TLS record carries at most 16 KiB, so 32 KiB reads cost a few more reads of
    a large list page and nothing else. Pinned by test_apiclient.py (a private name)."""
    import asyncio.sslproto

    asyncio.sslproto.SSLProtocol.max_size = size


def kopf_send() -> Send:
    """A transport on kopf's API session: it must be called inside kopf's tasks (handlers and
    what they start), where kopf's credentials vault is in context."""
    from kopf._cogs.clients import auth, errors  # private: pinned by test_apiclient.py

    @auth.authenticated
    async def send(method: str, path: str, body: bytes | None, content_type: str, *,
                   context: auth.APIContext | None = None) -> tuple[int, bytes]:
        assert context is not None  # injected by kopf
        try:
            async with context.session.request(
                    method, context.server.rstrip("/") + path, data=body,
                    headers={"Content-Type": content_type, "Accept": JSON}) as resp:
                raw = await resp.read()
                if resp.status == 401:  # kopf logs in again and repeats the request
                    raise errors.APIUnauthorizedError(status_message(raw, resp.reason),
                                                      status=401, headers={})
                return resp.status, raw
        except RuntimeError as e:
            if context.session.closed:  # credentials replaced under us: log in, repeat
                raise errors.APISessionClosed("Session is closed.") from e
            raise
    return send


def kopf_stream() -> Stream:
    """A streaming GET (a watch) on kopf's API session, like `kopf_send`."""
    from kopf._cogs.clients import auth, errors  # private: pinned by test_apiclient.py

    @auth.authenticated
    async def open_(path: str, seconds: float, *, context: auth.APIContext | None = None
                    ) -> Any:
        assert context is not None  # injected by kopf
        # the session's own timeout type (aiohttp's, imported by kopf only): this request's
        # whole stream is bounded, not only its start
        timeout = type(context.session.timeout)(total=seconds, sock_connect=10)
        try:
            resp = await context.session.request(
                "GET", context.server.rstrip("/") + path, headers={"Accept": JSON},
                timeout=timeout)
        except RuntimeError as e:
            if context.session.closed:
                raise errors.APISessionClosed("Session is closed.") from e
            raise
        if resp.status == 401:
            raw = await resp.read()
            resp.release()
            raise errors.APIUnauthorizedError(status_message(raw, resp.reason), status=401,
                                              headers={})
        return resp

    async def stream(path: str, seconds: float) -> tuple[int, AsyncIterator[bytes]]:
        resp = await open_(path, seconds)
        return resp.status, _lines(resp)
    return stream


async def _lines(resp: Any) -> AsyncIterator[bytes]:
    """The non-empty lines of an aiohttp response, read as they come; released at the end."""
    try:
        buffer = b""
        async for chunk in resp.content.iter_any():
            buffer += chunk
            if len(buffer) > MAX_LINE and b"\n" not in buffer:
                raise ApiError(status=0, reason="a watch event larger than 4 MiB")
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    yield line
        if buffer.strip():
            yield buffer
    finally:
        resp.release()


def _error(status: int, raw: bytes, path: str) -> Exception:
    """The exception for an HTTP error answer."""
    if status == 404:
        return NotFound(path.split("?")[0])
    if status == 409:
        return Conflict(status_message(raw, "Conflict"))
    if status == 410:
        return Expired(status_message(raw, "Gone"))
    if status == 403 and is_namespace_terminating(raw):
        return NamespaceTerminating(status_message(raw, "Forbidden"))
    return ApiError(status=status, reason=status_message(raw, str(status)))


class AsyncKube:
    """Asynchronous REST calls on a transport: at most `concurrency` in flight, each bounded by
    `timeout` seconds; counts requests by verb (`requests`) and writes (`writes`)."""

    def __init__(self, send: Send, field_manager: str = "jobscrape", concurrency: int = 32,
                 timeout: float = 30.0, stream: Stream | None = None) -> None:
        self.send = send
        self.stream = stream
        self.field_manager = field_manager
        self.timeout = timeout
        self.requests: Counter[str] = Counter()
        self._slots = asyncio.Semaphore(concurrency)

    @property
    def writes(self) -> int:
        """Write requests made so far (any outcome)."""
        return sum(n for verb, n in self.requests.items() if verb in WRITES)

    async def _call(self, method: str, path: str, body: Any = None, content_type: str = JSON
                    ) -> Obj:
        payload = None if body is None else _encode(body)
        self.requests[method] += 1
        async with self._slots:
            async with asyncio.timeout(self.timeout):
                status, raw = await self.send(method, path, payload, content_type)
        if status >= 400:
            raise _error(status, raw, path)
        data = _decode(raw) if raw else {}
        return data if isinstance(data, dict) else {}

    def _path(self, api_version: str, kind: str, namespace: str, name: str = "") -> str:
        base = collection_path(api_version, kind, namespace)
        return f"{base}/{name}" if name else base

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj:
        """Read one object; NotFound when absent."""
        return await self._call("GET", self._path(api_version, kind, namespace, name))

    async def list_sources(self, namespaces: tuple[str, ...] = ()) -> list[Obj]:
        """Every JobSource in these namespaces (all namespaces when empty): one request per
        namespace, one in all when empty."""
        if not namespaces:
            got = await self._call("GET", all_namespaces_path(contract.API_VERSION,
                                                              contract.KIND))
            return list(got.get("items") or [])
        out: list[Obj] = []
        for ns in namespaces:
            got = await self._call("GET", self._path(contract.API_VERSION, contract.KIND, ns))
            out += got.get("items") or []
        return out

    async def list_pages(self, api_version: str, kind: str, namespaces: tuple[str, ...] = (),
                         label_selector: str = "", page: int = 500,
                         into: ListMeta | None = None) -> AsyncIterator[list[Obj]]:
        """Every object of a kind in these namespaces (all when empty) matching the selector,
        `page` at a time (the API server's limit/continue), so a large list is never held
        whole; `into` gets the list's resourceVersion (one namespace or all: a watch's start)."""
        bases = ([collection_path(api_version, kind, ns) for ns in namespaces] if namespaces
                 else [all_namespaces_path(api_version, kind)])
        for base in bases:
            cont = ""
            while True:
                q = [("limit", str(page))]
                if label_selector:
                    q.append(("labelSelector", label_selector))
                if cont:
                    q.append(("continue", cont))
                got = await self._call("GET", f"{base}?{urlencode(q)}")
                items = list(got.get("items") or [])
                for item in items:  # list items carry no kind
                    item.setdefault("apiVersion", api_version)
                    item.setdefault("kind", kind)
                yield items
                meta = got.get("metadata") or {}
                cont = str(meta.get("continue") or "")
                if not cont:
                    if into is not None:
                        into.resource_version = str(meta.get("resourceVersion") or "")
                    break

    async def watch(self, api_version: str, kind: str, namespace: str, label_selector: str,
                    resource_version: str, seconds: int = 300
                    ) -> AsyncIterator[tuple[str, Obj]]:
        """The events of a kind in one namespace (all when empty) after `resource_version`,
        bookmarks included, until the server ends the watch after about `seconds`: (type,
        object) pairs. Expired when that version is too old; other errors as for requests."""
        if self.stream is None:
            raise RuntimeError("this client has no streaming transport")
        base = (collection_path(api_version, kind, namespace) if namespace else
                all_namespaces_path(api_version, kind))
        q = [("watch", "1"), ("allowWatchBookmarks", "true"),
             ("resourceVersion", resource_version), ("timeoutSeconds", str(seconds))]
        if label_selector:
            q.append(("labelSelector", label_selector))
        path = f"{base}?{urlencode(q)}"
        self.requests["WATCH"] += 1
        async with asyncio.timeout(self.timeout):  # until the answer's headers
            status, lines = await self.stream(path, seconds + self.timeout)
        if status >= 400:
            raise _error(status, b"".join([x async for x in lines]), path)
        async for line in lines:
            event = _decode(line)
            kind_of = event.get("type") if isinstance(event, dict) else None
            obj = event.get("object") if isinstance(event, dict) else None
            if not isinstance(kind_of, str) or not isinstance(obj, dict):
                raise ApiError(status=0, reason="a watch event without type or object")
            if kind_of == "ERROR":
                code = int(obj.get("code") or 0)
                raise _error(code or 500, _encode(obj), path)
            obj.setdefault("apiVersion", api_version)
            obj.setdefault("kind", kind)
            yield kind_of, obj

    async def create(self, obj: Obj) -> Obj:
        """Create an object (POST: never takes over an existing one); Conflict when it exists."""
        path = self._path(obj["apiVersion"], obj["kind"], obj["metadata"]["namespace"])
        return await self._call("POST", f"{path}?fieldManager={quote(self.field_manager)}",
                                obj)

    async def apply(self, obj: Obj, uid: str | None = None) -> Obj:
        """Server-side apply under this client's field manager, taking over conflicting fields.
        With `uid`, only the object of that uid is changed: Conflict when it is gone (apply
        would otherwise create it), ApiError 422 when another object took its name."""
        m = obj["metadata"]
        if uid is not None:
            obj = {**obj, "metadata": {**m, "uid": uid}}
        path = self._path(obj["apiVersion"], obj["kind"], m["namespace"], m["name"])
        return await self._call(
            "PATCH", f"{path}?fieldManager={quote(self.field_manager)}&force=true", obj, APPLY)

    async def merge_patch(self, api_version: str, kind: str, namespace: str, name: str,
                          patch: Obj) -> Obj:
        """JSON-merge-patch an object (include metadata.resourceVersion to guard)."""
        return await self._call("PATCH", self._path(api_version, kind, namespace, name), patch,
                                MERGE)

    async def json_patch(self, api_version: str, kind: str, namespace: str, name: str,
                         ops: list[Obj]) -> Obj:
        """RFC 6902 JSON patch of an object (use a `test` op to guard)."""
        return await self._call("PATCH", self._path(api_version, kind, namespace, name), ops,
                                JSON_PATCH)

    async def merge_patch_status(self, api_version: str, kind: str, namespace: str, name: str,
                                 patch: Obj) -> Obj:
        """JSON-merge-patch the status subresource (include metadata.resourceVersion to guard)."""
        path = self._path(api_version, kind, namespace, name)
        return await self._call("PATCH", f"{path}/status", patch, MERGE)
