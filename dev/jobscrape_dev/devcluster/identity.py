"""Kubeconfigs for ServiceAccounts of the local cluster, so components run as themselves."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client
from kubernetes.client.rest import ApiException

from jobscrape_dev.devcluster.kubeconfig import write_kubeconfig


def _create(fn, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        fn(*args, _request_timeout=10)
    except ApiException as e:
        if e.status != 409:
            raise


def service_account_kubeconfig(
    api: client.ApiClient, server: str, ca_cert: Path, out: Path, namespace: str, name: str,
    cluster_role: str | None = None, seconds: int = 86400,
) -> Path:
    """Create (if needed) ServiceAccount namespace/name, bind it to `cluster_role` when given,
    and write a kubeconfig carrying a fresh token for it."""
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    _create(core.create_namespace, client.V1Namespace(metadata=client.V1ObjectMeta(
        name=namespace)))
    _create(core.create_namespaced_service_account, namespace, client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name=name)))
    if cluster_role:
        _create(rbac.create_cluster_role_binding, client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=f"{namespace}-{name}-{cluster_role}"),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io",
                                      kind="ClusterRole", name=cluster_role),
            subjects=[client.RbacV1Subject(kind="ServiceAccount", name=name,
                                           namespace=namespace)]))
    tr = core.create_namespaced_service_account_token(
        name, namespace, client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds)),
        _request_timeout=10)
    return write_kubeconfig(out, server, ca_cert, token=tr.status.token, namespace=namespace)
