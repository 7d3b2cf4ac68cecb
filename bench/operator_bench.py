"""Operator benchmark (prints figures; not a test).

With the operator running against the local control plane: create N JobSources and time until
every CronJob exists and every JobSource is Ready; count the API writes the operator made per
source (from the API server's audit log, by the operator's own user) and during one idle
resync; read the operator's peak RSS. In the same run, time creating N CronJobs directly with
the same client concurrency: the floor.

    .venv/bin/python bench/operator_bench.py            # N=1000
    .venv/bin/python bench/operator_bench.py -n 5000
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml
from kubernetes import client

from jobscrape.kubeclient import Kube, load_api_client
from jobscrape_dev.devcluster import processes
from jobscrape_dev.devcluster.controlplane import ControlPlane
from jobscrape_dev.devcluster.identity import service_account_kubeconfig

REPO = Path(__file__).resolve().parents[1]
THREADS = 32
SCHEDULE = "0 */6 * * *"


def _parallel(fn, items) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(fn, items))
    return time.perf_counter() - t0


def _source(i: int) -> dict:
    return {"apiVersion": "jobscrape.io/v1alpha1", "kind": "JobSource",
            "metadata": {"name": f"src-{i:05d}", "namespace": "bench"},
            "spec": {"schedule": SCHEDULE,
                     "boards": [{"name": "gh", "type": "greenhouse", "token": f"t{i}"}]}}


def _cronjob(i: int) -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": f"floor-{i:05d}", "namespace": "floor"},
            "spec": {"schedule": SCHEDULE, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "runner", "image": "ghcr.io/jobscrape/jobscrape:0.1.0",
                                "args": ["run"]}]}}}}}}


def _rss_peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _writes(audit: Path, user: str, start_line: int = 0, verbs: tuple[str, ...] = (
        "create", "update", "patch", "delete")) -> tuple[int, collections.Counter]:
    per: collections.Counter[str] = collections.Counter()
    lines = audit.read_text().splitlines()
    for line in lines[start_line:]:
        ev = json.loads(line)
        if ev.get("user", {}).get("username") == user and ev.get("verb") in verbs:
            ref = ev.get("objectRef", {})
            per[f"{ev['verb']} {ref.get('resource')}"
                f"{'/' + ref['subresource'] if ref.get('subresource') else ''}"] += 1
    return len(lines), per


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=1000)
    p.add_argument("--resync-seconds", type=float, default=60.0)
    args = p.parse_args()
    n = args.n
    with ControlPlane(audit=True) as cp, tempfile.TemporaryDirectory() as tmp:
        admin = load_api_client(str(cp.kubeconfig))
        kube = Kube(admin)
        core = client.CoreV1Api(admin)
        for ns in ("bench", "floor"):
            core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        ext = client.ApiextensionsV1Api(admin)
        ext.create_custom_resource_definition(
            yaml.safe_load((REPO / "crds" / "jobsources.jobscrape.io.yaml").read_text()))
        time.sleep(2)

        floor = _parallel(lambda i: kube.create(_cronjob(i)), range(n))
        print(f"floor: {n} CronJobs created directly in {floor:.1f}s "
              f"({n / floor:.0f}/s, {THREADS} client threads)", flush=True)

        kc = service_account_kubeconfig(admin, cp.server, cp.pki.ca_cert,
                                         Path(tmp) / "op.kubeconfig", "jobscrape-system",
                                         "jobscrape-operator", cluster_role="cluster-admin")
        user = "system:serviceaccount:jobscrape-system:jobscrape-operator"
        log = Path(tmp) / "operator.log"
        op = processes.spawn([sys.executable, "-m", "jobscrape.cli", "operator",
                              f"--kubeconfig={kc}", "--health-bind-address=",
                              "--metrics-bind-address=",
                              f"--resync-seconds={args.resync_seconds}",
                              "--log-level=WARNING"], log)
        try:
            time.sleep(3)  # operator start-up, outside the timed part
            t0 = time.perf_counter()
            create_time = _parallel(lambda i: kube.create(_source(i)), range(n))

            def done() -> tuple[int, int]:
                cjs = len(kube.list("batch/v1", "CronJob", "bench"))
                ready = sum(
                    1 for s in kube.list("jobscrape.io/v1alpha1", "JobSource", "bench")
                    if any(c.get("type") == "Ready" and c.get("status") == "True"
                           for c in (s.get("status") or {}).get("conditions") or []))
                return cjs, ready

            while True:
                cjs, ready = done()
                if cjs >= n and ready >= n:
                    break
                if op.poll() is not None:
                    print(log.read_text()[-3000:])
                    return 1
                time.sleep(1.0)
            total = time.perf_counter() - t0
            busy = _cpu_seconds(op.pid)
            print(f"operator CPU time until then: {busy:.1f}s (one Python process, one GIL)")
            print(f"operator: {n} JobSources created in {create_time:.1f}s; every CronJob "
                  f"present and every source Ready after {total:.1f}s "
                  f"({total / floor:.2f}x the floor)", flush=True)
            time.sleep(5)  # let in-flight events settle
            mark, per = _writes(cp.audit_log, user)
            print(f"writes per JobSource: {sum(per.values()) / n:.2f} "
                  f"({', '.join(f'{k}: {v}' for k, v in sorted(per.items()))})", flush=True)
            _, reads = _writes(cp.audit_log, user, verbs=("get", "list"))
            print(f"reads per JobSource: {sum(reads.values()) / n:.2f} "
                  f"({', '.join(f'{k}: {v}' for k, v in sorted(reads.items()))})", flush=True)
            time.sleep(args.resync_seconds + 10)
            _, idle = _writes(cp.audit_log, user, mark)
            print(f"writes during one idle resync ({args.resync_seconds:.0f}s + 10s): "
                  f"{sum(idle.values())} {dict(idle) or ''}", flush=True)
            print(f"operator peak RSS: {_rss_peak_mib(op.pid):.0f} MiB", flush=True)
        finally:
            processes.stop(op)
    return 0


if __name__ == "__main__":
    sys.exit(main())
