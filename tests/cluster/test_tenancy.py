"""A tenant that may only use the jobsources verbs cannot make the operator run its pods,
take over other objects, or lose its bookkeeping; the operator's own writes stay exact."""

from __future__ import annotations

import time

import httpx
import pytest
from kubernetes import client

from jobscrape_dev.devcluster import processes

from conftest import RUNNER_IMAGE, audit_lines, audit_writes, start_operator
from test_operator import _events, _source
from waiting import wait_for

pytestmark = pytest.mark.cluster
G, V, P = "jobscrape.io", "v1alpha1", "jobsources"
SECRET_VALUE = "s3cr3t-admin-password"


def _ready(cluster, ns, name, status="True", reason=None, timeout=30):
    co = client.CustomObjectsApi(cluster.api)

    def check():
        st = co.get_namespaced_custom_object(G, V, ns, P, name).get("status") or {}
        c = next((c for c in st.get("conditions") or [] if c["type"] == "Ready"), None)
        if c and c["status"] == status and (reason is None or c["reason"] == reason):
            return c
        return None
    return wait_for(check, timeout=timeout, what=f"{ns}/{name} Ready={status} {reason or ''}")


def test_tenant_cannot_pick_image_resources_or_foreign_secrets(cluster, operator, namespace,
                                                                tenant):
    core = client.CoreV1Api(cluster.api)
    core.create_namespaced_secret(namespace, {"metadata": {"name": "db-admin"},
                                              "stringData": {"password": SECRET_VALUE}})
    client.CustomObjectsApi(tenant).create_namespaced_custom_object(G, V, namespace, P, _source(
        "exfil", store={"postgres": {"dsnSecretRef": {"name": "db-admin", "key": "password"}}},
        notify=[{"name": "hook", "webhook": {"urlSecretRef": {"name": "db-admin",
                                                              "key": "password"}}}],
        run={"image": "docker.io/attacker/exfil:latest",
             "resources": {"limits": {"cpu": 64, "memory": "512Gi", "nvidia.com/gpu": 8}}}))
    ready = _ready(cluster, namespace, "exfil", status="False", reason="InvalidSpec")
    for field in ("spec.run.image", "spec.run.resources.limits.cpu",
                  "spec.run.resources.limits.memory", "spec.run.resources.limits.nvidia.com/gpu",
                  "spec.store.postgres.dsnSecretRef.name",
                  "spec.notify[0].webhook.urlSecretRef.name"):
        assert field in ready["message"], field
    assert not client.BatchV1Api(cluster.api).list_namespaced_cron_job(namespace).items
    assert not client.BatchV1Api(cluster.api).list_namespaced_job(namespace).items
    warn = wait_for(lambda: _events(cluster, namespace, "InvalidSpec"), timeout=10,
                    what="an InvalidSpec event")
    assert all(SECRET_VALUE not in e.message for e in _events(cluster, namespace))
    assert SECRET_VALUE not in warn[0].message and SECRET_VALUE not in operator.output()

    # within the policy: the operator's image, bounded resources, a jobscrape-* Secret
    client.CustomObjectsApi(tenant).create_namespaced_custom_object(G, V, namespace, P, _source(
        "fine", notify=[{"name": "hook", "webhook": {"urlSecretRef": {
            "name": "jobscrape-hooks", "key": "url"}}}],
        run={"resources": {"limits": {"cpu": "500m"}}}))
    _ready(cluster, namespace, "fine")
    cj = client.BatchV1Api(cluster.api).read_namespaced_cron_job("jobsource-fine", namespace)
    c = cj.spec.job_template.spec.template.spec.containers[0]
    assert c.image == RUNNER_IMAGE
    assert c.resources.limits == {"cpu": "500m", "memory": "512Mi"}  # no unbounded pod


