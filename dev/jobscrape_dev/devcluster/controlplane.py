"""Start and stop a real Kubernetes control plane on loopback, the way envtest does.

etcd, kube-apiserver (TLS, RBAC, ServiceAccount token signing, PodSecurity admission) and
kube-controller-manager (job, cronjob, garbage-collector, namespace, ttl-after-finished,
serviceaccount, pvc- and pv-protection controllers) run as child processes on free ports,
with all state in one temp dir that `stop()` removes. Children die with this process even
when it is killed.

Opt-in node mode, `ControlPlane(node_address=...)`, for a real kubelet (devcluster/node.py; the
address must already be on an interface of this machine, `Node.prepare()` puts it there): the
API server binds and advertises that address instead of 127.0.0.1 (its serving cert names it,
the kubeconfigs point there; the `kubernetes` Service's endpoint is that address, pods set
KUBERNETES_SERVICE_HOST/PORT to it as there is no kube-proxy), talks to kubelets with the admin
client cert at their InternalIP; the controller manager also runs the node-lifecycle and
persistentvolume-binder controllers, and kube-scheduler (from hack/build-node.sh) runs.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from jobscrape_dev import REPO_ROOT
from jobscrape_dev.devcluster import processes
from jobscrape_dev.devcluster.certs import ClusterPKI, make_pki
from jobscrape_dev.devcluster.kubeconfig import write_kubeconfig

K8S_VERSION = "v1.36.3"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
CONTROLLERS = (
    "job", "cronjob", "garbagecollector", "namespace", "ttl-after-finished",
    "serviceaccount", "serviceaccount-token", "root-ca-cert-publisher",
    # the storage-object-in-use admission puts finalizers on claims and volumes: without
    # these a namespace that held a claim never finishes terminating
    "pvc-protection", "pv-protection",
    # a Deployment's pod (the Helm chart's operator, tests/cluster/test_helm.py)
    "deployment", "replicaset",
)
#: node mode only: the not-ready taint goes once the kubelet reports Ready; claims bind to volumes
NODE_CONTROLLERS = ("node-lifecycle-controller", "persistentvolume-binder-controller")
WORKDIR_PREFIX = "jobscrape-devcluster-"
BUILD_SCRIPT = REPO_ROOT / "hack" / "build-control-plane.sh"

_AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    verbs: ["watch"]
  - level: Metadata
"""


class ControlPlaneError(RuntimeError):
    """The control plane could not be built or started; the message says which part and why."""


