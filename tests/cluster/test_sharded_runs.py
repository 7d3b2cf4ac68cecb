"""Sharded runs end to end on the real control plane with PostgreSQL: a JobSource of 30
boards on 6 hosts (6 board servers, each on an address of its own) with `shards: 3` runs as an
Indexed Job of 3 pods; no host is fetched by two pods; the status describes all 30 boards;
killing one shard's pod mid-run leaves the other shards' results stored and that shard is
retried within its own limit; killed with no retries left, the operator finishes the run and
its status shows that shard's boards failed."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client

from jobscrape.boards.base import BoardRef
from jobscrape.runner.shards import assign_shards, board_host
from jobscrape_dev.boardserver import BoardServer
from jobscrape_dev.devcluster import processes
from jobscrape_dev.pgserver import PgServer

from conftest import start_operator
from waiting import wait_for

pytestmark = pytest.mark.cluster

G, V, P = "jobscrape.io", "v1alpha1", "jobsources"
HOSTS, PER_HOST, SHARDS = 6, 5, 3
#: seconds the slow host holds its boards' answers open (trickling, so no read times
#: out; under the 120 s fetch budget): the window in which the test kills that shard's pod
HOLD = 100.0


@dataclass
class Servers:
    pg: PgServer
    boards: list[BoardServer]


@pytest.fixture(scope="module")
def servers(cluster) -> Iterator[Servers]:
    hosts = cluster.server_hosts(HOSTS)
    started: list[BoardServer] = []
    with PgServer(host=cluster.host) as pg:
        try:
            for h in hosts:
                started.append(BoardServer(host=h).start())
            yield Servers(pg, started)
        finally:
            for s in started:
                s.stop()


def _boards(servers: Servers) -> list[dict[str, str]]:
    """Board k of host j: greenhouse token h{j}b{k}, interleaved so that the hosts' boards
    are spread over the spec; two postings each (`scale`, so that a third can be added)."""
    for j, s in enumerate(servers.boards):
        for k in range(PER_HOST):
            s.set_fault(f"h{j}b{k}", scale=2)
    return [{"name": f"h{j}b{k}", "type": "greenhouse", "token": f"h{j}b{k}",
             "url": f"{servers.boards[j].url}/v1/boards/h{j}b{k}/jobs"}
            for k in range(PER_HOST) for j in range(HOSTS)]


def _co(cluster) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(cluster.api)


def _status(cluster, ns: str) -> dict[str, Any]:
    return _co(cluster).get_namespaced_custom_object(G, V, ns, P, "sharded").get("status") or {}


def _run_now(cluster, ns: str, value: str) -> str | None:
    before = _status(cluster, ns).get("lastRun", {}).get("completionTime")
    _co(cluster).patch_namespaced_custom_object(G, V, ns, P, "sharded", {
        "metadata": {"annotations": {"jobscrape.io/run-now": value}}})
    return before


def _explain(cluster, ns: str) -> str:
    core = client.CoreV1Api(cluster.api)
    pods = core.list_namespaced_pod(ns).items
    events = [f"{e.reason}: {e.message}" for e in core.list_namespaced_event(ns).items]
    return "\n".join([*(f"{p.metadata.name} {p.status.phase} {p.status.conditions}: "
                         f"{cluster.pod_log(ns, p.metadata.name)[-1500:]}" for p in pods),
                       *events[-20:]])


def _wait_run(cluster, ns: str, before: str | None, timeout: float) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        st = _status(cluster, ns)
        t = st.get("lastRun", {}).get("completionTime")
        return st if t and t != before else None
    try:
        return wait_for(done, timeout=timeout, interval=0.5, what="the sharded run's status")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{_explain(cluster, ns)}") from None


def _pods(cluster, ns: str, job: str) -> list[client.V1Pod]:
    return client.CoreV1Api(cluster.api).list_namespaced_pod(
        ns, label_selector=f"batch.kubernetes.io/job-name={job}").items


def _index(pod: client.V1Pod) -> int:
    return int(pod.metadata.annotations["batch.kubernetes.io/job-completion-index"])


def _open_postings(pg: PgServer, dsn: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as c:
        return dict(c.execute("SELECT board, count(*) FROM postings WHERE closed_at IS NULL "
                              "GROUP BY board").fetchall())


def test_a_sharded_run_splits_boards_by_host_and_survives_a_killed_shard(
        cluster, crd, namespace, servers, tmp_path):
    dsn = servers.pg.create_database()
    client.CoreV1Api(cluster.api).create_namespaced_secret(namespace, {
        "metadata": {"name": "jobscrape-pg"},
        "data": {"dsn": base64.b64encode(dsn.encode()).decode()}})
    boards = _boards(servers)
    _co(cluster).create_namespaced_custom_object(G, V, namespace, P, {
        "apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": "sharded"},
        "spec": {"schedule": "0 0 1 1 *", "suspend": True, "boards": boards,
                 "store": {"postgres": {"dsnSecretRef": {"name": "jobscrape-pg",
                                                         "key": "dsn"}}},
                 "run": {"shards": SHARDS, "retries": 1, "timeoutSeconds": 240,
                         "requestsPerSecondPerHost": 20}}})
    refs = [BoardRef(b["name"], b["type"], b["token"], b["url"]) for b in boards]
    plan = assign_shards(refs, SHARDS)
    op = start_operator(cluster, tmp_path)
    try:
        # first run: an Indexed Job of 3 pods, each host fetched by one pod
        st = _wait_run(cluster, namespace, _run_now(cluster, namespace, "one"), 240)
        job_name = st["lastRun"]["jobName"]
        job = client.BatchV1Api(cluster.api).read_namespaced_job(job_name, namespace)
        assert (job.spec.completion_mode, job.spec.completions, job.spec.parallelism) == (
            "Indexed", SHARDS, SHARDS)
        pods = _pods(cluster, namespace, job_name)
        assert sorted(_index(p) for p in pods) == list(range(SHARDS)), _explain(cluster,
                                                                                namespace)
        for p in pods:  # each pod fetched exactly its shard's boards
            i = _index(p)
            want = ", ".join(b.name for b in plan[i])
            assert f"shard {i} of {SHARDS}: boards {want}" in cluster.pod_log(
                namespace, p.metadata.name)
        if cluster.node is not None:  # pods have addresses of their own: count them
            for s in servers.boards:
                assert len(s.peers) == 1, (s.host, dict(s.peers))
        for shard in plan:  # and no host is in two shards
            others = {board_host(b) for other in plan if other is not shard for b in other}
            assert not {board_host(b) for b in shard} & others
        assert [b["name"] for b in st["boards"]] == [b["name"] for b in boards]
        assert {b["state"] for b in st["boards"]} == {"OK"}
        last = st["lastRun"]
        assert (last["result"], last["fetched"], last["created"]) == (
            "Succeeded", 2 * HOSTS * PER_HOST, 2 * HOSTS * PER_HOST), last
        assert st["postings"] == 2 * HOSTS * PER_HOST

        # second run: host 0 is slow and its shard's pod is killed mid-run; the other boards
        # get a third posting each, stored by the other shards while that shard is retried
        slow = next(i for i, s in enumerate(plan) if any(b.name.startswith("h0b") for b in s))
        for k in range(PER_HOST):
            servers.boards[0].set_fault(f"h0b{k}", hold=HOLD, scale=2)
        for j in range(1, HOSTS):
            for k in range(PER_HOST):
                servers.boards[j].set_fault(f"h{j}b{k}", scale=3)
        before = _run_now(cluster, namespace, "two")
        job_name = wait_for(lambda: next(
            (j.metadata.name for j in client.BatchV1Api(cluster.api).list_namespaced_job(
                namespace).items if j.metadata.name != last["jobName"]), None),
            timeout=60, what="the second run's Job")
        others = {b.name for i, s in enumerate(plan) if i != slow for b in s}

        def others_stored() -> bool:
            counts = _open_postings(servers.pg, dsn)
            return all(counts.get(b) == 3 for b in others)
        wait_for(others_stored, timeout=120, interval=0.5,
                 what="the other shards' postings in PostgreSQL")
        try:
            victim = wait_for(lambda: next((p for p in _pods(cluster, namespace, job_name)
                                            if _index(p) == slow and p.status.phase == "Running"),
                                           None), timeout=60, what="the slow shard's pod")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{_explain(cluster, namespace)}") from None
        # it is still waiting on host 0 (a request lost on the way is sent again, held too)
        wait_for(lambda: servers.boards[0].in_flight >= 1, timeout=60,
                 what="the slow shard's request to host 0")
        client.CoreV1Api(cluster.api).delete_namespaced_pod(
            victim.metadata.name, namespace, grace_period_seconds=0)

        # the killed pod is gone (once the Job controller has counted it and dropped its
        # tracking finalizer); only then are the held answers let go (before, the dying pod
        # could still get them), so that its retry is answered at once
        def gone() -> bool:
            return victim.metadata.name not in {p.metadata.name
                                                for p in _pods(cluster, namespace, job_name)}
        wait_for(gone, timeout=60, what="the killed pod's removal")
        servers.boards[0].release_holds()
        st = _wait_run(cluster, namespace, before, 240)
        assert st["lastRun"]["jobName"] == job_name
        assert [b["name"] for b in st["boards"]] == [b["name"] for b in boards]
        assert {b["state"] for b in st["boards"]} == {"OK"}, (st["boards"],
                                                               _explain(cluster, namespace))
        assert st["lastRun"]["result"] == "Succeeded"
        assert st["lastRun"]["created"] == (HOSTS - 1) * PER_HOST  # a third on all but host 0
        again = wait_for(lambda: next((p for p in _pods(cluster, namespace, job_name)
                                       if _index(p) == slow and p.status.phase == "Succeeded"),
                                      None), timeout=60, what="the retried shard's pod")
        assert f"shard {slow} of {SHARDS}: boards" in cluster.pod_log(namespace,
                                                                     again.metadata.name)
        def job_counts() -> tuple[int, int, str | None] | None:  # as the Job counts them
            s = client.BatchV1Api(cluster.api).read_namespaced_job(job_name, namespace).status
            return (s.failed or 0, s.succeeded, s.failed_indexes) if s.completion_time else None
        # every shard succeeded, the killed one on its retry: one failure in all
        failed, succeeded, failed_indexes = wait_for(job_counts, timeout=60,
                                                     what="the Job's completion")
        assert (failed, succeeded, failed_indexes or "") == (1, SHARDS, ""), (
            failed, succeeded, failed_indexes, _explain(cluster, namespace))
        assert _open_postings(servers.pg, dsn) == {
            b["name"]: (2 if b["name"].startswith("h0b") else 3) for b in boards}
        wait_for(lambda: servers.boards[0].in_flight == 0, timeout=30,
                 what="the slow host's last answers")

        # third run, no retries: the slow shard's pod is killed for good; the operator sees the
        # Job fail and a finishing Job writes the run's status: that shard's boards failed,
        # the other shards' results as they stored them
        _co(cluster).patch_namespaced_custom_object(G, V, namespace, P, "sharded", {
            "spec": {"run": {"retries": 0}}})
        for k in range(PER_HOST):
            servers.boards[0].set_fault(f"h0b{k}", hold=HOLD, scale=2)
        for j in range(1, HOSTS):
            for k in range(PER_HOST):
                servers.boards[j].set_fault(f"h{j}b{k}", scale=4)
        seen = {j.metadata.name for j in client.BatchV1Api(cluster.api).list_namespaced_job(
            namespace).items}
        before = _run_now(cluster, namespace, "three")
        job_name = wait_for(lambda: next(
            (j.metadata.name for j in client.BatchV1Api(cluster.api).list_namespaced_job(
                namespace).items if j.metadata.name not in seen), None),
            timeout=60, what="the third run's Job")
        wait_for(lambda: all(_open_postings(servers.pg, dsn).get(b) == 4 for b in others),
                 timeout=120, interval=0.5, what="the other shards' fourth postings")
        victim = wait_for(lambda: next((p for p in _pods(cluster, namespace, job_name)
                                        if _index(p) == slow and p.status.phase == "Running"),
                                       None), timeout=60, what="the slow shard's pod, again")
        wait_for(lambda: servers.boards[0].in_flight >= 1, timeout=60,
                 what="the slow shard's request to host 0, again")
        client.CoreV1Api(cluster.api).delete_namespaced_pod(
            victim.metadata.name, namespace, grace_period_seconds=0)
        st = _wait_run(cluster, namespace, before, 240)
        assert st["lastRun"]["jobName"] == job_name
        assert [b["name"] for b in st["boards"]] == [b["name"] for b in boards]
        states = {b["name"]: (b["state"], b.get("message", "")) for b in st["boards"]}
        for b in boards:
            if b["name"] in others:
                assert states[b["name"]][0] == "OK", states
            else:
                assert states[b["name"]][0] == "Failing", states
                assert f"shard {slow} of {SHARDS} did not finish" in states[b["name"]][1]
        assert st["lastRun"]["result"] == "PartiallyFailed"
        assert st["lastRun"]["created"] == len(others)  # a fourth on the other shards' boards
        finish = client.BatchV1Api(cluster.api).read_namespaced_job(f"{job_name}-finish",
                                                                    namespace)
        assert finish.metadata.owner_references[0].name == job_name
        failed = client.BatchV1Api(cluster.api).read_namespaced_job(job_name, namespace)
        assert failed.status.failed_indexes == str(slow)
        servers.boards[0].release_holds()  # the killed pod's answers, held for nobody
    finally:
        for s in servers.boards:  # answers still held open (a failure above) end now
            s.release_holds()
        processes.stop(op.proc)