def test_no_adoption_of_foreign_objects(cluster, operator, namespace, tenant):
    batch, core = client.BatchV1Api(cluster.api), client.CoreV1Api(cluster.api)
    admin_cj = batch.create_namespaced_cron_job(namespace, {
        "metadata": {"name": "jobsource-victim"},
        "spec": {"schedule": "0 0 * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "backup", "image": "registry.example/backup:1"}]}}}}}})
    admin_sa = core.create_namespaced_service_account(namespace, {
        "metadata": {"name": "jobscrape-runner-victim2"}})
    tenant_co = client.CustomObjectsApi(tenant)
    tenant_co.create_namespaced_custom_object(G, V, namespace, P, _source("victim"))
    tenant_co.create_namespaced_custom_object(G, V, namespace, P, _source("victim2"))
    c = _ready(cluster, namespace, "victim", status="False", reason="NameConflict")
    assert "CronJob jobsource-victim" in c["message"]
    c2 = _ready(cluster, namespace, "victim2", status="False", reason="NameConflict")
    assert "ServiceAccount jobscrape-runner-victim2" in c2["message"]
    wait_for(lambda: _events(cluster, namespace, "NameConflict"), timeout=10,
             what="a NameConflict event")
    time.sleep(5)  # resyncs (every 2 s) leave them alone too
    cj = batch.read_namespaced_cron_job("jobsource-victim", namespace)
    assert cj.metadata.resource_version == admin_cj.metadata.resource_version
    assert not cj.metadata.owner_references
    sa = core.read_namespaced_service_account("jobscrape-runner-victim2", namespace)
    assert sa.metadata.resource_version == admin_sa.metadata.resource_version
    # victim2's CronJob would run as the foreign account: it is not made at all
    names = [x.metadata.name for x in batch.list_namespaced_cron_job(namespace).items]
    assert names == ["jobsource-victim"]
    for name in ("victim", "victim2"):
        tenant_co.delete_namespaced_custom_object(G, V, namespace, P, name)
    time.sleep(5)  # the garbage collector had time to cascade, if anything were owned
    batch.read_namespaced_cron_job("jobsource-victim", namespace)
    core.read_namespaced_service_account("jobscrape-runner-victim2", namespace)


def test_claim_owner_follows_when_deleted_and_resize_is_reported(cluster, operator, namespace,
                                                                 tenant):
    co, core = client.CustomObjectsApi(tenant), client.CoreV1Api(cluster.api)
    co.create_namespaced_custom_object(G, V, namespace, P, _source(
        "store", store={"sqlite": {"whenDeleted": "Delete"}}))
    _ready(cluster, namespace, "store")
    claim = "jobscrape-store-store"
    assert core.read_namespaced_persistent_volume_claim(claim, namespace).metadata \
        .owner_references[0].kind == "JobSource"
    co.patch_namespaced_custom_object(G, V, namespace, P, "store", {
        "spec": {"store": {"sqlite": {"whenDeleted": "Retain"}}}})
    wait_for(lambda: not core.read_namespaced_persistent_volume_claim(claim, namespace)
             .metadata.owner_references, timeout=30, what="the owner reference to go")
    co.patch_namespaced_custom_object(G, V, namespace, P, "store", {
        "spec": {"store": {"sqlite": {"whenDeleted": "Delete"}}}})
    wait_for(lambda: core.read_namespaced_persistent_volume_claim(claim, namespace)
             .metadata.owner_references, timeout=30, what="the owner reference to come back")
    co.patch_namespaced_custom_object(G, V, namespace, P, "store", {
        "spec": {"store": {"sqlite": {"whenDeleted": "Retain", "size": "2Gi"}}}})
    # an unbound claim without an expandable storage class cannot grow: said, not ignored
    c = _ready(cluster, namespace, "store", status="False", reason="StoreNotResized")
    assert c["message"].startswith("spec.store.sqlite.size: the claim jobscrape-store-store "
                                   "could not be resized to 2Gi")
    wait_for(lambda: _events(cluster, namespace, "StoreNotResized"), timeout=10,
             what="a StoreNotResized event")
    co.delete_namespaced_custom_object(G, V, namespace, P, "store")
    wait_for(lambda: not client.BatchV1Api(cluster.api).list_namespaced_cron_job(
        namespace).items, timeout=60, what="the CronJob to be collected")
    pvc = core.read_namespaced_persistent_volume_claim(claim, namespace)
    assert pvc.metadata.deletion_timestamp is None  # Retain: the postings stay


def test_foreign_additions_cause_no_writes(cluster, operator, namespace, tenant):
    client.CustomObjectsApi(tenant).create_namespaced_custom_object(G, V, namespace, P,
                                                                    _source("mutated"))
    _ready(cluster, namespace, "mutated")
    # what a mutating webhook or Kyverno does: another manager adds an env var and a label
    client.BatchV1Api(cluster.api).patch_namespaced_cron_job(
        "jobsource-mutated", namespace, {
            "metadata": {"labels": {"policy.example/injected": "yes"}},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
                {"name": "runner", "env": [{"name": "HTTPS_PROXY",
                                            "value": "http://proxy:3128"}]}]}}}}}})
    time.sleep(2)
    mark = audit_lines(cluster)
    updated_before = len(_events(cluster, namespace, "CronJobUpdated"))
    time.sleep(6)  # three resync periods
    writes = [(w["verb"], w["objectRef"].get("resource")) for w in
              audit_writes(cluster, operator.user, mark)
              if w["objectRef"].get("namespace") == namespace]
    assert writes == []
    assert len(_events(cluster, namespace, "CronJobUpdated")) == updated_before
    env = client.BatchV1Api(cluster.api).read_namespaced_cron_job(
        "jobsource-mutated", namespace).spec.job_template.spec.template.spec.containers[0].env
    assert "HTTPS_PROXY" in [e.name for e in env]


