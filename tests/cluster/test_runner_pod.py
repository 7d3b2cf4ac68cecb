"""Inside a runner pod on the real node: the pod the operator builds (its CronJob's template:
image, securityContext, volumes, ServiceAccount) isolates the runner, a memory limit kills it
as OOMKilled, its ServiceAccount token reaches only its own JobSource, and `kubectl logs`
shows the run's log lines."""

from __future__ import annotations

import copy
import json
import textwrap
from typing import Any

import pytest
from kubernetes import client

from jobscrape_dev.boardserver import BoardServer

from waiting import wait_for

pytestmark = pytest.mark.cluster

G, V, P = "jobscrape.io", "v1alpha1", "jobsources"


@pytest.fixture(autouse=True)
def _real_node(cluster) -> None:
    assert cluster.node is not None, "these tests need the real node (JOBSCRAPE_POD_RUNNER=node)"


def _source(cluster, ns: str, name: str, boards_url: str = "http://127.0.0.1:9") -> None:
    client.CustomObjectsApi(cluster.api).create_namespaced_custom_object(G, V, ns, P, {
        "apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": name},
        "spec": {"schedule": "0 0 1 1 *", "suspend": True,
                 "boards": [{"name": "vercel", "type": "greenhouse", "token": "vercel",
                             "url": f"{boards_url}/v1/boards/vercel/jobs"}],
                 "run": {"requestsPerSecondPerHost": 50}}})


def _template(cluster, ns: str, name: str) -> dict[str, Any]:
    """The runner pod template of the source's CronJob, as the operator built it."""
    cj = wait_for(lambda: client.BatchV1Api(cluster.api).read_namespaced_cron_job(
        f"jobsource-{name}", ns), timeout=60, what="the CronJob")
    return cluster.api.sanitize_for_serialization(cj.spec.job_template.spec.template)


def _run_pod(cluster, ns: str, template: dict[str, Any], name: str, script: str,
             memory: str | None = None) -> tuple[Any, str]:
    """A pod made from `template` whose runner container runs `python -c script` instead of
    `jobscrape run`; returns the finished pod and its log."""
    pod = copy.deepcopy(template)
    pod["metadata"] = {"name": name, "labels": {"test": name}}
    pod["spec"]["restartPolicy"] = "Never"
    c = pod["spec"]["containers"][0]
    c["command"], c["args"] = ["python", "-c", textwrap.dedent(script)], []
    if memory:
        c["resources"] = {"requests": {"memory": memory}, "limits": {"memory": memory}}
    core = client.CoreV1Api(cluster.api)
    core.create_namespaced_pod(ns, pod)
    done = wait_for(lambda: (p := core.read_namespaced_pod(name, ns)).status.phase in (
        "Succeeded", "Failed") and p, timeout=120, interval=0.5, what=f"pod {name} to finish")
    return done, cluster.pod_log(ns, name)


def test_runner_pod_is_isolated_and_oom_killed(cluster, operator, namespace):
    _source(cluster, namespace, "iso")
    template = _template(cluster, namespace, "iso")
    pod, log = _run_pod(cluster, namespace, template, "isolation", """
        import json, os
        status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
        try:
            open("/probe", "w")
            root = "writable"
        except OSError as e:
            root = e.strerror
        print(json.dumps({"uid": os.getuid(), "capeff": status["CapEff"].strip(),
                          "root": root, "tmp": os.access("/tmp", os.W_OK),
                          "host_repo": os.path.exists("/work/main/pyproject.toml"),
                          "host_root_home": os.path.exists("/root/.cache")}))
    """)
    assert pod.status.phase == "Succeeded", log
    seen = json.loads(log.strip().splitlines()[-1])
    assert seen == {"uid": 65532, "capeff": "0000000000000000", "root": "Read-only file system",
                    "tmp": True, "host_repo": False, "host_root_home": False}, seen
    pod, log = _run_pod(cluster, namespace, template, "hog", """
        blocks = []
        while True:
            blocks.append(bytearray(16 * 1024 * 1024))
    """, memory="64Mi")
    state = pod.status.container_statuses[0].state.terminated
    assert pod.status.phase == "Failed" and state.reason == "OOMKilled", state


def test_runner_token_reaches_only_its_own_jobsource(cluster, operator, namespace):
    _source(cluster, namespace, "mine")
    _source(cluster, namespace, "theirs")
    template = _template(cluster, namespace, "mine")
    pod, log = _run_pod(cluster, namespace, template, "token", f"""
        from kubernetes import client, config
        config.load_incluster_config()  # the mounted ServiceAccount token, the kubernetes Service
        api = client.CustomObjectsApi()
        print("own", api.get_namespaced_custom_object(
            "{G}", "{V}", "{namespace}", "{P}", "mine")["metadata"]["name"])
        try:
            api.patch_namespaced_custom_object_status(
                "{G}", "{V}", "{namespace}", "{P}", "theirs", {{"status": {{"postings": 1}}}})
            print("other", "patched")
        except client.ApiException as e:
            print("other", e.status)
    """)
    assert pod.status.phase == "Succeeded", log
    assert log.strip().splitlines()[-2:] == ["own mine", "other 403"], log


def test_kubectl_logs_of_a_runner_pod_show_its_run(cluster, operator, namespace):
    with BoardServer(host=cluster.host) as boards:
        _source(cluster, namespace, "logged", boards.url)
        _template(cluster, namespace, "logged")
        client.CustomObjectsApi(cluster.api).patch_namespaced_custom_object(
            G, V, namespace, P, "logged",
            {"metadata": {"annotations": {"jobscrape.io/run-now": "1"}}})
        wait_for(lambda: (client.CustomObjectsApi(cluster.api).get_namespaced_custom_object(
            G, V, namespace, P, "logged").get("status") or {}).get("lastRun"), timeout=120,
            what="the run")
    pods = client.CoreV1Api(cluster.api).list_namespaced_pod(namespace).items
    logs = "".join(cluster.pod_log(namespace, p.metadata.name) for p in pods)
    assert "run Succeeded: fetched=2" in logs, logs
