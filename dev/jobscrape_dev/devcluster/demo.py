"""The one-command demo: a local control plane with a real node (or, when this machine's node is
busy, e.g. with a test run, the fake pod executor: it says which), the CRD, the operator, the
local board server with the fixture boards, a webhook receiver, and a JobSource scraping them.

    bash hack/demo.sh            # keeps running until Ctrl-C
    bash hack/demo.sh --once     # exits after the first run
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from jobscrape.api import contract
from jobscrape_dev import REPO_ROOT
from jobscrape_dev.devcluster import processes
from jobscrape_dev.devcluster.identity import service_account_kubeconfig
from jobscrape_dev.devcluster.localcluster import Cluster, start_cluster
from jobscrape_dev.devcluster.node import NodeError
from jobscrape_dev.devcluster.policy import install_runner_policy

NAMESPACE = "demo"
SOURCE = "fixture-boards"
KUBECONFIG_COPY = Path("/tmp/jobscrape-demo.kubeconfig")
HOOK_SECRET = "jobscrape-demo-hooks"


def demo_source(board_url: str) -> dict[str, Any]:
    """A JobSource with one board of every type, pointed at the local board server."""
    b = board_url.rstrip("/")
    boards = [
        {"name": "greenhouse", "type": "greenhouse", "token": "vercel",
         "url": f"{b}/v1/boards/vercel/jobs"},
        {"name": "lever", "type": "lever", "token": "plaid", "url": f"{b}/v0/postings/plaid"},
        {"name": "ashby", "type": "ashby", "token": "linear",
         "url": f"{b}/posting-api/job-board/linear"},
        {"name": "workable", "type": "workable", "token": "huggingface",
         "url": f"{b}/api/v1/widget/accounts/huggingface"},
        {"name": "smartrecruiters", "type": "smartrecruiters", "token": "visa",
         "url": f"{b}/v1/companies/visa/postings"},
        {"name": "recruitee", "type": "recruitee", "token": "tiko",
         "url": f"{b}/recruitee/tiko/api/offers/"},
        {"name": "personio", "type": "personio", "token": "acme",
         "url": f"{b}/personio/acme/xml"},
        {"name": "jsonld", "type": "jsonld", "url": f"{b}/jsonld/careers.html"},
        {"name": "feed", "type": "feed", "url": f"{b}/feed/remote-jobs.xml"},
        {"name": "missing", "type": "greenhouse", "token": "no-such-board",
         "url": f"{b}/v1/boards/no-such-board/jobs"},
    ]
    return {"apiVersion": contract.API_VERSION, "kind": contract.KIND,
            "metadata": {"name": SOURCE, "namespace": NAMESPACE,
                         "annotations": {"jobscrape.io/run-now": "demo-start"}},
            "spec": {"schedule": "*/5 * * * *", "boards": boards,
                     "notify": [{"name": "team-chat", "webhook": {
                         "format": "discord",
                         "urlSecretRef": {"name": HOOK_SECRET, "key": "discord"}}}],
                     "run": {"requestsPerSecondPerHost": 50}}}


def _kubectl(kubeconfig: Path, *args: str) -> str:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return "(kubectl not installed)\n"
    out = subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", *args], capture_output=True,
                         text=True, timeout=30)
    return out.stdout + out.stderr


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return 0 when the first run produced postings."""
    p = argparse.ArgumentParser(prog="hack/demo.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--once", action="store_true", help="exit after the first run")
    p.add_argument("--timeout", type=float, default=180, help="seconds to wait for the run")
    args = p.parse_args(argv)

    from jobscrape_dev.boardserver import BoardServer
    from jobscrape_dev.receiver import WebhookReceiver

    t0 = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:  # a real node, unless another process (a test run) holds this machine's one node
        cluster, stop_cluster = start_cluster(audit=False, runner="node", node_lock_timeout=2)
        runner = "a real node (kubelet + containerd + runc, the project's image)"
    except NodeError as e:
        cluster, stop_cluster = start_cluster(audit=False, runner="fake")
        runner = f"the fake pod executor ({e})"
    cp = cluster.cp
    server = BoardServer(host=cluster.host, port=0)
    server.start()
    chat = WebhookReceiver(host=cluster.host).start()  # stands in for a Discord channel
    op: subprocess.Popen[bytes] | None = None
    try:
        print(f"control plane up in {cp.started_seconds:.1f}s (kube-apiserver {cp.server}); "
              f"pods run by {runner}", flush=True)
        api = config.new_client_from_config(config_file=str(cp.kubeconfig))
        crd_file = REPO_ROOT / "crds" / f"{contract.PLURAL}.{contract.GROUP}.yaml"
        crd = yaml.safe_load(crd_file.read_text())
        client.ApiextensionsV1Api(api).create_custom_resource_definition(crd)
        rbac_file = REPO_ROOT / "manifests" / "base" / "rbac.yaml"
        rbac = list(yaml.safe_load_all(rbac_file.read_text()))
        role = next(d for d in rbac if d["kind"] == "ClusterRole")
        rbac_api = client.RbacAuthorizationV1Api(api)
        for d in rbac:
            if d["kind"] == "ClusterRole":
                rbac_api.create_cluster_role(d)
            elif d["kind"] == "ClusterRoleBinding":
                rbac_api.create_cluster_role_binding(d)
        install_runner_policy(api, cluster.runner_image)
        kc = service_account_kubeconfig(api, cp.server, cp.pki.ca_cert,
                                        cp.workdir / "operator.kubeconfig", "jobscrape-system",
                                        "jobscrape-operator", cluster_role=role["metadata"]["name"])
        op = processes.spawn([str(Path(sys.executable).parent / "jobscrape"), "operator",
                              f"--kubeconfig={kc}", "--health-bind-address=",
                              "--metrics-bind-address=",
                              "--allow-private-networks",
                              f"--runner-image={cluster.runner_image}"],
                             cp.log_path("operator"))
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
        core.create_namespaced_secret(NAMESPACE, client.V1Secret(
            metadata=client.V1ObjectMeta(name=HOOK_SECRET),
            string_data={"discord": chat.hook_url("/api/webhooks/demo/token")}))
        co = client.CustomObjectsApi(api)
        co.create_namespaced_custom_object(contract.GROUP, contract.VERSION, NAMESPACE,
                                           contract.PLURAL, demo_source(server.url))
        print(f"board server on {server.url}; JobSource {NAMESPACE}/{SOURCE} created, "
              "waiting for its first run...", flush=True)
        deadline = time.monotonic() + args.timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = co.get_namespaced_custom_object(contract.GROUP, contract.VERSION, NAMESPACE,
                                                   contract.PLURAL, SOURCE)
            status = body.get("status") or {}
            if status.get("lastRun") and status.get("lastSuccessfulTime"):
                break
            if op.poll() is not None:
                print(processes.tail(cp.log_path("operator"), 40))
                return 1
            time.sleep(1)
        else:
            print("no run finished in time; logs:", cp.workdir / "logs")
            return 1
        print(f"\nfirst run done {time.monotonic() - t0:.1f}s after start\n")
        print("$ kubectl get jobsources -n demo")
        print(_kubectl(cp.kubeconfig, "get", "jobsources", "-n", NAMESPACE))
        print("$ kubectl get jsrc -n demo -o wide")
        print(_kubectl(cp.kubeconfig, "get", "jsrc", "-n", NAMESPACE, "-o", "wide"))
        _print_postings(cluster)
        print(f"$ # the Discord-style messages the webhook receiver got ({chat.url})")
        print(render_discord(chat.requests))
        chat.clear()
        before = status["lastRun"].get("completionTime")
        co.patch_namespaced_custom_object(contract.GROUP, contract.VERSION, NAMESPACE,
                                          contract.PLURAL, SOURCE, {"metadata": {
                                              "annotations": {"jobscrape.io/run-now":
                                                              "demo-second"}}})
        second = _wait_run(co, before, args.timeout)
        if second is None:
            print("the second run did not finish in time; logs:", cp.workdir / "logs")
            return 1
        print(f"second run: {second['lastRun'].get('created', 0)} new postings, "
              f"{len(chat.requests)} messages to the webhook (nothing changed, nothing sent)\n")
        lines = cp.log_path("operator").read_text(errors="replace").splitlines()
        print(f"operator log so far: {len(lines)} lines ({cp.log_path('operator')})")
        if args.once:
            print("(run without --once to keep the demo cluster up and use kubectl on it)")
            return 0 if status.get("postings") else 1
        KUBECONFIG_COPY.write_text(cp.kubeconfig.read_text())
        print(f"Point kubectl at the demo cluster:  export KUBECONFIG={KUBECONFIG_COPY}")
        print(f"  kubectl get jobsources -A; kubectl describe jobsource -n {NAMESPACE} {SOURCE}")
        print("Running until Ctrl-C (the CronJob runs every 5 minutes).", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        if op is not None:
            processes.stop(op)
        server.stop()
        chat.stop()
        stop_cluster()


def _wait_run(co: client.CustomObjectsApi, before: str | None, timeout: float
              ) -> dict[str, Any] | None:
    """The source's status once a run newer than `before` finished; None after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = co.get_namespaced_custom_object(contract.GROUP, contract.VERSION, NAMESPACE,
                                             contract.PLURAL, SOURCE).get("status") or {}
        done = st.get("lastRun", {}).get("completionTime")
        if done and done != before:
            return st
        time.sleep(1)
    return None


def render_discord(requests: list[Any]) -> str:
    """The embeds the receiver got, one line each: kind and title, company, board."""
    lines = []
    for n, r in enumerate(requests, 1):
        embeds = (r.json or {}).get("embeds", [])
        lines.append(f"message {n}: {len(embeds)} embeds")
        for e in embeds:
            fields = {f["name"]: f["value"] for f in e.get("fields", [])}
            lines.append(f"  {e.get('title', '')}  |  {fields.get('Company', '-')}  |  "
                         f"board {fields.get('Board', '-')}")
    return "\n".join(lines or ["(no messages)"]) + "\n"


def _print_postings(cluster: Cluster) -> None:
    from jobscrape.controller.naming import store_claim_name
    from jobscrape.scrape import render
    from jobscrape.store import open_store

    dbs = [p for p in [cluster.claim_dir(NAMESPACE, store_claim_name(SOURCE)) / "jobscrape.db"]
           if p.exists()]
    if not dbs:
        print("(no store file found)")
        return
    store = open_store(str(dbs[0]))
    try:
        postings = [p.to_dict() for p in store.open_postings(f"{NAMESPACE}/{SOURCE}")]
    finally:
        store.close()
    print(render(postings, {p["id"] for p in postings}, "table"))  # the first run: all new


if __name__ == "__main__":
    sys.exit(main())
