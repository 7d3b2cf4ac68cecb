"""The Helm chart (charts/jobscrape): lint and render, no drift from the kustomize manifests,
a server-side dry run, and a real install, upgrade and uninstall whose operator pod reconciles
a JobSource on the local control plane."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from jobscrape_dev.devcluster import processes

from conftest import REPO, RUNNER_IMAGE, audit_lines, audit_writes
from waiting import wait_for

pytestmark = pytest.mark.cluster

CHART = REPO / "charts" / "jobscrape"
KUSTOMIZE_NS = "jobscrape-system"
G, V, P = "jobscrape.io", "v1alpha1", "jobsources"
# two watched namespaces, monitoring on, and most other values set
VALUES_NAMESPACES_MONITORING = {
    "namespaces": ["jobs", "team-b"],
    "monitoring": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}},
                   "prometheusRule": {"enabled": True},
                   "dashboard": {"enabled": True}},
    "runnerPolicy": {"maxCpu": "500m", "maxMemory": "1Gi", "maxEphemeralStorage": "1Gi",
                     "secretNamePrefix": ""},
    "runner": {"image": "registry.example/jobscrape:1",
               "allowedImages": ["registry.example/jobs/*", "registry.example/other:2"]},
    "allowPrivateNetworks": True,
    "resyncSeconds": 30,
    "commonLabels": {"team": "platform"},
    "podAnnotations": {"example.com/note": "yes"},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Exists"}],
}


# --- tools -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def helm() -> str:
    """The helm binary from hack/build-helm.sh (cached by version: instant; $HELM_BIN names
    another)."""
    out = subprocess.run(["bash", str(REPO / "hack" / "build-helm.sh")], capture_output=True,
                         text=True, timeout=1800, check=False)
    assert out.returncode == 0, f"building helm failed:\n{out.stderr[-3000:]}"
    return out.stdout.strip().splitlines()[-1]


def _run(argv: list[str], check: bool = True, timeout: float = 180,
         **kw: Any) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check:
        assert out.returncode == 0, f"{' '.join(argv)}\n{out.stdout[-3000:]}{out.stderr[-3000:]}"
    return out


def _kubectl() -> str:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is required for the Helm tests"
    return kubectl


def _values_file(tmp: Path, values: dict[str, Any], name: str = "values.yaml") -> Path:
    p = tmp / name
    p.write_text(yaml.safe_dump(values))
    return p


def render(helm: str, *args: str, release: str = "jobscrape",
           namespace: str = KUSTOMIZE_NS) -> list[dict[str, Any]]:
    """`helm template` (CRDs included) as a list of objects."""
    out = _run([helm, "template", release, str(CHART), "--namespace", namespace,
                "--include-crds", *args])
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def kustomize(path: Path) -> list[dict[str, Any]]:
    out = _run([_kubectl(), "kustomize", str(path)])
    return [d for d in yaml.safe_load_all(out.stdout) if d]


CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy",
                  "ValidatingAdmissionPolicyBinding", "CustomResourceDefinition", "Namespace"}


# --- lint and template -------------------------------------------------------------------------
@pytest.mark.parametrize("values", [None, VALUES_NAMESPACES_MONITORING],
                         ids=["defaults", "namespaces-monitoring"])
def test_lint_and_template(helm, tmp_path, values):
    args = ["-f", str(_values_file(tmp_path, values))] if values else []
    lint = _run([helm, "lint", "--strict", str(CHART), *args])
    assert "1 chart(s) linted, 0 chart(s) failed" in lint.stdout
    objs = render(helm, *args)
    kinds = sorted(o["kind"] for o in objs)
    deploy = next(o for o in objs if o["kind"] == "Deployment")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    if values is None:
        assert "--all-namespaces" in container["args"]
        assert kinds.count("ClusterRole") == 2 and "Role" not in kinds
        assert not {"ServiceMonitor", "PrometheusRule"} & set(kinds)
        return
    assert [a for a in container["args"] if a.startswith("--namespace")] == [
        "--namespace=jobs", "--namespace=team-b"]
    assert "--all-namespaces" not in container["args"]
    for flag in ("--max-runner-cpu=500m", "--max-runner-memory=1Gi",
                 "--max-runner-ephemeral-storage=1Gi", "--secret-name-prefix=",
                 "--allow-private-networks", "--resync-seconds=30"):
        assert flag in container["args"], flag
    roles = [o for o in objs if o["kind"] == "Role"]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["jobs", "team-b"]
    assert sorted(o["metadata"]["namespace"] for o in objs if o["kind"] == "RoleBinding") == [
        "jobs", "team-b"]
    # the CRD-discovery ClusterRole stays; the cluster-wide one is gone
    assert [o["metadata"]["name"] for o in objs if o["kind"] == "ClusterRole"] == [
        "jobscrape-system-jobscrape-operator-discovery"]
    assert {"ServiceMonitor", "PrometheusRule"} <= set(kinds)
    cm = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ConfigMap"}
    assert cm["jobscrape-runner-policy"]["data"] == {
        "runnerImage": "registry.example/jobscrape:1",
        "allowedImages": "registry.example/jobs/*,registry.example/other:2"}
    json.loads(cm["jobscrape-grafana-dashboard"]["data"]["jobscrape-dashboard.json"])
    pod = deploy["spec"]["template"]
    assert pod["metadata"]["annotations"]["example.com/note"] == "yes"
    assert pod["metadata"]["labels"]["team"] == "platform"
    assert pod["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["spec"]["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    sm = next(o for o in objs if o["kind"] == "ServiceMonitor")
    assert sm["metadata"]["labels"]["release"] == "prom"
    svc = next(o for o in objs if o["kind"] == "Service")
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()


def test_values_schema_refuses_unknown_and_bad_values(helm):
    for args, message in ((["--set", "namespace=jobs"], "additional properties 'namespace'"),
                          (["--set", "logFormat=xml"], "logFormat"),
                          (["--set", "metrics.bindAddress=8000"], "metrics/bindAddress"),
                          (["--set", "runnerPolicy.maxCpu=lots"], "runnerPolicy/maxCpu")):
        out = _run([helm, "template", "x", str(CHART), *args], check=False)
        assert out.returncode != 0 and message in out.stderr, (args, out.stderr)


def test_names_follow_the_release(helm):
    """The policy matches the release's own ServiceAccount and reads the release namespace's
    ConfigMap; cluster-scoped names carry namespace and release, so neither a second release
    nor the kustomize install shares one."""
    a = render(helm, release="one", namespace="ops")
    b = render(helm, release="two", namespace="ops")
    c = render(helm, release="one", namespace="other")
    vap = next(o for o in a if o["kind"] == "ValidatingAdmissionPolicy")
    assert [m["expression"] for m in vap["spec"]["matchConditions"]] == [
        "request.userInfo.username == 'system:serviceaccount:ops:one-jobscrape-operator'"]
    binding = next(o for o in a if o["kind"] == "ValidatingAdmissionPolicyBinding")
    assert binding["spec"]["policyName"] == vap["metadata"]["name"]
    assert binding["spec"]["paramRef"] == {"name": "one-jobscrape-runner-policy",
                                           "namespace": "ops",
                                           "parameterNotFoundAction": "Allow"}
    messages = " ".join(v.get("message", "") + v.get("messageExpression", "")
                        for v in vap["spec"]["validations"])
    assert "ops/one-jobscrape-runner-policy" in messages and "jobscrape-system" not in messages
    deploy = next(o for o in a if o["kind"] == "Deployment")
    env = deploy["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {e["valueFrom"]["configMapKeyRef"]["name"] for e in env} == {
        "one-jobscrape-runner-policy"}
    assert deploy["spec"]["template"]["spec"]["serviceAccountName"] == "one-jobscrape-operator"

    def cluster_names(objs: list[dict[str, Any]]) -> set[tuple[str, str]]:
        return {(o["kind"], o["metadata"]["name"]) for o in objs
                if o["kind"] in CLUSTER_SCOPED - {"CustomResourceDefinition"}}

    names_a = cluster_names(a)
    assert len(names_a) == 6 and all("ops-one-jobscrape" in n for _, n in names_a), names_a
    assert not names_a & cluster_names(b) and not names_a & cluster_names(c)
    assert not names_a & cluster_names(kustomize(REPO / "manifests"))
    # a kustomize-like install right next to the chart's defaults: still no shared name
    assert not cluster_names(render(helm)) & cluster_names(kustomize(REPO / "manifests"))


def test_runner_images_roll_the_operator(helm):
    """The operator reads the runner images into its environment at start: a change of the
    ConfigMap's values changes the pod template (a checksum), so `helm upgrade` restarts it."""
    def checksum(*args: str) -> str:
        deploy = next(o for o in render(helm, *args) if o["kind"] == "Deployment")
        return deploy["spec"]["template"]["metadata"]["annotations"]["checksum/runner-policy"]
    base = checksum()
    assert checksum("--set", "runner.image=registry.example/jobscrape:2") != base
    assert checksum("--set", "runner.allowedImages={registry.example/x}") != base
    assert checksum("--set", "logLevel=DEBUG") == base


