"""Prometheus metrics of the operator, served from an in-memory index of JobSource statuses:
a scrape makes no API call.

`METRICS` is the one table of every metric the operator serves (name, type, help, labels): the
registry is built from it and the README's metrics reference is generated from it."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from jobscrape import __version__
from jobscrape.api import schedule
from jobscrape.api.status import read_status
from jobscrape.api.vocabulary import OK_STATES, RUN_RESULTS

CHANGE_KINDS = ("created", "updated", "removed")
SOURCE_LABELS = ("namespace", "jobsource")
BOARD_LABELS = ("namespace", "jobsource", "board", "type")
TARGET_LABELS = ("namespace", "jobsource", "target")
RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

MetricType = Literal["gauge", "counter", "histogram", "info"]


@dataclass(frozen=True)
class Metric:
    """One metric as scraped: its full name (with _total or _info), type, help and labels.
    `per_source`: a gauge computed at scrape time from the JobSource index."""

    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...] = ()
    per_source: bool = False


def _source(name: str, help: str, labels: tuple[str, ...] = SOURCE_LABELS,
            type_: MetricType = "gauge") -> Metric:
    return Metric(name, type_, help, labels, per_source=True)


METRICS: tuple[Metric, ...] = (
    _source("jobscrape_source_last_success_timestamp_seconds",
            "Unix time of the last fully or partly successful run."),
    _source("jobscrape_source_last_run_timestamp_seconds", "Unix time the last run finished."),
    _source("jobscrape_source_last_run_duration_seconds", "Duration of the last run."),
    _source("jobscrape_source_last_run_result",
            "1 for the result of the last run, 0 for the others.", (*SOURCE_LABELS, "result")),
    _source("jobscrape_source_postings", "Open postings after filters, all boards."),
    _source("jobscrape_source_postings_changed",
            "Postings created, updated and removed in the last run.", (*SOURCE_LABELS, "kind")),
    _source("jobscrape_source_next_run_timestamp_seconds", "Unix time of the next scheduled run."),
    _source("jobscrape_source_suspended", "1 when the source's schedule is suspended."),
    _source("jobscrape_source_schedule_interval_seconds",
            "Seconds between two scheduled runs (for staleness alerts)."),
    _source("jobscrape_board_postings", "Open postings of one board.", BOARD_LABELS),
    _source("jobscrape_board_up",
            f"1 when the board's last fetch was {' or '.join(OK_STATES)}.", BOARD_LABELS),
    _source("jobscrape_board_consecutive_failures", "Runs in a row in which the board failed.",
            BOARD_LABELS),
    _source("jobscrape_notify_pending", "Changes waiting to be delivered to a target.",
            TARGET_LABELS),
    _source("jobscrape_notify_delivered_total", "Changes delivered to a target.",
            TARGET_LABELS, "counter"),
    _source("jobscrape_notify_dead",
            "Changes given up after the target's maxAttempts or maxAgeHours (kept in the "
            "store; `jobscrape deliver --retry-dead` sends them again).", TARGET_LABELS),
    _source("jobscrape_notify_oldest_pending_timestamp_seconds",
            "Unix time the oldest change still pending for a target was found.", TARGET_LABELS),
    Metric("jobscrape_operator_reconcile_total", "counter",
           "Reconciles by result (success, error).", ("result",)),
    Metric("jobscrape_operator_reconcile_errors_total", "counter",
           "Reconciles that raised an error."),
    Metric("jobscrape_operator_reconcile_time_seconds", "histogram",
           "Time one reconcile takes."),
    Metric("jobscrape_operator_reconcile_retries_total", "counter",
           "Retries scheduled after failed reconciles (with backoff, before the next resync)."),
    Metric("jobscrape_operator_reconcile_retries_pending", "gauge",
           "JobSources whose last reconcile failed and that wait for a retry."),
    Metric("jobscrape_operator_last_watch_event_timestamp_seconds", "gauge",
           "Unix time of the last watch event or successful resync (a stalled watch stops it)."),
    Metric("jobscrape_operator_managed_sources", "gauge", "JobSources the operator manages."),
    Metric("jobscrape_build_info", "info", "Build information.", ("version",)),
)
METRIC_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
#: The per-source series computed at scrape time.
FAMILIES: tuple[Metric, ...] = tuple(m for m in METRICS if m.per_source)


@dataclass(frozen=True)
class Sample:
    """One series: metric name, label values, value."""

    name: str
    labels: tuple[str, ...]
    value: float


def _ts(value: Any) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def source_samples(body: Mapping[str, Any], now: datetime) -> list[Sample]:
    """Every per-source and per-board series a JobSource's status and spec give."""
    meta, spec = body.get("metadata") or {}, body.get("spec") or {}
    st = read_status(body.get("status"))
    key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
    out: list[Sample] = []

    def add(name: str, value: float | None, labels: tuple[str, ...] = key) -> None:
        if value is not None:
            out.append(Sample(name, labels, float(value)))

    last = st.last_run
    add("jobscrape_source_last_success_timestamp_seconds", _ts(st.last_successful_time))
    add("jobscrape_source_postings", st.postings)
    add("jobscrape_source_next_run_timestamp_seconds", _ts(st.next_schedule_time))
    if last is not None:
        add("jobscrape_source_last_run_timestamp_seconds", _ts(last.completion_time))
        add("jobscrape_source_last_run_duration_seconds", last.duration_seconds)
        if last.result:
            for r in RUN_RESULTS:
                add("jobscrape_source_last_run_result", 1.0 if last.result == r else 0.0,
                    (*key, r))
        for kind in CHANGE_KINDS:
            add("jobscrape_source_postings_changed", getattr(last, kind) or 0, (*key, kind))
    add("jobscrape_source_suspended", 1.0 if spec.get("suspend") else 0.0)
    with contextlib.suppress(ValueError):
        add("jobscrape_source_schedule_interval_seconds",
            schedule.interval_seconds(spec.get("schedule", ""), spec.get("timeZone"), now))
    for b in st.boards:
        labels = (*key, b.name, b.type or "")
        add("jobscrape_board_postings", b.postings or 0, labels)
        add("jobscrape_board_up", 1.0 if b.state in OK_STATES else 0.0, labels)
        add("jobscrape_board_consecutive_failures", b.consecutive_failures or 0, labels)
    for n in st.notify:
        labels = (*key, n.name)
        add("jobscrape_notify_pending", n.pending or 0, labels)
        add("jobscrape_notify_delivered_total", n.delivered or 0, labels)
        add("jobscrape_notify_dead", n.dead or 0, labels)
        add("jobscrape_notify_oldest_pending_timestamp_seconds", _ts(n.oldest_pending_time),
            labels)
    return out