def test_run_now_job_draws_no_cronjob_warning(cluster, operator, namespace, tenant):
    co = client.CustomObjectsApi(tenant)
    co.create_namespaced_custom_object(G, V, namespace, P, _source(
        "now", schedule="0 0 1 1 *"))
    _ready(cluster, namespace, "now")
    co.patch_namespaced_custom_object(G, V, namespace, P, "now", {
        "metadata": {"annotations": {"jobscrape.io/run-now": "go"}}})
    batch = client.BatchV1Api(cluster.api)
    job = wait_for(lambda: next(iter(batch.list_namespaced_job(namespace).items), None),
                   timeout=30, what="the run-now Job")
    assert job.metadata.annotations["cronjob.kubernetes.io/instantiate"] == "manual"
    ref = job.metadata.owner_references[0]
    assert (ref.kind, ref.name, bool(ref.controller)) == ("CronJob", "jobsource-now", False)
    time.sleep(12)  # the CronJob controller syncs on the Job's creation and every 10 s
    assert _events(cluster, namespace, "UnexpectedJob") == []


def test_operator_logs_no_handler_success_lines(cluster, operator, namespace, tenant):
    client.CustomObjectsApi(tenant).create_namespaced_custom_object(G, V, namespace, P,
                                                                    _source("quiet"))
    _ready(cluster, namespace, "quiet")
    log = operator.output()
    assert "reconciled" in log
    assert " succeeded." not in log


def _reconcile_errors(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    line = next(x for x in text.splitlines()
                if x.startswith("jobscrape_operator_reconcile_errors_total "))
    return float(line.split()[1])


def test_namespace_deletion_finishes_without_errors(cluster, operator, crd):
    core = client.CoreV1Api(cluster.api)
    ns = f"t-gone-{int(time.time() * 1000) % 10**8}"
    core.create_namespace({"metadata": {"name": ns}})
    co = client.CustomObjectsApi(cluster.api)
    co.create_namespaced_custom_object(G, V, ns, P, _source("a"))
    co.create_namespaced_custom_object(G, V, ns, P, _source(
        "b", store={"sqlite": {"whenDeleted": "Delete"}}))
    _ready(cluster, ns, "a")
    _ready(cluster, ns, "b")
    errors_before = _reconcile_errors(operator.metrics_port)
    log_before = len(operator.output())
    core.delete_namespace(ns)

    def gone():
        try:
            core.read_namespace(ns)
        except client.ApiException as e:
            return e.status == 404
        return False
    wait_for(gone, timeout=90, interval=1, what=f"namespace {ns} to finish terminating")
    time.sleep(3)  # resyncs after the deletion
    new_log = operator.output()[log_before:]
    assert "Traceback" not in new_log and "failed" not in new_log, new_log[-3000:]
    assert _reconcile_errors(operator.metrics_port) == errors_before


def test_metrics_and_health_listen_only_where_told(cluster, crd, tmp_path):
    mport, hport = processes.free_port(), processes.free_port()
    op = start_operator(cluster, tmp_path, f"--metrics-bind-address=127.0.0.2:{mport}",
                        f"--health-bind-address=127.0.0.2:{hport}")
    try:
        wait_for(lambda: httpx.get(f"http://127.0.0.2:{mport}/metrics", timeout=2)
                 .status_code == 200, timeout=30, what="metrics on 127.0.0.2")
        wait_for(lambda: httpx.get(f"http://127.0.0.2:{hport}/healthz", timeout=2)
                 .status_code == 200, timeout=30, what="/healthz on 127.0.0.2")
        for port in (mport, hport):
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        processes.stop(op.proc)