# --- drift -------------------------------------------------------------------------------------
def _norm_name(obj: dict[str, Any], cluster_prefix: str) -> str:
    """The chart's cluster-scoped names are `<namespace>-<fullname>-...`; the kustomize ones
    `jobscrape-...`."""
    name = obj["metadata"]["name"]
    if cluster_prefix and name.startswith(cluster_prefix):
        return "jobscrape-" + name[len(cluster_prefix):]
    return name


def _without_instance(labels: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != "app.kubernetes.io/instance"}


def _squash(value: Any) -> Any:
    """Runs of white space as one space in every string: kustomize re-serialises the policy's
    folded CEL (`>-` with more-indented lines) with extra line breaks, which mean nothing to
    CEL."""
    if isinstance(value, dict):
        return {k: _squash(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_squash(v) for v in value]
    return " ".join(value.split()) if isinstance(value, str) else value


def _comparable(objs: list[dict[str, Any]], cluster_prefix: str = ""
                ) -> dict[str, Any]:
    """What must match between the chart and kustomize, by kind/namespace/normalised name:
    labels, annotations and Helm's own additions are left out."""
    out: dict[str, Any] = {}
    for o in objs:
        kind, meta = o["kind"], o["metadata"]
        # (kustomize gives the admission policy a namespace too: it does not know the kind)
        ns = "-" if kind in CLUSTER_SCOPED else meta.get("namespace", "-")
        key = f"{kind} {ns}/{_norm_name(o, cluster_prefix)}"
        if kind in ("ClusterRole", "Role"):
            part: Any = {"rules": o["rules"]}
        elif kind in ("ClusterRoleBinding", "RoleBinding"):
            ref = dict(o["roleRef"])
            ref["name"] = _norm_name({"metadata": {"name": ref["name"]}}, cluster_prefix)
            part = {"roleRef": ref, "subjects": o["subjects"]}
        elif kind == "Deployment":
            spec = o["spec"]
            part = {"replicas": spec.get("replicas"), "strategy": spec.get("strategy"),
                    "selector": _without_instance(spec["selector"]["matchLabels"]),
                    "podSpec": spec["template"]["spec"]}
        elif kind == "Service":
            part = {"type": o["spec"].get("type", "ClusterIP"), "ports": o["spec"]["ports"],
                    "selector": _without_instance(o["spec"]["selector"])}
        elif kind == "ValidatingAdmissionPolicy":
            part = _squash(o["spec"])
        elif kind == "ValidatingAdmissionPolicyBinding":
            part = dict(o["spec"])
            part["policyName"] = _norm_name({"metadata": {"name": part["policyName"]}},
                                            cluster_prefix)
        elif kind == "ConfigMap" and "jobscrape-dashboard.json" in (o.get("data") or {}):
            part = {"dashboard": json.loads(o["data"]["jobscrape-dashboard.json"]),
                    "grafana_dashboard": meta.get("labels", {}).get("grafana_dashboard")}
        elif kind == "ConfigMap":
            part = o.get("data")
        elif kind == "CustomResourceDefinition":
            part = o["spec"]
        elif kind == "ServiceMonitor":
            spec = dict(o["spec"])
            spec["selector"] = {"matchLabels": _without_instance(
                spec["selector"]["matchLabels"])}
            part = spec
        elif kind == "PrometheusRule":
            part = o["spec"]
        elif kind == "ServiceAccount":
            part = {"automountServiceAccountToken": o.get("automountServiceAccountToken")}
        elif kind == "Namespace":
            continue  # the chart installs into a namespace, it does not own one
        else:
            raise AssertionError(f"no comparison defined for {kind}")
        out[key] = part
    return out


def assert_no_drift(chart: list[dict[str, Any]], kust: list[dict[str, Any]]) -> None:
    want = _comparable(kust)
    got = _comparable(chart, cluster_prefix=f"{KUSTOMIZE_NS}-jobscrape-")
    problems = []
    for key in sorted(set(want) | set(got)):
        if key not in got:
            problems.append(f"only in kustomize: {key}")
        elif key not in want:
            problems.append(f"only in the chart: {key}")
        elif got[key] != want[key]:
            diff = difflib.unified_diff(
                yaml.safe_dump(want[key], sort_keys=True, width=120).splitlines(),
                yaml.safe_dump(got[key], sort_keys=True, width=120).splitlines(),
                "kustomize", "chart", lineterm="")
            problems.append(f"{key} differs:\n" + "\n".join(diff))
    assert not problems, "the chart drifted from manifests/:\n" + "\n\n".join(problems)


def test_no_drift_from_kustomize_base(helm, tmp_path):
    # the chart's defaults, release `jobscrape` in jobscrape-system: the kustomize base
    assert_no_drift(render(helm), kustomize(REPO / "manifests"))
    # with monitoring: the base plus the monitoring component
    overlay = tmp_path / "with-monitoring"
    overlay.mkdir()
    rel = os.path.relpath(REPO / "manifests", overlay)  # kustomize refuses absolute paths
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "namespace": KUSTOMIZE_NS,  # the base's namespace does not reach the component
        "resources": [f"{rel}/base"], "components": [f"{rel}/components/monitoring"]}))
    monitoring = {"monitoring": {k: {"enabled": True}
                                 for k in ("serviceMonitor", "prometheusRule", "dashboard")}}
    assert_no_drift(render(helm, "-f", str(_values_file(tmp_path, monitoring))),
                    kustomize(overlay))


