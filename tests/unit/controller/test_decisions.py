"""Conditions, drift checks, status decisions and events, without a cluster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jobscrape.api.status import read_status
from jobscrape.controller import conditions, decide
from jobscrape.controller.diff import contains
from jobscrape.controller.events import build_event


def _op(current, obs, problems, now):
    """The operator's status for a status as stored (read into the typed model)."""
    return decide.operator_status(read_status(current), obs, problems, now)


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
    st = _op({}, _obs(), [], NOW)
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
    st = _op(current, _obs(), [Problem("spec.schedule", "bad")], NOW)
    ready = conditions.find(st["conditions"], "Ready")
    assert ready["status"] == "False" and ready["reason"] == "InvalidSpec"
    assert ready["message"] == "spec.schedule: bad"
    assert st["lastSuccessfulTime"] == "2026-11-24T06:01:00Z"
    assert conditions.find(st["conditions"], "Healthy")["status"] == "True"


def test_suspended_has_no_next_run():
    st = _op({}, _obs(suspended=True), [], NOW)
    assert st["nextScheduleTime"] is None
    assert "suspended" in conditions.find(st["conditions"], "Ready")["message"]


def test_status_patch_is_none_when_nothing_changed():
    st = _op({}, _obs(), [], NOW)
    assert decide.status_patch({}, st) is not None
    again = _op(st, _obs(), [], LATER.replace(hour=10, minute=30))
    assert decide.status_patch(st, again) is None
    changed = _op(st, _obs(board_count=3), [], NOW)
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


def test_contains_ignores_items_other_managers_add_to_keyed_lists():
    want = {"spec": {"containers": [{"name": "runner", "env": [{"name": "A", "value": "1"}]}]}}
    webhook_added = {"spec": {"containers": [
        {"name": "runner", "env": [{"name": "INJECTED", "value": "x"},
                                   {"name": "A", "value": "1"}]},
        {"name": "sidecar"}]}}
    assert contains(webhook_added, want)
    changed = {"spec": {"containers": [{"name": "runner", "env": [{"name": "A", "value": "2"}]}]}}
    assert not contains(changed, want)
    # atomic lists (args, RBAC subjects) must match exactly
    assert not contains({"args": ["a", "b"]}, {"args": ["a"]})
    assert not contains({"subjects": [{"name": "a"}, {"name": "intruder"}]},
                        {"subjects": [{"name": "a"}]})


def test_owned_by_and_claims():
    live = {"metadata": {"name": "c", "ownerReferences": [{"uid": "u1"}], "labels": {}}}
    assert decide.owned_by(live, "u1") and not decide.owned_by(live, "u2")
    labels = {"app.kubernetes.io/managed-by": "jobscrape", "jobscrape.io/source": "s"}
    retained = {"metadata": {"name": "c", "labels": dict(labels)}}
    assert decide.claim_is_ours(retained, "u2", labels)
    assert not decide.claim_is_ours({"metadata": {"name": "c"}}, "u2", labels)


def _claim(size, refs=None, cls=None):
    spec = {"resources": {"requests": {"storage": size}}}
    if cls:
        spec["storageClassName"] = cls
    return {"metadata": {"name": "c", "ownerReferences": refs or []}, "spec": spec}


def test_claim_changes_follow_when_deleted_both_ways_and_size():
    ours, other = {"uid": "u", "kind": "JobSource"}, {"uid": "x", "kind": "Other"}
    # Delete -> Retain: our reference goes, a foreign one stays
    c = decide.claim_changes(_claim("1Gi", [other, ours]), _claim("1Gi"), "u")
    assert c.owner_references == [other] and c.size is None and c.problem is None
    # Retain -> Delete
    c = decide.claim_changes(_claim("1Gi"), _claim("1Gi", [ours]), "u")
    assert c.owner_references == [ours]
    assert decide.claim_changes(_claim("1Gi", [ours]), _claim("1024Mi", [ours]),
                                "u").owner_references is None
    assert decide.claim_changes(_claim("1Gi"), _claim("2Gi"), "u").size == "2Gi"
    shrink = decide.claim_changes(_claim("2Gi"), _claim("1Gi"), "u")
    assert shrink.size is None and shrink.problem.startswith("spec.store.sqlite.size: 1Gi is")
    cls = decide.claim_changes(_claim("1Gi", cls="slow"), _claim("1Gi", cls="fast"), "u")
    assert cls.problem.startswith("spec.store.sqlite.storageClassName")


