"""A JobSource with one board of every type, run end to end on the real control plane (the
runner in a pod, the SQLite store on its claim) against the local board server: every board
ends OK with the postings its capture holds."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from jobscrape.boards import BOARD_TYPES
from jobscrape_dev.boardserver import ENTRIES, BoardServer
from jobscrape_dev.devcluster import processes

from boardkit import EXPECTED
from conftest import start_operator
from waiting import wait_for

pytestmark = pytest.mark.cluster

G, V, P = "jobscrape.io", "v1alpha1", "jobsources"


def test_one_board_of_every_type_runs_end_to_end(cluster, crd, namespace, tmp_path):
    co = client.CustomObjectsApi(cluster.api)
    with BoardServer(host=cluster.host) as boards:
        spec_boards = [{"name": kind, "type": kind, "token": ENTRIES[kind][0],
                        "url": f"{boards.url}{ENTRIES[kind][1]}"} for kind in BOARD_TYPES]
        op = start_operator(cluster, tmp_path)
        try:
            co.create_namespaced_custom_object(G, V, namespace, P, {
                "apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": "all"},
                "spec": {"schedule": "0 0 1 1 *", "suspend": True, "boards": spec_boards,
                         "run": {"requestsPerSecondPerHost": 50, "timeoutSeconds": 240}}})
            co.patch_namespaced_custom_object(G, V, namespace, P, "all", {
                "metadata": {"annotations": {"jobscrape.io/run-now": "go"}}})

            def finished() -> dict[str, Any] | None:
                st = co.get_namespaced_custom_object(G, V, namespace, P, "all").get(
                    "status") or {}
                return st if st.get("lastRun", {}).get("completionTime") else None
            try:
                st = wait_for(finished, timeout=240, interval=1, what="the run's status")
            except AssertionError as e:
                raise AssertionError(f"{e}\n{cluster.pod_logs(namespace)[-4000:]}") from None
            states = {b["name"]: (b["state"], b["postings"]) for b in st["boards"]}
            assert states == {kind: ("OK", EXPECTED[kind]) for kind in BOARD_TYPES}, (
                states, cluster.pod_logs(namespace)[-4000:])
            assert st["lastRun"]["result"] == "Succeeded"
            assert st["postings"] == sum(EXPECTED.values())
            assert boards.detail_requests["acme"] == EXPECTED["workday"] + EXPECTED["bamboohr"]
        finally:
            processes.stop(op.proc)