def test_no_drift_from_single_namespace_overlay(helm):
    assert_no_drift(render(helm, "--set", "namespaces={jobs}"),
                    kustomize(REPO / "manifests" / "overlays" / "single-namespace"))


def test_drift_check_catches_a_change(helm):
    """The comparison is not vacuous: a changed rule or flag is reported."""
    chart = render(helm, "--set", "logLevel=DEBUG")
    with pytest.raises(AssertionError, match=r"(?s)Deployment jobscrape-system/jobscrape-operator"
                       r" differs:.*\+ *- --log-level=DEBUG"):
        assert_no_drift(chart, kustomize(REPO / "manifests"))


# --- on the control plane ----------------------------------------------------------------------
DRY_NS, DRY_WATCHED = "jobscrape-helm-dry", "jobscrape-helm-dry-jobs"


@pytest.fixture(scope="module")
def dry_run_namespaces(cluster) -> Iterator[None]:
    """A dry run creates nothing, so the namespaces the objects go to must exist."""
    core = client.CoreV1Api(cluster.api)
    for name in (DRY_NS, DRY_WATCHED):
        core.create_namespace({"metadata": {"name": name}})
    yield
    for name in (DRY_NS, DRY_WATCHED):
        core.delete_namespace(name, propagation_policy="Background")