#: The status fields the per-source series read (source_samples), and of each list item or
#: object in it the keys they read: all the metrics index keeps of a status.
METRIC_STATUS: dict[str, tuple[str, ...] | None] = {
    "lastSuccessfulTime": None, "postings": None, "nextScheduleTime": None,
    "lastRun": ("completionTime", "durationSeconds", "result", *CHANGE_KINDS),
    "boards": ("name", "type", "state", "postings", "consecutiveFailures"),
    "notify": ("name", "pending", "delivered", "dead", "oldestPendingTime"),
}


def _pick(value: Any, keys: tuple[str, ...]) -> Any:
    """`value` (an object, or a list of objects) with only `keys`; anything else as it is
    (read_status drops what has the wrong shape)."""
    if isinstance(value, Mapping):
        return {k: value[k] for k in keys if k in value}
    if isinstance(value, list):
        return [_pick(v, keys) for v in value]
    return value


def metric_status(status: Any) -> dict[str, Any]:
    """The part of a JobSource status the metrics read (METRIC_STATUS)."""
    if not isinstance(status, Mapping):
        return {}
    return {k: (status[k] if keys is None else _pick(status[k], keys))
            for k, keys in METRIC_STATUS.items() if k in status}


class SourceIndex(Collector):
    """What the metrics need of each JobSource (its name, three spec fields and
    metric_status of its status), kept from watch events as compact JSON (thousands of
    sources in one process); collects per-source series."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def update(self, body: Mapping[str, Any]) -> None:
        """Remember what metrics need of a JobSource body."""
        m, spec = body.get("metadata") or {}, body.get("spec") or {}
        slim = {"metadata": {"namespace": m.get("namespace"), "name": m.get("name")},
                "spec": {k: spec.get(k) for k in ("schedule", "timeZone", "suspend")},
                "status": metric_status(body.get("status"))}
        packed = json.dumps(slim, separators=(",", ":"), default=str).encode()
        with self._lock:
            self._bodies[(str(m.get("namespace")), str(m.get("name")))] = packed

    def remove(self, namespace: str, name: str) -> None:
        """Forget a deleted JobSource: its series vanish at the next scrape."""
        with self._lock:
            self._bodies.pop((namespace, name), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._bodies)

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        with self._lock:
            bodies = list(self._bodies.values())
        now = datetime.now(UTC)
        fams: dict[str, GaugeMetricFamily | CounterMetricFamily] = {
            m.name: (CounterMetricFamily(m.name.removesuffix("_total"), m.help,
                                         labels=list(m.labels)) if m.type == "counter"
                     else GaugeMetricFamily(m.name, m.help, labels=list(m.labels)))
            for m in FAMILIES}
        for packed in bodies:
            for s in source_samples(json.loads(packed), now):
                fams[s.name].add_metric(list(s.labels), s.value)
        yield from fams.values()


@dataclass
class OperatorMetrics:
    """The operator's registry: source series plus its own health, named like
    controller-runtime's."""

    registry: CollectorRegistry
    sources: SourceIndex
    reconcile_total: Counter
    reconcile_errors: Counter
    reconcile_time: Histogram
    last_watch_event: Gauge
    managed_sources: Gauge
    reconcile_retries: Counter
    retries_pending: Gauge


