"""The operator's async client: paths, bodies, content types, errors and counts, on a recorded
transport; and the private kopf names it relies on, pinned (a kopf upgrade that moves them
fails here, not in production)."""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any

import pytest

from jobscrape.controller import apiclient
from jobscrape.controller.apiclient import AsyncKube
from jobscrape.controller.operator import source_of
from jobscrape.kubeapi import ApiError, Conflict, NamespaceTerminating, NotFound


class Recorder:
    def __init__(self, *answers: tuple[int, Any]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str, Any, str]] = []

    async def send(self, method: str, path: str, body: bytes | None, ctype: str
                   ) -> tuple[int, bytes]:
        self.calls.append((method, path, json.loads(body) if body else None, ctype))
        status, payload = self.answers.pop(0) if self.answers else (200, {})
        return status, json.dumps(payload).encode()


CJ = {"apiVersion": "batch/v1", "kind": "CronJob",
      "metadata": {"name": "jobsource-a", "namespace": "ns"}, "spec": {"schedule": "x"}}


async def test_create_posts_to_the_collection_with_the_field_manager() -> None:
    r = Recorder((201, {"metadata": {"uid": "u"}}))
    kube = AsyncKube(r.send, field_manager="jobscrape-operator")
    assert await kube.create(CJ) == {"metadata": {"uid": "u"}}
    assert r.calls == [("POST", "/apis/batch/v1/namespaces/ns/cronjobs?fieldManager="
                        "jobscrape-operator", CJ, "application/json")]
    assert kube.writes == 1 and kube.requests["POST"] == 1


async def test_apply_is_forced_server_side_apply_with_an_optional_uid_guard() -> None:
    r = Recorder()
    kube = AsyncKube(r.send, field_manager="m")
    await kube.apply(CJ, uid="u-1")
    method, path, body, ctype = r.calls[0]
    assert (method, ctype) == ("PATCH", "application/apply-patch+yaml")
    assert path == "/apis/batch/v1/namespaces/ns/cronjobs/jobsource-a?fieldManager=m&force=true"
    assert body["metadata"]["uid"] == "u-1" and body["spec"] == CJ["spec"]
    assert "uid" not in CJ["metadata"]  # the caller's object is left alone


async def test_patches_use_their_content_types_and_the_status_subresource() -> None:
    r = Recorder()
    kube = AsyncKube(r.send)
    await kube.merge_patch_status("jobscrape.io/v1alpha1", "JobSource", "ns", "a",
                                  {"status": {}})
    await kube.json_patch("v1", "ServiceAccount", "ns", "s", [{"op": "test"}])
    await kube.merge_patch("v1", "PersistentVolumeClaim", "ns", "c", {"spec": {}})
    assert [(c[0], c[1], c[3]) for c in r.calls] == [
        ("PATCH", "/apis/jobscrape.io/v1alpha1/namespaces/ns/jobsources/a/status",
         "application/merge-patch+json"),
        ("PATCH", "/api/v1/namespaces/ns/serviceaccounts/s", "application/json-patch+json"),
        ("PATCH", "/api/v1/namespaces/ns/persistentvolumeclaims/c",
         "application/merge-patch+json")]


@pytest.mark.parametrize(("status", "payload", "error"), [
    (404, {}, NotFound),
    (409, {"message": "already exists"}, Conflict),
    (403, {"message": "x", "details": {"causes": [{"reason": "NamespaceTerminating"}]}},
     NamespaceTerminating),
    (403, {"message": "forbidden"}, ApiError),
    (422, {"message": "metadata.uid: field is immutable"}, ApiError),
    (500, ["not", "a", "status"], ApiError),
])
async def test_errors_map_to_the_clients_exceptions(status: int, payload: Any,
                                                    error: type[Exception]) -> None:
    kube = AsyncKube(Recorder((status, payload)).send)
    with pytest.raises(error) as e:
        await kube.get("batch/v1", "CronJob", "ns", "a")
    if isinstance(e.value, ApiError):
        assert e.value.status == status
        if isinstance(payload, dict):
            assert e.value.reason == payload["message"]