@pytest.mark.parametrize("args", [[], ["--set", f"namespaces={{{DRY_WATCHED}}}"]],
                         ids=["cluster-wide", "namespaces"])
def test_server_side_dry_run(cluster, crd, helm, dry_run_namespaces, args):
    manifest = _run([helm, "template", "dry", str(CHART), "--namespace", DRY_NS,
                     "--include-crds", *args]).stdout
    out = _run([_kubectl(), f"--kubeconfig={cluster.kubeconfig}", "apply", "--server-side",
                "--dry-run=server", "--force-conflicts", "-f", "-"], input=manifest)
    applied = [line for line in out.stdout.splitlines() if line.strip()]
    assert all(line.endswith("serverside-applied (server dry run)") for line in applied), \
        out.stdout
    assert len(applied) == len([d for d in yaml.safe_load_all(manifest) if d])
    for name in ("deployment.apps/dry-jobscrape-operator",
                 "validatingadmissionpolicy.admissionregistration.k8s.io/"
                 f"{DRY_NS}-dry-jobscrape-operator-guard",
                 "customresourcedefinition.apiextensions.k8s.io/jobsources.jobscrape.io"):
        assert f"{name} serverside-applied" in out.stdout, (name, out.stdout)
    if args:
        assert f"role.rbac.authorization.k8s.io/{DRY_NS}-dry-jobscrape-operator " \
            "serverside-applied" in out.stdout, out.stdout


# With the fake executor (JOBSCRAPE_POD_RUNNER=fake), which runs only Job pods (label
# batch.kubernetes.io/controller-uid), the release's Deployment pod needs a second executor,
# the same code with a selector for that pod. With a real node the kubelet runs it.
_DEPLOYMENT_EXECUTOR = """
import sys
from jobscrape_dev.devcluster import executor
executor.JOB_POD_SELECTOR = sys.argv[1]
sys.exit(executor.main(sys.argv[2:]))
"""


