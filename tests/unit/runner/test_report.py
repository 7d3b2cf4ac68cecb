"""Run results, board statuses and the Healthy/Degraded conditions, without a cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobscrape.controller.conditions import find
from jobscrape.runner import report
from jobscrape.runner.report import BoardRun, RunSummary

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _b(name, state="OK", postings=10, status=200, message=""):
    return BoardRun(name=name, type="greenhouse", state=state, postings=postings,
                    http_status=status, message=message)


def _summary(*boards):
    return RunSummary(job_name="jobsource-x-1", started=T0, finished=T0 + timedelta(seconds=42),
                      fetched=20, created=3, updated=1, removed=2, boards=list(boards))


def test_result_and_exit_code():
    assert report.result_of([_b("a"), _b("b", "Empty", 0)]) == "Succeeded"
    assert report.result_of([_b("a"), _b("b", "Failing")]) == "PartiallyFailed"
    assert report.result_of([_b("a", "NotFound"), _b("b", "Failing")]) == "Failed"
    assert report.exit_code([_b("a"), _b("b", "Failing")]) == 0
    assert report.exit_code([_b("a", "Failing")]) == 1
    assert report.exit_code([]) == 0


def test_board_statuses_count_failures_and_keep_last_success():
    prev = [{"name": "a", "consecutiveFailures": 2, "lastSuccessTime": "2026-11-23T06:00:00Z"},
            {"name": "b", "consecutiveFailures": 1, "lastSuccessTime": "2026-11-23T06:00:00Z"}]
    out = report.board_statuses(prev, [_b("a", "Failing", 7, 500, "HTTP 500"), _b("b")], T0)
    a, b = out
    assert a["consecutiveFailures"] == 3 and a["lastSuccessTime"] == "2026-11-23T06:00:00Z"
    assert a["httpStatus"] == 500 and a["postings"] == 7 and a["state"] == "Failing"
    assert b["consecutiveFailures"] == 0 and b["lastSuccessTime"] == "2026-11-24T06:00:00Z"


def test_degraded_on_failures_and_sharp_drops():
    prev = [{"name": "a", "postings": 100}, {"name": "b", "postings": 10}]
    s = _summary(_b("a", postings=40), _b("b", postings=6))
    conds = report.run_conditions([], s, prev, 1)
    assert find(conds, "Healthy")["status"] == "True"
    d = find(conds, "Degraded")
    assert d["status"] == "True" and d["reason"] == "PostingsDropped" and "a" in d["message"]
    s2 = _summary(_b("a", postings=60), _b("b", "Failing", postings=10))
    conds2 = report.run_conditions(conds, s2, prev, 1)
    assert find(conds2, "Healthy")["reason"] == "PartiallyFailed"
    assert find(conds2, "Degraded")["reason"] == "BoardsFailing"
    s3 = _summary(_b("a", postings=60), _b("b", postings=9))
    assert find(report.run_conditions(conds2, s3, prev, 1), "Degraded")["status"] == "False"


def test_status_patch_shape_and_other_conditions_kept():
    current = {"conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled",
                               "message": "", "lastTransitionTime": "2026-11-20T00:00:00Z"}],
               "boards": [{"name": "a", "postings": 12}]}
    patch = report.status_patch(current, _summary(_b("a", postings=11), _b("b", "NotFound", 0,
                                                                           404)), 5)
    assert patch["lastRun"] == {
        "jobName": "jobsource-x-1", "startTime": "2026-11-24T06:00:00Z",
        "completionTime": "2026-11-24T06:00:42Z", "durationSeconds": 42.0,
        "result": "PartiallyFailed", "fetched": 20, "created": 3, "updated": 1, "removed": 2}
    assert patch["postings"] == 11
    assert [b["state"] for b in patch["boards"]] == ["OK", "NotFound"]
    assert [c["type"] for c in patch["conditions"]] == ["Ready", "Healthy", "Degraded"]
