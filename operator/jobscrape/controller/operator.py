"""The kopf operator: watch JobSources and what they own, and reconcile on every change."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import kopf

from jobscrape.controller import builders, decide, naming
from jobscrape.controller.events import build_event
from jobscrape.controller.metrics import OperatorMetrics, make_metrics
from jobscrape.controller.reconciler import Reconciler
from jobscrape.controller.retry import Backoff
from jobscrape.kubeclient import (
    ApiException,
    Conflict,
    Kube,
    NamespaceTerminating,
    NotFound,
    load_api_client,
)

log = logging.getLogger("jobscrape.operator")
OWNED_KINDS = (("batch", "v1", "cronjobs"), ("", "v1", "serviceaccounts"),
               ("rbac.authorization.k8s.io", "v1", "roles"),
               ("rbac.authorization.k8s.io", "v1", "rolebindings"))
MANAGED = {naming.MANAGED_BY: naming.OPERATOR}


@dataclass
class Runtime:
    """What the handlers share: set once at startup."""

    reconciler: Reconciler | None = None
    resync_seconds: float = 300.0
    namespaces: tuple[str, ...] = ()
    kubeconfig: str | None = None
    options: builders.OperatorOptions = field(default_factory=builders.OperatorOptions)
    threads: int = 32
    metrics_address: tuple[str, int] | None = ("127.0.0.1", 8000)
    metrics: OperatorMetrics = field(default_factory=make_metrics)
    backoff: Backoff = field(default_factory=Backoff)


RUNTIME = Runtime()


def _emit(kube: Kube) -> Any:
    def emit(involved: dict[str, Any], type_: str, reason: str, message: str,
             key: str | None) -> None:
        try:
            kube.create(build_event(involved, type_, reason, message, datetime.now(UTC), key))
        except Conflict:
            pass  # posted before (a keyed event, e.g. before a restart)
        except NamespaceTerminating:
            pass  # the namespace and the source are going away
        except Exception as e:  # events are best effort
            log.warning("could not post event %s: %s", reason, e)
    return emit


@kopf.on.login()
def _login(**_: Any) -> kopf.ConnectionInfo:
    """Credentials from --kubeconfig, $KUBECONFIG or the in-cluster ServiceAccount (re-read
    whenever the API answers 401, so rotated tokens are picked up)."""
    cfg = load_api_client(RUNTIME.kubeconfig).configuration
    if cfg.refresh_api_key_hook is not None:
        cfg.refresh_api_key_hook(cfg)
    auth = (cfg.api_key or {}).get("authorization") or (cfg.api_key or {}).get("BearerToken")
    scheme, _, token = auth.partition(" ") if auth else ("", "", "")
    return kopf.ConnectionInfo(
        server=cfg.host, ca_path=cfg.ssl_ca_cert, insecure=not cfg.verify_ssl,
        scheme=scheme or None, token=token or None,
        certificate_path=cfg.cert_file or None, private_key_path=cfg.key_file or None,
    )


@kopf.on.startup()
async def _startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.posting.enabled = False  # the reconciler posts its own, precise events
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    # kopf keeps one worker per object for idle_timeout after its last event; with a worker
    # limit those idle workers would block new objects, so: no limit (the thread pool bounds
    # the real work) and a short idle time (fewer tasks held in memory)
    settings.batching.worker_limit = None
    settings.batching.idle_timeout = 1.0
    asyncio.get_running_loop().set_default_executor(
        concurrent.futures.ThreadPoolExecutor(RUNTIME.threads, thread_name_prefix="reconcile"))
    kube = Kube(load_api_client(RUNTIME.kubeconfig), field_manager=naming.FIELD_MANAGER)
    RUNTIME.reconciler = Reconciler(kube=kube, options=RUNTIME.options, emit=_emit(kube))
    RUNTIME.metrics.retries_pending.set_function(lambda: float(RUNTIME.backoff.pending))
    if RUNTIME.metrics_address is not None:
        from prometheus_client import start_http_server

        host, port = RUNTIME.metrics_address
        start_http_server(port, addr=host, registry=RUNTIME.metrics.registry)
        log.info("serving metrics on %s:%d/metrics", host, port)


async def _reconcile(namespace: str | None, name: str | None) -> None:
    if not namespace or not name or RUNTIME.reconciler is None:
        return
    m = RUNTIME.metrics
    t0 = time.perf_counter()
    key = (namespace, name)
    try:
        out = await asyncio.to_thread(RUNTIME.reconciler.reconcile, namespace, name)
    except Exception as e:
        m.reconcile_errors.inc()
        m.reconcile_total.labels("error").inc()
        delay = RUNTIME.backoff.failed(key)
        _retry_later(namespace, name, delay)
        known = isinstance(e, ApiException | Conflict | NotFound)
        log.warning("reconcile of %s/%s failed (%d in a row), retrying in %.0fs: %s",
                    namespace, name, RUNTIME.backoff.failures(key), delay,
                    _error_text(e), exc_info=not known,
                    extra={"namespace": namespace, "jobsource": name})
        await asyncio.to_thread(RUNTIME.reconciler.report_failure, namespace, name,
                                _error_text(e))
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


def _retry_later(namespace: str, name: str, delay: float) -> None:
    """Reconcile this source again after `delay` seconds (once, however often it failed)."""
    key = (namespace, name)
    if key in _RETRIES:
        _RETRIES[key].cancel()
    RUNTIME.metrics.reconcile_retries.inc()

    def fire() -> None:
        _RETRIES.pop(key, None)
        _TASKS.append(asyncio.ensure_future(_reconcile(namespace, name)))
        _TASKS[:] = [t for t in _TASKS if not t.done()]

    _RETRIES[key] = asyncio.get_running_loop().call_later(delay, fire)


def _error_text(e: Exception) -> str:
    """One line about an error: the API server's message, not a dump of the response."""
    if isinstance(e, ApiException):
        return f"HTTP {e.status}: {e.reason}"
    return f"{type(e).__name__}: {e}"


