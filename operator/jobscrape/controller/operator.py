"""The kopf operator: watch JobSources and what they own, keep the cache, and reconcile.

Handlers are thin: a watch event updates the cache (controller/cache.py) and, when it calls
for work, adds the source to the work queue (controller/workqueue.py); workers reconcile from
the cache on kopf's event loop through kopf's API session (controller/apiclient.py). The
JobSources and the owned kinds are listed and watched by the operator's own loops
(controller/watchloop.py), whose events need none of kopf's per-object machinery; kopf runs
the process (login, start-up, liveness) and watches the Jobs of sharded runs. The periodic
resync lists JobSources once and reconciles each from the cache; every `relist_every`-th
resync also lists the owned kinds again, to drop what a watch gap hid.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import kopf

from jobscrape.controller import builders, decide, finisher, naming
from jobscrape.controller.apiclient import AsyncKube, kopf_send, kopf_stream
from jobscrape.controller.events import build_event
from jobscrape.controller.metrics import OperatorMetrics, make_metrics
from jobscrape.controller.reconciler import EventSink, Reconciler
from jobscrape.controller.retry import Backoff
from jobscrape.controller.watchloop import Watched, list_then_watch, relist
from jobscrape.controller.workqueue import WorkQueue
from jobscrape.kubeapi import ApiError, Conflict, NamespaceTerminating, NotFound

log = logging.getLogger("jobscrape.operator")
# (apiVersion, kind) of what the operator makes and watches (its label selected on the server)
OWNED_KINDS = (("batch/v1", "CronJob"), ("v1", "ServiceAccount"),
               ("rbac.authorization.k8s.io/v1", "Role"),
               ("rbac.authorization.k8s.io/v1", "RoleBinding"))
MANAGED = {naming.MANAGED_BY: naming.OPERATOR}
MANAGED_SELECTOR = f"{naming.MANAGED_BY}={naming.OPERATOR}"
RESYNC_PAGE = 1000  # JobSources per page of the resync's list
# the Jobs of sharded runs (only those, server-side): one that ends with shards missing is
# finished by a Job of its own (controller/finisher.py)
SHARDED_JOBS = ("batch", "v1", "jobs")
SHARDED_SELECTOR = f"{MANAGED_SELECTOR},{naming.SHARDS_LABEL}"
FINISH_TRIES = 3
LOGIN_SECONDS = 60.0  # the credentials process (an auth plugin may take a while)


@dataclass
class Runtime:
    """What the handlers share: set once at startup."""

    reconciler: Reconciler | None = None
    queue: WorkQueue | None = None
    primed: asyncio.Event | None = None  # the owned objects were listed once
    resync_seconds: float = 300.0
    relist_every: int = 12  # resyncs between two lists of the owned kinds
    namespaces: tuple[str, ...] = ()
    kubeconfig: str | None = None
    options: builders.OperatorOptions = field(default_factory=builders.OperatorOptions)
    workers: int = 32  # reconciles at once
    requests: int = 32  # API requests in flight
    metrics_address: tuple[str, int] | None = ("127.0.0.1", 8000)
    metrics: OperatorMetrics = field(default_factory=make_metrics)
    backoff: Backoff = field(default_factory=Backoff)


RUNTIME = Runtime()
_TASKS: list[asyncio.Task[None]] = []
_EVENTS: set[asyncio.Task[None]] = set()  # events being posted


def _emit(kube: AsyncKube) -> EventSink:
    """Events are posted in the background: best effort, and no reconcile waits for one."""
    async def post(event: dict[str, Any], reason: str) -> None:
        try:
            await kube.create(event)
        except Conflict:
            pass  # posted before (a keyed event, e.g. before a restart)
        except NamespaceTerminating:
            pass  # the namespace and the source are going away
        except Exception as e:  # events are best effort
            log.warning("could not post event %s: %s", reason, _error_text(e))

    async def emit(involved: dict[str, Any], type_: str, reason: str, message: str,
                   key: str | None) -> None:
        event = build_event(involved, type_, reason, message, datetime.now(UTC), key)
        task = asyncio.create_task(post(event, reason))
        _EVENTS.add(task)
        task.add_done_callback(_EVENTS.discard)
    return emit


class EventsOnlyDiffBase(kopf.DiffBaseStorage):
    """kopf diffs every body against its last handled state, for create/update handlers; the
    operator has only event handlers, so that diff base (a deep copy of each body) is never
    built nor stored."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence
              ) -> None:
        return None


