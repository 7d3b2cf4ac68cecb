"""The fault suite: the operator and the runs against a control plane of their own that the
tests break on purpose (processes killed, the API server restarted, etcd frozen), each bounded
in time and count. What must hold: nothing created twice, nothing orphaned, no crash loop,
status correct afterwards, and every invalid spec refused or reported."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from kubernetes import client

from jobscrape_dev.boardserver import BoardServer
from jobscrape_dev.devcluster import processes

from conftest import start_operator
from waiting import wait_for

pytestmark = pytest.mark.cluster

G, V, P = "jobscrape.io", "v1alpha1", "jobsources"
OWNED = ("cronjobs", "serviceaccounts", "roles", "rolebindings", "persistentvolumeclaims")


@pytest.fixture(scope="module")
def fc(cluster, crd):
    """The session's cluster: these tests restart its API server and freeze its etcd, and
    wait until it serves again before they end."""
    return cluster


@pytest.fixture
def ns(fc: Any) -> Iterator[str]:
    name = f"f-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(fc.api).create_namespace({"metadata": {"name": name}})
    yield name
    client.CoreV1Api(fc.api).delete_namespace(name, propagation_policy="Background")


def _source(name: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"schedule": "0 */6 * * *", "suspend": True,
                            "boards": [{"name": "acme", "type": "greenhouse", "token": "acme"}]}
    body.update(spec)
    return {"apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": name},
            "spec": body}


def _co(fc: Any) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(fc.api)


def _ready(body: dict[str, Any]) -> dict[str, Any] | None:
    st_ = body.get("status") or {}
    return next((c for c in st_.get("conditions") or [] if c["type"] == "Ready"), None)


def _owned(fc: Any, ns: str) -> dict[str, list[Any]]:
    """The objects of each owned kind in `ns` (label-free: everything there)."""
    core, rbac = client.CoreV1Api(fc.api), client.RbacAuthorizationV1Api(fc.api)
    batch = client.BatchV1Api(fc.api)
    return {
        "cronjobs": batch.list_namespaced_cron_job(ns).items,
        "serviceaccounts": [s for s in core.list_namespaced_service_account(ns).items
                            if s.metadata.name != "default"],
        "roles": rbac.list_namespaced_role(ns).items,
        "rolebindings": rbac.list_namespaced_role_binding(ns).items,
        "persistentvolumeclaims": core.list_namespaced_persistent_volume_claim(ns).items,
    }


def _all_ready(fc: Any, ns: str, n: int) -> bool:
    items = _co(fc).list_namespaced_custom_object(G, V, ns, P)["items"]
    return len(items) == n and all((_ready(i) or {}).get("status") == "True" for i in items)


def test_operator_killed_ten_times_during_a_rollout(fc, ns, tmp_path):
    n = 200
    rng = random.Random(20261127)
    op = start_operator(fc, tmp_path)
    try:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: _co(fc).create_namespaced_custom_object(
                G, V, ns, P, _source(f"s{i:03d}")), range(n)))
        for _ in range(10):  # SIGKILL at random points of the rollout, start again at once
            time.sleep(rng.uniform(0.3, 2.5))
            op.proc.kill()
            op.proc.wait(10)
            op = start_operator(fc, tmp_path)
        wait_for(lambda: _all_ready(fc, ns, n), timeout=240, interval=2,
                 what=f"all {n} JobSources Ready after 10 kills")
        sources = {i["metadata"]["uid"]: i["metadata"]["name"] for i in
                   _co(fc).list_namespaced_custom_object(G, V, ns, P)["items"]}
        for kind, objs in _owned(fc, ns).items():
            owners = Counter(ref.uid for o in objs for ref in o.metadata.owner_references or []
                             if ref.kind == "JobSource")
            unowned = [o.metadata.name for o in objs if not o.metadata.owner_references
                       and kind != "persistentvolumeclaims"]
            assert not unowned, f"{kind} without an owner: {unowned[:5]}"
            assert set(owners) <= set(sources), f"{kind} owned by a JobSource that is gone"
            if kind != "persistentvolumeclaims":  # claims are owned only with Delete
                assert len(objs) == n and set(owners.values()) == {1}, (
                    f"{kind}: {len(objs)} objects for {n} sources, owners {owners.most_common(3)}")
        claims = _owned(fc, ns)["persistentvolumeclaims"]
        assert len(claims) == n and len({c.metadata.name for c in claims}) == n
        assert op.proc.poll() is None
    finally:
        processes.stop(op.proc)


def _restart(fc: Any, name: str) -> None:
    """Stop one component of the control plane and start it again with the same command."""
    proc = fc.cp._procs[name]
    argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    processes.stop(proc)
    fc.cp.add_process(name, processes.spawn([a.decode() for a in argv],
                                            fc.cp.log_path(f"{name}-restarted")))


def test_operator_rides_out_an_api_server_restart(fc, ns, tmp_path):
    op = start_operator(fc, tmp_path)
    try:
        _co(fc).create_namespaced_custom_object(G, V, ns, P, _source("before"))
        wait_for(lambda: _all_ready(fc, ns, 1), timeout=60, what="the first source Ready")
        _restart(fc, "kube-apiserver")
        wait_for(lambda: fc.cp.admin_client().get("/readyz").status_code == 200, timeout=60,
                 interval=0.5, what="the API server back")
        _co(fc).create_namespaced_custom_object(G, V, ns, P, _source("after"))
        wait_for(lambda: _all_ready(fc, ns, 2), timeout=90, interval=1,
                 what="a source made after the restart Ready (watch resumed or resync)")
        assert op.proc.poll() is None  # recovered without a restart of its own
    finally:
        processes.stop(op.proc)


def test_etcd_frozen_for_twenty_seconds(fc, ns, tmp_path):
    op = start_operator(fc, tmp_path)
    etcd = fc.cp._procs["etcd"]
    try:
        _co(fc).create_namespaced_custom_object(G, V, ns, P, _source("steady"))
        wait_for(lambda: _all_ready(fc, ns, 1), timeout=60, what="Ready before the freeze")
        os.kill(etcd.pid, signal.SIGSTOP)
        try:
            time.sleep(20)
        finally:
            os.kill(etcd.pid, signal.SIGCONT)
        assert op.proc.poll() is None  # no crash (loop)
        _co(fc).patch_namespaced_custom_object(G, V, ns, P, "steady",
                                               {"spec": {"schedule": "15 * * * *"}})

        def caught_up() -> bool:
            body = _co(fc).get_namespaced_custom_object(G, V, ns, P, "steady")
            cond = _ready(body) or {}
            cj = client.BatchV1Api(fc.api).read_namespaced_cron_job("jobsource-steady", ns)
            return (cond.get("status") == "True" and body["status"].get(
                "observedGeneration") == body["metadata"]["generation"]
                and cj.spec.schedule == "15 * * * *")

        wait_for(caught_up, timeout=90, interval=1, what="status and CronJob correct after")
        assert op.proc.poll() is None
    finally:
        processes.stop(op.proc)


def test_a_source_deleted_while_the_operator_is_down(fc, ns, tmp_path):
    op = start_operator(fc, tmp_path)
    try:
        _co(fc).create_namespaced_custom_object(G, V, ns, P, _source("kept"))
        _co(fc).create_namespaced_custom_object(G, V, ns, P, _source(
            "dropped", store={"sqlite": {"whenDeleted": "Delete"}}))
        wait_for(lambda: _all_ready(fc, ns, 2), timeout=60, what="both Ready")
    finally:
        processes.stop(op.proc)
    for name in ("kept", "dropped"):
        _co(fc).delete_namespaced_custom_object(G, V, ns, P, name)
    op = start_operator(fc, tmp_path)
    try:
        def cleaned() -> bool:
            left = {k: [o.metadata.name for o in v] for k, v in _owned(fc, ns).items()}
            return (not any(left[k] for k in OWNED if k != "persistentvolumeclaims")
                    and left["persistentvolumeclaims"] == ["jobscrape-store-kept"])
        wait_for(cleaned, timeout=90, interval=1,
                 what="everything owned gone; only the Retain claim left")
        assert op.proc.poll() is None
    finally:
        processes.stop(op.proc)


def _runner_pids(ns: str, name: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"jobscrape run --namespace={ns} --name={name}"],
                         capture_output=True, text=True, timeout=10).stdout
    return [int(p) for p in out.split()]


def test_runner_killed_mid_write_leaves_the_store_whole(fc, ns, tmp_path):
    n = 8_000  # 14 MB of board: under the 20 MiB cap, a second or two to parse and write
    with BoardServer(host=fc.host) as boards:
        boards.set_fault("big", scale=n)
        op = start_operator(fc, tmp_path)
        try:
            _co(fc).create_namespaced_custom_object(G, V, ns, P, _source(
                "big", boards=[{"name": "big", "type": "greenhouse", "token": "big",
                                "url": f"{boards.url}/v1/boards/big/jobs"}],
                run={"retries": 1, "requestsPerSecondPerHost": 50}))
            wait_for(lambda: _all_ready(fc, ns, 1), timeout=60, what="Ready")
            _co(fc).patch_namespaced_custom_object(G, V, ns, P, "big", {
                "metadata": {"annotations": {"jobscrape.io/run-now": "1"}}})
            wait_for(lambda: boards.requests.get("/v1/boards/big/jobs"), timeout=60,
                     interval=0.1, what="the board fetched")
            time.sleep(random.Random(7).uniform(0.5, 2.0))  # parsing or writing by now
            pids = _runner_pids(ns, "big")
            assert pids, "the runner finished before it could be killed"
            for pid in pids:
                os.kill(pid, signal.SIGKILL)

            def reported() -> dict[str, Any] | None:
                st_ = _co(fc).get_namespaced_custom_object(G, V, ns, P, "big").get("status")
                return st_ if st_ and st_.get("lastRun") else None

            status = wait_for(reported, timeout=180, interval=1,
                              what="the Job's next pod to report the run")
            assert status["postings"] == n and status["lastRun"]["result"] == "Succeeded"
            # the killed attempt either committed all of it (the retry finds nothing new) or
            # none of it (the retry creates everything): never a part
            assert status["lastRun"]["created"] in (0, n)
            db = fc.claim_dir(ns, "jobscrape-store-big") / "jobscrape.db"
            con = sqlite3.connect(db)
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert con.execute("SELECT count(*) FROM postings").fetchone() == (n,)
            con.close()
        finally:
            processes.stop(op.proc)


# --- 200 randomly generated invalid specs ------------------------------------------------------
_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                  st.text(max_size=40), st.lists(st.integers(), max_size=3),
                  st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
_FIELDS = ["schedule", "timeZone", "suspend", "concurrencyPolicy", "boards", "filters",
           "store", "notify", "run", "startingDeadlineSeconds", "successfulRunsHistoryLimit"]


@st.composite
def broken_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec with a few fields (top-level, or inside the first board or run) replaced
    by junk of any JSON type."""
    spec: dict[str, Any] = {"schedule": "0 */6 * * *", "suspend": True,
                            "boards": [{"name": "b", "type": "greenhouse", "token": "t"}],
                            "run": {"timeoutSeconds": 900}}
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["top", "board", "run"]))
        if where == "top":
            spec[draw(st.sampled_from(_FIELDS))] = draw(_JUNK)
        elif where == "board" and isinstance(spec.get("boards"), list) and spec["boards"]:
            spec["boards"][0][draw(st.sampled_from(["name", "type", "token", "url"]))] = \
                draw(_JUNK)
        elif isinstance(spec.get("run"), dict):
            spec["run"][draw(st.sampled_from(["timeoutSeconds", "concurrency", "image",
                                               "resources", "shards"]))] = draw(_JUNK)
    return spec


