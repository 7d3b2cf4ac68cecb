"""A pod executor for the local control plane, standing in for a kubelet and container runtime.

It watches the Pods that Jobs create, marks them Running, runs the first container's command as
a local process (jobscrape image only) with the container's environment, a ServiceAccount token
from the TokenRequest API (so RBAC applies), and volume mounts mapped onto local directories
(a PersistentVolumeClaim is a persistent directory per claim, an emptyDir a temp dir). Output is
kept as the pod's log; activeDeadlineSeconds is honoured; the pod ends Succeeded or Failed with
the process's exit code, so the real Job and CronJob controllers finish the Job.

Container paths in args and env values are rewritten onto the local directories of their mounts:
the process does not run in a mount namespace.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from jobscrape_dev.devcluster import podenv, processes
from jobscrape_dev.devcluster.kubeconfig import write_kubeconfig

log = logging.getLogger("jobscrape.executor")
JOB_POD_SELECTOR = "batch.kubernetes.io/controller-uid"
TOKEN_SECONDS = 3600


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_jobscrape_bin() -> str:
    """The `jobscrape` script installed beside this Python."""
    candidate = Path(sys.executable).parent / "jobscrape"
    return str(candidate) if candidate.exists() else (shutil.which("jobscrape") or "jobscrape")


class PodExecutor:
    """Runs Job pods of the cluster behind `kubeconfig` as local processes."""

    def __init__(
        self,
        kubeconfig: Path,
        state_dir: Path,
        extra_images: tuple[str, ...] = (),
        jobscrape_bin: str | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.state_dir = state_dir
        self.extra_images = extra_images
        self.jobscrape_bin = jobscrape_bin or default_jobscrape_bin()
        self.api_client = config.new_client_from_config(config_file=str(kubeconfig))
        self.core = client.CoreV1Api(self.api_client)
        cfg = self.api_client.configuration
        self.server: str = cfg.host
        self.ca_cert = Path(cfg.ssl_ca_cert)
        self._seen: set[str] = set()
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._killed: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        for sub in ("pvc", "logs", "pods"):
            (state_dir / sub).mkdir(parents=True, exist_ok=True)

    # --- watch loop ------------------------------------------------------------------------
    def run(self) -> None:
        """Watch Job pods until stop() is called, running each new one once."""
        rv = ""
        while not self._stop.is_set():
            try:
                if not rv:
                    pods = self.core.list_pod_for_all_namespaces(
                        label_selector=JOB_POD_SELECTOR, _request_timeout=30)
                    rv = pods.metadata.resource_version
                    for pod in pods.items:
                        self._on_event("ADDED", self.api_client.sanitize_for_serialization(pod))
                w = watch.Watch()
                for ev in w.stream(
                    self.core.list_pod_for_all_namespaces, label_selector=JOB_POD_SELECTOR,
                    resource_version=rv, timeout_seconds=30, _request_timeout=60,
                    allow_watch_bookmarks=True,
                ):
                    if self._stop.is_set():
                        w.stop()
                        break
                    obj = ev["raw_object"]
                    rv = obj.get("metadata", {}).get("resourceVersion", rv)
                    if ev["type"] in ("ADDED", "MODIFIED", "DELETED"):
                        self._on_event(ev["type"], obj)
            except ApiException as e:
                if e.status == 410:
                    rv = ""
                else:
                    log.warning("watch failed: %s", e.reason)
                    time.sleep(1)
            except Exception as e:  # network hiccup: re-list
                log.warning("watch error: %s", e)
                rv = ""
                time.sleep(1)

    def stop(self) -> None:
        """Stop watching and kill every running pod process."""
        self._stop.set()
        with self._lock:
            procs = list(self._running.values())
        for p in procs:
            processes.stop(p, grace=5)

    def _on_event(self, kind: str, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        uid = meta["uid"]
        if kind == "DELETED" or meta.get("deletionTimestamp"):
            self._kill(uid, "the pod was deleted")
            return
        if pod.get("status", {}).get("phase", "Pending") != "Pending" or uid in self._seen:
            return
        self._seen.add(uid)
        threading.Thread(target=self._run_pod, args=(pod,), daemon=True,
                         name=f"pod-{meta['name']}").start()

    def _kill(self, uid: str, why: str) -> None:
        with self._lock:
            proc = self._running.get(uid)
            if proc is not None:
                self._killed[uid] = why
        if proc is not None:
            processes.stop(proc, grace=5)

    # --- one pod ---------------------------------------------------------------------------
    def log_path(self, namespace: str, name: str) -> Path:
        """Where a pod's output is kept."""
        return self.state_dir / "logs" / f"{namespace}_{name}.log"

    def _run_pod(self, pod: dict[str, Any]) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        ns, name, uid = meta["namespace"], meta["name"], meta["uid"]
        container = spec["containers"][0]
        pod_dir = Path(tempfile.mkdtemp(prefix=f"{ns}_{name}_", dir=self.state_dir / "pods"))
        try:
            if not podenv.is_jobscrape_image(container.get("image", ""), self.extra_images):
                self._finish(pod, None, 1, "ErrImageNotSupported",
                             f"image {container.get('image')!r} cannot run here: the local "
                             "executor runs only the jobscrape image")
                return
            try:
                argv, env, cwd = self._prepare(pod, container, pod_dir)
            except (podenv.PodConfigError, ApiException) as e:
                msg = e.reason if isinstance(e, ApiException) else str(e)
                self._finish(pod, None, 1, "CreateContainerConfigError", msg)
                return
            started = _now()
            self._patch_status(pod, {
                "phase": "Running", "startTime": started, "hostIP": "127.0.0.1",
                "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}],
                "conditions": [{"type": "Ready", "status": "True",
                                "lastTransitionTime": started}],
                "containerStatuses": [self._cstatus(container, {"running": {"startedAt": started}},
                                                    ready=True)],
            })
            with open(self.log_path(ns, name), "ab") as out:
                proc = subprocess.Popen(
                    argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,
                    preexec_fn=processes._die_with_parent,
                )
            with self._lock:
                self._running[uid] = proc
            deadline = spec.get("activeDeadlineSeconds")
            try:
                code = proc.wait(timeout=deadline)
                reason = None
            except subprocess.TimeoutExpired:
                processes.stop(proc, grace=5)
                code, reason = proc.returncode, "DeadlineExceeded"
            with self._lock:
                self._running.pop(uid, None)
                killed = self._killed.pop(uid, None)
            if killed:
                return  # the pod object is gone; nothing to report
            if reason == "DeadlineExceeded":
                self._finish(pod, started, code if code and code > 0 else 137, reason,
                             "Pod was active on the node longer than the specified deadline")
            else:
                self._finish(pod, started, code, None, "")
        except Exception as e:
            log.exception("running pod %s/%s failed", ns, name)
            try:  # never leave a pod Pending or Running forever
                self._finish(pod, None, 1, "ExecutorError", f"{type(e).__name__}: {e}"[:300])
            except Exception:
                log.exception("could not fail pod %s/%s", ns, name)
        finally:
            shutil.rmtree(pod_dir, ignore_errors=True)

    def _prepare(
        self, pod: dict[str, Any], container: dict[str, Any], pod_dir: Path
    ) -> tuple[list[str], dict[str, str], str]:
        meta, spec = pod["metadata"], pod["spec"]
        ns = meta["namespace"]
        mounts = self._mounts(pod, container, pod_dir)
        env = podenv.container_env(container, pod, lambda k, n: self._lookup(ns, k, n))
        env = {k: podenv.map_path(v, mounts) for k, v in env.items()}
        entry, *rest = podenv.container_argv(container, self.jobscrape_bin, sys.executable)
        argv = [entry, *(podenv.map_path(a, mounts) for a in rest)]  # entry is a host path
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(pod_dir),
                "TMPDIR": str(pod_dir), "HOSTNAME": meta["name"], "LANG": "C.UTF-8"}
        if spec.get("automountServiceAccountToken", True):
            token = self._token(pod)
            kc = write_kubeconfig(pod_dir / "kubeconfig", self.server, self.ca_cert,
                                  token=token, namespace=ns)
            base["KUBECONFIG"] = str(kc)
        base.update(env)
        cwd = podenv.map_path(container.get("workingDir") or str(pod_dir), mounts)
        return argv, base, cwd if Path(cwd).is_dir() else str(pod_dir)

    def _mounts(self, pod: dict[str, Any], container: dict[str, Any], pod_dir: Path
                ) -> dict[str, str]:
        ns = pod["metadata"]["namespace"]
        volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
        mounts: dict[str, str] = {}
        for m in container.get("volumeMounts") or []:
            vol = volumes.get(m["name"])
            if vol is None:
                raise podenv.PodConfigError(f"volumeMount {m['name']!r} names no volume")
            if "persistentVolumeClaim" in vol:
                claim = vol["persistentVolumeClaim"]["claimName"]
                try:
                    self.core.read_namespaced_persistent_volume_claim(claim, ns,
                                                                      _request_timeout=10)
                except ApiException as e:
                    if e.status == 404:
                        raise podenv.PodConfigError(
                            f"persistentvolumeclaim {claim!r} not found") from None
                    raise
                local = self.state_dir / "pvc" / ns / claim
            elif "emptyDir" in vol or "projected" in vol or "secret" in vol or "configMap" in vol:
                local = pod_dir / "volumes" / m["name"]
            else:
                raise podenv.PodConfigError(f"volume {m['name']!r}: type not supported locally")
            local.mkdir(parents=True, exist_ok=True)
            if "secret" in vol or "configMap" in vol:
                kind = "secretRef" if "secret" in vol else "configMapRef"
                ref = vol.get("secret", {}).get("secretName") or vol["configMap"].get("name")
                for k, v in self._lookup(ns, kind, ref).items():
                    (local / k).write_text(v)
            sub = m.get("subPath")
            mounts[m["mountPath"]] = str(local / sub) if sub else str(local)
        return mounts

    def _lookup(self, ns: str, kind: str, name: str) -> dict[str, str]:
        try:
            if kind == "secretRef":
                s = self.core.read_namespaced_secret(name, ns, _request_timeout=10)
                return {k: base64.b64decode(v).decode() for k, v in (s.data or {}).items()}
            cm = self.core.read_namespaced_config_map(name, ns, _request_timeout=10)
            return dict(cm.data or {})
        except ApiException as e:
            if e.status == 404:
                raise KeyError(name) from None
            raise

    def _token(self, pod: dict[str, Any]) -> str:
        meta = pod["metadata"]
        sa = pod["spec"].get("serviceAccountName") or "default"
        body = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
            audiences=[], expiration_seconds=TOKEN_SECONDS,
            bound_object_ref=client.V1BoundObjectReference(
                api_version="v1", kind="Pod", name=meta["name"], uid=meta["uid"]),
        ))
        tr = self.core.create_namespaced_service_account_token(sa, meta["namespace"], body,
                                                               _request_timeout=10)
        return str(tr.status.token)

    @staticmethod
    def _cstatus(container: dict[str, Any], state: dict[str, Any], ready: bool) -> dict[str, Any]:
        return {"name": container["name"], "image": container.get("image", ""),
                "imageID": "", "ready": ready, "started": ready, "restartCount": 0,
                "state": state}

    def _finish(self, pod: dict[str, Any], started: str | None, code: int | None,
                reason: str | None, message: str) -> None:
        container = pod["spec"]["containers"][0]
        finished = _now()
        code = -1 if code is None else code
        if code < 0:  # killed by a signal: report like a container runtime does
            code = 128 + abs(code)
        ok = code == 0 and reason is None
        term = {"exitCode": code, "reason": reason or ("Completed" if ok else "Error"),
                "startedAt": started or finished, "finishedAt": finished}
        if message:
            term["message"] = message
        status: dict[str, Any] = {
            "phase": "Succeeded" if ok else "Failed",
            "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": finished,
                            "reason": "PodCompleted" if ok else "PodFailed"}],
            "containerStatuses": [self._cstatus(container, {"terminated": term}, ready=False)],
        }
        if started is None:
            status["startTime"] = finished
        if reason in ("DeadlineExceeded", "ErrImageNotSupported", "CreateContainerConfigError",
                      "ExecutorError"):
            status["reason"], status["message"] = reason, message
        self._patch_status(pod, status)

    def _patch_status(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        meta = pod["metadata"]
        try:
            self.core.patch_namespaced_pod_status(meta["name"], meta["namespace"],
                                                  {"status": status}, _request_timeout=15)
        except ApiException as e:
            if e.status != 404:
                raise


def start_executor(kubeconfig: Path, state_dir: Path, log_path: Path,
                   extra_images: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """Run the executor as a child process (it dies with this process)."""
    argv = [sys.executable, "-m", "jobscrape_dev.devcluster.executor",
            f"--kubeconfig={kubeconfig}", f"--state-dir={state_dir}"]
    argv += [f"--image={i}" for i in extra_images]
    return processes.spawn(argv, log_path)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the executor until SIGTERM or SIGINT."""
    p = argparse.ArgumentParser(prog="jobscrape-executor", description=__doc__)
    p.add_argument("--kubeconfig", type=Path, required=True)
    p.add_argument("--state-dir", type=Path, required=True)
    p.add_argument("--image", action="append", default=[],
                   help="another image reference the executor may run as jobscrape")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    ex = PodExecutor(args.kubeconfig, args.state_dir, tuple(args.image))

    def _term(*_: object) -> None:
        ex.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    ex.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
