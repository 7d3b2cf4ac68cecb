"""A local cluster for the tests and the demo: a control plane whose pods a real node runs
(kubelet, containerd, runc, the project's image), or the fake pod executor as an explicit
fallback for machines that cannot run a kubelet."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client, config

from jobscrape_dev.devcluster import provisioner
from jobscrape_dev.devcluster.controlplane import ControlPlane
from jobscrape_dev.devcluster.executor import start_executor
from jobscrape_dev.devcluster.node import Node
from jobscrape_dev.devcluster.provisioner import Provisioner
from jobscrape_dev.image import project_image

#: Who runs the pods of the session's cluster: "node" (a real kubelet, containerd and runc:
#: devcluster/node.py; what CI uses) or "fake" (the pod executor, an explicit fallback for
#: machines that cannot run a kubelet). The header of every test run says which.
POD_RUNNER = os.environ.get("JOBSCRAPE_POD_RUNNER", "node")
if POD_RUNNER not in ("node", "fake"):
    raise SystemExit(f"JOBSCRAPE_POD_RUNNER={POD_RUNNER!r}: use node or fake")


@dataclass
class Cluster:
    """The running control plane, its admin API client, and who runs its pods.

    `host`: the address test servers listen on so that pods reach them (the node address with
    a real node, loopback with the fake executor); `runner_image`: the image runner pods use.
    """

    cp: ControlPlane
    api: client.ApiClient
    host: str = "127.0.0.1"
    runner_image: str = "ghcr.io/jobscrape/jobscrape:dev"
    node: Node | None = None
    volumes: Path | None = None  # the node's PersistentVolumes (one folder per claim)
    executor_state: Path | None = None  # the fake executor's folders

    @property
    def kubeconfig(self) -> Path:
        return self.cp.kubeconfig

    def server_hosts(self, n: int) -> list[str]:
        """`n` distinct addresses that test servers can listen on and pods reach, each a host
        of its own to the runner: 10.213.0.2... on the node's bridge, 127.0.0.2... without a
        node."""
        if n > 60:
            raise ValueError("at most 60 server hosts")
        if self.node is None:
            return [f"127.0.0.{2 + i}" for i in range(n)]
        base = self.node.address.rsplit(".", 1)[0]
        hosts = [f"{base}.{2 + i}" for i in range(n)]
        for h in hosts:
            self.node.add_address(h)
        return hosts

    def pod_log(self, namespace: str, name: str) -> str:
        """What a pod printed."""
        if self.executor_state is not None:
            p = self.executor_state / "logs" / f"{namespace}_{name}.log"
            return p.read_text(errors="replace") if p.exists() else ""
        try:
            return client.CoreV1Api(self.api).read_namespaced_pod_log(name, namespace)
        except client.ApiException:
            return ""

    def pod_logs(self, namespace: str) -> str:
        """What every pod of a namespace printed."""
        pods = client.CoreV1Api(self.api).list_namespaced_pod(namespace).items
        return "".join(self.pod_log(namespace, p.metadata.name) for p in pods)

    def claim_dir(self, namespace: str, claim: str) -> Path:
        """Where a PersistentVolumeClaim's files are on this machine."""
        if self.executor_state is not None:
            return self.executor_state / "pvc" / namespace / claim
        assert self.volumes is not None
        return provisioner.claim_dir(self.volumes, namespace, claim)


def start_cluster(audit: bool = True, runner: str = POD_RUNNER, node_lock_timeout: float = 600.0
                  ) -> tuple[Cluster, Callable[[], object]]:
    """A control plane with a real node (or the fake executor); returns the cluster and a
    function that stops all of it. NodeError when the machine's one node is still held by
    another process after `node_lock_timeout` seconds."""
    if runner == "fake":
        cp = ControlPlane(audit=audit).start()
        state = cp.workdir / "executor"
        state.mkdir()
        cp.add_process("executor", start_executor(cp.kubeconfig, state,
                                                  cp.workdir / "logs" / "executor.log"))
        api = config.new_client_from_config(config_file=str(cp.kubeconfig))
        return Cluster(cp=cp, api=api, executor_state=state), lambda: (api.close(), cp.stop())
    image, archive = project_image()
    node = Node(lock_timeout=node_lock_timeout).prepare()
    cp = None
    try:
        cp = ControlPlane(audit=audit, node_address=node.address).start()
        node.start(cp, images=[archive])
        volumes = node.dir / "volumes"
        prov = Provisioner(cp.kubeconfig, volumes).start()
    except BaseException:
        if cp is not None:
            cp.stop()
        node.stop()
        raise
    api = config.new_client_from_config(config_file=str(cp.kubeconfig))

    def stop() -> None:
        api.close()
        prov.stop()
        try:
            node.stop()
        finally:
            cp.stop()
    return Cluster(cp=cp, api=api, host=node.address, runner_image=image, node=node,
                   volumes=volumes), stop
