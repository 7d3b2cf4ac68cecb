"""A local-path volume provisioner for the real node (what kind's local-path-provisioner does):
for every pending PersistentVolumeClaim without a storage class, a hostPath PersistentVolume
under one folder, pre-bound to the claim, so the PV binder controller binds them; a volume
whose claim is gone is deleted with its folder."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch

log = logging.getLogger("jobscrape_dev.provisioner")


def volume_name(claim: Any) -> str:
    """The PersistentVolume of a claim: unique per claim uid."""
    return f"local-{claim.metadata.uid}"


def claim_dir(root: Path, namespace: str, claim_name: str) -> Path:
    """Where a claim's volume lives on the node."""
    return root / namespace / claim_name


def volume_for(claim: Any, root: Path) -> dict[str, Any]:
    """A hostPath PersistentVolume for `claim`, pre-bound to it."""
    size = ((claim.spec.resources and claim.spec.resources.requests) or {}).get("storage", "1Gi")
    path = claim_dir(root, claim.metadata.namespace, claim.metadata.name)
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": volume_name(claim),
                         "labels": {"jobscrape.io/local-provisioner": "true"}},
            "spec": {"capacity": {"storage": size},
                     "accessModes": claim.spec.access_modes or ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
                     "hostPath": {"path": str(path), "type": "DirectoryOrCreate"},
                     "claimRef": {"namespace": claim.metadata.namespace,
                                  "name": claim.metadata.name, "uid": claim.metadata.uid}}}


class Provisioner:
    """Watches claims in a thread; `stop()` ends it."""

    def __init__(self, kubeconfig: Path, root: Path) -> None:
        self.root = root
        self.api = config.new_client_from_config(config_file=str(kubeconfig))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="provisioner")

    def start(self) -> Provisioner:
        """Start watching."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (within a few seconds)."""
        self._stop.set()
        self._thread.join(15)
        self.api.close()

    def _run(self) -> None:
        core = client.CoreV1Api(self.api)
        while not self._stop.is_set():
            try:
                self._provision_pending(core)
                self._reclaim_released(core)
                for ev in watch.Watch().stream(core.list_persistent_volume_claim_for_all_namespaces,
                                               timeout_seconds=2, _request_timeout=10):
                    if ev["type"] in ("ADDED", "MODIFIED"):
                        self._provision(core, ev["object"])
                    if self._stop.is_set():
                        break
            except Exception as e:  # the API server restarting: try again
                log.debug("provisioner: %s", e)
                self._stop.wait(0.5)

    def _provision_pending(self, core: client.CoreV1Api) -> None:
        for claim in core.list_persistent_volume_claim_for_all_namespaces().items:
            self._provision(core, claim)

    def _provision(self, core: client.CoreV1Api, claim: Any) -> None:
        if (claim.status.phase != "Pending" or claim.spec.volume_name
                or claim.spec.storage_class_name or claim.metadata.deletion_timestamp):
            return
        path = claim_dir(self.root, claim.metadata.namespace, claim.metadata.name)
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)  # the runner runs as 65532; the claim is the pod's to use
        try:
            core.create_persistent_volume(volume_for(claim, self.root))
        except client.ApiException as e:
            if e.status != 409:
                raise

    def _reclaim_released(self, core: client.CoreV1Api) -> None:
        for pv in core.list_persistent_volume(
                label_selector="jobscrape.io/local-provisioner=true").items:
            if pv.status.phase == "Released":
                core.delete_persistent_volume(pv.metadata.name)
                shutil.rmtree(pv.spec.host_path.path, ignore_errors=True)
