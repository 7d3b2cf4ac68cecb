"""status.notify, status.recentPostings and the Degraded reason for undelivered changes,
from the store's figures, without a cluster."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from jobscrape.api.conditions import find
from jobscrape.api.status import JobSourceStatus
from jobscrape.postings import Posting
from jobscrape.runner import report
from jobscrape.runner.report import BoardRun, RunSummary
from jobscrape.store import StoredPosting, TargetStats

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _summary(**kw):
    return RunSummary(job_name="j", started=T0, finished=T0 + timedelta(seconds=5), fetched=3,
                      created=1, updated=0, removed=0,
                      boards=[BoardRun("gh", "greenhouse", "OK", 3, 200, "")], **kw)


def test_notify_statuses_follow_spec_order_and_fill_unknown_targets():
    stats = {"hook": TargetStats("hook", delivered=5, pending=2, dead=1, last_error="HTTP 500",
                                 last_delivery=T0, oldest_pending=T0 - timedelta(hours=1))}
    out = report.notify_statuses(["bus", "hook"], stats)
    assert [n.name for n in out] == ["bus", "hook"]
    assert (out[0].delivered, out[0].pending, out[0].dead, out[0].last_error) == (0, 0, 0, None)
    hook = out[1]
    assert (hook.delivered, hook.pending, hook.dead, hook.last_error) == (5, 2, 1, "HTTP 500")
    assert hook.last_delivery_time == "2026-11-24T06:00:00Z"
    assert hook.oldest_pending_time == "2026-11-24T05:00:00Z"


def test_last_error_is_one_clean_line():
    stats = {"t": TargetStats("t", pending=1, last_error="bad\x1b[31m\nthing" + "x" * 600)}
    (n,) = report.notify_statuses(["t"], stats)
    assert "\x1b" not in n.last_error and "\n" not in n.last_error
    assert len(n.last_error) <= report.MAX_MESSAGE


def test_recent_postings_carry_title_board_url_first_seen():
    p = Posting(id="greenhouse:x:1", board="gh", board_type="greenhouse", source_id="1",
                title="Engineer", url="https://example.com/1")
    long_url = replace(p, url="https://example.com/" + "a" * 3000)
    rows = [StoredPosting("ns/s", p, T0, T0, None), StoredPosting("ns/s", long_url, T0, T0, None)]
    out = report.recent_postings(rows * 6)
    assert len(out) == 10
    assert (out[0].title, out[0].board, out[0].url, out[0].first_seen) == (
        "Engineer", "gh", "https://example.com/1", "2026-11-24T06:00:00Z")
    assert out[1].url is None  # longer than the status field allows


def test_patch_writes_notify_and_recent_only_when_known():
    plain = report.status_patch(JobSourceStatus(), _summary(), 1)
    assert "notify" not in plain and "recentPostings" not in plain
    s = _summary(notify=report.notify_statuses(["t"], {}), recent=[])
    patch = report.status_patch(JobSourceStatus(), s, 1)
    assert patch["notify"] == [{"name": "t", "delivered": 0, "pending": 0, "dead": 0}]
    assert patch["recentPostings"] == []


def test_undelivered_changes_make_the_source_degraded():
    failing = report.notify_statuses(["t", "ok"], {
        "t": TargetStats("t", pending=4, last_error="HTTP 500 from 127.0.0.1"),
        "ok": TargetStats("ok", delivered=9)})
    conds = report.status_patch(JobSourceStatus(), _summary(notify=failing), 1)["conditions"]
    degraded = find(conds, "Degraded")
    assert degraded["status"] == "True" and degraded["reason"] == "DeliveryFailing"
    assert "t (4 pending, 0 dead)" in degraded["message"] and "ok" not in degraded["message"]
    assert find(conds, "Healthy")["status"] == "True"  # the boards are fine
    healthy = report.notify_statuses(["ok"], {"ok": TargetStats("ok", delivered=9)})
    conds = report.status_patch(JobSourceStatus(), _summary(notify=healthy), 1)["conditions"]
    assert find(conds, "Degraded")["status"] == "False"


def test_store_failure_sets_healthy_false_and_keeps_other_conditions():
    current = JobSourceStatus.model_validate({"conditions": [
        {"type": "Ready", "status": "True", "reason": "Reconciled"}]})
    conds = report.store_failure_conditions(
        current, "cannot connect to PostgreSQL at 127.0.0.1:1: refused", 3, T0)
    assert find(conds, "Ready")["status"] == "True"
    h = find(conds, "Healthy")
    assert (h["status"], h["reason"]) == ("False", "StoreUnavailable")
    assert "127.0.0.1:1" in h["message"]
