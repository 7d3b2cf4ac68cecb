"""Fixtures for operator tests: the CRD installed, and the operator running as a real process
under a ServiceAccount of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from jobscrape_dev.devcluster import processes
from jobscrape_dev.devcluster.identity import service_account_kubeconfig
from jobscrape_dev.image import project_image

from policy import install_runner_policy
from waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / "jobsources.jobscrape.io.yaml"
#: the image runner pods use: the project's own with a real node (built by hack/build-image.sh),
#: any name with the fake executor (it runs the development environment's jobscrape)
RUNNER_IMAGE = (project_image()[0] if os.environ.get("JOBSCRAPE_POD_RUNNER", "node") == "node"
                else "ghcr.io/jobscrape/jobscrape:dev")
OPERATOR_NS, OPERATOR_SA = "jobscrape-system", "jobscrape-operator"
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_NS}:{OPERATOR_SA}"


@pytest.fixture(scope="session")
def crd(cluster) -> dict:
    body = yaml.safe_load(CRD_FILE.read_text())
    ext = client.ApiextensionsV1Api(cluster.api)
    try:
        ext.create_custom_resource_definition(body)
    except client.ApiException as e:
        if e.status != 409:
            raise
    wait_for(lambda: any(c.type == "Established" and c.status == "True" for c in
                         ext.read_custom_resource_definition(body["metadata"]["name"])
                         .status.conditions or []), timeout=30, what="the CRD to be established")
    return body


@dataclass
class OperatorProcess:
    """The operator running against the test cluster."""

    proc: subprocess.Popen[bytes]
    log: Path
    kubeconfig: Path
    metrics_port: int
    user: str = OPERATOR_USER

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def install_operator_cluster_role(cluster) -> str:
    """Create the ClusterRoles and bindings from manifests/base/rbac.yaml (once); return the main
    ClusterRole's name."""
    docs = list(yaml.safe_load_all((REPO / "manifests" / "base" / "rbac.yaml").read_text()))
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    for d in docs:
        create = {"ClusterRole": rbac.create_cluster_role,
                  "ClusterRoleBinding": rbac.create_cluster_role_binding}.get(d["kind"])
        if create is None:
            continue
        try:
            create(d)
        except client.ApiException as e:
            if e.status != 409:
                raise
    return "jobscrape-operator"


_POLICY_INSTALLED: set[int] = set()


def start_operator(cluster, tmp: Path, *extra: str) -> OperatorProcess:
    """Start `jobscrape operator` as its own ServiceAccount, bound to the manifests'
    ClusterRole and held by the manifests' admission policy: the tests see exactly the
    permissions a real install grants."""
    if id(cluster) not in _POLICY_INSTALLED:
        install_runner_policy(cluster, RUNNER_IMAGE)
        _POLICY_INSTALLED.add(id(cluster))
    kc = service_account_kubeconfig(cluster.api, cluster.cp.server, cluster.cp.pki.ca_cert,
                                    tmp / "operator.kubeconfig", OPERATOR_NS, OPERATOR_SA,
                                    cluster_role=install_operator_cluster_role(cluster))
    log = tmp / "operator.log"
    port = processes.free_port()
    argv = [str(Path(sys.executable).parent / "jobscrape"), "operator", f"--kubeconfig={kc}",
            "--health-bind-address=", "--resync-seconds=2", f"--runner-image={RUNNER_IMAGE}",
            "--allow-private-networks", f"--metrics-bind-address=127.0.0.1:{port}", *extra]
    proc = processes.spawn(argv, log)
    return OperatorProcess(proc=proc, log=log, kubeconfig=kc, metrics_port=port)


@pytest.fixture(scope="module")
def operator(cluster, crd, tmp_path_factory) -> Iterator[OperatorProcess]:
    op = start_operator(cluster, tmp_path_factory.mktemp("operator"))
    try:
        yield op
    finally:
        processes.stop(op.proc)
        if op.proc.returncode not in (0, -15, 143, None):
            print(op.output()[-5000:])


def audit_writes(cluster, user: str, since_line: int = 0) -> list[dict]:
    """Write requests (create/update/patch/delete) by `user` in the audit log."""
    lines = cluster.cp.audit_log.read_text().splitlines()[since_line:]
    out = []
    for line in lines:
        ev = json.loads(line)
        if ev.get("user", {}).get("username") == user and ev.get("verb") in (
                "create", "update", "patch", "delete", "deletecollection"):
            out.append(ev)
    return out


def audit_lines(cluster) -> int:
    """How many lines the audit log has now."""
    return len(cluster.cp.audit_log.read_text().splitlines())


TENANT_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]


@pytest.fixture
def tenant(cluster, crd, namespace, tmp_path) -> client.ApiClient:
    """An API client of a tenant: a ServiceAccount of the test namespace that may only use
    the jobsources verbs there, as an application team would be set up."""
    from kubernetes import config

    kc = service_account_kubeconfig(cluster.api, cluster.cp.server, cluster.cp.pki.ca_cert,
                                    tmp_path / "tenant.kubeconfig", namespace, "tenant")
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    rbac.create_namespaced_role(namespace, {
        "metadata": {"name": "jobsource-author"},
        "rules": [{"apiGroups": ["jobscrape.io"], "resources": ["jobsources"],
                   "verbs": TENANT_VERBS}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "jobsource-author"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                    "name": "jobsource-author"},
        "subjects": [{"kind": "ServiceAccount", "name": "tenant", "namespace": namespace}]})
    api = config.new_client_from_config(config_file=str(kc))
    yield api
    api.close()
