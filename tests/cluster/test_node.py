"""A real node (kubelet + containerd + runc, devcluster/node.py) runs pods as real containers
against its own control plane in node mode, and leaves nothing behind on this machine.

Not the session `cluster` fixture (that one uses the fake pod executor): this module starts its
own ControlPlane(node_address=...) and Node, once, and stops them in its last tests.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from jobscrape_dev.devcluster import controlplane, node, processes
from jobscrape_dev.devcluster.controlplane import ControlPlane
from jobscrape_dev.devcluster.node import BUSYBOX_IMAGE, NODE_NAME, Node

from waiting import wait_for

pytestmark = pytest.mark.cluster  # a machine that cannot run a node fails here, not skips

#: what the module measured; printed by the clean-up tests (pytest -s or -rA shows it)
TIMINGS: dict[str, float] = {}
_STARTED: list[float] = []


def host_snapshot() -> dict[str, Any]:
    """What a node may change on this machine, to compare before and after. Limited to what
    can be the node's: other engineers' builds (buildah's CNI, runc) may change the rest."""
    snap: dict[str, Any] = {
        "links": sorted(x for x in os.listdir("/sys/class/net") if x.startswith("jsnode")),
        "cgroups": [str(p) for p in node.cgroup_dirs()],
        "sysctls": node.read_sysctls(),
        "host_paths": [p for p in node.HOST_PATHS if os.path.lexists(p)],
        "cni_cache": sorted(str(p) for p in (node.CNI_CACHE / "results").glob("jsnode-*")),
        "state_file": node.STATE_FILE.exists(),
        "nft_table": node.nft_table_exists(),
    }
    # kubelet's chains (KUBE-*), anything for the node's addresses or bridge
    for tool in ("iptables-save", "ip6tables-save"):
        if shutil.which(tool):
            out = subprocess.run([tool], capture_output=True, text=True, timeout=30).stdout
            snap[tool] = [x for x in out.splitlines()
                          if any(k in x for k in ("KUBE-", "10.213.", node.BRIDGE))]
    return snap


@dataclass
class RealNode:
    """The module's control plane and node, an API client and a scratch folder."""

    cp: ControlPlane
    node: Node
    api: client.ApiClient
    tmp: Path
    before: dict[str, Any]
    node_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.node_dir = self.node.dir

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", f"--kubeconfig={self.cp.kubeconfig}", f"--cache-dir={self.tmp / 'kc'}",
             *args], capture_output=True, text=True, timeout=60, check=False)

    def namespace(self, labels: dict[str, str] | None = None) -> str:
        name = f"n-{uuid.uuid4().hex[:8]}"
        self.core.create_namespace({"metadata": {"name": name, "labels": labels or {}}})
        wait_for(lambda: self.core.read_namespaced_service_account("default", name), timeout=30,
                 what="the default ServiceAccount")
        return name


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealNode]:
    tmp = tmp_path_factory.mktemp("realnode")
    before = host_snapshot()
    t0 = time.monotonic()
    _STARTED.append(t0)
    n = Node()
    try:
        n.prepare()
        cp = ControlPlane(node_address=n.address).start()
        try:
            TIMINGS["control_plane_start"] = cp.started_seconds
            busybox = node.find_node_build() / "images" / "busybox.tar"
            n.start(cp, images=[busybox])
            TIMINGS.update({f"node_{k}": v for k, v in n.timings.items()})
            TIMINGS["fixture_up"] = time.monotonic() - t0
            api = config.new_client_from_config(config_file=str(cp.kubeconfig))
            try:
                yield RealNode(cp=cp, node=n, api=api, tmp=tmp, before=before)
            finally:
                api.close()
        finally:
            try:
                n.stop()
            finally:
                cp.stop()
    finally:
        n.stop()