@st.composite
def semantically_broken_specs(draw: st.DrawFn) -> dict[str, Any]:
    """Specs of the right types and shapes, so the schema lets them in, with a value only the
    operator can judge: a time zone, a schedule's ranges, a regular expression, an image or
    resources against its policy, a Secret outside its prefix."""
    spec: dict[str, Any] = {"schedule": "0 */6 * * *", "suspend": True,
                            "boards": [{"name": "b", "type": "greenhouse", "token": "t"}]}
    what = draw(st.sampled_from(["zone", "schedule", "regex", "image", "resources",
                                 "secret"]))
    if what == "zone":
        spec["timeZone"] = draw(st.text("ABCXYZabc/_+-0", min_size=1, max_size=20))
    elif what == "schedule":
        spec["schedule"] = " ".join(str(draw(st.integers(60, 999))) for _ in range(5))
    elif what == "regex":
        spec["filters"] = {"titles": {"include": [draw(st.sampled_from(
            ["(", "[a-", "(?<=x)y", r"(a)\1", "*x", "(?P<n>a)(?P=n)"])) + draw(
            st.text("ab(", max_size=3))]}}
    elif what == "image":
        spec["run"] = {"image": "evil.example/" + draw(st.text("abcdef", min_size=1,
                                                               max_size=8)) + ":1"}
    elif what == "resources":
        spec["run"] = {"resources": {"limits": {"cpu": str(draw(st.integers(3, 512)))}}}
    else:
        spec["store"] = {"postgres": {"dsnSecretRef": {
            "name": "other-" + draw(st.text("abc", min_size=1, max_size=5)), "key": "dsn"}}}
    return spec


