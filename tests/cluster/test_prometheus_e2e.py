"""Metrics on a live operator: promtool accepts the exposition, a real Prometheus scrapes it,
and series follow status changes and vanish with their JobSource."""

from __future__ import annotations

import shutil
import subprocess
import time

import httpx
import pytest
from kubernetes import client

from jobscrape_dev.boardserver import BoardServer
from jobscrape_dev.devcluster import processes

from conftest import start_operator
from waiting import wait_for

pytestmark = pytest.mark.cluster
G, V, P = "jobscrape.io", "v1alpha1", "jobsources"


def _metrics(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


def _prometheus(tmp_path, target_port: int) -> tuple[subprocess.Popen[bytes], int]:
    prom = shutil.which("prometheus")
    assert prom, "prometheus missing: hack/setup.sh installs Debian's prometheus package"
    port = processes.free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: jobscrape
    static_configs: [{{targets: ["127.0.0.1:{target_port}"]}}]
""")
    proc = processes.spawn([prom, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path}/tsdb",
                            f"--web.listen-address=127.0.0.1:{port}"], tmp_path / "prom.log")
    wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=2).status_code
             == 200, timeout=60, what="Prometheus to be ready")
    return proc, port


def _query(port: int, q: str) -> list[dict]:
    r = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": q}, timeout=5)
    return r.json()["data"]["result"]


def test_live_metrics_promtool_and_prometheus(cluster, crd, namespace, tmp_path):
    with BoardServer(host=cluster.host) as boards:
        op = start_operator(cluster, tmp_path)
        prom = None
        try:
            co = client.CustomObjectsApi(cluster.api)
            co.create_namespaced_custom_object(G, V, namespace, P, {
                "apiVersion": f"{G}/{V}", "kind": "JobSource",
                "metadata": {"name": "m", "annotations": {"jobscrape.io/run-now": "go"}},
                "spec": {"schedule": "0 0 1 1 *", "boards": [
                    {"name": "vercel", "type": "greenhouse", "token": "vercel",
                     "url": f"{boards.url}/v1/boards/vercel/jobs"},
                    {"name": "wwr", "type": "feed", "url": f"{boards.url}/feed/wwr.xml"}],
                    "run": {"requestsPerSecondPerHost": 50}}})
            prom, prom_port = _prometheus(tmp_path, op.metrics_port)
            wait_for(lambda: (co.get_namespaced_custom_object(G, V, namespace, P, "m")
                              .get("status") or {}).get("lastSuccessfulTime"),
                     timeout=120, interval=1, what="the run-now Job to succeed")
            sel = f'{{namespace="{namespace}",jobsource="m"}}'
            series = f'jobscrape_source_postings{{jobsource="m",namespace="{namespace}"}}'

            def scraped() -> str | None:
                t = _metrics(op.metrics_port)
                return t if series in t else None

            text = wait_for(scraped, timeout=30, what="the source's series on /metrics")
            check = subprocess.run([shutil.which("promtool") or "promtool", "check", "metrics"],
                                   input=text, capture_output=True, text=True, timeout=30)
            assert check.returncode == 0, check.stdout + check.stderr
            got = wait_for(lambda: _query(prom_port, f"jobscrape_source_postings{sel}"),
                           timeout=30, what="Prometheus to have the postings series")
            assert float(got[0]["value"][1]) == 5
            last = _query(prom_port, f"jobscrape_source_last_success_timestamp_seconds{sel}")
            assert abs(float(last[0]["value"][1]) - time.time()) < 300
            up = _query(prom_port, f'jobscrape_board_up{{namespace="{namespace}"}}')
            assert {r["metric"]["board"]: r["value"][1] for r in up} == {"vercel": "1",
                                                                         "wwr": "1"}
            # a status change shows at the next scrape; deletion removes the series
            co.patch_namespaced_custom_object_status(G, V, namespace, P, "m",
                                                     {"status": {"postings": 7}})
            wait_for(lambda: f"{series} 7.0" in _metrics(op.metrics_port), timeout=15,
                     what="postings 7 on /metrics")
            co.delete_namespaced_custom_object(G, V, namespace, P, "m")
            wait_for(lambda: 'jobsource="m"' not in _metrics(op.metrics_port), timeout=15,
                     what="the series to vanish")
        finally:
            if prom is not None:
                processes.stop(prom)
            processes.stop(op.proc)
