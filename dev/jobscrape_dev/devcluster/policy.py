"""Install the operator's admission policy (manifests/base/policy.yaml) on the local cluster:
the ConfigMap of runner images, the ValidatingAdmissionPolicy and its binding, as a real
install has them."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import yaml
from kubernetes import client

from jobscrape_dev import REPO_ROOT

POLICY_FILE = REPO_ROOT / "manifests" / "base" / "policy.yaml"
POLICY_NAMESPACE = "jobscrape-system"
POLICY_NAME = "jobscrape-operator-guard"
OPERATOR_USER = "system:serviceaccount:jobscrape-system:jobscrape-operator"


def policy_documents() -> dict[str, dict[str, Any]]:
    """The documents of policy.yaml by kind (ConfigMap, ValidatingAdmissionPolicy, ...Binding)."""
    docs = [d for d in yaml.safe_load_all(POLICY_FILE.read_text()) if d]
    return {d["kind"]: d for d in docs}


def _create_or_replace(create: Callable[..., Any], read: Callable[..., Any],
                       replace: Callable[..., Any], body: dict[str, Any], *ns: str) -> None:
    name = body["metadata"]["name"]
    try:
        create(*ns, body)
        return
    except client.ApiException as e:
        if e.status != 409:
            raise
    current = read(name, *ns)
    body = copy.deepcopy(body)
    body["metadata"]["resourceVersion"] = current.metadata.resource_version
    replace(name, *ns, body)


def impersonating_operator(api: client.ApiClient) -> client.ApiClient:
    """A client that acts as the operator's user name but with the admin's rights (group
    system:masters): the policy matches on the user name, RBAC does not get in the way."""
    imp = client.ApiClient(configuration=api.configuration)
    imp.set_default_header("Impersonate-User", OPERATOR_USER)
    imp.set_default_header("Impersonate-Group", "system:masters")
    return imp


def refused_by_policy(e: client.ApiException) -> bool:
    """Whether an API error is this policy's denial."""
    return e.status in (403, 422) and POLICY_NAME in (e.body or e.reason or "")


def restricted_job(name: str, image: str, service_account: str = "jobscrape-runner-probe",
                   ) -> dict[str, Any]:
    """A minimal Job the policy admits (with `image` among the allowed ones)."""
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": {
        "template": {"spec": {
            "serviceAccountName": service_account,
            "restartPolicy": "Never",
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "runner", "image": image, "securityContext": {
                "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}}],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        }}}}


def job_admitted(api: client.ApiClient, namespace: str, job: dict[str, Any]) -> bool:
    """A dry-run create of `job`: True if admitted, False if this policy refused it."""
    try:
        client.BatchV1Api(api).create_namespaced_job(namespace, job, dry_run="All",
                                                     _request_timeout=10)
    except client.ApiException as e:
        if refused_by_policy(e):
            return False
        raise
    return True


def _probe_refused(api: client.ApiClient) -> bool:
    """A dry-run create, as the operator, of a ServiceAccount the policy forbids."""
    try:
        client.CoreV1Api(api).create_namespaced_service_account(
            POLICY_NAMESPACE, {"metadata": {"name": "jobscrape-policy-probe"}}, dry_run="All",
            _request_timeout=10)
    except client.ApiException as e:
        if refused_by_policy(e):
            return True
        raise
    return False


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


def install_runner_policy(api: client.ApiClient, runner_image: str, allowed_images: str = "",
                          timeout: float = 30.0) -> None:
    """Create or update the namespace jobscrape-system, the ConfigMap jobscrape-runner-policy
    with these images, and the policy and its binding; return once the policy is in effect."""
    core = client.CoreV1Api(api)
    adm = client.AdmissionregistrationV1Api(api)
    try:
        core.create_namespace({"metadata": {"name": POLICY_NAMESPACE}})
    except client.ApiException as e:
        if e.status != 409:
            raise
    docs = policy_documents()
    cm = copy.deepcopy(docs["ConfigMap"])
    cm["metadata"]["namespace"] = POLICY_NAMESPACE
    cm["data"] = {"runnerImage": runner_image, "allowedImages": allowed_images}
    _create_or_replace(core.create_namespaced_config_map, core.read_namespaced_config_map,
                       core.replace_namespaced_config_map, cm, POLICY_NAMESPACE)
    _create_or_replace(adm.create_validating_admission_policy,
                       adm.read_validating_admission_policy,
                       adm.replace_validating_admission_policy,
                       docs["ValidatingAdmissionPolicy"])
    _create_or_replace(adm.create_validating_admission_policy_binding,
                       adm.read_validating_admission_policy_binding,
                       adm.replace_validating_admission_policy_binding,
                       docs["ValidatingAdmissionPolicyBinding"])
    imp = impersonating_operator(api)
    try:
        _wait(lambda: _probe_refused(imp), timeout,
              f"the ValidatingAdmissionPolicy {POLICY_NAME} to take effect")
        # parameters are watched, not read per request: wait for this runner image to count
        _wait(lambda: job_admitted(imp, POLICY_NAMESPACE,
                                   restricted_job("jobscrape-policy-probe", runner_image)),
              timeout, f"the policy to admit the runner image {runner_image}")
    finally:
        imp.close()
