"""The admission policy that narrows the operator's ClusterRole (manifests/base/policy.yaml),
against the real API server: RBAC alone lets the operator's ServiceAccount create a Job in
kube-system running as any ServiceAccount; the policy refuses that, and everything else that is
not the shape the operator builds, while the operator's own objects pass."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, config

from jobscrape.api.spec import JobSourceSpec
from jobscrape.controller import builders, naming
from jobscrape.kubeclient import Kube
from jobscrape_dev.devcluster.identity import service_account_kubeconfig

from conftest import (
    OPERATOR_NS,
    OPERATOR_SA,
    OPERATOR_USER,
    RUNNER_IMAGE,
    install_operator_cluster_role,
)
from policy import (
    POLICY_NAME,
    install_runner_policy,
    job_admitted,
    refused_by_policy,
    restricted_job,
)
from waiting import wait_for

pytestmark = pytest.mark.cluster

SPEC = {"schedule": "0 * * * *", "boards": [{"name": "a", "type": "greenhouse", "token": "a"}]}
# postgres instead of the SQLite claim, env from Secrets, compute resources
SPEC_FULL = {**SPEC, "store": {"postgres": {"dsnSecretRef": {"name": "jobscrape-pg",
                                                             "key": "dsn"}}},
             "notify": [{"name": "hook", "webhook": {"urlSecretRef": {"name": "jobscrape-hook",
                                                                      "key": "url"}}}],
             "run": {"resources": {"requests": {"cpu": "100m"}}}}
FOREIGN_IMAGE = "docker.io/attacker/exfil:latest"
RBAC = "rbac.authorization.k8s.io"


@pytest.fixture(scope="module")
def policy(cluster) -> None:
    install_runner_policy(cluster, RUNNER_IMAGE)


@pytest.fixture(scope="module")
def op_api(cluster, crd, policy, tmp_path_factory) -> Iterator[client.ApiClient]:
    """An API client of the operator's ServiceAccount, bound to its real ClusterRole."""
    kc = service_account_kubeconfig(
        cluster.api, cluster.cp.server, cluster.cp.pki.ca_cert,
        tmp_path_factory.mktemp("policy") / "operator.kubeconfig", OPERATOR_NS, OPERATOR_SA,
        cluster_role=install_operator_cluster_role(cluster))
    api = config.new_client_from_config(config_file=str(kc))
    # RBAC bindings reach the authorizer's cache shortly after they are made
    wait_for(lambda: client.CoreV1Api(api).create_namespaced_service_account(
        OPERATOR_NS, {"metadata": {"name": "jobscrape-runner-rbac-probe"}}, dry_run="All"),
        timeout=30, what="the operator's ClusterRole to take effect")
    yield api
    api.close()


@pytest.fixture
def source(cluster, crd, namespace) -> builders.SourceRef:
    """A real JobSource s1 (so owner references resolve and nothing is garbage-collected)."""
    obj = client.CustomObjectsApi(cluster.api).create_namespaced_custom_object(
        builders.GROUP, builders.VERSION, namespace, builders.PLURAL, {
            "apiVersion": builders.API_VERSION, "kind": builders.KIND,
            "metadata": {"name": "s1"}, "spec": SPEC})
    return builders.SourceRef(namespace, "s1", obj["metadata"]["uid"])


def _opts() -> builders.OperatorOptions:
    return builders.OperatorOptions(runner_image=RUNNER_IMAGE)


def _spec(wire: dict[str, Any] = SPEC) -> JobSourceSpec:
    return JobSourceSpec.model_validate(wire)


def refused(create: Callable[..., Any], *args: Any) -> client.ApiException:
    """Call a create method as a server-side dry run; return the API error it must raise."""
    with pytest.raises(client.ApiException) as e:
        create(*args, dry_run="All")
    return e.value


def assert_policy_refused(e: client.ApiException, *words: str) -> None:
    text = e.body or e.reason or ""
    assert refused_by_policy(e), (e.status, text)
    assert e.status == 403, (e.status, text)
    for w in words:
        assert w in text, (w, text)


