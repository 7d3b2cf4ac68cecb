"""Installing: the kustomize manifests pass a server-side dry run, pods are admitted under the
restricted Pod Security Standard, and the operator's role is least-privilege."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from kubernetes import client

from jobscrape_dev.devcluster import processes
from jobscrape_dev.devcluster.identity import service_account_kubeconfig

from conftest import REPO, install_operator_cluster_role, start_operator
from waiting import wait_for

pytestmark = pytest.mark.cluster


def _kubectl(kubeconfig, *args, check=True):
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is required for the install tests"
    out = subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", *args], capture_output=True,
                         text=True, timeout=120)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


@pytest.mark.parametrize("path", ["manifests", "manifests/overlays/single-namespace"])
def test_kustomize_server_side_dry_run(cluster, crd, path):
    # a dry run creates nothing, so the namespaces its namespaced objects go to must exist
    for ns in ("jobscrape-system", "jobs"):
        _kubectl(cluster.kubeconfig, "create", "namespace", ns, check=False)
    out = _kubectl(cluster.kubeconfig, "apply", "--server-side", "--dry-run=server",
                   "--force-conflicts", "-k", str(REPO / path))
    assert "deployment.apps/jobscrape-operator serverside-applied (server dry run)" in out.stdout
    assert "customresourcedefinition.apiextensions.k8s.io/jobsources.jobscrape.io" in out.stdout


def _restricted_namespace(cluster, name):
    client.CoreV1Api(cluster.api).create_namespace(client.V1Namespace(
        metadata=client.V1ObjectMeta(name=name, labels={
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest"})))


def test_restricted_namespace_admits_operator_and_runner_pods(cluster, crd, tmp_path):
    ns = "restricted-" + tmp_path.name[-8:].lower().replace("_", "-").strip("-")
    _restricted_namespace(cluster, ns)
    core = client.CoreV1Api(cluster.api)
    try:
        # a pod that the restricted standard rejects, to show enforcement is on
        with pytest.raises(client.ApiException) as rejected:
            core.create_namespaced_pod(ns, {"metadata": {"name": "rootful"}, "spec": {
                "containers": [{"name": "c", "image": "busybox"}]}})
        assert rejected.value.status == 403 and "restricted" in rejected.value.body
        # the operator's pod template from the Deployment, created for real
        manifest = (REPO / "manifests" / "base" / "deployment.yaml").read_text()
        deploy = next(d for d in yaml.safe_load_all(manifest) if d["kind"] == "Deployment")
        tpl = deploy["spec"]["template"]
        tpl["spec"]["serviceAccountName"] = "default"
        wait_for(lambda: core.read_namespaced_service_account("default", ns), timeout=30,
                 what="the default ServiceAccount")
        pod = core.create_namespaced_pod(ns, {"metadata": {"name": "operator", **{
            k: v for k, v in tpl["metadata"].items()}}, "spec": tpl["spec"]})
        assert pod.metadata.uid
        # the runner pods the operator's CronJob creates, through a run-now Job
        op = start_operator(cluster, tmp_path)
        try:
            client.CustomObjectsApi(cluster.api).create_namespaced_custom_object(
                "jobscrape.io", "v1alpha1", ns, "jobsources", {
                    "apiVersion": "jobscrape.io/v1alpha1", "kind": "JobSource",
                    "metadata": {"name": "strict",
                                 "annotations": {"jobscrape.io/run-now": "1"}},
                    "spec": {"schedule": "0 0 1 1 *", "suspend": True, "boards": [
                        {"name": "gh", "type": "greenhouse", "token": "x",
                         "url": "http://127.0.0.1:9/v1/boards/x/jobs"}]}})
            runner = wait_for(
                lambda: [p for p in core.list_namespaced_pod(ns).items
                         if p.metadata.labels.get("jobscrape.io/source") == "strict"],
                timeout=60, what="a runner pod admitted in the restricted namespace")
            assert runner[0].spec.containers[0].security_context.read_only_root_filesystem
        finally:
            processes.stop(op.proc)
    finally:
        core.delete_namespace(ns)


def test_operator_role_cannot_read_secrets_or_create_pods(cluster, tmp_path):
    kc = service_account_kubeconfig(cluster.api, cluster.cp.server, cluster.cp.pki.ca_cert,
                                    tmp_path / "op.kubeconfig", "jobscrape-system",
                                    "jobscrape-operator",
                                    cluster_role=install_operator_cluster_role(cluster))
    for verb, resource, expected in (("get", "secrets", "no"), ("list", "secrets", "no"),
                                     ("create", "pods", "no"), ("create", "cronjobs", "yes"),
                                     ("patch", "jobsources.jobscrape.io", "no"),
                                     ("delete", "cronjobs", "no")):
        out = _kubectl(kc, "auth", "can-i", verb, resource, "-A", check=False)
        assert out.stdout.strip() == expected, (verb, resource, out.stdout, out.stderr)
    status = _kubectl(kc, "auth", "can-i", "patch", "jobsources.jobscrape.io",
                      "--subresource=status", "-A", check=False)
    assert status.stdout.strip() == "yes", status.stdout + status.stderr
