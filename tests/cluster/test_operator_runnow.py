"""run-now starts exactly one Job per annotation value, also across operator restarts.

Kept apart from test_operator.py so that no other operator process runs meanwhile."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from jobscrape_dev.devcluster import processes

from conftest import start_operator
from test_operator import G, P, V, _co, _get, _ready, _source
from waiting import wait_for

pytestmark = pytest.mark.cluster


def _run_now_jobs(cluster, ns):
    return [j for j in client.BatchV1Api(cluster.api).list_namespaced_job(ns).items
            if "jobscrape.io/run-now-hash" in (j.metadata.labels or {})]


def test_run_now_exactly_once_even_across_restarts(cluster, crd, namespace, tmp_path):
    co = _co(cluster)
    op = start_operator(cluster, tmp_path)
    try:
        co.create_namespaced_custom_object(G, V, namespace, P, _source(
            "now", schedule="0 0 1 1 *", suspend=True))
        _ready(cluster, namespace, "now")
        co.patch_namespaced_custom_object(G, V, namespace, P, "now", {
            "metadata": {"annotations": {"jobscrape.io/run-now": "first"}}})
        wait_for(lambda: len(_run_now_jobs(cluster, namespace)) == 1, timeout=30,
                 what="one run-now Job")
        wait_for(lambda: _get(cluster, namespace, "now")["status"].get("lastRunNow") == "first",
                 timeout=30, what="status.lastRunNow")
        processes.stop(op.proc)
        op = start_operator(cluster, tmp_path)
        co.patch_namespaced_custom_object(G, V, namespace, P, "now", {
            "metadata": {"labels": {"touched": "yes"}}})
        time.sleep(5)  # a restart and a change later, the same value starts nothing new
        assert len(_run_now_jobs(cluster, namespace)) == 1
        co.patch_namespaced_custom_object(G, V, namespace, P, "now", {
            "metadata": {"annotations": {"jobscrape.io/run-now": "second"}}})
        wait_for(lambda: len(_run_now_jobs(cluster, namespace)) == 2, timeout=30,
                 what="a second run-now Job for a new value")
        job = _run_now_jobs(cluster, namespace)[0]
        assert job.metadata.owner_references[0].kind == "CronJob"
    finally:
        processes.stop(op.proc)