def _kubectl_can_i(cluster, *args: str) -> str:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is required"
    out = subprocess.run([kubectl, f"--kubeconfig={cluster.kubeconfig}", "auth", "can-i", *args,
                          f"--as={OPERATOR_USER}"], capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def _runner_job(name: str, image: str = RUNNER_IMAGE) -> dict[str, Any]:
    return restricted_job(name, image, service_account="jobscrape-runner-s1")


# --- what RBAC alone allows, and the policy refuses -----------------------------------------

def test_job_in_kube_system_as_controller_account_refused_although_rbac_allows(
        cluster, op_api):
    assert _kubectl_can_i(cluster, "create", "jobs", "-n", "kube-system") == "yes"
    job = restricted_job("escalate", RUNNER_IMAGE, service_account="generic-garbage-collector")
    e = refused(client.BatchV1Api(op_api).create_namespaced_job, "kube-system", job)
    assert_policy_refused(e, "jobscrape-runner-*", "generic-garbage-collector")


def test_admin_is_not_affected(cluster, policy):
    job = restricted_job("escalate", RUNNER_IMAGE, service_account="generic-garbage-collector")
    created = client.BatchV1Api(cluster.api).create_namespaced_job("kube-system", job,
                                                                   dry_run="All")
    assert created.spec.template.spec.service_account_name == "generic-garbage-collector"


def test_job_with_foreign_image_refused(op_api, namespace):
    e = refused(client.BatchV1Api(op_api).create_namespaced_job, namespace,
                _runner_job("foreign", FOREIGN_IMAGE))
    assert_policy_refused(e, "image not allowed", FOREIGN_IMAGE)


def _privileged(pod: dict[str, Any]) -> None:
    pod["containers"][0]["securityContext"]["privileged"] = True
    pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True


def _host_path(pod: dict[str, Any]) -> None:
    pod["volumes"].append({"name": "root", "hostPath": {"path": "/"}})


def _no_drop_all(pod: dict[str, Any]) -> None:
    del pod["containers"][0]["securityContext"]["capabilities"]


def _add_capability(pod: dict[str, Any]) -> None:
    pod["containers"][0]["securityContext"]["capabilities"]["add"] = ["NET_ADMIN"]


def _host_network(pod: dict[str, Any]) -> None:
    pod["hostNetwork"] = True


def _root(pod: dict[str, Any]) -> None:
    pod["securityContext"] = {"runAsUser": 0}
    del pod["containers"][0]["securityContext"]["runAsNonRoot"]


def _foreign_claim(pod: dict[str, Any]) -> None:
    pod["volumes"].append({"name": "other", "persistentVolumeClaim": {"claimName": "db-data"}})


def _foreign_init_container(pod: dict[str, Any]) -> None:
    pod["initContainers"] = [{**pod["containers"][0], "name": "init", "image": FOREIGN_IMAGE}]


def _command(pod: dict[str, Any]) -> None:
    pod["containers"][0]["command"] = ["sh", "-c", "env"]


def _env_from(pod: dict[str, Any]) -> None:
    pod["containers"][0]["envFrom"] = [{"secretRef": {"name": "everything"}}]


def _env_from_config_map(pod: dict[str, Any]) -> None:
    pod["containers"][0]["env"] = [{"name": "X", "valueFrom": {"configMapKeyRef": {
        "name": "kube-root-ca.crt", "key": "ca.crt"}}}]


@pytest.mark.parametrize(("change", "words"), [
    (_privileged, ()),  # the API server (--allow-privileged=false) may refuse it first
    (_host_path, ("jobscrape-store-*", "root")),
    (_no_drop_all, ("capabilities.drop [ALL]", "runner")),
    (_add_capability, ("runner",)),
    (_host_network, ("hostNetwork",)),
    (_root, ("runAsNonRoot",)),
    (_foreign_claim, ("other",)),
    (_foreign_init_container, ("init=" + FOREIGN_IMAGE,)),
    (_command, ("override the command", "runner")),
    (_env_from, ("envFrom", "runner")),
    (_env_from_config_map, ("secretKeyRef, fieldRef and resourceFieldRef", "runner")),
], ids=lambda v: v.__name__.strip("_") if callable(v) else None)
def test_unsafe_pod_settings_refused(op_api, namespace, change, words):
    job = _runner_job("unsafe")
    change(job["spec"]["template"]["spec"])
    e = refused(client.BatchV1Api(op_api).create_namespaced_job, namespace, job)
    if change is _privileged and not refused_by_policy(e):
        assert e.status == 422 and "privileged" in (e.body or ""), e.body
        return
    assert_policy_refused(e, *words)


def test_cronjob_with_foreign_service_account_refused(op_api, source):
    cj = builders.build_cronjob(source, _spec(), _opts())
    cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"] = "default"
    e = refused(client.BatchV1Api(op_api).create_namespaced_cron_job, source.namespace, cj)
    assert_policy_refused(e, "jobscrape-runner-*", "'default'")


def test_service_account_outside_runner_names_refused(op_api, namespace):
    e = refused(client.CoreV1Api(op_api).create_namespaced_service_account, namespace,
                {"metadata": {"name": "deployer"}})
    assert_policy_refused(e, "jobscrape-runner-*", "deployer")


def _binding(name: str, kind: str, role: str, subject_ns: str,
             subject: str | None = None) -> dict[str, Any]:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": subject or name,
                          "namespace": subject_ns}]}