@pytest.fixture
def release_executor(cluster, tmp_path) -> Iterator[Path | None]:
    """With the fake executor: one for the pods of the Helm release `e2e` (yields its state
    folder); with a real node: nothing to do (None)."""
    if cluster.node is not None:
        yield None
        return
    state = tmp_path / "release-executor"
    state.mkdir()
    proc = processes.spawn(
        [sys.executable, "-c", _DEPLOYMENT_EXECUTOR,
         "app.kubernetes.io/instance=e2e,app.kubernetes.io/component=operator",
         f"--kubeconfig={cluster.kubeconfig}", f"--state-dir={state}"],
        tmp_path / "release-executor.log")
    try:
        yield state
    finally:
        processes.stop(proc)


def _operator_pods(core: client.CoreV1Api, ns: str, running: bool = True) -> list[Any]:
    pods = core.list_namespaced_pod(
        ns, label_selector="app.kubernetes.io/instance=e2e,app.kubernetes.io/component=operator"
    ).items
    return [p for p in pods if not p.metadata.deletion_timestamp
            and (not running or p.status.phase == "Running")]


def _ready(cluster, ns: str, name: str, generation: int | None = None) -> dict[str, Any]:
    co = client.CustomObjectsApi(cluster.api)

    def check() -> dict[str, Any] | None:
        st = co.get_namespaced_custom_object(G, V, ns, P, name).get("status") or {}
        c = next((c for c in st.get("conditions") or [] if c["type"] == "Ready"), None)
        if c and c["status"] == "True" and (
                generation is None or st.get("observedGeneration") == generation):
            return st
        return None
    return wait_for(check, timeout=60, what=f"{ns}/{name} Ready=True")