async def test_requests_in_flight_are_bounded_and_timed_out() -> None:
    now = peak = 0

    async def slow(method: str, path: str, body: bytes | None, ctype: str
                   ) -> tuple[int, bytes]:
        nonlocal now, peak
        now += 1
        peak = max(peak, now)
        await asyncio.sleep(0.01)
        now -= 1
        return 200, b"{}"

    kube = AsyncKube(slow, concurrency=3)
    await asyncio.gather(*(kube.get("v1", "ServiceAccount", "ns", str(i)) for i in range(12)))
    assert peak == 3

    async def hang(method: str, path: str, body: bytes | None, ctype: str
                   ) -> tuple[int, bytes]:
        await asyncio.sleep(10)
        return 200, b"{}"

    with pytest.raises(TimeoutError):
        await AsyncKube(hang, timeout=0.05).get("v1", "ServiceAccount", "ns", "s")


async def test_list_pages_follows_continue_tokens_and_fills_in_the_kind() -> None:
    r = Recorder((200, {"items": [{"metadata": {"name": "a"}}], "metadata": {"continue": "t"}}),
                 (200, {"items": [{"metadata": {"name": "b"}}], "metadata": {}}))
    kube = AsyncKube(r.send)
    pages = [p async for p in kube.list_pages("batch/v1", "CronJob", (),
                                              "app.kubernetes.io/managed-by=jobscrape", 1)]
    assert [[i["metadata"]["name"] for i in p] for p in pages] == [["a"], ["b"]]
    assert pages[0][0]["kind"] == "CronJob" and pages[0][0]["apiVersion"] == "batch/v1"
    assert r.calls[0][1] == ("/apis/batch/v1/cronjobs?limit=1&labelSelector="
                             "app.kubernetes.io%2Fmanaged-by%3Djobscrape")
    assert r.calls[1][1].endswith("&continue=t")


async def test_list_sources_once_for_all_namespaces_or_once_per_namespace() -> None:
    r = Recorder((200, {"items": [{"metadata": {"name": "a"}}]}))
    assert len(await AsyncKube(r.send).list_sources()) == 1
    assert r.calls[0][1] == "/apis/jobscrape.io/v1alpha1/jobsources"
    r = Recorder((200, {"items": []}), (200, {"items": [{"x": 1}]}))
    assert len(await AsyncKube(r.send).list_sources(("a", "b"))) == 1
    assert [c[1] for c in r.calls] == ["/apis/jobscrape.io/v1alpha1/namespaces/a/jobsources",
                                       "/apis/jobscrape.io/v1alpha1/namespaces/b/jobsources"]


def test_the_private_kopf_names_the_transport_uses_are_there() -> None:
    from kopf._cogs.clients import auth, errors

    assert callable(auth.authenticated)
    assert "session" in auth.APIContext.__annotations__
    assert "server" in auth.APIContext.__annotations__
    e = errors.APIUnauthorizedError("expired", status=401, headers={})
    assert e.status == 401
    assert issubclass(errors.APISessionClosed, Exception)
    send = apiclient.kopf_send()
    assert inspect.iscoroutinefunction(send)


def test_source_of_reads_the_label_then_the_owner_reference() -> None:
    assert source_of({"metadata": {"labels": {"jobscrape.io/source": "a"}}}) == "a"
    assert source_of({"metadata": {"ownerReferences": [
        {"kind": "CronJob", "name": "x"}, {"kind": "JobSource", "name": "b"}]}}) == "b"
    assert source_of({"metadata": {}}) is None


def test_the_diff_base_is_never_built_or_stored() -> None:
    import kopf

    from jobscrape.controller.operator import EventsOnlyDiffBase

    store = EventsOnlyDiffBase()
    body = kopf.Body({"metadata": {"name": "a"}, "spec": {"x": [1, 2]}})
    assert store.build(body=body) == {}
    assert store.fetch(body=body) is None
    assert store.store(body=body, patch=kopf.Patch(), essence=kopf.BodyEssence()) is None


class Streamer:
    """A recorded streaming transport: each call answers the next (status, lines)."""

    def __init__(self, *answers: tuple[int, list[Any]]) -> None:
        self.answers = list(answers)
        self.paths: list[tuple[str, float]] = []

    async def stream(self, path: str, seconds: float) -> tuple[int, Any]:
        self.paths.append((path, seconds))
        status, events = self.answers.pop(0)

        async def lines() -> Any:
            for e in events:
                yield e if isinstance(e, bytes) else json.dumps(e).encode()
        return status, lines()