def generated_specs(n: int) -> list[dict[str, Any]]:
    """`n` specs drawn by hypothesis (reproducibly), without shrinking: the examples are the
    data of the test below, which creates them all and then waits once."""
    specs: list[dict[str, Any]] = []

    @settings(max_examples=n, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(spec=st.one_of(broken_specs(), semantically_broken_specs()))
    def collect(spec: dict[str, Any]) -> None:
        specs.append(spec)

    collect()
    return specs[:n]


def test_invalid_specs_are_refused_or_reported(fc, tmp_path):
    specs = generated_specs(200)
    assert len(specs) == 200
    ns = f"h-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(fc.api).create_namespace({"metadata": {"name": ns}})
    op = start_operator(fc, tmp_path)
    accepted: list[str] = []
    refused = 0
    try:
        for i, spec in enumerate(specs):
            body = {"apiVersion": f"{G}/{V}", "kind": "JobSource",
                    "metadata": {"name": f"x{i:03d}"}, "spec": spec}
            try:
                _co(fc).create_namespaced_custom_object(G, V, ns, P, body)
                accepted.append(f"x{i:03d}")
            except client.ApiException as e:
                assert e.status in (400, 422), e.body
                message = json.loads(e.body).get("message", "")
                assert "spec" in message or "Invalid value" in message, message
                refused += 1

        def all_reported() -> bool:
            items = _co(fc).list_namespaced_custom_object(G, V, ns, P)["items"]
            return len(items) == len(accepted) and all(_ready(i) for i in items)

        wait_for(all_reported, timeout=120, interval=1,
                 what=f"a Ready condition on each of {len(accepted)} accepted sources")
        for item in _co(fc).list_namespaced_custom_object(G, V, ns, P)["items"]:
            cond = _ready(item)
            assert cond and (cond["status"] == "True" or cond["reason"] == "InvalidSpec"), cond
        # both ends were exercised: the API server refused some, the operator judged others
        assert refused > 0 and len(accepted) > 0, (refused, len(accepted))
        invalid = [i for i in _co(fc).list_namespaced_custom_object(G, V, ns, P)["items"]
                   if _ready(i)["reason"] == "InvalidSpec"]
        print(f"{refused} refused by the API server, {len(accepted)} accepted, "
              f"{len(invalid)} of those marked InvalidSpec")
        assert op.proc.poll() is None  # the operator never crashed
        assert "Traceback" not in op.output()
    finally:
        processes.stop(op.proc)
        client.CoreV1Api(fc.api).delete_namespace(ns, propagation_policy="Background")