@kopf.on.login()
async def _login(**_: Any) -> kopf.ConnectionInfo:
    """Credentials from --kubeconfig, $KUBECONFIG or the in-cluster ServiceAccount, loaded by
    the official client in a process of its own (jobscrape.kubelogin), so this one never
    imports it; again whenever the API answers 401, so rotated tokens are picked up."""
    args = [RUNTIME.kubeconfig] if RUNTIME.kubeconfig else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jobscrape.kubelogin", *args, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), LOGIN_SECONDS)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise kopf.LoginError(f"loading the Kubernetes credentials took longer than "
                              f"{LOGIN_SECONDS:.0f}s") from None
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise kopf.LoginError(lines[-1][:400] if lines else
                              f"loading the Kubernetes credentials failed ({proc.returncode})")
    return kopf.ConnectionInfo(**json.loads(out))


@kopf.on.startup()
async def _startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.posting.enabled = False  # the reconciler posts its own, precise events
    settings.persistence.diffbase_storage = EventsOnlyDiffBase()
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    settings.watching.chunk_size = 500  # kopf's (re)lists in pages: no spike of whole lists
    # handlers only queue work, so kopf's per-object workers are short: no limit, and gone
    # soon after their last event (fewer tasks held in memory)
    settings.queueing.worker_limit = None
    settings.queueing.idle_timeout = 1.0
    settings.watching.label_selectors[SHARDED_JOBS] = SHARDED_SELECTOR
    kube = AsyncKube(kopf_send(), field_manager=naming.FIELD_MANAGER,
                     concurrency=RUNTIME.requests, stream=kopf_stream())
    RUNTIME.reconciler = Reconciler(kube=kube, options=RUNTIME.options, emit=_emit(kube))
    RUNTIME.queue = WorkQueue(_reconcile, workers=RUNTIME.workers)
    RUNTIME.primed = asyncio.Event()
    RUNTIME.metrics.retries_pending.set_function(lambda: float(RUNTIME.backoff.pending))
    if RUNTIME.metrics_address is not None:
        from prometheus_client import start_http_server

        host, port = RUNTIME.metrics_address
        start_http_server(port, addr=host, registry=RUNTIME.metrics.registry)
        log.info("serving metrics on %s:%d/metrics", host, port)
    RUNTIME.queue.start()
    _TASKS.append(asyncio.create_task(_prime()))
    _TASKS.append(asyncio.create_task(_resync_forever()))


async def _reconcile(item: Hashable) -> None:
    """Reconcile one source (a work queue worker); on failure retry with backoff."""
    namespace, name = item  # type: ignore[misc]
    rec = RUNTIME.reconciler
    if rec is None:
        return
    if RUNTIME.primed is not None:
        await RUNTIME.primed.wait()
    m = RUNTIME.metrics
    t0 = time.perf_counter()
    key = (namespace, name)
    try:
        out = await rec.reconcile(namespace, name)
    except Exception as e:
        m.reconcile_errors.inc()
        m.reconcile_total.labels("error").inc()
        delay = RUNTIME.backoff.failed(key)
        _retry_later(namespace, name, delay)
        known = isinstance(e, ApiError | Conflict | NotFound | TimeoutError)
        log.warning("reconcile of %s/%s failed (%d in a row), retrying in %.0fs: %s",
                    namespace, name, RUNTIME.backoff.failures(key), delay,
                    _error_text(e), exc_info=not known,
                    extra={"namespace": namespace, "jobsource": name})
        await rec.report_failure(namespace, name, _error_text(e))
        return
    finally:
        m.reconcile_time.observe(time.perf_counter() - t0)
    RUNTIME.backoff.succeeded(key)
    pending = _RETRIES.pop(key, None)
    if pending is not None:
        pending.cancel()
    m.reconcile_total.labels("success").inc()
    if out is not None and (out.created or out.updated or out.status_written):
        log.info("reconciled %s/%s: created=%s updated=%s status=%s", namespace, name,
                 out.created, out.updated, out.status_written,
                 extra={"namespace": namespace, "jobsource": name})


_RETRIES: dict[tuple[str, str], asyncio.TimerHandle] = {}


def _enqueue(namespace: str | None, name: str | None) -> None:
    if namespace and name and RUNTIME.queue is not None:
        RUNTIME.queue.add((namespace, name))


def _retry_later(namespace: str, name: str, delay: float) -> None:
    """Reconcile this source again after `delay` seconds (once, however often it failed)."""
    key = (namespace, name)
    if key in _RETRIES:
        _RETRIES[key].cancel()
    RUNTIME.metrics.reconcile_retries.inc()

    def fire() -> None:
        _RETRIES.pop(key, None)
        _enqueue(namespace, name)

    _RETRIES[key] = asyncio.get_running_loop().call_later(delay, fire)