async def test_watch_asks_for_bookmarks_from_a_version_and_fills_in_the_kind() -> None:
    s = Streamer((200, [{"type": "ADDED", "object": {"metadata": {"name": "a"}}},
                        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}}]))
    kube = AsyncKube(Recorder().send, stream=s.stream, timeout=7)
    got = [e async for e in kube.watch("batch/v1", "CronJob", "ns", "a=b", "5", 300)]
    assert [t for t, _ in got] == ["ADDED", "BOOKMARK"]
    assert got[0][1] == {"metadata": {"name": "a"}, "apiVersion": "batch/v1", "kind": "CronJob"}
    path, seconds = s.paths[0]
    assert path == ("/apis/batch/v1/namespaces/ns/cronjobs?watch=1&allowWatchBookmarks=true"
                    "&resourceVersion=5&timeoutSeconds=300&labelSelector=a%3Db")
    assert seconds == 307  # the server's end of the watch, and this client's timeout after it
    s = Streamer((200, []))
    _ = [e async for e in AsyncKube(Recorder().send, stream=s.stream).watch(
        "v1", "ServiceAccount", "", "", "1")]
    assert s.paths[0][0].startswith("/api/v1/serviceaccounts?watch=1")
    assert kube.requests["WATCH"] == 1 and kube.writes == 0


@pytest.mark.parametrize(("answer", "error"), [
    ((200, [{"type": "ERROR", "object": {"kind": "Status", "code": 410,
                                         "message": "too old resource version: 5 (80)"}}]),
     apiclient.Expired),
    ((410, [{"kind": "Status", "code": 410, "message": "gone"}]), apiclient.Expired),
    ((200, [{"type": "ERROR", "object": {"code": 500, "message": "etcd"}}]), ApiError),
    ((403, [{"message": "forbidden"}]), ApiError),
    ((200, [b"not json"]), Exception),
    ((200, [{"type": "ADDED"}]), ApiError),
])
async def test_watch_errors_end_it(answer: tuple[int, list[Any]], error: type[Exception]
                                   ) -> None:
    kube = AsyncKube(Recorder().send, stream=Streamer(answer).stream)
    with pytest.raises(error):
        _ = [e async for e in kube.watch("batch/v1", "CronJob", "", "", "5")]


async def test_a_list_tells_its_resource_version_once_every_page_is_read() -> None:
    r = Recorder((200, {"items": [], "metadata": {"continue": "t", "resourceVersion": "3"}}),
                 (200, {"items": [], "metadata": {"resourceVersion": "4"}}))
    meta = apiclient.ListMeta()
    _ = [p async for p in AsyncKube(r.send).list_pages("v1", "ServiceAccount", into=meta)]
    assert meta.resource_version == "4"


async def test_lines_are_split_as_they_come_and_the_response_released() -> None:
    class Content:
        async def iter_any(self) -> Any:
            for chunk in (b'{"a":', b'1}\n\n{"b"', b':2}\n{"c":3}'):
                yield chunk

    class Response:
        content = Content()
        released = False

        def release(self) -> None:
            self.released = True

    resp = Response()
    assert [x async for x in apiclient._lines(resp)] == [b'{"a":1}', b'{"b":2}', b'{"c":3}']
    assert resp.released


def test_the_streaming_transport_is_built_on_the_same_kopf_names() -> None:
    import aiohttp  # kopf's: the transport takes its timeout type from kopf's session

    assert inspect.iscoroutinefunction(apiclient.kopf_stream())
    assert isinstance(aiohttp.ClientSession.timeout, property)
    assert "sock_connect" in inspect.signature(aiohttp.ClientTimeout).parameters


async def test_tls_connections_get_small_read_buffers(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio.sslproto
    import ssl

    loop = asyncio.get_running_loop()

    def buffer() -> int:
        proto = asyncio.sslproto.SSLProtocol(loop, asyncio.Protocol(), ssl.create_default_context(),
                                             loop.create_future())
        return len(proto.get_buffer(-1))

    monkeypatch.setattr(asyncio.sslproto.SSLProtocol, "max_size",
                        asyncio.sslproto.SSLProtocol.max_size)
    assert buffer() == 256 * 1024  # asyncio's own, per open connection
    apiclient.small_tls_read_buffers()
    assert buffer() == apiclient.TLS_READ_BUFFER == 32 * 1024
