"""A small typed layer over the Kubernetes REST API: get, create, apply and patch by path.

Every call has a timeout; writes are counted per verb so tests and benchmarks can check that
an idle resync writes nothing.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from typing import Any

from kubernetes import client, config
from kubernetes.client.rest import ApiException

from jobscrape.api import contract
from jobscrape.kubeapi import (
    Conflict,
    NamespaceTerminating,
    NotFound,
    collection_path,
    is_namespace_terminating,
    status_message,
)

__all__ = ["ApiException", "Conflict", "Kube", "NamespaceTerminating", "NotFound",
           "collection_path", "is_namespace_terminating", "load_api_client", "status_message"]

Obj = dict[str, Any]
TIMEOUT = (5.0, 30.0)  # connect, read

POOL_SIZE = 64  # >= the reconcile threads, so connections are reused, not re-handshaken


def load_api_client(kubeconfig: str | None = None) -> client.ApiClient:
    """An API client from a kubeconfig path, $KUBECONFIG, or the in-cluster service account,
    with a connection pool large enough for the operator's threads."""
    cfg = client.Configuration()
    if kubeconfig:
        config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
    else:
        try:
            config.load_incluster_config(client_configuration=cfg)
        except config.ConfigException:
            config.load_kube_config(client_configuration=cfg)
    cfg.connection_pool_maxsize = POOL_SIZE
    return client.ApiClient(cfg)


class Kube:
    """Synchronous REST calls with timeouts; thread-safe; counts writes by verb."""

    def __init__(self, api: client.ApiClient, field_manager: str = "jobscrape") -> None:
        self.api = api
        self.field_manager = field_manager
        self.writes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, body: Any = None, query: list[tuple[str, str]] | None
              = None, content_type: str = "application/json") -> Obj:
        if method != "GET":
            with self._lock:
                self.writes[method] += 1
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        m, url, hdrs, payload, post = self.api.param_serialize(
            method, path, query_params=query or [], header_params=headers, body=body,
            auth_settings=["BearerToken"])
        resp = self.api.call_api(m, url, header_params=hdrs, body=payload, post_params=post,
                                 _request_timeout=TIMEOUT)
        raw = resp.read()
        if resp.status == 404:
            raise NotFound(path)
        if resp.status == 409:
            raise Conflict(status_message(raw, resp.reason))
        if resp.status == 403 and is_namespace_terminating(raw):
            raise NamespaceTerminating(status_message(raw, resp.reason))
        if resp.status >= 400:
            raise ApiException(status=resp.status, reason=status_message(raw, resp.reason))
        data = json.loads(raw) if raw else {}
        return data if isinstance(data, dict) else {}

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj:
        """Read one object; NotFound when absent."""
        return self._call("GET", f"{collection_path(api_version, kind, namespace)}/{name}")

    def list(self, api_version: str, kind: str, namespace: str, label_selector: str = ""
             ) -> list[Obj]:
        """List objects of a kind in a namespace."""
        q = [("labelSelector", label_selector)] if label_selector else []
        return list(self._call("GET", collection_path(api_version, kind, namespace),
                               query=q).get("items", []))

    def list_sources(self, namespaces: tuple[str, ...] = ()) -> list[Obj]:
        """Every JobSource in these namespaces (all namespaces when empty)."""
        if not namespaces:
            return list(self._call("GET", f"/apis/{contract.API_VERSION}/{contract.PLURAL}")
                        .get("items", []))
        return [i for ns in namespaces
                for i in self.list(contract.API_VERSION, contract.KIND, ns)]

    def create(self, obj: Obj) -> Obj:
        """Create an object; Conflict when it exists already."""
        ns = obj["metadata"]["namespace"]
        return self._call("POST", collection_path(obj["apiVersion"], obj["kind"], ns), obj,
                          query=[("fieldManager", self.field_manager)])

    def apply(self, obj: Obj) -> Obj:
        """Server-side apply under this client's field manager, taking over conflicting fields."""
        m = obj["metadata"]
        path = f"{collection_path(obj['apiVersion'], obj['kind'], m['namespace'])}/{m['name']}"
        return self._call("PATCH", path, json.dumps(obj),
                          query=[("fieldManager", self.field_manager), ("force", "true")],
                          content_type="application/apply-patch+yaml")

    def merge_patch(self, api_version: str, kind: str, namespace: str, name: str, patch: Obj
                    ) -> Obj:
        """JSON-merge-patch an object (include metadata.resourceVersion to guard)."""
        path = f"{collection_path(api_version, kind, namespace)}/{name}"
        return self._call("PATCH", path, patch, content_type="application/merge-patch+json")

    def json_patch(self, api_version: str, kind: str, namespace: str, name: str,
                   ops: list[Obj]) -> Obj:
        """RFC 6902 JSON patch of an object (use a `test` op to guard)."""
        path = f"{collection_path(api_version, kind, namespace)}/{name}"
        return self._call("PATCH", path, ops, content_type="application/json-patch+json")

    def merge_patch_status(self, api_version: str, kind: str, namespace: str, name: str,
                           patch: Obj) -> Obj:
        """JSON-merge-patch the status subresource (include metadata.resourceVersion to guard)."""
        path = f"{collection_path(api_version, kind, namespace)}/{name}/status"
        return self._call("PATCH", path, patch, content_type="application/merge-patch+json")

    def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        """Delete an object in the background; absent is fine."""
        with contextlib.suppress(NotFound):
            self._call("DELETE", f"{collection_path(api_version, kind, namespace)}/{name}",
                       {"propagationPolicy": "Background"})
