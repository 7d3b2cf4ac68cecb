"""Run results, board statuses and the Healthy/Degraded conditions, without a cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobscrape.api.conditions import find
from jobscrape.api.status import LastRun, read_status, wire
from jobscrape.runner import report
from jobscrape.runner.report import BoardRun, RunSummary

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _b(name, state="OK", postings=10, status=200, message=""):
    return BoardRun(name=name, type="greenhouse", state=state, postings=postings,
                    http_status=status, message=message)


def _summary(*boards, job="jobsource-x-1", at=T0):
    return RunSummary(job_name=job, started=at, finished=at + timedelta(seconds=42),
                      fetched=20, created=3, updated=1, removed=2, boards=list(boards),
                      not_modified=5)


def _merge_patch(target, patch):
    """RFC 7386 JSON merge patch, as the API server applies the runner's status patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge_patch(out.get(k), v)
    return out


def _patch(status, summary, generation):
    """The runner's patch over a status as the API returns it (read into the typed model)."""
    return report.status_patch(read_status(status), summary, generation)


def _run(status, *boards, job="jobsource-x-1", at=T0):
    """The status after one attempt wrote its merge patch over `status`."""
    return _merge_patch(status, _patch(status, _summary(*boards, job=job, at=at), 1))


def _board(status, name):
    return next(b for b in status["boards"] if b["name"] == name)


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
    out = report.board_statuses(read_status({"boards": prev}).boards,
                                [_b("a", "Failing", 7, 500, "HTTP 500"), _b("b")], T0)
    a, b = (wire(x) for x in out)
    assert a["consecutiveFailures"] == 3 and a["lastSuccessTime"] == "2026-11-23T06:00:00Z"
    assert a["httpStatus"] == 500 and a["postings"] == 7 and a["state"] == "Failing"
    assert b["consecutiveFailures"] == 0 and b["lastSuccessTime"] == "2026-11-24T06:00:00Z"


def test_degraded_on_failures_and_sharp_drops():
    prev = [{"name": "a", "postings": 100}, {"name": "b", "postings": 10}]
    s = _summary(_b("a", postings=40), _b("b", postings=6))
    conds = report.run_conditions(read_status({"boards": prev}), s, 1)
    assert find(conds, "Healthy")["status"] == "True"
    d = find(conds, "Degraded")
    assert d["status"] == "True" and d["reason"] == "PostingsDropped" and "a" in d["message"]
    s2 = _summary(_b("a", postings=60), _b("b", "Failing", postings=10))
    conds2 = report.run_conditions(read_status({"boards": prev, "conditions": conds}), s2, 1)
    assert find(conds2, "Healthy")["reason"] == "PartiallyFailed"
    assert find(conds2, "Degraded")["reason"] == "BoardsFailing"
    s3 = _summary(_b("a", postings=60), _b("b", postings=9))
    after = report.run_conditions(read_status({"boards": prev, "conditions": conds2}), s3, 1)
    assert find(after, "Degraded")["status"] == "False"


def test_status_patch_shape_and_other_conditions_kept():
    current = {"conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled",
                               "message": "", "lastTransitionTime": "2026-11-20T00:00:00Z"}],
               "boards": [{"name": "a", "postings": 12}]}
    patch = _patch(current, _summary(_b("a", postings=11), _b("b", "NotFound", 0,
                                                                           404)), 5)
    assert patch["lastRun"] == {
        "jobName": "jobsource-x-1", "attempt": 1, "startTime": "2026-11-24T06:00:00Z",
        "completionTime": "2026-11-24T06:00:42Z", "durationSeconds": 42.0,
        "result": "PartiallyFailed", "fetched": 20, "notModified": 5, "created": 3,
        "updated": 1, "removed": 2}
    assert patch["postings"] == 11 and patch["failingBoards"] == 1
    assert patch["lastSuccessfulTime"] == "2026-11-24T06:00:42Z"  # exit code 0
    assert [b["state"] for b in patch["boards"]] == ["OK", "NotFound"]
    assert [c["type"] for c in patch["conditions"]] == ["Ready", "Healthy", "Degraded"]


def test_retries_of_one_job_count_one_failed_run():
    start = {"boards": [{"name": "a", "state": "OK", "consecutiveFailures": 0,
                         "lastSuccessTime": "2026-11-23T06:00:42Z"}]}
    first = _run(start, _b("a", "Failing", 7, 500))
    assert _board(first, "a")["consecutiveFailures"] == 1 and first["lastRun"]["attempt"] == 1
    second = _run(first, _b("a", "Failing", 7, 503), at=T0 + timedelta(minutes=1))
    a = _board(second, "a")
    assert a["consecutiveFailures"] == 1  # the Job's retry is the same run, not a second one
    assert a["lastSuccessTime"] == "2026-11-23T06:00:42Z" and a["httpStatus"] == 503
    assert second["lastRun"]["attempt"] == 2 and second["lastRun"]["jobName"] == "jobsource-x-1"
    third = _run(second, _b("a", "Failing", 7, 500), at=T0 + timedelta(minutes=2))
    assert _board(third, "a")["consecutiveFailures"] == 1 and third["lastRun"]["attempt"] == 3