def _error_text(e: Exception) -> str:
    """One line about an error: the API server's message, not a dump of the response."""
    if isinstance(e, ApiError):
        return f"HTTP {e.status}: {e.reason}"
    if isinstance(e, TimeoutError):
        return "TimeoutError: the API server did not answer in time"
    return f"{type(e).__name__}: {e}"


def _source_gone(namespace: str, name: str) -> None:
    """A JobSource was deleted: its metrics, retries and cached state go."""
    key = (namespace, name)
    RUNTIME.metrics.sources.remove(*key)
    RUNTIME.backoff.succeeded(key)
    if key in _RETRIES:
        _RETRIES.pop(key).cancel()
    if RUNTIME.reconciler is not None:
        RUNTIME.reconciler.source_gone(*key)


class SourceSink:
    """Where the JobSources' list and watch deliver: the cache, the metrics, the work queue."""

    def listed(self, obj: dict[str, Any]) -> None:
        """A JobSource a list showed: as if added."""
        self.event("ADDED", obj)

    def relisted(self, kind: str, namespace: str, names: set[tuple[str, str]]) -> None:
        """Sources held that the full list did not show were deleted while no watch saw it."""
        rec = RUNTIME.reconciler
        if rec is None:
            return
        for key in set(rec.sources.keys()) - names:
            if not namespace or key[0] == namespace:
                _source_gone(*key)

    def event(self, type_: str, raw: dict[str, Any]) -> None:
        """A watch event: remember the body and queue the source unless it is our own status
        write echoing back."""
        RUNTIME.metrics.last_watch_event.set_to_current_time()
        meta = raw.get("metadata") or {}
        key = (meta.get("namespace") or "", meta.get("name") or "")
        if type_ == "DELETED":
            _source_gone(*key)
            return
        RUNTIME.metrics.sources.update(raw)
        rec = RUNTIME.reconciler
        if rec is None:
            return
        rec.source_seen(raw)
        if rec.is_current(raw):
            return
        _enqueue(*key)


SOURCE_SINK = SourceSink()


def source_of(owned: dict[str, Any]) -> str | None:
    """The name of the JobSource an owned object belongs to: its source label, else its
    JobSource owner reference (the label may be what was removed)."""
    meta = owned.get("metadata") or {}
    name = (meta.get("labels") or {}).get(naming.SOURCE_LABEL)
    if name:
        return str(name)
    for ref in meta.get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") == builders.KIND and ref.get("name"):
            return str(ref["name"])
    return None


class OwnedSink:
    """Where the owned kinds' lists and watches deliver: the cache, and the work queue when
    an event calls for a reconcile."""

    def listed(self, obj: dict[str, Any]) -> None:
        """An object a list showed."""
        rec = RUNTIME.reconciler
        if rec is not None:
            rec.owned.observe(obj, now=time.monotonic())

    def relisted(self, kind: str, namespace: str, names: set[tuple[str, str]]) -> None:
        """Records the full list did not show were deleted while no watch saw it."""
        rec = RUNTIME.reconciler
        if rec is None:
            return
        gone = rec.owned.sweep((kind,), {(kind, ns, n) for ns, n in names}, namespace)
        if gone:
            log.info("%d %s(s) were gone without a watch event", gone, kind)

    def event(self, type_: str, raw: dict[str, Any]) -> None:
        """A watch event. No client-side label filter: the server-side selector sends only
        the operator's objects, and a DELETED when one loses its label."""
        RUNTIME.metrics.last_watch_event.set_to_current_time()
        meta = raw.get("metadata") or {}
        managed = (meta.get("labels") or {}).get(naming.MANAGED_BY) == naming.OPERATOR
        rec = RUNTIME.reconciler
        if rec is not None:
            if type_ == "DELETED" or not managed:
                rec.owned.deleted(raw)
            else:
                rec.owned.observe(raw, now=time.monotonic())
        if managed and not decide.owned_change_needs_reconcile(
                type_, meta.get("managedFields"), naming.FIELD_MANAGER):
            return
        _enqueue(meta.get("namespace"), source_of(raw))


OWNED_SINK = OwnedSink()


def watched_owned() -> list[Watched]:
    """What the operator lists and watches of its own: each owned kind in each namespace it
    serves (all at once when it serves all)."""
    return [Watched(api_version, kind, ns, MANAGED_SELECTOR)
            for api_version, kind in OWNED_KINDS
            for ns in (RUNTIME.namespaces or ("",))]