def test_run_event_key_is_one_per_job_and_result():
    a = decide.run_event_key("u", {"jobName": "j", "result": "Failed", "completionTime": "1"})
    b = decide.run_event_key("u", {"jobName": "j", "result": "Failed", "completionTime": "2"})
    c = decide.run_event_key("u", {"jobName": "j", "result": "Succeeded", "completionTime": "3"})
    assert a == b != c
    assert decide.run_event_key("u", {"completionTime": "1"}) != decide.run_event_key(
        "u", {"completionTime": "2"})


def test_managed_fields_upgrade_turns_the_create_entry_into_apply():
    entry = {"manager": "op", "operation": "Update", "fieldsV1": {"f:spec": {}}}
    foreign = {"manager": "kyverno", "operation": "Update"}
    live = {"metadata": {"resourceVersion": "7", "managedFields": [entry, foreign]}}
    ops = decide.managed_fields_upgrade(live, "op")
    assert ops[0] == {"op": "test", "path": "/metadata/resourceVersion", "value": "7"}
    assert ops[1]["value"] == [dict(entry, operation="Apply"), foreign]
    applied = {"metadata": {"managedFields": [dict(entry, operation="Apply")]}}
    assert decide.managed_fields_upgrade(applied, "op") is None
    assert decide.managed_fields_upgrade({"metadata": {"managedFields": [foreign]}}, "op") is None


def test_last_successful_time_is_the_later_of_cronjob_and_runner():
    obs = decide.Observed(generation=1, cronjob_name="cj", board_count=1,
                          schedule="0 * * * *", time_zone=None, suspended=False,
                          cronjob_status={"lastSuccessfulTime": "2026-11-24T09:00:00Z"},
                          run_now_handled=None)
    out = _op({"lastSuccessfulTime": "2026-11-24T09:30:00Z"}, obs, [], NOW)
    assert out["lastSuccessfulTime"] == "2026-11-24T09:30:00Z"
    out = _op({"lastSuccessfulTime": "2026-11-24T08:00:00Z"}, obs, [], NOW)
    assert out["lastSuccessfulTime"] == "2026-11-24T09:00:00Z"


def test_blocked_makes_ready_false_with_its_reason():
    obs = decide.Observed(generation=2, cronjob_name="cj", board_count=1,
                          schedule="0 * * * *", time_zone=None, suspended=False,
                          cronjob_status=None, run_now_handled=None,
                          blocked=("NameConflict", "CronJob cj already exists"))
    conds = {c["type"]: c for c in _op({}, obs, [], NOW)["conditions"]}
    assert (conds["Ready"]["status"], conds["Ready"]["reason"]) == ("False", "NameConflict")
    assert (conds["Stalled"]["status"], conds["Stalled"]["reason"]) == ("True", "NameConflict")
    assert conds["Reconciling"]["status"] == "False"


def _kstatus(**kw):
    base = {"generation": 3, "cronjob_name": "cj", "board_count": 1, "schedule": "0 * * * *",
            "time_zone": None, "suspended": False, "cronjob_status": {},
            "run_now_handled": None}
    obs = decide.Observed(**{**base, **kw})
    return {c["type"]: (c["status"], c["reason"], c.get("observedGeneration"))
            for c in _op({}, obs, [], NOW)["conditions"]}


def test_kstatus_conditions_say_current_in_progress_or_stalled():
    assert _kstatus() == {"Ready": ("True", "Reconciled", 3),
                          "Reconciling": ("False", "Reconciled", 3),
                          "Stalled": ("False", "Reconciled", 3)}
    missing = _kstatus(cronjob_status=None)
    assert missing["Reconciling"] == ("True", "CronJobMissing", 3)
    assert missing["Stalled"][0] == "False"
    resize = _kstatus(blocked=("StoreNotResized", "spec.store.sqlite.size: ..."))
    assert resize["Stalled"] == ("True", "StoreNotResized", 3)


def test_failure_conditions_mark_reconciling_and_keep_the_rest():
    ready = conditions.condition("Ready", True, "Reconciled", "ok", 2)
    out = decide.failure_conditions(read_status({"conditions": [ready]}), "HTTP 403: denied",
                                    2, NOW)
    by = {c["type"]: c for c in out}
    assert by["Ready"] == ready
    assert (by["Reconciling"]["status"], by["Reconciling"]["reason"]) == ("True",
                                                                         "ReconcileFailed")
    assert by["Reconciling"]["message"] == "retrying after an error: HTTP 403: denied"