def find_binaries() -> Path:
    """The folder holding etcd, kube-apiserver and kube-controller-manager, building if needed.

    Order: $JOBSCRAPE_K8S_BIN_DIR, $KUBEBUILDER_ASSETS (when it has all three), else the
    project's build script (cached by version, so seconds once built).
    """
    for var in ("JOBSCRAPE_K8S_BIN_DIR", "KUBEBUILDER_ASSETS"):
        d = os.environ.get(var)
        if d and all(os.access(Path(d) / b, os.X_OK) for b in BINARIES):
            return Path(d)
    if not BUILD_SCRIPT.exists():
        raise ControlPlaneError(
            f"control-plane binaries not found: set JOBSCRAPE_K8S_BIN_DIR or KUBEBUILDER_ASSETS "
            f"(no build script at {BUILD_SCRIPT})"
        )
    out = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, check=False, timeout=3600
    )
    if out.returncode != 0:
        raise ControlPlaneError(f"building the control plane failed:\n{out.stderr[-4000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def remove_stale_workdirs() -> None:
    """Delete work dirs left by control planes whose owning process is gone (e.g. SIGKILL)."""
    root = Path(tempfile.gettempdir())
    for d in root.glob(f"{WORKDIR_PREFIX}*"):
        pid_file = d / "owner.pid"
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            pid = -1
        if pid <= 0 or not processes.pid_alive(pid):
            shutil.rmtree(d, ignore_errors=True)


@dataclass
class ControlPlane:
    """A running local control plane; use as a context manager or call start()/stop()."""

    bin_dir: Path | None = None
    audit: bool = False
    extra_apiserver_args: tuple[str, ...] = ()
    node_address: str | None = None
    workdir: Path = field(init=False)
    pki: ClusterPKI = field(init=False)
    kubeconfig: Path = field(init=False)
    server: str = field(init=False, default="")
    _procs: dict[str, subprocess.Popen[bytes]] = field(init=False, default_factory=dict)
    started_seconds: float = field(init=False, default=0.0)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self, timeout: float = 90.0) -> ControlPlane:
        """Start etcd, the API server and the controller manager; return when the API is ready."""
        t0 = time.monotonic()
        remove_stale_workdirs()
        if self.node_address:
            _check_local_address(self.node_address)
        bins = self.bin_dir or find_binaries()
        self.workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
        (self.workdir / "owner.pid").write_text(str(os.getpid()))
        atexit.register(self.stop)
        try:
            (self.workdir / "logs").mkdir()
            self.pki = make_pki(self.workdir / "pki", extra_ips=(
                (self.node_address,) if self.node_address else ()))
            etcd_url = self._start_etcd(bins)
            port = processes.free_port()
            self.server = f"https://{self.node_address or '127.0.0.1'}:{port}"
            self.kubeconfig = write_kubeconfig(
                self.workdir / "admin.kubeconfig", self.server, self.pki.ca_cert,
                client_cert=self.pki.admin.cert, client_key=self.pki.admin.key,
            )
            self._start_apiserver(bins, etcd_url, port)
            self._wait_ready(deadline=t0 + timeout)
            self._start_controller_manager(bins)
            self._wait_controllers(deadline=t0 + timeout)
            if self.node_address:
                self._start_scheduler(deadline=t0 + timeout)
        except BaseException:
            self.stop()
            raise
        self.started_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Stop every process and remove the work dir; safe to call more than once."""
        for name in reversed(list(self._procs)):
            processes.stop(self._procs.pop(name))
        wd = getattr(self, "workdir", None)
        if wd is not None and wd.exists():
            shutil.rmtree(wd, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- accessors -------------------------------------------------------------------------
    @property
    def pids(self) -> dict[str, int]:
        """The pid of each running component."""
        return {n: p.pid for n, p in self._procs.items()}

    @property
    def audit_log(self) -> Path:
        """Where the API server writes its audit log (when started with audit=True)."""
        return self.workdir / "logs" / "audit.log"

    def log_path(self, component: str) -> Path:
        """The log file of one component."""
        return self.workdir / "logs" / f"{component}.log"

    def admin_client(self, timeout: float = 10.0) -> httpx.Client:
        """An httpx client authenticated as cluster admin (for raw API checks)."""
        return httpx.Client(base_url=self.server, verify=self._ssl_context(), timeout=timeout)

    def add_process(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        """Let the control plane stop another child (e.g. the pod executor) with itself."""
        self._procs[name] = proc

    # --- internals -------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        ctx.load_cert_chain(str(self.pki.admin.cert), str(self.pki.admin.key))
        return ctx

    def _spawn(self, name: str, argv: list[str]) -> None:
        self._procs[name] = processes.spawn(argv, self.log_path(name))

    def _start_etcd(self, bins: Path) -> str:
        client, peer = processes.free_port(), processes.free_port()
        url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        self._spawn("etcd", [
            str(bins / "etcd"),
            "--name=default",
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={url}", f"--advertise-client-urls={url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ])
        return url

    def _start_apiserver(self, bins: Path, etcd_url: str, port: int) -> None:
        p = self.pki
        host = self.node_address or "127.0.0.1"
        args = [
            str(bins / "kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            f"--bind-address={host}", f"--advertise-address={host}",
            f"--secure-port={port}",
            f"--cert-dir={self.workdir / 'apiserver-certs'}",
            f"--tls-cert-file={p.serving_cert}", f"--tls-private-key-file={p.serving_key}",
            f"--client-ca-file={p.ca_cert}",
            f"--service-account-key-file={p.sa_public_key}",
            f"--service-account-signing-key-file={p.sa_private_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--authorization-mode=RBAC",
            "--enable-admission-plugins=PodSecurity",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--allow-privileged=false",
            "--profiling=false",
            "--v=1",
        ]
        if self.node_address:  # `kubectl logs/exec`: kubelet's webhook authn/authz admits admin
            args += [f"--kubelet-client-certificate={p.admin.cert}",
                     f"--kubelet-client-key={p.admin.key}",
                     "--kubelet-preferred-address-types=InternalIP"]
        if self.audit:
            policy = self.workdir / "audit-policy.yaml"
            policy.write_text(_AUDIT_POLICY)
            args += [f"--audit-policy-file={policy}", f"--audit-log-path={self.audit_log}",
                     "--audit-log-format=json", "--audit-log-mode=blocking"]
        args += list(self.extra_apiserver_args)
        self._spawn("kube-apiserver", args)

    def _start_controller_manager(self, bins: Path) -> None:
        p = self.pki
        kc = write_kubeconfig(
            self.workdir / "kcm.kubeconfig", self.server, p.ca_cert,
            client_cert=p.controller_manager.cert, client_key=p.controller_manager.key,
        )
        self._spawn("kube-controller-manager", [
            str(bins / "kube-controller-manager"),
            f"--kubeconfig={kc}",
            f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}",
            "--bind-address=127.0.0.1", f"--secure-port={processes.free_port()}",
            f"--cert-dir={self.workdir / 'kcm-certs'}",
            f"--controllers={','.join(self._controllers())}",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={p.sa_private_key}",
            f"--root-ca-file={p.ca_cert}",
            "--leader-elect=false",
            "--concurrent-job-syncs=10", "--concurrent-cron-job-syncs=10",
            "--v=1",
        ])

    def _controllers(self) -> tuple[str, ...]:
        return CONTROLLERS + (NODE_CONTROLLERS if self.node_address else ())

    def _start_scheduler(self, deadline: float) -> None:
        """kube-scheduler (node mode), as admin; return once its /healthz answers."""
        from jobscrape_dev.devcluster.node import find_node_build  # node mode only

        scheduler = find_node_build() / "bin" / "kube-scheduler"  # a first build takes minutes
        deadline = max(deadline, time.monotonic() + 30)
        port = processes.free_port()
        kc = str(self.kubeconfig)
        self._spawn("kube-scheduler", [
            str(scheduler),
            f"--kubeconfig={kc}",
            f"--authentication-kubeconfig={kc}", f"--authorization-kubeconfig={kc}",
            "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={self.workdir / 'scheduler-certs'}",
            "--leader-elect=false",
            "--v=1",
        ])
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=False,
                          timeout=2.0) as c:
            while True:
                self._check_alive()
                try:
                    if c.get("/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise ControlPlaneError("kube-scheduler not healthy in time:\n"
                                            + processes.tail(self.log_path("kube-scheduler")))
                time.sleep(0.2)

    def _check_alive(self) -> None:
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                tail = processes.tail(self.log_path(name))
                raise ControlPlaneError(f"{name} exited with code {proc.returncode}:\n{tail}")

    def _wait_ready(self, deadline: float) -> None:
        """The API server answers /readyz."""
        self._wait_for("/readyz", "kube-apiserver", "ready", deadline)

    def _wait_controllers(self, deadline: float) -> None:
        """The serviceaccount controller creating `default` in `default` shows the KCM works."""
        self._wait_for("/api/v1/namespaces/default/serviceaccounts/default",
                       "kube-controller-manager", "working", deadline)

    def _wait_for(self, path: str, component: str, what: str, deadline: float) -> None:
        """Poll GET `path` as admin until it answers 200; ControlPlaneError with the tail of
        `component`'s log when a child died or the deadline passed."""
        with self.admin_client(timeout=2.0) as c:
            while True:
                self._check_alive()
                try:
                    if c.get(path).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise ControlPlaneError(f"{component} not {what} in time:\n"
                                            + processes.tail(self.log_path(component)))
                time.sleep(0.2)


def _check_local_address(address: str) -> None:
    """ControlPlaneError unless `address` is on an interface of this machine."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((address, 0))
        except OSError as e:
            raise ControlPlaneError(
                f"node address {address} is not on an interface of this machine ({e}): "
                "call Node.prepare() before starting the control plane") from e