def _register(name: str, registry: CollectorRegistry) -> Any:
    """The collector of the operator metric `name` (as scraped), made from METRICS."""
    m = METRIC_BY_NAME[name]
    if m.type == "counter":
        return Counter(m.name.removesuffix("_total"), m.help, m.labels, registry=registry)
    if m.type == "histogram":
        return Histogram(m.name, m.help, m.labels, registry=registry, buckets=RECONCILE_BUCKETS)
    if m.type == "info":  # its labels are the keys of the dict given to .info()
        return Info(m.name.removesuffix("_info"), m.help, registry=registry)
    return Gauge(m.name, m.help, m.labels, registry=registry)


def make_metrics() -> OperatorMetrics:
    """A fresh registry with every metric of METRICS registered."""
    reg = CollectorRegistry()
    sources = SourceIndex()
    reg.register(sources)
    _register("jobscrape_build_info", reg).info({"version": __version__})
    managed = _register("jobscrape_operator_managed_sources", reg)
    managed.set_function(lambda: float(len(sources)))
    return OperatorMetrics(
        registry=reg, sources=sources,
        reconcile_total=_register("jobscrape_operator_reconcile_total", reg),
        reconcile_errors=_register("jobscrape_operator_reconcile_errors_total", reg),
        reconcile_time=_register("jobscrape_operator_reconcile_time_seconds", reg),
        last_watch_event=_register("jobscrape_operator_last_watch_event_timestamp_seconds", reg),
        managed_sources=managed,
        reconcile_retries=_register("jobscrape_operator_reconcile_retries_total", reg),
        retries_pending=_register("jobscrape_operator_reconcile_retries_pending", reg),
    )
