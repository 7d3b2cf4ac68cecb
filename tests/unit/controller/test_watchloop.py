"""The owned kinds' list-then-watch loop, on recorded transports: what reaches the sink, where
each watch resumes, and what happens on expiry and errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from jobscrape.controller import watchloop
from jobscrape.controller.apiclient import AsyncKube
from jobscrape.controller.watchloop import Watched, backoff_seconds, list_then_watch

WHAT = Watched("batch/v1", "CronJob", "", "app.kubernetes.io/managed-by=jobscrape")


def _obj(name: str, rv: str, ns: str = "ns") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": rv}}


class Server:
    """Answers lists from `lists` and watches from `watches`, in order; records the paths."""

    def __init__(self, lists: list[Any], watches: list[Any]) -> None:
        self.lists, self.watches = lists, watches
        self.paths: list[str] = []

    async def send(self, method: str, path: str, body: bytes | None, ctype: str
                   ) -> tuple[int, bytes]:
        self.paths.append(path)
        answer = self.lists.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return 200, json.dumps(answer).encode()

    async def stream(self, path: str, seconds: float) -> tuple[int, Any]:
        self.paths.append(path)
        if not self.watches:
            await asyncio.Event().wait()  # the last watch stays open
        status, events = self.watches.pop(0)

        async def lines() -> Any:
            for e in events:
                yield json.dumps(e).encode()
        return status, lines()


class Sink:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def listed(self, obj: dict[str, Any]) -> None:
        self.seen.append(("LISTED", obj["metadata"]["name"]))

    def relisted(self, kind: str, namespace: str, names: set[tuple[str, str]]) -> None:
        self.seen.append(("RELISTED", ",".join(sorted(n for _, n in names))))

    def event(self, type_: str, obj: dict[str, Any]) -> None:
        self.seen.append((type_, obj["metadata"]["name"]))


async def _run(server: Server, until: int, primed: list[int] | None = None) -> Sink:
    sink = Sink()
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)

    kube = AsyncKube(server.send, stream=server.stream)
    task = asyncio.create_task(list_then_watch(
        kube, WHAT, sink, (lambda: primed.append(len(sink.seen))) if primed is not None
        else (lambda: None), sleep))
    for _ in range(200):
        await asyncio.sleep(0)
        if len(sink.seen) >= until and not server.watches:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    sink.sleeps = sleeps  # type: ignore[attr-defined]
    return sink


def _list(*objs: dict[str, Any], rv: str) -> dict[str, Any]:
    return {"items": list(objs), "metadata": {"resourceVersion": rv}}


async def test_lists_then_watches_from_the_lists_version_and_resumes_where_it_ended() -> None:
    server = Server([_list(_obj("a", "3"), rv="10")], [
        (200, [{"type": "MODIFIED", "object": _obj("a", "11")},
               {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "15"}}}]),
        (200, [{"type": "DELETED", "object": _obj("a", "16")}])])
    primed: list[int] = []
    sink = await _run(server, 4, primed)
    assert sink.seen == [("LISTED", "a"), ("RELISTED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    assert primed == [2]  # once, after the first full list
    watches = [p for p in server.paths if "watch=1" in p]
    assert "resourceVersion=10&" in watches[0]
    assert "resourceVersion=15&" in watches[1]  # the bookmark's version: nothing re-sent
    assert "resourceVersion=16&" in watches[2]
    assert "labelSelector=app.kubernetes.io%2Fmanaged-by%3Djobscrape" in watches[0]


async def test_an_expired_version_lists_again() -> None:
    gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old"}}
    server = Server([_list(_obj("a", "3"), rv="10"), _list(_obj("b", "30"), rv="40")],
                    [(200, [gone])])
    primed: list[int] = []
    sink = await _run(server, 4, primed)
    assert sink.seen == [("LISTED", "a"), ("RELISTED", "a"), ("LISTED", "b"), ("RELISTED", "b")]
    assert primed == [2]
    assert "resourceVersion=40&" in [p for p in server.paths if "watch=1" in p][-1]
    assert sink.sleeps == []  # type: ignore[attr-defined]


async def test_errors_back_off_and_resume_from_the_last_version_seen() -> None:
    server = Server([_list(rv="10")], [
        (200, [{"type": "ADDED", "object": _obj("a", "12")}, {"type": "ADDED"}]),
        (500, [{"message": "etcd"}]),
        (200, [{"type": "ADDED", "object": _obj("b", "13")}])])
    sink = await _run(server, 4)
    assert sink.seen == [("RELISTED", ""), ("ADDED", "a"), ("ADDED", "b")]
    assert sink.sleeps == [1.0, 2.0]  # type: ignore[attr-defined]
    watches = [p for p in server.paths if "watch=1" in p]
    assert all("resourceVersion=12&" in w for w in watches[1:3])
    assert len([p for p in server.paths if "watch=1" not in p]) == 1  # not listed again


async def test_the_operator_starts_without_a_kind_whose_list_keeps_failing() -> None:
    server = Server([OSError("refused")] * watchloop.PRIME_TRIES + [_list(rv="1")], [])
    primed: list[int] = []
    sink = await _run(server, 1, primed)
    assert primed == [0]  # told after the third failure, not again after the list
    assert sink.seen == [("RELISTED", "")]


def test_backoff_doubles_up_to_thirty_seconds() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 5, 6, 20)] == [1, 2, 4, 16, 30, 30]
