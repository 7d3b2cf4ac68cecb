"""A real Kubernetes node for the local control plane: kubelet + containerd + runc (opt-in).

Pods run as real runc containers through kubelet v1.36 (built by hack/build-node.sh) and
Debian's containerd, against a `ControlPlane(node_address=NODE_ADDRESS)`:

    node = Node().prepare()              # machine lock, leftovers of a dead owner, network
    cp = ControlPlane(node_address=node.address).start()
    node.start(cp, images=[...])         # containerd, images, kubelet; returns once Ready
    ...
    node.stop(); cp.stop()

Networking stays on this machine. The kernel here has no dummy interfaces, so the node address
NODE_ADDRESS (10.213.0.1/32) lives on the pod bridge BRIDGE (jsnode0, 10.213.1.1/24 is the
pods' gateway) that the node creates and deletes itself; kubelet and, in node mode, the API
server listen on it. The CNI bridge plugin runs without gateway mode and without masquerading,
so the node never turns IP forwarding on, and an nftables table of its own (`inet jsnode`)
drops (a) packets for 10.213.0.0/23 arriving on any interface but lo and the bridge, so nothing
else reaches the node's servers even by routing to them explicitly, and (b) anything forwarded
between the bridge and another interface, so pods reach this machine's addresses only, even
while something else on the machine has forwarding on.

One node per machine (interface names, cgroups and kubelet's fixed host paths are global):
`prepare()` takes an flock on LOCK_FILE (bounded wait) and keeps STATE_FILE (owner pid, node
dir, sysctl values before, host paths it created). containerd and kubelet die with their owner;
whatever a dead owner left (container processes, shims, mounts, cgroups, interfaces, the nft
table, the sysctls kubelet sets, /var/lib/kubelet, /var/log/containers, /run/containerd, its
entries in libcni's /var/lib/cni) is cleaned by the next `prepare()` or `cleanup_stale()`.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from jobscrape_dev import REPO_ROOT
from jobscrape_dev.devcluster import processes

if TYPE_CHECKING:
    from jobscrape_dev.devcluster.controlplane import ControlPlane

NODE_NAME = "jobscrape-node"
NODE_ADDRESS = "10.213.0.1"
POD_SUBNET = "10.213.1.0/24"
POD_GATEWAY = "10.213.1.1"
GUARDED_RANGE = "10.213.0.0/23"
BRIDGE = "jsnode0"
#: the bridge's own MAC, set explicitly: a Linux bridge without one takes the lowest MAC of
#: its ports, so each new pod's veth could change it, and pods that had resolved the node
#: address to the old MAC lost every packet to the node (API server, PostgreSQL, board
#: servers) until their ARP entry expired, 15-45 s: the connect timeouts seen in sharded runs
BRIDGE_MAC = "02:6a:73:6e:00:01"
NFT_TABLE = "jsnode"
CNI_NETWORK = "jsnode"
CGROUP_ROOT = "jobscrape"
PAUSE_IMAGE = "localhost/jobscrape/pause:3.10"
BUSYBOX_IMAGE = "localhost/jobscrape/busybox:1.35"
KUBELET_PORT = 10250
LOCK_FILE = Path("/tmp/jobscrape-node.lock")
STATE_FILE = Path("/tmp/jobscrape-node.state.json")
BUILD_SCRIPT = REPO_ROOT / "hack" / "build-node.sh"
CGROUP_FS = Path("/sys/fs/cgroup")
#: sysctls kubelet sets without an opt-out: restored at stop
SYSCTLS = (
    "vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic", "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes",
)
#: fixed host paths kubelet and containerd use whatever their configuration says (the last
#: three are configured away, listed to notice a change): removed at stop when the node created
#: them. Paths other tools share (/run/runc, /run/mount, /etc/cni) are not touched.
HOST_PATHS = (
    "/var/lib/kubelet", "/var/log/containers", "/run/containerd",
    "/var/log/pods", "/opt/containerd", "/usr/libexec/kubernetes",
)
#: libcni's cache (containerd 1.6 cannot move it), shared with buildah/podman: only the node's
#: entries are removed, the folders only when empty and made by the node
CNI_CACHE = Path("/var/lib/cni")
#: processes of ours are these programs with the node dir on their command line
_OUR_PROGRAMS = {"kubelet", "containerd", "containerd-shim-runc-v2", "runc", "ctr"}
_MNT_DETACH = 2


class NodeError(RuntimeError):
    """The node could not be built, started or cleaned; the message says which part and why."""


def find_node_build() -> Path:
    """The folder with bin/kubelet, bin/kube-scheduler and images/*.tar, building if needed.

    $JOBSCRAPE_NODE_DIR when it holds them, else hack/build-node.sh (cached by version).
    """
    d = os.environ.get("JOBSCRAPE_NODE_DIR")
    if d and (Path(d) / "bin" / "kubelet").exists() and (Path(d) / "images" / "pause.tar").exists():
        return Path(d)
    out = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True,
                         check=False, timeout=3600)
    if out.returncode != 0:
        raise NodeError(f"building the node failed:\n{out.stderr[-4000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def unsupported_reason() -> str | None:
    """Why a real node cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "needs root"
    if not (CGROUP_FS / "memory").is_dir():
        return "needs the cgroup v1 memory hierarchy at /sys/fs/cgroup/memory"
    return None


# --- host helpers -------------------------------------------------------------------------------
def _run(argv: Sequence[str], timeout: float = 60.0, check: bool = True,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                         check=False, input=stdin)
    if check and out.returncode != 0:
        raise NodeError(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()}")
    return out


def _sysctl_path(key: str) -> Path:
    return Path("/proc/sys") / key.replace(".", "/")


def read_sysctls(keys: Sequence[str] = SYSCTLS) -> dict[str, str]:
    """Current values of `keys` (those this kernel has)."""
    return {k: _sysctl_path(k).read_text().strip() for k in keys if _sysctl_path(k).exists()}


def mounts_under(root: Path) -> list[str]:
    """Mount points at or below `root`, deepest first."""
    prefix = str(root).rstrip("/") + "/"
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mp = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4])
        if mp == str(root) or mp.startswith(prefix):
            found.append(mp)
    return sorted(set(found), key=lambda p: (p.count("/"), p), reverse=True)


def our_processes(node_dir: Path) -> list[int]:
    """Pids of kubelet, containerd, shims and runc whose command line names `node_dir`."""
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            argv = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0].decode(errors="replace")) in _OUR_PROGRAMS \
                and str(node_dir).encode() in b" ".join(argv):
            pids.append(int(p.name))
    return pids


def our_cni_cache_files(node_dir: Path) -> list[Path]:
    """libcni's cached results for the node's network and its pod sandboxes (loopback too)."""
    results = CNI_CACHE / "results"
    if not results.is_dir():
        return []
    cri = "io.containerd.grpc.v1.cri/sandboxes"
    ids = {d.name for base in ("root", "state")
           for d in (node_dir / "containerd" / base / cri).glob("*")}
    return [f for f in results.iterdir()
            if f.name.startswith(f"{CNI_NETWORK}-") or any(f"-{i}-" in f.name for i in ids)]


def cgroup_dirs() -> list[Path]:
    """The node's cgroup root in every mounted hierarchy that has one."""
    if not CGROUP_FS.is_dir():
        return []
    return [h / CGROUP_ROOT for h in sorted(CGROUP_FS.iterdir()) if (h / CGROUP_ROOT).is_dir()]


def _cgroup_pids() -> set[int]:
    pids: set[int] = set()
    for root in cgroup_dirs():
        for procs in root.rglob("cgroup.procs"):
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(x) for x in procs.read_text().split())
    return pids


def link_exists(name: str) -> bool:
    """Whether a network interface of that name exists."""
    return Path("/sys/class/net", name).exists()


def nft_table_exists() -> bool:
    """Whether the node's nftables table exists."""
    return shutil.which("nft") is not None and \
        _run(["nft", "list", "table", "inet", NFT_TABLE], check=False).returncode == 0


def _kill_all(pids: Sequence[int] | set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _wait_until(fn: Any, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if fn():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


# --- clean-up (a live node's stop and a dead owner's leftovers) ----------------------------------
def _teardown(state: dict[str, Any], procs: dict[str, subprocess.Popen[bytes]]) -> list[str]:
    """Undo everything a node did on this machine; return what could not be undone."""
    problems: list[str] = []
    node_dir = Path(state["dir"])
    # 1. kubelet first (it would restart containers), then every container process and shim
    if "kubelet" in procs:
        processes.stop(procs.pop("kubelet"), grace=10)
    _kill_all(_kubelets(node_dir))  # a dead owner's kubelet died with it; just in case
    for _ in range(50):
        left = _cgroup_pids()
        if not left:
            break
        _kill_all(left)
        time.sleep(0.1)
    else:
        problems.append(f"processes left in the node's cgroups: {sorted(_cgroup_pids())}")
    if "containerd" in procs:
        processes.stop(procs.pop("containerd"), grace=10)
    for _ in range(50):
        left_pids = our_processes(node_dir)
        if not left_pids:
            break
        _kill_all(left_pids)
        time.sleep(0.1)
    else:
        problems.append(f"processes of the node still running: {our_processes(node_dir)}")
    # 2. mounts below the node dir (overlay rootfs, shm, netns, kubelet's root, projected tmpfs)
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    for _ in range(5):
        mps = mounts_under(node_dir)
        if not mps:
            break
        for mp in mps:
            libc.umount2(mp.encode(), _MNT_DETACH)
    if mounts_under(node_dir):
        problems.append(f"mounts left: {mounts_under(node_dir)}")
    # 3. cgroups, leaves first (a dying task keeps its cgroup busy for a moment)
    def rm_cgroups() -> bool:
        for root in cgroup_dirs():
            subdirs = sorted((p for p in root.rglob("*") if p.is_dir()),
                             key=lambda p: len(p.parts), reverse=True)
            for d in [*subdirs, root]:
                with contextlib.suppress(OSError):
                    d.rmdir()
        return not cgroup_dirs()
    if not _wait_until(rm_cgroups, timeout=10, interval=0.2):
        problems.append(f"cgroups left: {cgroup_dirs()}")
    # 4. network: the pods' veths go with their netns; the bridge and the nft table are ours
    brif = Path("/sys/class/net", BRIDGE, "brif")
    _wait_until(lambda: not brif.exists() or not any(brif.iterdir()), timeout=5)
    if brif.exists():
        for port in brif.iterdir():
            _run(["ip", "link", "del", port.name], check=False)
    if link_exists(BRIDGE):
        _run(["ip", "link", "del", BRIDGE], check=False)
    if link_exists(BRIDGE):
        problems.append(f"interface {BRIDGE} left")
    if nft_table_exists():
        _run(["nft", "delete", "table", "inet", NFT_TABLE], check=False)
        if nft_table_exists():
            problems.append(f"nft table inet {NFT_TABLE} left")
    # 5. sysctls back to what they were (only those that changed)
    for key, value in state.get("sysctls", {}).items():
        path = _sysctl_path(key)
        try:
            if path.read_text().strip() != value:
                path.write_text(value)
        except OSError as e:
            problems.append(f"sysctl {key}={value} not restored: {e}")
    # 6. host paths the node created, and libcni's result cache of our network
    for p in state.get("created_paths", []):
        if mounts_under(Path(p)):
            problems.append(f"{p} has mounts: not removed")
        else:
            shutil.rmtree(p, ignore_errors=True)
    for f in our_cni_cache_files(node_dir):
        f.unlink(missing_ok=True)
    if state.get("cni_cache_created"):
        for d in (CNI_CACHE / "results", CNI_CACHE):
            with contextlib.suppress(OSError):
                d.rmdir()
    # 7. the node dir, only when nothing is mounted below it any more
    if node_dir.exists():
        if mounts_under(node_dir):
            problems.append(f"{node_dir} kept: mounts below it")
        else:
            shutil.rmtree(node_dir, ignore_errors=True)
    return problems


def _kubelets(node_dir: Path) -> set[int]:
    out = set()
    for pid in our_processes(node_dir):
        with contextlib.suppress(OSError):
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            if argv0.endswith(b"kubelet"):
                out.add(pid)
    return out


def _acquire_lock(timeout: float) -> int:
    fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise NodeError(f"another local node holds {LOCK_FILE} (waited {timeout:.0f}s); "
                                f"its state: {STATE_FILE}") from None
            time.sleep(0.5)


def _clean_leftovers() -> list[str]:
    """With the lock held: undo what a node whose owner is gone left behind."""
    try:
        state = json.loads(STATE_FILE.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        STATE_FILE.unlink(missing_ok=True)
        return []
    problems = _teardown(state, {})
    if problems:
        raise NodeError("could not clean what a dead node left:\n" + "\n".join(problems))
    STATE_FILE.unlink(missing_ok=True)
    return [state["dir"]]


def cleanup_stale(timeout: float = 60.0) -> list[str]:
    """Clean what a node whose owner died left (if any); return the node dirs cleaned."""
    fd = _acquire_lock(timeout)
    try:
        return _clean_leftovers()
    finally:
        os.close(fd)


# --- the node -----------------------------------------------------------------------------------
@dataclass
class Node:
    """kubelet + containerd on this machine as node `jobscrape-node`; see the module doc."""

    build_dir: Path | None = None
    lock_timeout: float = 600.0
    address: str = field(init=False, default=NODE_ADDRESS)
    service_address: str = field(init=False, default="")  # the `kubernetes` Service's ClusterIP
    dir: Path = field(init=False)
    timings: dict[str, float] = field(init=False, default_factory=dict)
    _lock_fd: int | None = field(init=False, default=None)
    _state: dict[str, Any] = field(init=False, default_factory=dict)
    _procs: dict[str, subprocess.Popen[bytes]] = field(init=False, default_factory=dict)

    # --- lifecycle -------------------------------------------------------------------------
    def prepare(self) -> Node:
        """Take the machine's node lock, clean a dead owner's leftovers, create the network.

        The control plane needs the node address before it starts: call this first."""
        if self._lock_fd is not None:
            return self
        reason = unsupported_reason()
        if reason:
            raise NodeError(f"a local node {reason}")
        self._lock_fd = _acquire_lock(self.lock_timeout)
        try:
            _clean_leftovers()
            self.dir = Path(tempfile.mkdtemp(prefix="jobscrape-node-"))
            self._state = {
                "owner": os.getpid(), "dir": str(self.dir), "sysctls": read_sysctls(),
                "created_paths": [p for p in HOST_PATHS if not os.path.lexists(p)],
                "cni_cache_created": not CNI_CACHE.exists(),
            }
            self._save_state()
            self._network_up()
        except BaseException:
            with contextlib.suppress(NodeError):  # the original error matters more
                self.stop()
            raise
        return self

    def start(self, control_plane: ControlPlane, images: Sequence[Path] = (),
              timeout: float = 120.0) -> Node:
        """Start containerd, import the pause image and `images` (OCI archives), start kubelet;
        return once the node is Ready and schedulable (the not-ready taint gone), within
        `timeout` seconds after the build. On failure everything is undone."""
        self.prepare()
        if getattr(control_plane, "node_address", None) != self.address:
            self.stop()
            raise NodeError(f"start the control plane with node_address={self.address!r}")
        t0 = time.monotonic()
        try:
            build = self.build_dir or find_node_build()  # minutes when not built yet
            self.timings["build"] = time.monotonic() - t0
            t = time.monotonic()
            deadline = t + timeout
            self._start_containerd(deadline)
            self.timings["containerd"] = time.monotonic() - t
            t = time.monotonic()
            self.import_images([build / "images" / "pause.tar", *images],
                               timeout=max(5.0, deadline - time.monotonic()))
            self.timings["images"] = time.monotonic() - t
            self._make_cgroups()
            self._route_service(control_plane, deadline)
            t = time.monotonic()
            self._start_kubelet(build, control_plane)
            self._wait_node(control_plane, deadline, t)
        except BaseException:
            with contextlib.suppress(NodeError):
                self.stop()
            raise
        self.timings["start"] = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Stop kubelet, containers and containerd and undo every change to the machine; safe
        to call more than once. NodeError lists what could not be undone."""
        if self._lock_fd is None:
            return
        problems = _teardown(self._state, self._procs) if self._state else []
        if not problems:
            STATE_FILE.unlink(missing_ok=True)
        os.close(self._lock_fd)
        self._lock_fd = None
        self._state = {}
        if problems:
            raise NodeError("node clean-up incomplete:\n" + "\n".join(problems))

    def __enter__(self) -> Node:
        return self.prepare()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- accessors -------------------------------------------------------------------------
    @property
    def pids(self) -> dict[str, int]:
        """The pid of kubelet and containerd."""
        return {n: p.pid for n, p in self._procs.items()}

    @property
    def containerd_socket(self) -> Path:
        return self.dir / "containerd" / "containerd.sock"

    def log_path(self, component: str) -> Path:
        """The log file of kubelet or containerd."""
        return self.dir / "logs" / f"{component}.log"

    def import_images(self, archives: Sequence[Path], timeout: float = 300.0) -> None:
        """Import OCI/Docker archives into containerd's k8s.io namespace (pods then use them
        with imagePullPolicy: Never), within `timeout` seconds for all."""
        deadline = time.monotonic() + timeout
        for archive in archives:
            self.ctr("images", "import", str(archive),
                     timeout=max(1.0, deadline - time.monotonic()))

    def add_address(self, address: str) -> None:
        """Another address of the node, on the pod bridge (pods reach servers there as on a
        host of its own); it goes with the bridge when the node stops."""
        ip = ipaddress.ip_address(address)
        if ip not in ipaddress.ip_network(GUARDED_RANGE) or ip in ipaddress.ip_network(
                POD_SUBNET) or address == self.address:
            raise NodeError(f"{address} is not a free node address in {GUARDED_RANGE} "
                            f"outside the pods' {POD_SUBNET}")
        if address not in _run(["ip", "-o", "addr", "show", "dev", BRIDGE]).stdout.split():
            _run(["ip", "addr", "add", f"{address}/32", "dev", BRIDGE])

    def ctr(self, *args: str, timeout: float = 60.0) -> str:
        """Run `ctr` against this node's containerd in the k8s.io namespace; its stdout."""
        out = _run(["ctr", "--address", str(self.containerd_socket), "--namespace", "k8s.io",
                    *args], timeout=timeout)
        return out.stdout

    # --- internals -------------------------------------------------------------------------
    def _save_state(self) -> None:
        tmp = STATE_FILE.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state, indent=1))
        tmp.replace(STATE_FILE)

    def _network_up(self) -> None:
        if link_exists(BRIDGE):
            raise NodeError(f"interface {BRIDGE} exists already (not made by a node of ours)")
        _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        _run(["ip", "link", "set", BRIDGE, "address", BRIDGE_MAC])
        _run(["ip", "addr", "add", f"{self.address}/32", "dev", BRIDGE])
        _run(["ip", "addr", "add", f"{POD_GATEWAY}/{POD_SUBNET.split('/')[1]}", "dev", BRIDGE])
        _run(["ip", "link", "set", BRIDGE, "up"])
        guard = (
            f"table inet {NFT_TABLE} {{\n"
            f"  chain input {{\n"
            f"    type filter hook input priority -10; policy accept;\n"
            f'    ip daddr {GUARDED_RANGE} iifname != {{ "lo", "{BRIDGE}" }} drop\n'
            f"  }}\n"
            f"  chain forward {{\n"
            f"    type filter hook forward priority -10; policy accept;\n"
            f'    iifname "{BRIDGE}" oifname != "{BRIDGE}" drop\n'
            f'    oifname "{BRIDGE}" iifname != "{BRIDGE}" drop\n'
            f"  }}\n"
            f"}}\n"
        )
        _run(["nft", "-f", "-"], stdin=guard)

    def _route_service(self, cp: ControlPlane, deadline: float) -> None:
        """What kube-proxy would do for the one Service pods need: connections from pods to
        the `kubernetes` Service (its ClusterIP, port 443, which every pod gets as
        KUBERNETES_SERVICE_HOST/PORT) go to the API server at the node address. One DNAT rule
        in our nft table, removed with it."""
        cluster_ip = ""
        while time.monotonic() < deadline and not cluster_ip:
            with cp.admin_client() as c:
                r = c.get("/api/v1/namespaces/default/services/kubernetes")
            cluster_ip = r.json().get("spec", {}).get("clusterIP", "") if r.is_success else ""
            if not cluster_ip:
                time.sleep(0.2)
        if not cluster_ip:
            raise NodeError("the kubernetes Service has no ClusterIP")
        port = cp.server.rsplit(":", 1)[1]
        _run(["nft", "-f", "-"], stdin=(
            f"table inet {NFT_TABLE} {{\n"
            f"  chain prerouting {{\n"
            f"    type nat hook prerouting priority -100; policy accept;\n"
            f'    iifname "{BRIDGE}" ip daddr {cluster_ip} tcp dport 443 '
            f"dnat ip to {self.address}:{port}\n"
            f"  }}\n"
            f"}}\n"))
        self.service_address = cluster_ip

    def _start_containerd(self, deadline: float) -> None:
        d = self.dir / "containerd"
        (self.dir / "logs").mkdir(exist_ok=True)
        for sub in ("root", "state", "opt", "runc-root", "cni/conf", "cni/ipam"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        q = json.dumps  # a JSON string is a valid TOML basic string
        (d / "config.toml").write_text(f"""\
version = 2
root = {q(str(d / "root"))}
state = {q(str(d / "state"))}
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = {q(str(self.containerd_socket))}
[ttrpc]
  address = {q(str(self.containerd_socket) + ".ttrpc")}
[debug]
  address = {q(str(d / "debug.sock"))}
[plugins."io.containerd.internal.v1.opt"]
  path = {q(str(d / "opt"))}
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = {q(PAUSE_IMAGE)}
  enable_selinux = false
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = {q(shutil.which("runc") or "/usr/sbin/runc")}
        Root = {q(str(d / "runc-root"))}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = {q(str(d / "cni" / "conf"))}
    max_conf_num = 1
""")
        (d / "cni" / "conf" / "10-jsnode.conflist").write_text(json.dumps({
            "cniVersion": "1.0.0", "name": CNI_NETWORK,
            "plugins": [{
                "type": "bridge", "bridge": BRIDGE, "isGateway": False, "ipMasq": False,
                "ipam": {"type": "host-local", "dataDir": str(d / "cni" / "ipam"),
                         "ranges": [[{"subnet": POD_SUBNET, "gateway": POD_GATEWAY}]],
                         "routes": [{"dst": "0.0.0.0/0"}]},
            }],
        }, indent=1))
        self._spawn("containerd", ["containerd", "--config", str(d / "config.toml")])
        while True:
            self._check_alive()
            if _run(["ctr", "--address", str(self.containerd_socket), "version"], timeout=10,
                    check=False).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise NodeError("containerd not up in time:\n" + self._tail("containerd"))
            time.sleep(0.1)

    def _make_cgroups(self) -> None:
        for h in sorted(CGROUP_FS.iterdir()):
            if h.is_dir() and (h / "cgroup.procs").exists():
                (h / CGROUP_ROOT).mkdir(exist_ok=True)
        cpuset = CGROUP_FS / "cpuset"
        if (cpuset / CGROUP_ROOT).is_dir():
            for f in ("cpuset.cpus", "cpuset.mems"):
                (cpuset / CGROUP_ROOT / f).write_text((cpuset / f).read_text())

    def _start_kubelet(self, build: Path, cp: ControlPlane) -> None:
        k = self.dir / "kubelet"
        (k / "pod-logs").mkdir(parents=True)
        (k / "volume-plugins").mkdir()
        self._healthz_port = processes.free_port()
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": f"/{CGROUP_ROOT}",
            "cgroupsPerQOS": True,
            "enforceNodeAllocatable": ["pods"],
            "failSwapOn": False,
            "failCgroupV1": False,
            "address": self.address,
            "port": KUBELET_PORT,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": self._healthz_port,
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                               "x509": {"clientCAFile": str(cp.pki.ca_cert)}},
            "authorization": {"mode": "Webhook"},
            "podLogsDir": str(k / "pod-logs"),
            "volumePluginDir": str(k / "volume-plugins"),
            "resolvConf": "/etc/resolv.conf",
            "registerNode": True,
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%",
                             "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "maxPods": 20,
            "makeIPTablesUtilChains": False,
        }
        (k / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        self._spawn("kubelet", [
            str(build / "bin" / "kubelet"),
            f"--config={k / 'config.yaml'}",
            f"--kubeconfig={cp.kubeconfig}",
            f"--hostname-override={NODE_NAME}",
            f"--node-ip={self.address}",
            f"--root-dir={k / 'root'}",
            f"--cert-dir={k / 'pki'}",
            "--v=2",
        ])

    def _wait_node(self, cp: ControlPlane, deadline: float, t0: float) -> None:
        """Ready, then the not-ready taint removed by the node lifecycle controller."""
        ready = False
        with cp.admin_client(timeout=2.0) as c:
            while True:
                self._check_alive()
                try:
                    r = c.get(f"/api/v1/nodes/{NODE_NAME}")
                    node = r.json() if r.status_code == 200 else {}
                except httpx.HTTPError:
                    node = {}
                conds = {x["type"]: x["status"]
                         for x in node.get("status", {}).get("conditions", [])}
                if conds.get("Ready") == "True" and not ready:
                    ready = True
                    self.timings["ready"] = time.monotonic() - t0
                taints = [t["key"] for t in node.get("spec", {}).get("taints", [])]
                if ready and "node.kubernetes.io/not-ready" not in taints:
                    self.timings["schedulable"] = time.monotonic() - t0
                    return
                if time.monotonic() > deadline:
                    what = f"schedulable (taints: {taints})" if ready else "Ready"
                    raise NodeError(f"node not {what} in time:\n" + self._tail("kubelet"))
                time.sleep(0.1)

    def _spawn(self, name: str, argv: list[str]) -> None:
        self._procs[name] = processes.spawn(argv, self.log_path(name))
        self._state.setdefault("pids", {})[name] = self._procs[name].pid
        self._save_state()

    def _check_alive(self) -> None:
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                raise NodeError(f"{name} exited with code {proc.returncode}:\n" + self._tail(name))

    def _tail(self, name: str) -> str:
        return processes.tail(self.log_path(name), lines=40)