# --- helpers ------------------------------------------------------------------------------------
def busybox_pod(name: str, script: str, **spec: Any) -> dict[str, Any]:
    """A one-container busybox pod running `sh -c script`, never restarted."""
    container = {"name": "main", "image": BUSYBOX_IMAGE, "imagePullPolicy": "Never",
                 "command": ["sh", "-c", script], **spec.pop("container", {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                     "containers": [container], **spec}}


def wait_phase(real: RealNode, ns: str, name: str, phases: tuple[str, ...],
               timeout: float = 60) -> client.V1Pod:
    """Poll the pod until its phase is one of `phases`."""
    return wait_for(lambda: (p := real.core.read_namespaced_pod(name, ns)).status.phase in phases
                    and p, timeout=timeout, interval=0.05, what=f"pod {ns}/{name} in {phases}")


def run_to_end(real: RealNode, ns: str, body: dict[str, Any], timeout: float = 90) -> client.V1Pod:
    real.core.create_namespaced_pod(ns, body)
    return wait_phase(real, ns, body["metadata"]["name"], ("Succeeded", "Failed"), timeout)


def terminated(pod: client.V1Pod) -> client.V1ContainerStateTerminated:
    return pod.status.container_statuses[0].state.terminated


def probe_config_map(real: RealNode, ns: str) -> None:
    """ConfigMap `probe` (answer: forty-two) that the namespace's default ServiceAccount may
    get, and nothing else."""
    rbac = client.RbacAuthorizationV1Api(real.api)
    real.core.create_namespaced_config_map(ns, {"metadata": {"name": "probe"},
                                                "data": {"answer": "forty-two"}})
    rbac.create_namespaced_role(ns, {"metadata": {"name": "read-cm"}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]})
    rbac.create_namespaced_role_binding(ns, {
        "metadata": {"name": "read-cm"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-cm"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}]})


def logs(real: RealNode, ns: str, name: str) -> str:
    out = real.kubectl("logs", "-n", ns, name)
    assert out.returncode == 0, out.stderr
    return out.stdout


# --- tests --------------------------------------------------------------------------------------
def test_node_is_ready_and_schedulable(real: RealNode):
    n = real.core.read_node(NODE_NAME)
    assert {c.type: c.status for c in n.status.conditions}["Ready"] == "True"
    assert [a.address for a in n.status.addresses if a.type == "InternalIP"] == [real.node.address]
    assert not any(t.key == "node.kubernetes.io/not-ready" for t in n.spec.taints or [])
    assert n.status.node_info.kubelet_version == controlplane.K8S_VERSION
    assert n.status.node_info.container_runtime_version.startswith("containerd://")
    # the `kubernetes` Service points at the node address (pods have no kube-proxy: they use it)
    eps = real.core.read_namespaced_endpoints("kubernetes", "default")
    assert eps.subsets[0].addresses[0].ip == real.node.address
    # the guard: the node's addresses only from here, nothing forwarded off the pod bridge
    guard = subprocess.run(["nft", "list", "table", "inet", node.NFT_TABLE], capture_output=True,
                           text=True, timeout=30, check=True).stdout
    assert "hook input" in guard and "hook forward" in guard


def test_pod_runs_to_completion_with_logs_and_exit_codes(real: RealNode):
    ns = real.namespace()
    t0 = time.monotonic()
    real.core.create_namespaced_pod(ns, busybox_pod("sleeper", "sleep 30"))
    running = wait_phase(real, ns, "sleeper", ("Running",), timeout=60)
    TIMINGS["pod_create_to_running"] = time.monotonic() - t0
    assert running.spec.node_name == NODE_NAME  # placed by kube-scheduler
    assert running.status.pod_ip.startswith("10.213.1.")

    ok = run_to_end(real, ns, busybox_pod("hello", "echo hello from a real container; uname -s"))
    assert ok.status.phase == "Succeeded"
    assert terminated(ok).exit_code == 0
    assert logs(real, ns, "hello") == "hello from a real container\nLinux\n"

    bad = run_to_end(real, ns, busybox_pod("three", "echo about to fail; exit 3"))
    assert bad.status.phase == "Failed"
    assert terminated(bad).exit_code == 3
    assert logs(real, ns, "three") == "about to fail\n"
    real.core.delete_namespaced_pod("sleeper", ns, grace_period_seconds=0)


def test_job_active_deadline_kills_the_running_pod(real: RealNode):
    ns = real.namespace()
    batch = client.BatchV1Api(real.api)
    template = busybox_pod("x", "echo started; sleep 300")
    batch.create_namespaced_job(ns, {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "slow"},
        "spec": {"activeDeadlineSeconds": 5, "backoffLimit": 0,
                 "template": {"spec": template["spec"]}},
    })
    selector = "batch.kubernetes.io/job-name=slow"
    pod = wait_for(lambda: [p for p in real.core.list_namespaced_pod(ns, label_selector=selector)
                            .items if p.status.phase == "Running"], timeout=60,
                   what="the Job's pod to run")[0]
    job = wait_for(lambda: (j := batch.read_namespaced_job("slow", ns)).status.conditions and any(
        c.type == "Failed" and c.status == "True" for c in j.status.conditions) and j,
        timeout=60, what="the Job to fail")
    failed = next(c for c in job.status.conditions if c.type == "Failed")
    assert failed.reason == "DeadlineExceeded"
    # the job controller deleted the pod; the kubelet killed its container
    wait_for(lambda: not real.core.list_namespaced_pod(ns, label_selector=selector).items,
             timeout=60, what="the pod to be gone")
    assert pod.metadata.name not in real.node.ctr("containers", "list")


def test_memory_limit_kills_with_oom(real: RealNode):
    ns = real.namespace()
    body = busybox_pod("hog", "echo start; exec dd if=/dev/zero of=/dev/null bs=256M count=1",
                       container={"resources": {"limits": {"memory": "32Mi"}}})
    pod = run_to_end(real, ns, body)
    assert pod.status.phase == "Failed"
    t = terminated(pod)
    assert t.reason == "OOMKilled" or t.exit_code == 137, t


def test_restricted_security_context(real: RealNode):
    ns = real.namespace({"pod-security.kubernetes.io/enforce": "restricted"})
    script = ("id -u; grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status; "
              "touch /tmp/probe 2>&1; touch /probe 2>&1; echo done")
    body = busybox_pod(
        "locked", script,
        securityContext={"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                         "seccompProfile": {"type": "RuntimeDefault"}},
        container={"securityContext": {"allowPrivilegeEscalation": False,
                                       "readOnlyRootFilesystem": True,
                                       "capabilities": {"drop": ["ALL"]}}},
    )
    pod = run_to_end(real, ns, body)  # admitted by PodSecurity `restricted`
    assert pod.status.phase == "Succeeded"
    out = logs(real, ns, "locked")
    lines = out.splitlines()
    assert lines[0] == "65532"
    assert "Seccomp:\t2" in lines  # filter mode: RuntimeDefault applied
    assert "NoNewPrivs:\t1" in lines
    assert "CapEff:\t0000000000000000" in lines
    # /tmp is 1777 in the image: only a read-only root fs refuses the write
    assert "touch: /tmp/probe: Read-only file system" in lines, out
    assert "done" in lines


def test_pvc_bound_to_hostpath_volume_is_mounted_and_written(real: RealNode):
    ns = real.namespace()
    host_dir = real.tmp / f"pv-{ns}"
    host_dir.mkdir()
    pv_name = f"pv-{ns}"
    real.core.create_persistent_volume({
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "manual",
                 "hostPath": {"path": str(host_dir), "type": "Directory"}},
    })
    try:
        real.core.create_namespaced_persistent_volume_claim(ns, {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                     "resources": {"requests": {"storage": "100Mi"}}},
        })
        wait_for(lambda: real.core.read_namespaced_persistent_volume_claim("data", ns)
                 .status.phase == "Bound", timeout=60, what="the binder to bind the claim")
        assert real.core.read_namespaced_persistent_volume_claim("data", ns).spec.volume_name \
            == pv_name
        body = busybox_pod(
            "writer", "echo written by a pod > /data/out.txt; cat /data/out.txt",
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
            container={"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
        )
        pod = run_to_end(real, ns, body)
        assert pod.status.phase == "Succeeded", logs(real, ns, "writer")
        assert (host_dir / "out.txt").read_text() == "written by a pod\n"
        assert logs(real, ns, "writer") == "written by a pod\n"
    finally:
        real.core.delete_namespaced_pod("writer", ns, grace_period_seconds=0)
        real.core.delete_namespaced_persistent_volume_claim("data", ns)


def test_service_account_token_works_from_inside_a_pod(real: RealNode):
    """In-cluster config from inside a pod: the mounted token and CA, the API server at
    KUBERNETES_SERVICE_HOST/PORT (set to the node address: there is no kube-proxy), through
    client-go's rest.InClusterConfig (the image's static `incluster` client, verified TLS).
    busybox's own TLS cannot do it: it offers no signature_algorithms, Go >= 1.25 refuses."""
    ns = real.namespace()
    probe_config_map(real, ns)
    port = real.cp.server.rsplit(":", 1)[1]
    script = textwrap.dedent("""\
        ns=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)
        echo "== who"
        incluster POST /apis/authentication.k8s.io/v1/selfsubjectreviews \\
            '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}'
        echo; echo "== cm"
        incluster GET /api/v1/namespaces/$ns/configmaps/probe
        echo; echo "== secrets"
        incluster GET /api/v1/namespaces/$ns/secrets 2>&1 || echo "rc=$?"
    """)
    body = busybox_pod("incluster", script, container={"env": [
        {"name": "KUBERNETES_SERVICE_HOST", "value": real.node.address},
        {"name": "KUBERNETES_SERVICE_PORT", "value": port}]})
    pod = run_to_end(real, ns, body)
    out = logs(real, ns, "incluster")
    assert pod.status.phase == "Succeeded", out
    # the client prints its "HTTP <status>" line on stderr: in the pod's log it may land on
    # either side of the next section's header, so statuses are dropped before reading JSON
    raw = dict(s.split("\n", 1) for s in out.split("== ")[1:])
    sections = {k: re.sub(r"HTTP \d{3}", "", v) for k, v in raw.items()}
    assert "HTTP 201" in out and "HTTP 200" in out, out
    who = json.loads(sections["who"])
    assert who["status"]["userInfo"]["username"] == f"system:serviceaccount:{ns}:default", out
    assert json.loads(sections["cm"])["data"] == {"answer": "forty-two"}
    # RBAC applies to the pod's identity: the Role grants configmaps only
    assert "HTTP 403" in raw["secrets"] and "rc=1" in raw["secrets"], out  # (2>&1: in order)


def project_image_archive() -> Path | None:
    """The project image's OCI archive when hack/build-image.sh made one (not built here)."""
    cache = Path(os.environ.get("JOBSCRAPE_CACHE", Path.home() / ".cache" / "jobscrape"))
    archive = Path(os.environ.get("JOBSCRAPE_IMAGE_ARCHIVE",
                                  cache / "image" / "jobscrape-latest.oci.tar"))
    return archive.resolve() if archive.exists() else None


def test_project_image_uses_in_cluster_config(real: RealNode):
    """The project image's own kubernetes client, config.load_incluster_config(), from a pod:
    the token, the CA and the API server at the node address."""
    archive = project_image_archive()
    assert archive is not None, "no project image archive: bash hack/build-image.sh makes one"
    with tarfile.open(archive) as tar:
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
    ref = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
    t0 = time.monotonic()
    real.node.import_images([archive], timeout=300)
    TIMINGS["project_image_import"] = time.monotonic() - t0
    ns = real.namespace()
    probe_config_map(real, ns)
    script = textwrap.dedent("""\
        from kubernetes import client, config
        config.load_incluster_config()
        ns = open("/var/run/secrets/kubernetes.io/serviceaccount/namespace").read()
        review = client.AuthenticationV1Api().create_self_subject_review(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        print(review.status.user_info.username)
        print(client.CoreV1Api().read_namespaced_config_map("probe", ns).data["answer"])
    """)
    # no env override: the pod reaches the `kubernetes` Service's ClusterIP, which the node
    # routes to the API server (what kube-proxy does on a real cluster)
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pyclient"}, "spec": {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "main", "image": ref, "imagePullPolicy": "Never",
                        "command": ["python3", "-c", script]}]}}
    pod = run_to_end(real, ns, body, timeout=120)
    out = logs(real, ns, "pyclient")
    assert pod.status.phase == "Succeeded", out
    assert out.splitlines() == [f"system:serviceaccount:{ns}:default", "forty-two"]