def test_helm_install_upgrade_uninstall(cluster, crd, namespace, helm, release_executor,
                                        tmp_path):
    """`helm install` brings up the operator as a Deployment pod that reconciles a JobSource
    of its watched namespace; `helm upgrade` rolls it; `helm uninstall` removes it all."""
    release, rns = "e2e", "jobscrape-helm"
    operator_user = f"system:serviceaccount:{rns}:e2e-jobscrape-operator"
    kc = f"--kubeconfig={cluster.kubeconfig}"
    repository, tag = RUNNER_IMAGE.rsplit(":", 1)
    real_pod = cluster.node is not None  # the kubelet runs the pod, in a network of its own
    values = _values_file(tmp_path, {
        "image": {"repository": repository, "tag": tag},  # the project's image
        "runner": {"image": RUNNER_IMAGE},
        "namespaces": [namespace],  # not the other tests' JobSources
        "allowPrivateNetworks": True,
        "resyncSeconds": 2,
        "logFormat": "text",
        "metrics": {"bindAddress": "0.0.0.0:8000" if real_pod
                    else f"127.0.0.1:{processes.free_port()}"},
        "health": {"bindAddress": "0.0.0.0:8080" if real_pod
                   else f"127.0.0.1:{processes.free_port()}"},
    })
    core, apps = client.CoreV1Api(cluster.api), client.AppsV1Api(cluster.api)
    batch, co = client.BatchV1Api(cluster.api), client.CustomObjectsApi(cluster.api)
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    adm = client.AdmissionregistrationV1Api(cluster.api)
    installed = False

    def diagnostics() -> str:
        if release_executor is None:
            return "\n".join(f"--- {p.metadata.name}\n"
                             f"{cluster.pod_log(rns, p.metadata.name)[-3000:]}"
                             for p in _operator_pods(core, rns, running=False))
        logs = sorted((release_executor / "logs").glob("*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)

    try:
        out = _run([helm, kc, "install", release, str(CHART), "--namespace", rns,
                    "--create-namespace", "-f", str(values), "--wait", "--timeout", "120s"],
                   timeout=200)
        installed = True
        assert "STATUS: deployed" in out.stdout, out.stdout
        first = wait_for(lambda: _operator_pods(core, rns), timeout=60,
                         what="the operator pod to run")[0]
        first_rs = first.metadata.owner_references[0].name

        # --- it reconciles a JobSource of the watched namespace, as the release's account
        since = audit_lines(cluster)
        co.create_namespaced_custom_object(G, V, namespace, P, {
            "apiVersion": f"{G}/{V}", "kind": "JobSource", "metadata": {"name": "helm"},
            "spec": {"schedule": "0 */6 * * *",
                     "boards": [{"name": "acme", "type": "greenhouse", "token": "acme"}]}})
        try:
            st = _ready(cluster, namespace, "helm")
        except AssertionError:
            raise AssertionError("no Ready JobSource:\n" + diagnostics()) from None
        assert st["cronJobName"] == "jobsource-helm"
        cj = batch.read_namespaced_cron_job("jobsource-helm", namespace)
        assert cj.spec.job_template.spec.template.spec.containers[0].image == RUNNER_IMAGE
        assert [e for e in audit_writes(cluster, operator_user, since)
                if e["objectRef"]["resource"] == "cronjobs" and e["verb"] == "create"], \
            "the CronJob was not made by the release's operator"

        # --- the release's admission policy holds its ServiceAccount: a ServiceAccount the
        #     operator never makes is refused (dry run, as that user)
        guard = f"{rns}-e2e-jobscrape-operator-guard"
        imp = client.ApiClient(configuration=cluster.api.configuration)
        imp.set_default_header("Impersonate-User", operator_user)
        imp.set_default_header("Impersonate-Group", "system:masters")

        def refused() -> bool:
            try:
                client.CoreV1Api(imp).create_namespaced_service_account(
                    namespace, {"metadata": {"name": "not-a-runner"}}, dry_run="All")
            except client.ApiException as e:
                return e.status in (403, 422) and guard in (e.body or "")
            return False
        try:
            wait_for(refused, timeout=30, what=f"the policy {guard} to refuse")
        finally:
            imp.close()

        # --- upgrade with a changed value: a new ReplicaSet and pod, and it still reconciles
        out = _run([helm, kc, "upgrade", release, str(CHART), "--namespace", rns,
                    "-f", str(values), "--set", "resyncSeconds=3",
                    "--set-string", "podAnnotations.example\\.com/rollout=2",
                    "--wait", "--timeout", "120s"], timeout=200)
        assert "has been upgraded" in out.stdout, out.stdout
        second = wait_for(
            lambda: [p for p in _operator_pods(core, rns)
                     if p.metadata.owner_references[0].name != first_rs],
            timeout=60, what="a pod of the new ReplicaSet")[0]
        assert second.metadata.annotations.get("example.com/rollout") == "2"
        assert "--resync-seconds=3" in second.spec.containers[0].args
        wait_for(lambda: not [p for p in core.list_namespaced_pod(rns).items
                              if p.metadata.name == first.metadata.name],
                 timeout=30, what="the first operator pod to be gone")
        deploy = apps.read_namespaced_deployment("e2e-jobscrape-operator", rns)
        assert deploy.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
        since = audit_lines(cluster)
        src = co.patch_namespaced_custom_object(G, V, namespace, P, "helm",
                                                {"spec": {"schedule": "15 3 * * *"}})
        try:
            _ready(cluster, namespace, "helm", generation=src["metadata"]["generation"])
            wait_for(lambda: batch.read_namespaced_cron_job("jobsource-helm", namespace)
                     .spec.schedule == "15 3 * * *", timeout=30,
                     what="the upgraded operator to update the CronJob")
        except AssertionError:
            raise AssertionError("no reconcile after the upgrade:\n" + diagnostics()) from None
        assert audit_writes(cluster, operator_user, since)

        # --- uninstall: every object of the release goes; the CRD stays (crds/ is never
        #     deleted by Helm)
        out = _run([helm, kc, "uninstall", release, "--namespace", rns, "--wait",
                    "--timeout", "120s"], timeout=200)
        installed = False
        assert "uninstalled" in out.stdout, out.stdout
        prefix = f"{rns}-e2e-jobscrape-operator"
        assert not [r for r in rbac.list_cluster_role().items
                    if r.metadata.name.startswith(prefix)]
        assert not [b for b in rbac.list_cluster_role_binding().items
                    if b.metadata.name.startswith(prefix)]
        assert not [p for p in adm.list_validating_admission_policy().items
                    if p.metadata.name.startswith(prefix)]
        assert not rbac.list_namespaced_role(
            namespace, label_selector="app.kubernetes.io/instance=e2e").items
        assert not apps.list_namespaced_deployment(rns).items
        wait_for(lambda: not _operator_pods(core, rns, running=False), timeout=30,
                 what="the operator pod to be gone")
        client.ApiextensionsV1Api(cluster.api).read_custom_resource_definition(
            "jobsources.jobscrape.io")
    finally:
        if installed:
            _run([helm, kc, "uninstall", release, "--namespace", rns, "--wait"],
                 check=False, timeout=200)
        core.delete_namespace(rns, propagation_policy="Background")