@kopf.on.event(*SHARDED_JOBS)
async def _on_sharded_job(type: str | None, event: dict[str, Any], **_: Any) -> None:
    """A sharded run's Job changed: when it failed with shards missing, start its finisher
    (tried again a few times when the API fails or the source is not in the cache yet)."""
    raw = event.get("object") or {}
    if type == "DELETED" or not finisher.has_failed(raw):
        return
    meta = raw.get("metadata") or {}
    ns, source = meta.get("namespace") or "", source_of(raw) or ""
    for attempt in range(1, FINISH_TRIES + 1):
        rec = RUNTIME.reconciler
        if rec is not None and RUNTIME.primed is not None:
            await RUNTIME.primed.wait()
        if rec is not None and rec.sources.get(ns, source) is not None:
            try:
                name = await rec.finish_run(raw)
            except Exception as e:
                log.warning("could not finish the sharded run %s/%s (%d of %d): %s", ns,
                            meta.get("name"), attempt, FINISH_TRIES, _error_text(e))
            else:
                if name:
                    log.info("run %s/%s ended with shards missing: Job %s finishes it", ns,
                             meta.get("name"), name, extra={"namespace": ns, "jobsource": source})
                return
        if attempt < FINISH_TRIES:
            await asyncio.sleep(5)


async def _list_owned() -> None:
    """List every owned kind (the operator's label, paged) into the cache; drop records the
    lists did not show (a deletion a watch gap hid)."""
    rec = RUNTIME.reconciler
    assert rec is not None
    for what in watched_owned():
        await relist(rec.kube, what, OWNED_SINK)


async def _prime() -> None:
    """Start the lists and watches of the JobSources and the owned kinds, and let reconciles
    begin once each owned kind has listed (a restart then reads nothing per source). A kind
    whose list keeps failing does not hold them back: its watch keeps trying, a miss costs a
    create that conflicts and a read."""
    rec = RUNTIME.reconciler
    assert rec is not None
    watched = watched_owned()
    waiting = len(watched)
    done = asyncio.Event()

    def primed() -> None:
        nonlocal waiting
        waiting -= 1
        if waiting <= 0:
            done.set()
    for what in watched:
        _TASKS.append(asyncio.create_task(list_then_watch(rec.kube, what, OWNED_SINK, primed)))
    for ns in RUNTIME.namespaces or ("",):  # reconciles of what these queue wait for `done`
        _TASKS.append(asyncio.create_task(list_then_watch(
            rec.kube, Watched(builders.API_VERSION, builders.KIND, ns, ""), SOURCE_SINK)))
    if watched:
        await done.wait()
    if RUNTIME.primed is not None:
        RUNTIME.primed.set()


async def _resync_forever() -> None:
    """Every resync period, a safety net under the watches: one list of the JobSources (every
    `relist_every`-th time also of the owned kinds); the sources that list or the cache shows
    something to do for (Reconciler.needs_resync) are reconciled from the cache."""
    rounds = 0
    while True:
        await asyncio.sleep(RUNTIME.resync_seconds)
        rec, queue = RUNTIME.reconciler, RUNTIME.queue
        if rec is None or queue is None:
            continue
        rounds += 1
        listed: set[tuple[str, str]] = set()
        due = 0
        try:
            if rounds % max(1, RUNTIME.relist_every) == 0:
                await _list_owned()
            # one list, in pages: a whole list of thousands of sources parsed at once would
            # be the operator's largest use of memory
            async for page in rec.kube.list_pages(builders.API_VERSION, builders.KIND,
                                                  RUNTIME.namespaces, page=RESYNC_PAGE):
                for item in page:
                    m = item.get("metadata") or {}
                    key = (m.get("namespace") or "", m.get("name") or "")
                    listed.add(key)
                    rec.source_seen(item)
                    if rec.needs_resync(item):
                        queue.add(key)
                        due += 1
                del page
        except Exception as e:
            log.warning("resync list failed: %s", _error_text(e))
            continue
        RUNTIME.metrics.last_watch_event.set_to_current_time()  # the API answers us
        for key in set(rec.sources.keys()) - listed:  # deleted while a watch missed it
            _source_gone(*key)
        if due:
            log.debug("resync: %d of %d sources to reconcile", due, len(listed))


@kopf.on.cleanup()
async def _stop_resync(**_: Any) -> None:
    for t in _TASKS:
        t.cancel()
    for h in _RETRIES.values():
        h.cancel()
    if RUNTIME.queue is not None:
        await RUNTIME.queue.stop()
