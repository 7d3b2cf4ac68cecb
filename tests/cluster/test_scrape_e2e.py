"""A JobSource against the local board server, run on schedule by the real CronJob controller
and the pod executor: status, printer columns and metrics follow."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client

from jobscrape_dev.boardserver import BoardServer
from jobscrape_dev.devcluster import processes

from conftest import start_operator
from waiting import wait_for

pytestmark = pytest.mark.cluster


def test_scheduled_run_writes_status_and_columns(cluster, crd, namespace, tmp_path):
    with BoardServer(host=cluster.host) as boards:
        op = start_operator(cluster, tmp_path)
        try:
            co = client.CustomObjectsApi(cluster.api)
            co.create_namespaced_custom_object("jobscrape.io", "v1alpha1", namespace,
                                               "jobsources", {
                "apiVersion": "jobscrape.io/v1alpha1", "kind": "JobSource",
                "metadata": {"name": "e2e"},
                "spec": {"schedule": "* * * * *", "boards": [
                    {"name": "vercel", "type": "greenhouse", "token": "vercel",
                     "url": f"{boards.url}/v1/boards/vercel/jobs"},
                    {"name": "wwr", "type": "feed", "url": f"{boards.url}/feed/wwr.xml"},
                    {"name": "gone", "type": "greenhouse", "token": "no-such-board",
                     "url": f"{boards.url}/v1/boards/no-such-board/jobs"}],
                    "run": {"requestsPerSecondPerHost": 50}}})

            def finished():
                st = co.get_namespaced_custom_object("jobscrape.io", "v1alpha1", namespace,
                                                     "jobsources", "e2e").get("status") or {}
                return st if st.get("lastRun") else None

            st = wait_for(finished, timeout=150, interval=1,
                          what="the first scheduled run to write status.lastRun")
            run = st["lastRun"]
            assert run["result"] == "PartiallyFailed"
            assert (run["fetched"], run["created"], run["updated"], run["removed"]) == (
                5, 5, 0, 0)
            assert run["jobName"].startswith("jobsource-e2e-")
            assert st["postings"] == 5
            boards_st = {b["name"]: b for b in st["boards"]}
            assert boards_st["vercel"]["state"] == "OK" and boards_st["vercel"]["postings"] == 2
            assert boards_st["wwr"]["state"] == "OK" and boards_st["wwr"]["postings"] == 3
            gone = boards_st["gone"]
            assert gone["state"] == "NotFound" and gone["httpStatus"] == 404
            assert gone["consecutiveFailures"] == 1 and "lastSuccessTime" not in gone
            conds = {c["type"]: c for c in st["conditions"]}
            assert conds["Healthy"]["status"] == "False"
            assert conds["Degraded"]["status"] == "True" and "gone" in conds["Degraded"][
                "message"]
            assert conds["Ready"]["status"] == "True"  # the operator's condition is kept
            # the CronJob controller records the success, the operator mirrors it
            wait_for(lambda: co.get_namespaced_custom_object(
                "jobscrape.io", "v1alpha1", namespace, "jobsources", "e2e")["status"]
                .get("lastSuccessfulTime"), timeout=60, what="status.lastSuccessfulTime")
            ev = wait_for(lambda: [e for e in client.CoreV1Api(cluster.api)
                                   .list_namespaced_event(namespace).items
                                   if e.reason == "RunPartiallyFailed"], timeout=30,
                          what="a Warning event for the finished run")
            assert ev[0].type == "Warning" and "created 5" in ev[0].message
            assert ev[0].involved_object.name == "e2e"
            kubectl = shutil.which("kubectl")
            assert kubectl
            out = subprocess.run([kubectl, f"--kubeconfig={cluster.kubeconfig}", "get",
                                  "jobsources", "-n", namespace], capture_output=True,
                                 text=True, timeout=30).stdout
            header, row = out.splitlines()[:2]
            assert header.split() == ["NAME", "SCHEDULE", "SUSPEND", "BOARDS", "POSTINGS",
                                      "NEW", "LAST", "RESULT", "LAST", "SUCCESS", "READY",
                                      "HEALTHY", "AGE"]
            cells = row.split()
            assert cells[:6] == ["e2e", "*", "*", "*", "*", "*"]
            assert cells[6:11] == ["false", "3", "5", "5", "PartiallyFailed"]
            assert cells[12:14] == ["True", "False"]  # Ready, but not Healthy
            status = subprocess.run(
                [shutil.which("jobscrape") or str(Path(sys.executable).parent / "jobscrape"),
                 "status", "-A", f"--kubeconfig={cluster.kubeconfig}"],
                capture_output=True, text=True, timeout=30)
            assert status.returncode == 0, status.stderr
            line = next(x for x in status.stdout.splitlines() if x.startswith(namespace))
            assert "PartiallyFailed" in line and "gone(NotFound)" in line
        finally:
            processes.stop(op.proc)