def test_rolebinding_to_cluster_role_admin_refused(op_api, namespace):
    e = refused(client.RbacAuthorizationV1Api(op_api).create_namespaced_role_binding, namespace,
                _binding("jobscrape-runner-x", "ClusterRole", "admin", namespace))
    # RBAC's own escalation check may come first: the operator does not hold all of `admin`
    assert e.status == 403, e.body
    assert refused_by_policy(e) or "attempting to grant RBAC permissions" in (e.body or "")


def test_rolebinding_to_the_operators_own_cluster_role_refused(op_api, namespace):
    # the operator holds every permission of its ClusterRole, so RBAC would let it hand them on
    e = refused(client.RbacAuthorizationV1Api(op_api).create_namespaced_role_binding, namespace,
                _binding("jobscrape-runner-x", "ClusterRole", "jobscrape-operator", namespace))
    assert_policy_refused(e, "jobscrape-runner-X")


def test_rolebinding_with_subject_from_another_namespace_refused(op_api, source):
    rbac = client.RbacAuthorizationV1Api(op_api)
    role = builders.build_role(source)  # a real runner Role, so RBAC lets the operator bind it
    rbac.create_namespaced_role(source.namespace, role)
    name = role["metadata"]["name"]
    e = refused(rbac.create_namespaced_role_binding, source.namespace,
                _binding(name, "Role", name, "kube-system"))
    assert_policy_refused(e, "same namespace")
    e = refused(rbac.create_namespaced_role_binding, source.namespace,
                _binding(name, "Role", name, source.namespace, subject="default"))
    assert_policy_refused(e, "same namespace")


def _role(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": name},
            "rules": rules}


def test_role_granting_secrets_refused(op_api, namespace):
    e = refused(client.RbacAuthorizationV1Api(op_api).create_namespaced_role, namespace,
                _role("jobscrape-runner-x", [{"apiGroups": [""], "resources": ["secrets"],
                                              "verbs": ["get"]}]))
    # RBAC refuses it too (the operator cannot read Secrets, so it cannot grant that)
    assert e.status == 403, e.body
    assert refused_by_policy(e) or "attempting to grant RBAC permissions" in (e.body or "")


@pytest.mark.parametrize("rules", [
    [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]}],
    [{"apiGroups": ["jobscrape.io"], "resources": ["jobsources"], "verbs": ["get"]}],
    [{"apiGroups": ["jobscrape.io"], "resources": ["jobsources"], "verbs": ["list"],
      "resourceNames": ["s1"]}],
], ids=["jobs", "no-resource-names", "list"])
def test_role_granting_what_the_operator_holds_refused(op_api, namespace, rules):
    # RBAC alone allows these (the operator holds the permissions); the policy does not
    e = refused(client.RbacAuthorizationV1Api(op_api).create_namespaced_role, namespace,
                _role("jobscrape-runner-x", rules))
    assert_policy_refused(e, "jobscrape-runner-*")


# --- the operator's own work passes ----------------------------------------------------------

