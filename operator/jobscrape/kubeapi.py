"""The Kubernetes REST API as data, without a client library: where each kind the project
writes lives, what an error answer says, and resource quantities.

Shared by the official client's layer (`jobscrape.kubeclient`: the runner, the CLI) and the
operator's own asynchronous client (`jobscrape.controller.apiclient`), which must not load the
official package: importing it costs the operator about 18 MiB of its memory.
"""

from __future__ import annotations

import json
from decimal import Decimal, DecimalException, InvalidOperation

from jobscrape.api import contract

_PATHS = {
    ("v1", "ServiceAccount"): "/api/v1/namespaces/{ns}/serviceaccounts",
    ("v1", "PersistentVolumeClaim"): "/api/v1/namespaces/{ns}/persistentvolumeclaims",
    ("v1", "Event"): "/api/v1/namespaces/{ns}/events",
    ("v1", "Secret"): "/api/v1/namespaces/{ns}/secrets",  # `jobscrape deliver` only
    ("batch/v1", "CronJob"): "/apis/batch/v1/namespaces/{ns}/cronjobs",
    ("batch/v1", "Job"): "/apis/batch/v1/namespaces/{ns}/jobs",
    ("rbac.authorization.k8s.io/v1", "Role"):
        "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"):
        "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
    (contract.API_VERSION, contract.KIND):
        f"/apis/{contract.API_VERSION}/namespaces/{{ns}}/{contract.PLURAL}",
}


class NotFound(LookupError):
    """The object does not exist."""


class Conflict(RuntimeError):
    """The object changed since it was read (409), or already exists on create."""


class NamespaceTerminating(RuntimeError):
    """The namespace is being deleted: nothing new can be created in it (a normal outcome)."""


def collection_path(api_version: str, kind: str, namespace: str) -> str:
    """The REST path of a namespaced kind's collection."""
    return _path_template(api_version, kind).format(ns=namespace)


def all_namespaces_path(api_version: str, kind: str) -> str:
    """The REST path of a namespaced kind's objects in every namespace (list and watch)."""
    return _path_template(api_version, kind).replace("/namespaces/{ns}", "")


def _path_template(api_version: str, kind: str) -> str:
    try:
        return _PATHS[(api_version, kind)]
    except KeyError:
        raise ValueError(f"no REST path known for {api_version} {kind}") from None


def is_namespace_terminating(raw: bytes | None) -> bool:
    """Whether a 403 Status says the namespace is being terminated."""
    try:
        status = json.loads(raw or b"{}")
    except ValueError:
        return False
    if not isinstance(status, dict):
        return False
    details = status.get("details")
    causes = (details.get("causes") if isinstance(details, dict) else None) or []
    return any(isinstance(c, dict) and c.get("reason") == "NamespaceTerminating"
               for c in causes) or "because it is being terminated" in str(status.get("message"))


def status_message(raw: bytes | None, reason: str | None) -> str:
    """The API server's Status message, else the HTTP reason."""
    try:
        return str(json.loads(raw or b"{}").get("message") or reason)
    except (ValueError, TypeError, AttributeError):
        return str(reason)


class ApiError(Exception):
    """Any other error answer: its HTTP status (0: not an HTTP answer) and the server's
    message."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"({status}) {reason}")
        self.status = status
        self.reason = reason


_EXPONENTS = {"n": -3, "u": -2, "m": -1, "k": 1, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5,
              "E": 6}


def parse_quantity(quantity: str | int | float | Decimal) -> Decimal:
    """A Kubernetes quantity ("500m", "1Gi", "2e3") as a number, exactly as
    `kubernetes.utils.parse_quantity` reads it (pinned by its test); ValueError when it is
    none."""
    if isinstance(quantity, int | float | Decimal):
        return Decimal(quantity)
    text = str(quantity)
    number, suffix = text, ""
    if len(text) >= 2 and text[-1] == "i" and text[-2] in _EXPONENTS:
        number, suffix = text[:-2], text[-2:]
    elif text and text[-1] in _EXPONENTS:
        number, suffix = text[:-1], text[-1]
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"Invalid number format: {number}") from None
    if not suffix:
        return value
    if suffix.endswith("i") and suffix[0] not in "KMGTPE":
        raise ValueError(f"{text} has unknown suffix")
    base = 1024 if suffix.endswith("i") else 1000
    try:
        return value * (base ** Decimal(_EXPONENTS[suffix[0]]))
    except DecimalException as exc:
        raise ValueError(f"Invalid quantity: {text}") from exc