@kopf.on.event(builders.GROUP, builders.VERSION, builders.PLURAL)
async def _on_source(type: str | None, body: kopf.Body, **_: Any) -> None:
    RUNTIME.metrics.last_watch_event.set_to_current_time()
    if type == "DELETED":
        key = (body.metadata.namespace or "", body.metadata.name or "")
        RUNTIME.metrics.sources.remove(*key)
        RUNTIME.backoff.succeeded(key)
        if key in _RETRIES:
            _RETRIES.pop(key).cancel()
        return
    RUNTIME.metrics.sources.update(body)
    if RUNTIME.reconciler is not None and RUNTIME.reconciler.is_current(body):
        return  # our own status write echoing back
    await _reconcile(body.metadata.namespace, body.metadata.name)


def _register_owned(group: str, version: str, plural: str) -> None:
    @kopf.on.event(group, version, plural, labels=MANAGED)
    async def _on_owned(type: str | None, body: kopf.Body, **_: Any) -> None:
        RUNTIME.metrics.last_watch_event.set_to_current_time()
        fields = body.metadata.get("managedFields")
        if not decide.owned_change_needs_reconcile(type, fields, naming.FIELD_MANAGER):
            return
        source = body.metadata.labels.get(naming.SOURCE_LABEL)
        await _reconcile(body.metadata.namespace, source)


for _g, _v, _p in OWNED_KINDS:
    _register_owned(_g, _v, _p)


async def _resync_forever() -> None:
    """Every resync period, reconcile every source (a safety net under the watches)."""
    while True:
        await asyncio.sleep(RUNTIME.resync_seconds)
        if RUNTIME.reconciler is None:
            continue
        kube = RUNTIME.reconciler.kube
        try:
            items = await asyncio.to_thread(kube.list_sources, RUNTIME.namespaces)
        except Exception as e:
            log.warning("resync list failed: %s", e)
            continue
        RUNTIME.metrics.last_watch_event.set_to_current_time()  # the API answers us
        await asyncio.gather(*(_reconcile(i["metadata"]["namespace"], i["metadata"]["name"])
                               for i in items))


_TASKS: list[asyncio.Task[None]] = []


@kopf.on.startup()
async def _start_resync(**_: Any) -> None:
    _TASKS.append(asyncio.create_task(_resync_forever()))


@kopf.on.cleanup()
async def _stop_resync(**_: Any) -> None:
    for t in _TASKS:
        t.cancel()
    for h in _RETRIES.values():
        h.cancel()
