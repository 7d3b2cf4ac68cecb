"""Conditions, drift checks, status decisions and events, without a cluster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jobscrape.controller import conditions, decide
from jobscrape.controller.diff import contains
from jobscrape.controller.events import build_event

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def test_merge_keeps_transition_time_when_status_unchanged():
    first = conditions.merge([], conditions.condition("Ready", True, "Reconciled", "ok", 1), NOW)
    assert first["lastTransitionTime"] == "2026-11-24T10:00:00Z"
    again = conditions.merge([first], conditions.condition("Ready", True, "Reconciled", "ok",
                                                           2), LATER)
    assert again["lastTransitionTime"] == "2026-11-24T10:00:00Z"
    flipped = conditions.merge([again], conditions.condition("Ready", False, "InvalidSpec",
                                                             "x", 3), LATER)
    assert flipped["lastTransitionTime"] == "2026-11-24T11:00:00Z"


def test_contains_ignores_server_defaults_and_other_managers():
    live = {"spec": {"schedule": "* * * * *", "suspend": False, "extra": 1,
                     "template": {"containers": [{"name": "a", "image": "i",
                                                  "terminationMessagePath": "/dev/x"}]}},
            "metadata": {"labels": {"a": "1", "b": "2"}}}
    assert contains(live, {"spec": {"schedule": "* * * * *",
                                    "template": {"containers": [{"name": "a"}]}},
                           "metadata": {"labels": {"a": "1"}}})
    assert not contains(live, {"spec": {"schedule": "0 * * * *"}})
    assert not contains(live, {"spec": {"template": {"containers": [{"name": "a"}, {}]}}})
    assert not contains(live, {"metadata": {"labels": {"c": "3"}}})


def test_contains_compares_quantities_canonically():
    assert contains({"cpu": "1", "memory": "1Gi"}, {"cpu": "1000m", "memory": "1024Mi"})
    assert not contains({"cpu": "1"}, {"cpu": "2"})


@dataclass
class Problem:
    path: str
    message: str


def _obs(**kw):
    base = dict(generation=3, cronjob_name="jobsource-x", board_count=2,
                schedule="0 */6 * * *", time_zone=None, suspended=False,
                cronjob_status={"lastScheduleTime": "2026-11-24T06:00:00Z"},
                run_now_handled=None)
    base.update(kw)
    return decide.Observed(**base)


def test_operator_status_when_valid():
    st = decide.operator_status({}, _obs(), [], NOW)
    assert st["observedGeneration"] == 3
    assert st["cronJobName"] == "jobsource-x"
    assert st["boardCount"] == 2
    assert st["nextScheduleTime"] == "2026-11-24T12:00:00Z"
    assert st["lastScheduleTime"] == "2026-11-24T06:00:00Z"
    ready = conditions.find(st["conditions"], "Ready")
    assert ready["status"] == "True" and ready["reason"] == "Reconciled"


def test_operator_status_invalid_keeps_last_good_fields_and_other_conditions():
    current = {"cronJobName": "jobsource-x", "lastSuccessfulTime": "2026-11-24T06:01:00Z",
               "conditions": [{"type": "Healthy", "status": "True", "reason": "Succeeded",
                               "message": "", "lastTransitionTime": "2026-11-24T06:01:00Z"}]}
    st = decide.operator_status(current, _obs(), [Problem("spec.schedule", "bad")], NOW)
    ready = conditions.find(st["conditions"], "Ready")
    assert ready["status"] == "False" and ready["reason"] == "InvalidSpec"
    assert ready["message"] == "spec.schedule: bad"
    assert st["lastSuccessfulTime"] == "2026-11-24T06:01:00Z"
    assert conditions.find(st["conditions"], "Healthy")["status"] == "True"


def test_suspended_has_no_next_run():
    st = decide.operator_status({}, _obs(suspended=True), [], NOW)
    assert st["nextScheduleTime"] is None
    assert "suspended" in conditions.find(st["conditions"], "Ready")["message"]


def test_status_patch_is_none_when_nothing_changed():
    st = decide.operator_status({}, _obs(), [], NOW)
    assert decide.status_patch({}, st) is not None
    again = decide.operator_status(st, _obs(), [], LATER.replace(hour=10, minute=30))
    assert decide.status_patch(st, again) is None
    changed = decide.operator_status(st, _obs(board_count=3), [], NOW)
    assert decide.status_patch(st, changed) == {"boardCount": 3}


def test_build_event_names_the_object_and_truncates():
    ev = build_event({"apiVersion": "jobscrape.io/v1alpha1", "kind": "JobSource",
                      "metadata": {"name": "s", "namespace": "n", "uid": "u"}},
                     "Warning", "InvalidSpec", "x" * 5000, NOW)
    assert ev["involvedObject"]["uid"] == "u" and ev["type"] == "Warning"
    assert len(ev["message"]) == 1024 and ev["metadata"]["name"].startswith("s.")


def test_owned_change_needs_reconcile():
    mine = [{"manager": "jobscrape-operator", "time": "2026-11-24T10:00:00Z"}]
    other = [*mine, {"manager": "kubectl-edit", "time": "2026-11-24T10:05:00Z"}]
    status = [*mine, {"manager": "kube-controller-manager", "time": "2026-11-24T10:06:00Z",
                      "subresource": "status"}]
    f = decide.owned_change_needs_reconcile
    assert f("DELETED", mine, "jobscrape-operator")
    assert not f(None, other, "jobscrape-operator")
    assert not f("ADDED", other, "jobscrape-operator")
    assert not f("MODIFIED", mine, "jobscrape-operator")
    assert f("MODIFIED", other, "jobscrape-operator")
    assert f("MODIFIED", status, "jobscrape-operator")


def test_run_event_type_and_message():
    from jobscrape.controller.events import run_event

    ok = run_event({"jobName": "j-1", "result": "Succeeded", "fetched": 9, "created": 2,
                    "updated": 1, "removed": 0, "durationSeconds": 1.5})
    assert ok == ("Normal", "RunSucceeded",
                  "Run j-1 Succeeded: fetched 9, created 2, updated 1, removed 0 in 1.5s")
    assert run_event({"result": "Failed"})[:2] == ("Warning", "RunFailed")
    keyed = build_event({"apiVersion": "v1", "kind": "X", "metadata": {
        "name": "s", "namespace": "n", "uid": "u"}}, "Normal", "R", "m", NOW, key="k")
    again = build_event({"apiVersion": "v1", "kind": "X", "metadata": {
        "name": "s", "namespace": "n", "uid": "u"}}, "Normal", "R", "m", LATER, key="k")
    assert keyed["metadata"]["name"] == again["metadata"]["name"]