def test_pod_reaches_a_host_server_on_the_node_address(real: RealNode):
    secret = uuid.uuid4().hex

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(f"{secret} {self.client_address[0]}".encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer((real.node.address, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ns = real.namespace()
        url = f"http://{real.node.address}:{server.server_address[1]}/"
        pod = run_to_end(real, ns, busybox_pod("client", f"timeout 20 wget -q -O - {url}"))
        assert pod.status.phase == "Succeeded"
        got_secret, client_ip = logs(real, ns, "client").split()
        assert got_secret == secret
        assert client_ip == pod.status.pod_ip  # straight from the pod network, no NAT
    finally:
        server.shutdown()
        server.server_close()


def test_node_servers_are_unreachable_through_other_interfaces(real: RealNode):
    """The nft guard: a peer that routes the node address through another interface of this
    machine (here a veth into a network namespace made for the test) gets nothing, while the
    same path to an address of that interface works."""
    holder = subprocess.Popen(["unshare", "--net", "sleep", "120"])
    ns = ["nsenter", f"--net=/proc/{holder.pid}/ns/net"]
    try:
        wait_for(lambda: os.readlink(f"/proc/{holder.pid}/ns/net") != os.readlink(
            "/proc/self/ns/net"), timeout=10, what="the probe's network namespace")
        for argv in (["ip", "link", "add", "jsnode-p0", "type", "veth", "peer", "jsnode-p1"],
                     ["ip", "link", "set", "jsnode-p1", "netns", str(holder.pid)],
                     ["ip", "addr", "add", "169.254.213.1/30", "dev", "jsnode-p0"],
                     ["ip", "link", "set", "jsnode-p0", "up"],
                     [*ns, "ip", "addr", "add", "169.254.213.2/30", "dev", "jsnode-p1"],
                     [*ns, "ip", "link", "set", "jsnode-p1", "up"],
                     [*ns, "ip", "route", "add", "10.213.0.0/23", "via", "169.254.213.1"]):
            subprocess.run(argv, check=True, timeout=30, capture_output=True)
        control = http.server.HTTPServer(("169.254.213.1", 0), http.server.BaseHTTPRequestHandler)
        probe = ("import socket, sys\n"
                 "try:\n    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)\n"
                 "except OSError as e:\n    sys.exit(f'{type(e).__name__}: {e}')\n")

        def connect(host: str, port: int) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*ns, sys.executable, "-c", probe, host, str(port)],
                                  capture_output=True, text=True, timeout=30)

        try:
            assert connect("169.254.213.1", control.server_address[1]).returncode == 0
        finally:
            control.server_close()
        api_port = int(real.cp.server.rsplit(":", 1)[1])
        for port in (api_port, node.KUBELET_PORT):
            blocked = connect(real.node.address, port)
            assert blocked.returncode != 0 and "timed out" in blocked.stderr, blocked
    finally:
        subprocess.run(["ip", "link", "del", "jsnode-p0"], capture_output=True, timeout=30)
        holder.kill()
        holder.wait(timeout=30)


def test_stop_leaves_nothing_behind(real: RealNode):
    """Stopped with a container running: no process, mount, cgroup, interface, nft table,
    iptables rule, sysctl change, kubelet/containerd host path or libcni entry stays."""
    ns = real.namespace()
    real.core.create_namespaced_pod(ns, busybox_pod("still-running", "sleep 600"))
    wait_phase(real, ns, "still-running", ("Running",))
    pids = [*real.node.pids.values(), *real.cp.pids.values()]
    ports = os.listdir(f"/sys/class/net/{node.BRIDGE}/brif")  # running pods' veths
    cni_cache = node.our_cni_cache_files(real.node_dir)
    assert ports and cni_cache and node.mounts_under(real.node_dir)
    t0 = time.monotonic()
    real.node.stop()
    TIMINGS["node_stop"] = time.monotonic() - t0
    real.cp.stop()
    assert not any(processes.pid_alive(p) for p in pids)
    assert node.our_processes(real.node_dir) == []  # no kubelet, containerd, shim, runc
    assert node.mounts_under(real.node_dir) == []
    assert not real.node_dir.exists()
    assert node.cgroup_dirs() == []
    assert not node.link_exists(node.BRIDGE)
    assert not [p for p in ports if node.link_exists(p)]
    assert not [f for f in cni_cache if f.exists()]
    after = host_snapshot()
    assert after == real.before
    TIMINGS["module_until_stop"] = time.monotonic() - _STARTED[0]
    print("\nreal-node timings (s): " + json.dumps({k: round(v, 2) for k, v in TIMINGS.items()}))


_OWNER = """
import json, sys, time
from pathlib import Path
from kubernetes import client, config
from jobscrape_dev.devcluster.controlplane import ControlPlane
from jobscrape_dev.devcluster.node import BUSYBOX_IMAGE, Node, find_node_build
n = Node().prepare()
cp = ControlPlane(node_address=n.address).start()
n.start(cp, images=[find_node_build() / "images" / "busybox.tar"])
core = client.CoreV1Api(config.new_client_from_config(config_file=str(cp.kubeconfig)))
core.create_namespaced_pod("default", {"metadata": {"name": "orphan"}, "spec": {
    "containers": [{"name": "c", "image": BUSYBOX_IMAGE, "imagePullPolicy": "Never",
                    "command": ["sleep", "600"]}]}})
deadline = time.monotonic() + 60
while core.read_namespaced_pod("orphan", "default").status.phase != "Running":
    assert time.monotonic() < deadline
    time.sleep(0.1)
print(json.dumps({"dir": str(n.dir), "pids": {**n.pids, **cp.pids}}), flush=True)
time.sleep(600)
"""


def test_a_dead_owners_node_is_cleaned_by_the_next(real: RealNode, tmp_path: Path):
    """SIGKILL of the owning process: kubelet and containerd die with it; its containers, shims,
    mounts, cgroups, bridge, nft table and sysctls stay until the next node cleans them."""
    real.node.stop()  # one node per machine: the module's (stopped already, in file order)
    real.cp.stop()
    owner = subprocess.Popen([sys.executable, "-c", _OWNER], stdout=subprocess.PIPE, text=True,
                             stderr=open(tmp_path / "owner.err", "w"))  # noqa: SIM115
    try:
        line = owner.stdout.readline() if owner.stdout else ""
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
    assert line, (tmp_path / "owner.err").read_text()[-3000:]
    info = json.loads(line)
    node_dir = Path(info["dir"])
    wait_for(lambda: not any(processes.pid_alive(p) for p in info["pids"].values()),
             timeout=30, what="kubelet, containerd and the control plane to die with the owner")
    # what a crash leaves: the container and its shim run on, mounts and network stay
    assert node.our_processes(node_dir), "the shim died too?"
    assert node.mounts_under(node_dir)
    assert node.cgroup_dirs() and node.link_exists(node.BRIDGE) and node.STATE_FILE.exists()

    t0 = time.monotonic()
    assert node.cleanup_stale(timeout=60) == [str(node_dir)]
    TIMINGS["stale_cleanup"] = time.monotonic() - t0
    controlplane.remove_stale_workdirs()
    assert node.our_processes(node_dir) == []
    assert node.mounts_under(node_dir) == []
    assert not node_dir.exists()
    assert host_snapshot() == real.before
    TIMINGS["module"] = time.monotonic() - _STARTED[0]
    print("\nreal-node timings (s): " + json.dumps({k: round(v, 2) for k, v in TIMINGS.items()}))
