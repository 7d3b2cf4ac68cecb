"""Per-source series come from status alone, and vanish with their source."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import generate_latest

from jobscrape.controller.metrics import METRICS, make_metrics, source_samples

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
BODY = {
    "metadata": {"namespace": "jobs", "name": "platform"},
    "spec": {"schedule": "0 */6 * * *", "suspend": False},
    "status": {
        "postings": 412, "lastSuccessfulTime": "2026-11-24T06:00:40Z",
        "nextScheduleTime": "2026-11-24T12:00:00Z",
        "lastRun": {"completionTime": "2026-11-24T06:00:42Z", "durationSeconds": 42.5,
                    "result": "PartiallyFailed", "created": 3, "updated": 1, "removed": 0},
        "boards": [{"name": "gh", "type": "greenhouse", "state": "OK", "postings": 400,
                    "consecutiveFailures": 0},
                   {"name": "lv", "type": "lever", "state": "Failing", "postings": 12,
                    "consecutiveFailures": 3}],
    },
}


def _by_name(samples):
    out = {}
    for s in samples:
        out.setdefault(s.name, {})[s.labels] = s.value
    return out


def test_source_samples():
    m = _by_name(source_samples(BODY, NOW))
    key = ("jobs", "platform")
    assert m["jobscrape_source_postings"][key] == 412
    assert m["jobscrape_source_last_success_timestamp_seconds"][key] == datetime(
        2026, 11, 24, 6, 0, 40, tzinfo=UTC).timestamp()
    assert m["jobscrape_source_last_run_duration_seconds"][key] == 42.5
    assert m["jobscrape_source_last_run_result"] == {
        (*key, "Succeeded"): 0, (*key, "PartiallyFailed"): 1, (*key, "Failed"): 0}
    assert m["jobscrape_source_postings_changed"][(*key, "created")] == 3
    assert m["jobscrape_source_schedule_interval_seconds"][key] == 6 * 3600
    assert m["jobscrape_source_suspended"][key] == 0
    assert m["jobscrape_board_up"] == {(*key, "gh", "greenhouse"): 1, (*key, "lv", "lever"): 0}
    assert m["jobscrape_board_consecutive_failures"][(*key, "lv", "lever")] == 3


def test_fresh_source_has_no_run_series():
    m = _by_name(source_samples({"metadata": {"namespace": "a", "name": "b"},
                                 "spec": {"schedule": "bad"}}, NOW))
    assert set(m) == {"jobscrape_source_suspended"}


def test_registry_follows_index_updates_and_removal():
    metrics = make_metrics()
    metrics.sources.update(BODY)
    text = generate_latest(metrics.registry).decode()
    assert 'jobscrape_source_postings{jobsource="platform",namespace="jobs"} 412.0' in text
    assert "jobscrape_operator_managed_sources 1.0" in text
    changed = {**BODY, "status": {**BODY["status"], "postings": 413}}
    metrics.sources.update(changed)
    assert 'namespace="jobs"} 413.0' in generate_latest(metrics.registry).decode()
    metrics.sources.remove("jobs", "platform")
    text = generate_latest(metrics.registry).decode()
    assert 'jobsource="platform"' not in text
    assert "jobscrape_operator_managed_sources 0.0" in text



def _family(name: str, mtype: str) -> str:
    """The family name prometheus_client gives a metric scraped as `name`."""
    return {"counter": name.removesuffix("_total"), "info": name.removesuffix("_info")
            }.get(mtype, name)


def test_registry_serves_exactly_the_metric_table():
    """METRICS is the one description of every metric: the registry serves each of them, and
    nothing else, with its type, help text and labels (the README's reference is generated
    from the same table)."""
    metrics = make_metrics()
    metrics.sources.update(BODY)
    metrics.reconcile_total.labels("success").inc()
    families = {f.name: f for f in metrics.registry.collect()}
    assert set(families) == {_family(m.name, m.type) for m in METRICS}
    for m in METRICS:
        fam = families[_family(m.name, m.type)]
        assert (fam.type, fam.documentation) == (m.type, m.help), m.name
        for s in fam.samples:
            if s.name == m.name:
                assert set(s.labels) == set(m.labels), m.name


def test_notify_series_per_target():
    body = {**BODY, "status": {**BODY["status"], "notify": [
        {"name": "hook", "delivered": 12, "pending": 3, "dead": 1,
         "oldestPendingTime": "2026-11-24T05:00:00Z"},
        {"name": "bus", "delivered": 15, "pending": 0, "dead": 0}]}}
    m = _by_name(source_samples(body, NOW))
    hook, bus = ("jobs", "platform", "hook"), ("jobs", "platform", "bus")
    assert m["jobscrape_notify_pending"] == {hook: 3, bus: 0}
    assert m["jobscrape_notify_delivered_total"] == {hook: 12, bus: 15}
    assert m["jobscrape_notify_dead"] == {hook: 1, bus: 0}
    assert m["jobscrape_notify_oldest_pending_timestamp_seconds"] == {
        hook: datetime(2026, 11, 24, 5, tzinfo=UTC).timestamp()}
    metrics = make_metrics()
    metrics.sources.update(body)
    text = generate_latest(metrics.registry).decode()
    assert "# TYPE jobscrape_notify_delivered_total counter" in text
    assert ('jobscrape_notify_delivered_total{jobsource="platform",namespace="jobs",'
            'target="hook"} 12.0') in text


def test_the_index_keeps_only_what_the_series_read():
    from jobscrape.controller.metrics import metric_status

    full = {**BODY["status"], "conditions": [
        {"type": "Ready", "status": "True", "reason": "CronJobReady", "message": "x" * 500}],
        "recentPostings": [{"title": f"Engineer {i}", "board": "gh"} for i in range(20)],
        "notify": [{"name": "hook", "delivered": 2, "pending": 1, "lastError": "HTTP 500",
                    "oldestPendingTime": "2026-11-24T05:00:00Z"}],
        "boards": [{**b, "message": "m" * 300, "httpStatus": 200}
                   for b in BODY["status"]["boards"]],
        "lastRun": {**BODY["status"]["lastRun"], "jobName": "j-1", "fetched": 412}}
    slim = metric_status(full)
    assert set(slim) == {"postings", "lastSuccessfulTime", "nextScheduleTime", "lastRun",
                         "boards", "notify"}
    assert "message" not in slim["boards"][0] and "lastError" not in slim["notify"][0]
    assert sorted(source_samples({**BODY, "status": slim}, NOW), key=repr) == sorted(
        source_samples({**BODY, "status": full}, NOW), key=repr)
    # a status someone wrote with the wrong shapes: kept as it is, read_status drops it
    odd = {"boards": "not a list", "lastRun": 3, "postings": "many"}
    assert metric_status(odd) == odd and metric_status(None) == {}
    assert source_samples({**BODY, "status": odd}, NOW)  # the spec's series are still there