def test_retry_replaces_only_its_own_failure():
    three = {"lastRun": {"jobName": "jobsource-x-3"},
             "boards": [{"name": "a", "state": "Failing", "consecutiveFailures": 2},
                        {"name": "b", "state": "OK", "consecutiveFailures": 0}]}
    first = _run(three, _b("a", "Failing"), _b("b", "NotFound", 0, 404), job="jobsource-x-4")
    assert [b["consecutiveFailures"] for b in first["boards"]] == [3, 1]
    again = _run(first, _b("a", "Failing"), _b("b", "NotFound", 0, 404), job="jobsource-x-4")
    assert [b["consecutiveFailures"] for b in again["boards"]] == [3, 1]


def test_fail_then_succeed_within_one_job_resets_failures():
    start = {"boards": [{"name": "a", "state": "OK", "consecutiveFailures": 0}]}
    failed = _run(start, _b("a", "Failing", 7, 500))
    assert "lastSuccessfulTime" not in failed and failed["failingBoards"] == 1
    later = T0 + timedelta(minutes=1)
    ok = _run(failed, _b("a", postings=7), at=later)
    a = _board(ok, "a")
    assert a["consecutiveFailures"] == 0 and a["lastSuccessTime"] == "2026-11-24T06:01:42Z"
    assert ok["lastRun"]["attempt"] == 2 and ok["lastRun"]["result"] == "Succeeded"
    assert ok["failingBoards"] == 0 and ok["lastSuccessfulTime"] == "2026-11-24T06:01:42Z"


def test_failures_of_different_jobs_add_up():
    start = {"boards": [{"name": "a", "state": "OK", "consecutiveFailures": 0}]}
    one = _run(start, _b("a", "Failing"), job="jobsource-x-1")
    two = _run(one, _b("a", "Failing"), job="jobsource-x-2", at=T0 + timedelta(hours=1))
    assert _board(two, "a")["consecutiveFailures"] == 2
    assert two["lastRun"]["attempt"] == 1 and two["lastRun"]["jobName"] == "jobsource-x-2"


def test_runs_without_a_job_always_count_and_clear_job_fields():
    start = {"lastRun": {"jobName": "jobsource-x-1", "attempt": 2},
             "boards": [{"name": "a", "state": "Failing", "consecutiveFailures": 1}]}
    patch = _patch(start, _summary(_b("a", "Failing"), job=None), 1)
    assert patch["boards"][0]["consecutiveFailures"] == 2
    # a merge patch: null removes the Job fields of the previous run
    assert patch["lastRun"]["jobName"] is None and patch["lastRun"]["attempt"] is None
    again = _run(_run(start, _b("a", "Failing"), job=None), _b("a", "Failing"), job=None)
    assert _board(again, "a")["consecutiveFailures"] == 3 and "attempt" not in again["lastRun"]


def test_attempt_numbers():
    def run(**kw):
        return LastRun.model_validate(kw)
    assert report.attempt_of(None, "j-1") == 1
    assert report.attempt_of(run(jobName="j-0", attempt=3), "j-1") == 1
    assert report.attempt_of(run(jobName="j-1", attempt=1), "j-1") == 2
    assert report.attempt_of(run(jobName="j-1"), "j-1") == 2  # written before attempts existed
    assert report.attempt_of(run(jobName="j-1", attempt=1), None) is None
    assert report.attempt_of(run(jobName="j-1", attempt=1), "") is None


def test_failing_boards_and_last_successful_time_follow_the_exit_code():
    partial = _patch({}, _summary(_b("a"), _b("b", "Failing"), _b("c", "NotFound")),
                                  1)
    assert partial["failingBoards"] == 2 and partial["lastRun"]["result"] == "PartiallyFailed"
    assert partial["lastSuccessfulTime"] == "2026-11-24T06:00:42Z"
    failed = _patch({"lastSuccessfulTime": "2026-11-23T06:00:42Z"},
                                 _summary(_b("b", "Failing"), _b("c", "NotFound")), 1)
    assert failed["failingBoards"] == 2 and "lastSuccessfulTime" not in failed
    empty = _patch({}, _summary(_b("a", "Empty", 0)), 1)
    assert empty["failingBoards"] == 0 and empty["lastSuccessfulTime"] == "2026-11-24T06:00:42Z"


def test_status_patch_fits_the_status_model():
    from jobscrape.api.status import JobSourceStatus

    status = _run(_run({}, _b("a", "Failing")), _b("a", "Failing"))
    model = JobSourceStatus.model_validate(status)
    assert model.last_run is not None and model.last_run.attempt == 2
    assert model.last_run.not_modified == 5 and model.failing_boards == 1
    assert model.model_dump(by_alias=True, exclude_none=True)["lastRun"]["notModified"] == 5


def test_a_later_runs_status_supersedes_a_late_writer_of_an_earlier_run():
    later = _run({}, _b("a"), job="jobsource-x-2", at=T0 + timedelta(hours=1))
    assert report.superseded(read_status(later), _summary(_b("a"), job="jobsource-x-1"))
    # not: an earlier run's status, the same run's (a retry), or no run yet
    earlier = _run({}, _b("a"), job="jobsource-x-0", at=T0 - timedelta(hours=1))
    assert not report.superseded(read_status(earlier), _summary(_b("a"), job="jobsource-x-1"))
    same = _run({}, _b("a"), job="jobsource-x-1", at=T0 + timedelta(minutes=5))
    assert not report.superseded(read_status(same), _summary(_b("a"), job="jobsource-x-1"))
    assert not report.superseded(read_status({}), _summary(_b("a")))
