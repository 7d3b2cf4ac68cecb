"""Runs are counted exactly: the retries of one Job are one run, and an unchanged board still
counts as fetched. Real Jobs, pods run by the executor, against the local board server."""

from __future__ import annotations

import pytest
from kubernetes import client

from jobscrape.controller import naming
from jobscrape_dev.boardserver import BoardServer

from test_operator import _events
from waiting import wait_for

pytestmark = pytest.mark.cluster
G, V, P = "jobscrape.io", "v1alpha1", "jobsources"


def _status(cluster, ns, name):
    return client.CustomObjectsApi(cluster.api).get_namespaced_custom_object(
        G, V, ns, P, name).get("status") or {}


def _run_now(tenant, ns, name, value):
    client.CustomObjectsApi(tenant).patch_namespaced_custom_object(G, V, ns, P, name, {
        "metadata": {"annotations": {"jobscrape.io/run-now": value}}})


def _failed_run_now_job(cluster, ns, value) -> str:
    """Wait until the run-now Job of `value` has failed (all its pods ran); its name."""
    label = f"jobscrape.io/run-now-hash={naming.run_now_hash(value)}"

    def failed():
        jobs = client.BatchV1Api(cluster.api).list_namespaced_job(ns, label_selector=label)
        job = next(iter(jobs.items), None)
        if job and any(c.type == "Failed" and c.status == "True"
                       for c in job.status.conditions or []):
            return job.metadata.name
        return None
    return wait_for(failed, timeout=150, interval=1, what=f"run-now Job {value!r} to fail")


def test_a_failed_run_counts_once_although_its_job_retried(cluster, operator, namespace,
                                                            tenant):
    with BoardServer(host=cluster.host) as boards:
        client.CustomObjectsApi(tenant).create_namespaced_custom_object(G, V, namespace, P, {
            "apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": "down"},
            "spec": {"schedule": "0 0 1 1 *", "run": {"retries": 1}, "boards": [
                {"name": "gone", "type": "greenhouse", "token": "no-such-board",
                 "url": f"{boards.url}/v1/boards/no-such-board/jobs"}]}})
        wait_for(lambda: _status(cluster, namespace, "down").get("cronJobName"), timeout=30,
                 what="the source to be reconciled")
        _run_now(tenant, namespace, "down", "first")
        job = _failed_run_now_job(cluster, namespace, "first")
        st = _status(cluster, namespace, "down")  # the second pod wrote it before exiting
        assert st["lastRun"]["jobName"] == job and st["lastRun"]["result"] == "Failed"
        assert st["boards"][0]["consecutiveFailures"] == 1  # one run, two pods
        assert st["lastRun"]["attempt"] == 2 and st["failingBoards"] == 1
        wait_for(lambda: _events(cluster, namespace, "RunFailed"), timeout=30,
                 what="a RunFailed event")
        assert len(_events(cluster, namespace, "RunFailed")) == 1
        # a second failed run (another Job) counts as the second
        _run_now(tenant, namespace, "down", "second")
        second = _failed_run_now_job(cluster, namespace, "second")
        st = _status(cluster, namespace, "down")
        assert st["lastRun"]["jobName"] == second
        assert st["boards"][0]["consecutiveFailures"] == 2
        wait_for(lambda: len(_events(cluster, namespace, "RunFailed")) == 2, timeout=30,
                 what="a RunFailed event for the second run")


def test_unchanged_boards_count_as_fetched(cluster, operator, namespace, tenant):
    with BoardServer(host=cluster.host) as boards:
        client.CustomObjectsApi(tenant).create_namespaced_custom_object(G, V, namespace, P, {
            "apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": "same"},
            "spec": {"schedule": "0 0 1 1 *", "boards": [
                {"name": "vercel", "type": "greenhouse", "token": "vercel",
                 "url": f"{boards.url}/v1/boards/vercel/jobs"},
                {"name": "wwr", "type": "feed", "url": f"{boards.url}/feed/wwr.xml"}]}})
        wait_for(lambda: _status(cluster, namespace, "same").get("cronJobName"), timeout=30,
                 what="the source to be reconciled")
        runs = []
        for value in ("one", "two"):
            _run_now(tenant, namespace, "same", value)
            st = wait_for(lambda: (s := _status(cluster, namespace, "same")).get("lastRun")
                          and s["lastRun"].get("jobName") not in runs and s, timeout=90,
                          interval=1, what=f"run-now {value} to finish")
            runs.append(st["lastRun"]["jobName"])
            assert st["lastRun"]["result"] == "Succeeded", (
                st["boards"], cluster.pod_logs(namespace)[-3000:])
            assert st["lastRun"]["fetched"] == 5 and st["postings"] == 5
        assert (st["lastRun"]["created"], st["lastRun"]["updated"]) == (0, 0)
        assert st["lastRun"]["notModified"] == 0
        assert st["failingBoards"] == 0 and st.get("lastSuccessfulTime")
