"""A reconcile that fails is retried with backoff within seconds, not at the next resync, and
the status says so meanwhile (Reconciling=True, ReconcileFailed)."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from kubernetes import client

from jobscrape_dev.devcluster import processes

from conftest import start_operator
from test_operator import G, P, V, _co, _get, _source
from waiting import wait_for

pytestmark = pytest.mark.cluster


def _deny_cronjobs(cluster, namespace: str) -> str:
    """An admission policy refusing every CronJob created in `namespace`: an API error the
    operator cannot avoid. Returns its name."""
    name = f"inject-{namespace}"
    adm = client.AdmissionregistrationV1Api(cluster.api)
    adm.create_validating_admission_policy({
        "metadata": {"name": name},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{
                     "apiGroups": ["batch"], "apiVersions": ["*"], "operations": ["CREATE"],
                     "resources": ["cronjobs"]}]},
                 "validations": [{"expression": "false", "message": "injected failure"}]}})
    adm.create_validating_admission_policy_binding({
        "metadata": {"name": name},
        "spec": {"policyName": name, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {
                     "kubernetes.io/metadata.name": namespace}}}}})

    def refused() -> bool:
        try:
            client.BatchV1Api(cluster.api).create_namespaced_cron_job(namespace, {
                "metadata": {"name": "probe"}, "spec": {"schedule": "0 0 * * *",
                "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never",
                 "containers": [{"name": "c", "image": "x"}]}}}}}}, dry_run="All")
        except client.ApiException as e:
            return "injected failure" in (e.body or "")
        return False
    wait_for(refused, timeout=30, what="the injected policy to take effect")
    return name


def _sample(text: str, name: str) -> float:
    return float(next(x for x in text.splitlines() if x.startswith(name + " ")).split()[1])


def _condition(cluster, ns, name, type_):
    st = _get(cluster, ns, name).get("status") or {}
    return next((c for c in st.get("conditions") or [] if c["type"] == type_), None)


def test_failed_reconcile_is_retried_within_seconds(cluster, crd, namespace, tmp_path):
    policy = _deny_cronjobs(cluster, namespace)
    op = start_operator(cluster, tmp_path, "--resync-seconds=600")
    adm = client.AdmissionregistrationV1Api(cluster.api)
    try:
        _co(cluster).create_namespaced_custom_object(G, V, namespace, P, _source("flaky"))
        failing = wait_for(lambda: (c := _condition(cluster, namespace, "flaky",
                                                     "Reconciling")) and c["status"] == "True"
                           and c, timeout=30, what="Reconciling=True after the failure")
        assert failing["reason"] == "ReconcileFailed"
        assert "injected failure" in failing["message"]
        adm.delete_validating_admission_policy_binding(policy)
        adm.delete_validating_admission_policy(policy)
        # the next resync is 600 s away: only the backoff's retry can bring it in time
        wait_for(lambda: (c := _condition(cluster, namespace, "flaky", "Ready"))
                 and c["status"] == "True", timeout=60, what="Ready=True after the retry")
        assert _condition(cluster, namespace, "flaky", "Reconciling")["status"] == "False"
        client.BatchV1Api(cluster.api).read_namespaced_cron_job("jobsource-flaky", namespace)
        log = op.output()
        assert "retrying in" in log and "Traceback" not in log
        metrics = httpx.get(f"http://127.0.0.1:{op.metrics_port}/metrics", timeout=5).text
        assert _sample(metrics, "jobscrape_operator_reconcile_retries_total") >= 1
        assert _sample(metrics, "jobscrape_operator_reconcile_retries_pending") == 0
    finally:
        processes.stop(op.proc)
        for delete in (adm.delete_validating_admission_policy_binding,
                       adm.delete_validating_admission_policy):
            with contextlib.suppress(client.ApiException):  # gone already
                delete(policy)