@pytest.mark.parametrize("wire", [SPEC, SPEC_FULL], ids=["sqlite", "postgres-webhook"])
def test_operators_own_objects_are_accepted(op_api, source, wire):
    kube = Kube(op_api, field_manager=naming.FIELD_MANAGER)
    spec, opts = _spec(wire), _opts()
    kube.create(builders.build_service_account(source))
    kube.create(builders.build_role(source))
    kube.create(builders.build_role_binding(source))
    cj = builders.build_cronjob(source, spec, opts)
    cj["spec"]["suspend"] = True  # not scheduled during the test; the policy ignores it
    made = kube.create(cj)
    job = builders.build_run_now_job(source, spec, opts, "now-1", made["metadata"]["uid"])
    job["spec"]["suspend"] = True  # no runner pod: this test is about admission only
    made_job = kube.create(job)
    finish = builders.build_finish_job(source, spec, opts, made_job["metadata"]["name"],
                                       made_job["metadata"]["uid"], 3)
    finish["spec"]["suspend"] = True
    kube.create(finish)  # the Job that finishes a sharded run passes too
    # server-side apply of what exists already is an UPDATE: admitted the same way
    for obj in (builders.build_service_account(source), builders.build_role(source),
                builders.build_role_binding(source), cj):
        kube.apply(obj)
    names = {o.metadata.name for o in
             client.BatchV1Api(op_api).list_namespaced_cron_job(source.namespace).items}
    assert naming.cronjob_name("s1") in names


def test_update_to_a_foreign_image_refused(op_api, source):
    kube = Kube(op_api, field_manager=naming.FIELD_MANAGER)
    cj = builders.build_cronjob(source, _spec(), _opts())
    cj["spec"]["suspend"] = True
    kube.create(cj)
    cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] = (
        FOREIGN_IMAGE)
    with pytest.raises(client.ApiException) as e:
        kube.apply(cj)
    assert e.value.status == 403 and POLICY_NAME in (e.value.reason or ""), e.value.reason


def test_allowed_images_prefix(cluster, op_api, namespace):
    good = _runner_job("allowed", "registry.example/jobscrape/runner:1.2")
    bad = _runner_job("other", "registry.example/other:1")
    assert not job_admitted(op_api, namespace, good)
    install_runner_policy(cluster, RUNNER_IMAGE, "registry.example/jobscrape/*")
    try:
        wait_for(lambda: job_admitted(op_api, namespace, good), timeout=30,
                 what="allowedImages to take effect")
        assert not job_admitted(op_api, namespace, bad)
        assert job_admitted(op_api, namespace, _runner_job("default", RUNNER_IMAGE))
    finally:
        install_runner_policy(cluster, RUNNER_IMAGE)
        wait_for(lambda: not job_admitted(op_api, namespace, good), timeout=30,
                 what="allowedImages to be reset")


def test_runner_shaped_job_in_any_namespace_is_still_allowed(op_api):
    """What the policy leaves: the allowed image, as a jobscrape-runner-* account, anywhere
    (documented in the README)."""
    name = f"runner-{uuid.uuid4().hex[:6]}"
    assert job_admitted(op_api, "kube-system", restricted_job(name, RUNNER_IMAGE))


def test_a_missing_configmap_blocks_nobody_else(cluster, op_api, namespace):
    """A binding whose parameters are missing is resolved before matchConditions: with
    parameterNotFoundAction Deny it would refuse every ServiceAccount, Job and RBAC write in
    the cluster (seen when a release was uninstalled). Allow keeps the cluster working."""
    core = client.CoreV1Api(cluster.api)
    core.delete_namespaced_config_map("jobscrape-runner-policy", "jobscrape-system")
    try:
        def admin_can_write() -> bool:
            core.create_namespaced_service_account(namespace, {"metadata": {"name": "app"}},
                                                   dry_run="All")
            client.BatchV1Api(cluster.api).create_namespaced_job(
                namespace, _runner_job("admin-job", "registry.example/any:1"), dry_run="All")
            return True
        wait_for(admin_can_write, timeout=30, what="writes of others to pass without params")
    finally:
        install_runner_policy(cluster, RUNNER_IMAGE)
