"""List-then-watch of one kind, fed straight into the operator's cache: the JobSources and
the kinds it owns.

kopf's watch runs every event through its per-object machinery (a worker task, a body
wrapper, causes, handler kwargs) and lists the whole kind again each time a watch ends (every
5 minutes): costs per event and per period that these kinds do not need, since their events
only update the cache and queue a source. This loop lists the kind (paged; the owned kinds
selected by the operator's label on the server), hands each object to `Sink.listed`, then
watches from the list's resourceVersion, hands each event to `Sink.event`, resumes from the
last version seen (bookmarks included) when the server ends the watch, lists again only when
that version has expired (410), and waits with backoff after errors. Requests go through the
operator's client (kopf's API session: its credentials and re-login on 401).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jobscrape.controller.apiclient import AsyncKube, Expired, ListMeta

log = logging.getLogger("jobscrape.operator")
Obj = dict[str, Any]
LIST_PAGE = 500
WATCH_SECONDS = 300
PRIME_TRIES = 3  # failed first lists after which the operator starts without this kind


class Sink(Protocol):
    """Where a watch delivers: the operator's caches and work queue."""

    def listed(self, obj: Obj) -> None:
        """An object a (re)list showed."""

    def relisted(self, kind: str, namespace: str, names: set[tuple[str, str]]) -> None:
        """A full list of `kind` in `namespace` (all when empty) showed exactly these
        (namespace, name) pairs."""

    def event(self, type_: str, obj: Obj) -> None:
        """A watch event: ADDED, MODIFIED or DELETED."""


@dataclass(frozen=True)
class Watched:
    """One kind in one namespace (all when empty), selected by label on the server (all
    when the selector is empty)."""

    api_version: str
    kind: str
    namespace: str
    selector: str


def backoff_seconds(failures: int) -> float:
    """The wait after `failures` errors in a row: 1, 2, 4 ... at most 30 seconds."""
    return float(min(30, 2 ** max(0, failures - 1)))


def resume_version(obj: Obj, held: str) -> str:
    """The resourceVersion to resume a watch from after this event (bookmarks carry only
    that); `held` when the event has none."""
    return str((obj.get("metadata") or {}).get("resourceVersion") or held)


async def relist(kube: AsyncKube, what: Watched, sink: Sink) -> str:
    """List `what` whole (paged) into `sink`, then tell it what the list showed; returns the
    list's resourceVersion (where a watch starts)."""
    meta = ListMeta()
    names: set[tuple[str, str]] = set()
    async for page in kube.list_pages(what.api_version, what.kind,
                                      (what.namespace,) if what.namespace else (),
                                      what.selector, page=LIST_PAGE, into=meta):
        for obj in page:
            m = obj.get("metadata") or {}
            names.add((str(m.get("namespace") or ""), str(m.get("name") or "")))
            sink.listed(obj)
    sink.relisted(what.kind, what.namespace, names)
    return meta.resource_version


async def list_then_watch(kube: AsyncKube, what: Watched, sink: Sink,
                          primed: Callable[[], None] = lambda: None,
                          sleep: Callable[[float], Any] = asyncio.sleep) -> None:
    """Keep `sink` current with `what` until cancelled. `primed` is called once: after the
    first full list, or after PRIME_TRIES failed ones (the operator then starts anyway)."""
    version = ""
    failures = 0
    told = False
    while True:
        try:
            if not version:
                version = await relist(kube, what, sink)
                if not told:
                    told = True
                    primed()
            async for type_, obj in kube.watch(what.api_version, what.kind, what.namespace,
                                               what.selector, version, WATCH_SECONDS):
                version = resume_version(obj, version)
                if type_ != "BOOKMARK":
                    sink.event(type_, obj)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Expired:
            log.info("the watch of %s resumed from a version too old: listing again", what.kind)
            version = ""
        except Exception as e:
            failures += 1
            log.warning("watching %s failed (%d in a row): %s: %s", what.kind, failures,
                        type(e).__name__, e)
            if not told and not version and failures >= PRIME_TRIES:
                told = True
                primed()
            await sleep(backoff_seconds(failures))
