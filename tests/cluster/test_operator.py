"""The operator on the real control plane: create, update, delete, drift, idle resync,
invalid specs, run-now and store claims."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from conftest import audit_lines, audit_writes
from waiting import wait_for

pytestmark = pytest.mark.cluster
G, V, P = "jobscrape.io", "v1alpha1", "jobsources"


def _source(name: str, **spec) -> dict:
    body = {"schedule": "0 */6 * * *",
            "boards": [{"name": "acme", "type": "greenhouse", "token": "acme"}]}
    body.update(spec)
    return {"apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": name},
            "spec": body}


def _co(cluster):
    return client.CustomObjectsApi(cluster.api)


def _get(cluster, ns, name):
    return _co(cluster).get_namespaced_custom_object(G, V, ns, P, name)


def _ready(cluster, ns, name, status="True", reason=None):
    def check():
        st = _get(cluster, ns, name).get("status") or {}
        c = next((c for c in st.get("conditions") or [] if c["type"] == "Ready"), None)
        if c and c["status"] == status and (reason is None or c["reason"] == reason):
            return st
        return None
    return wait_for(check, timeout=30, what=f"{ns}/{name} Ready={status}")


def _events(cluster, ns, reason=None):
    """Events of a namespace, of one reason or (None) all."""
    return [e for e in client.CoreV1Api(cluster.api).list_namespaced_event(ns).items
            if reason is None or e.reason == reason]


def test_create_makes_cronjob_rbac_claim_and_status(cluster, operator, namespace):
    _co(cluster).create_namespaced_custom_object(G, V, namespace, P, _source(
        "platform", timeZone="Europe/Berlin", concurrencyPolicy="Replace",
        run={"timeoutSeconds": 600, "retries": 2,
             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}))
    st = _ready(cluster, namespace, "platform")
    src = _get(cluster, namespace, "platform")
    assert st["cronJobName"] == "jobsource-platform"
    assert st["observedGeneration"] == src["metadata"]["generation"]
    assert st["nextScheduleTime"].endswith("Z") and st["boardCount"] == 1
    batch = client.BatchV1Api(cluster.api)
    cj = batch.read_namespaced_cron_job("jobsource-platform", namespace)
    assert cj.spec.schedule == "0 */6 * * *" and cj.spec.time_zone == "Europe/Berlin"
    assert cj.spec.concurrency_policy == "Replace"
    assert cj.metadata.labels["app.kubernetes.io/managed-by"] == "jobscrape"
    assert cj.metadata.labels["jobscrape.io/source"] == "platform"
    assert cj.metadata.owner_references[0].uid == src["metadata"]["uid"]
    job = cj.spec.job_template.spec
    assert job.active_deadline_seconds == 600 and job.backoff_limit == 2
    pod = job.template.spec
    c = pod.containers[0]
    assert c.args[:3] == ["run", f"--namespace={namespace}", "--name=platform"]
    assert c.security_context.read_only_root_filesystem is True
    assert c.security_context.capabilities.drop == ["ALL"]
    assert c.security_context.allow_privilege_escalation is False
    assert pod.security_context.run_as_non_root is True
    assert pod.security_context.seccomp_profile.type == "RuntimeDefault"
    assert c.resources.requests == {"cpu": "100m", "memory": "128Mi"}
    assert pod.service_account_name == "jobscrape-runner-platform"
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    role = rbac.read_namespaced_role("jobscrape-runner-platform", namespace)
    assert [(r.resources, r.verbs, r.resource_names) for r in role.rules] == [
        (["jobsources"], ["get"], ["platform"]),
        (["jobsources/status"], ["patch"], ["platform"])]
    rbac.read_namespaced_role_binding("jobscrape-runner-platform", namespace)
    core = client.CoreV1Api(cluster.api)
    core.read_namespaced_service_account("jobscrape-runner-platform", namespace)
    pvc = core.read_namespaced_persistent_volume_claim("jobscrape-store-platform", namespace)
    assert pvc.spec.resources.requests["storage"] == "1Gi"
    assert not pvc.metadata.owner_references  # whenDeleted: Retain
    assert wait_for(lambda: _events(cluster, namespace, "CronJobCreated"), timeout=10,
                    what="a CronJobCreated event")


def test_update_schedule_suspend_boards(cluster, operator, namespace):
    co = _co(cluster)
    co.create_namespaced_custom_object(G, V, namespace, P, _source("upd"))
    _ready(cluster, namespace, "upd")
    co.patch_namespaced_custom_object(G, V, namespace, P, "upd", {"spec": {
        "schedule": "15 3 * * *", "suspend": True,
        "boards": [{"name": "acme", "type": "greenhouse", "token": "acme"},
                   {"name": "feed", "type": "feed", "url": "https://example.com/jobs.rss"}]}})
    batch = client.BatchV1Api(cluster.api)
    wait_for(lambda: (cj := batch.read_namespaced_cron_job("jobsource-upd", namespace))
             .spec.schedule == "15 3 * * *" and cj.spec.suspend, timeout=30,
             what="the CronJob to take the new schedule and suspend")
    st = wait_for(lambda: (s := _get(cluster, namespace, "upd")["status"])["boardCount"] == 2
                  and s, timeout=30, what="boardCount 2")
    assert st.get("nextScheduleTime") is None  # suspended: no next run
    assert wait_for(lambda: _events(cluster, namespace, "CronJobUpdated"), timeout=10,
                    what="a CronJobUpdated event")


def test_delete_cascades_and_claim_retention(cluster, operator, namespace):
    co, core, batch = _co(cluster), client.CoreV1Api(cluster.api), client.BatchV1Api(cluster.api)
    co.create_namespaced_custom_object(G, V, namespace, P, _source("keep"))
    co.create_namespaced_custom_object(G, V, namespace, P, _source(
        "drop", store={"sqlite": {"size": "2Gi", "whenDeleted": "Delete"}}))
    _ready(cluster, namespace, "keep")
    _ready(cluster, namespace, "drop")
    pvc = core.read_namespaced_persistent_volume_claim("jobscrape-store-drop", namespace)
    assert pvc.metadata.owner_references[0].kind == "JobSource"
    for name in ("keep", "drop"):
        co.delete_namespaced_custom_object(G, V, namespace, P, name)
    wait_for(lambda: not batch.list_namespaced_cron_job(namespace).items, timeout=60,
             what="the CronJobs to be garbage-collected")
    wait_for(lambda: not client.RbacAuthorizationV1Api(cluster.api)
             .list_namespaced_role(namespace).items, timeout=60, what="Roles to go")
    wait_for(lambda: [p.metadata.name for p in
                      core.list_namespaced_persistent_volume_claim(namespace).items
                      if p.metadata.deletion_timestamp is None] == ["jobscrape-store-keep"],
             timeout=60, what="only the retained claim to remain")


def test_drift_is_repaired_and_foreign_fields_are_left_alone(cluster, operator, namespace):
    co, batch = _co(cluster), client.BatchV1Api(cluster.api)
    core = client.CoreV1Api(cluster.api)
    co.create_namespaced_custom_object(G, V, namespace, P, _source("drift"))
    _ready(cluster, namespace, "drift")
    cj = batch.read_namespaced_cron_job("jobsource-drift", namespace)
    batch.patch_namespaced_cron_job("jobsource-drift", namespace, {
        "metadata": {"annotations": {"team": "platform"}}, "spec": {"schedule": "1 1 * * *"}})
    wait_for(lambda: batch.read_namespaced_cron_job("jobsource-drift", namespace)
             .spec.schedule == "0 */6 * * *", timeout=30, what="the schedule to be put back")
    live = batch.read_namespaced_cron_job("jobsource-drift", namespace)
    assert live.metadata.annotations["team"] == "platform"
    assert live.metadata.uid == cj.metadata.uid
    batch.delete_namespaced_cron_job("jobsource-drift", namespace)
    wait_for(lambda: batch.read_namespaced_cron_job("jobsource-drift", namespace)
             .metadata.uid != cj.metadata.uid, timeout=30, what="the CronJob to be recreated")
    core.delete_namespaced_service_account("jobscrape-runner-drift", namespace)
    wait_for(lambda: core.read_namespaced_service_account("jobscrape-runner-drift", namespace),
             timeout=30, what="the ServiceAccount to be recreated")
    client.RbacAuthorizationV1Api(cluster.api).delete_namespaced_role(
        "jobscrape-runner-drift", namespace)
    wait_for(lambda: client.RbacAuthorizationV1Api(cluster.api).read_namespaced_role(
        "jobscrape-runner-drift", namespace), timeout=30, what="the Role to be recreated")


def test_idle_resync_writes_nothing(cluster, operator, namespace):
    co = _co(cluster)
    for i in range(3):
        co.create_namespaced_custom_object(G, V, namespace, P, _source(f"idle{i}"))
    for i in range(3):
        _ready(cluster, namespace, f"idle{i}")
    time.sleep(3)  # let the last events settle
    mark = audit_lines(cluster)
    time.sleep(5)  # more than two resync periods (--resync-seconds=2)
    writes = [w for w in audit_writes(cluster, operator.user, mark)
              if w["objectRef"].get("namespace") == namespace]
    assert writes == [], [(w["verb"], w["objectRef"]) for w in writes]
    assert "reconcile" in operator.output() or operator.proc.poll() is None


def test_invalid_spec_then_recovery(cluster, operator, namespace):
    co, batch = _co(cluster), client.BatchV1Api(cluster.api)
    co.create_namespaced_custom_object(G, V, namespace, P, _source("bad"))
    _ready(cluster, namespace, "bad")
    co.patch_namespaced_custom_object(G, V, namespace, P, "bad", {"spec": {
        "schedule": "0 25 * * *", "timeZone": "Mars/Olympus",
        "filters": {"titles": {"include": ["(unclosed"]}}}})
    st = _ready(cluster, namespace, "bad", status="False", reason="InvalidSpec")
    msg = next(c for c in st["conditions"] if c["type"] == "Ready")["message"]
    assert "spec.schedule" in msg and "spec.timeZone" in msg
    assert "spec.filters.titles.include[0]" in msg
    warn = wait_for(lambda: _events(cluster, namespace, "InvalidSpec"), timeout=10,
                    what="an InvalidSpec event")
    assert warn[0].type == "Warning" and "spec.schedule" in warn[0].message
    cj = batch.read_namespaced_cron_job("jobsource-bad", namespace)
    assert cj.spec.schedule == "0 */6 * * *" and cj.spec.time_zone is None
    co.patch_namespaced_custom_object(G, V, namespace, P, "bad", {"spec": {
        "schedule": "30 2 * * *", "timeZone": None, "filters": None}})
    _ready(cluster, namespace, "bad")
    wait_for(lambda: batch.read_namespaced_cron_job("jobsource-bad", namespace)
             .spec.schedule == "30 2 * * *", timeout=30, what="the fixed schedule")
    assert operator.proc.poll() is None  # it never crashed


def test_operator_survives_garbage_bodies(cluster, operator, namespace):
    co = _co(cluster)
    # the API server accepts this (types are right) but the content is nonsense
    co.create_namespaced_custom_object(G, V, namespace, P, _source(
        "junk", schedule="every day at noon"))
    st = _ready(cluster, namespace, "junk", status="False", reason="InvalidSpec")
    assert "spec.schedule" in next(c for c in st["conditions"] if c["type"] == "Ready")["message"]
    assert not client.BatchV1Api(cluster.api).list_namespaced_cron_job(namespace).items
    assert operator.proc.poll() is None


def test_fields_dropped_from_the_spec_leave_the_cronjob(cluster, operator, namespace):
    """Objects are created with POST (never adopting) and later server-side applied: what
    the operator stops setting must still go, so its create entry becomes an apply entry."""
    co, batch = _co(cluster), client.BatchV1Api(cluster.api)
    co.create_namespaced_custom_object(G, V, namespace, P, _source(
        "tz", timeZone="Europe/Berlin", startingDeadlineSeconds=60))
    _ready(cluster, namespace, "tz")
    assert batch.read_namespaced_cron_job("jobsource-tz", namespace).spec.time_zone
    co.patch_namespaced_custom_object(G, V, namespace, P, "tz", {"spec": {
        "timeZone": None, "startingDeadlineSeconds": None}})
    wait_for(lambda: (cj := batch.read_namespaced_cron_job("jobsource-tz", namespace))
             .spec.time_zone is None and cj.spec.starting_deadline_seconds is None,
             timeout=30, what="timeZone and startingDeadlineSeconds to leave the CronJob")
    mine = [(e.manager, e.operation) for e in batch.read_namespaced_cron_job(
        "jobsource-tz", namespace).metadata.managed_fields if e.manager == "jobscrape-operator"]
    assert mine == [("jobscrape-operator", "Apply")]
