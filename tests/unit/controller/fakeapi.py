"""An in-memory stand-in for the few API server behaviours the reconciler relies on, as a
transport for AsyncKube: POST never replaces (409), GET 404s, server-side apply creates when
absent, honours a metadata.uid precondition (409 gone, 422 other object) and, like the real
server, only removes fields the manager stopped setting when its managedFields entry is an
Apply (a POST leaves an Update entry); merge patches honour metadata.resourceVersion; JSON
patches run `test` and `replace` ops. Every request is logged as (method, path)."""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

Obj = dict[str, Any]
_PLURAL_KIND = {"serviceaccounts": ("v1", "ServiceAccount"),
                "persistentvolumeclaims": ("v1", "PersistentVolumeClaim"),
                "events": ("v1", "Event"), "cronjobs": ("batch/v1", "CronJob"),
                "jobs": ("batch/v1", "Job"),
                "roles": ("rbac.authorization.k8s.io/v1", "Role"),
                "rolebindings": ("rbac.authorization.k8s.io/v1", "RoleBinding"),
                "jobsources": ("jobscrape.io/v1alpha1", "JobSource")}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


class FakeApi:
    """Objects by (plural, namespace, name); `send` is an AsyncKube transport."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.log: list[tuple[str, str]] = []
        self._rv = itertools.count(100)
        self.fail: dict[tuple[str, str], tuple[int, str]] = {}  # (method, plural) -> error

    # --- helpers for tests ---------------------------------------------------------------
    def requests(self, method: str | None = None) -> list[tuple[str, str]]:
        return [r for r in self.log if method is None or r[0] == method]

    def clear_log(self) -> None:
        self.log.clear()

    def get(self, plural: str, namespace: str, name: str) -> Obj | None:
        return self.objects.get((plural, namespace, name))

    def put(self, plural: str, obj: Obj, manager: str = "someone", subresource: str = ""
            ) -> Obj:
        """Store `obj` as written by another client (new resourceVersion)."""
        m = obj["metadata"]
        key = (plural, m["namespace"], m["name"])
        old = self.objects.get(key)
        m.setdefault("uid", old["metadata"]["uid"] if old else str(uuid.uuid4()))
        m["resourceVersion"] = str(next(self._rv))
        fields = [e for e in (old or {}).get("metadata", {}).get("managedFields") or []
                  if e["manager"] != manager or e.get("subresource", "") != subresource]
        entry = {"manager": manager, "operation": "Update",
                 "time": f"2026-01-01T00:00:{len(self.log) % 60:02d}Z"}
        if subresource:
            entry["subresource"] = subresource
        m["managedFields"] = [*fields, entry]
        self.objects[key] = obj
        return obj

    def delete(self, plural: str, namespace: str, name: str) -> Obj:
        return self.objects.pop((plural, namespace, name))

    # --- the transport -------------------------------------------------------------------
    async def send(self, method: str, path: str, body: bytes | None, content_type: str
                   ) -> tuple[int, bytes]:
        url = urlsplit(path)
        self.log.append((method, url.path))
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        sub = ""
        if parts[-1] == "status":
            sub = parts.pop()
        if "namespaces" in parts:
            i = parts.index("namespaces")
            ns, rest = parts[i + 1], parts[i + 2:]
        else:
            ns, rest = "", parts[-1:]
        plural, name = rest[0], (rest[1] if len(rest) > 1 else "")
        failure = self.fail.get((method, plural))
        if failure is not None:
            return failure[0], json.dumps({"message": failure[1]}).encode()
        data = json.loads(body) if body else None
        key = (plural, ns, name)
        if method == "GET" and not name:
            items = [copy.deepcopy(o) for (p, n, _), o in sorted(self.objects.items())
                     if p == plural and (not ns or n == ns)]
            sel = query.get("labelSelector")
            if sel:
                k, _, v = sel.partition("=")
                items = [o for o in items if (o["metadata"].get("labels") or {}).get(k) == v]
            return 200, json.dumps({"items": items, "metadata": {}}).encode()
        if method == "GET":
            obj = self.objects.get(key)
            return (404, b"{}") if obj is None else (200, json.dumps(obj).encode())
        if method == "POST":
            name = data["metadata"]["name"]
            key = (plural, ns, name)
            if key in self.objects:
                return 409, json.dumps({"message": "already exists"}).encode()
            obj = self.put(plural, copy.deepcopy(data), query.get("fieldManager", "none"))
            return 201, json.dumps(obj).encode()
        if method == "PATCH":
            return self._patch(key, plural, sub, data, content_type, query)
        raise AssertionError(f"unexpected {method} {path}")

    def _patch(self, key: tuple[str, str, str], plural: str, sub: str, data: Any,
               content_type: str, query: dict[str, str]) -> tuple[int, bytes]:
        obj = self.objects.get(key)
        if content_type == "application/apply-patch+yaml":
            manager = query["fieldManager"]
            uid = data["metadata"].get("uid")
            if obj is None:
                if uid:
                    return 409, json.dumps({"message": "uid mismatch"}).encode()
                data = copy.deepcopy(data)
                new = self.put(plural, data, manager)
                new["metadata"]["managedFields"][-1]["operation"] = "Apply"
                return 200, json.dumps(new).encode()
            if uid and uid != obj["metadata"]["uid"]:
                return 422, json.dumps({"message": "metadata.uid: field is immutable"}).encode()
            mine = [e for e in obj["metadata"].get("managedFields") or []
                    if e["manager"] == manager and not e.get("subresource")]
            applied = copy.deepcopy(data)
            applied["metadata"].pop("uid", None)
            if mine and mine[0]["operation"] == "Apply":  # fields not applied any more go
                new = {**{k: v for k, v in obj.items() if k in ("status",)},
                       **applied}
                new["metadata"] = merge_patch(obj["metadata"], applied["metadata"])
            else:  # an Update entry: apply only adds
                new = merge_patch(obj, applied)
            new = self.put(plural, new, manager)
            new["metadata"]["managedFields"][-1]["operation"] = "Apply"
            return 200, json.dumps(new).encode()
        if obj is None:
            return 404, b"{}"
        if content_type == "application/json-patch+json":
            new = copy.deepcopy(obj)
            for op in data:
                target = op["path"].strip("/").split("/")
                if op["op"] == "test":
                    have = new
                    for t in target:
                        have = have[t]
                    if have != op["value"]:
                        return 422, json.dumps({"message": "test failed"}).encode()
                elif op["op"] == "replace":
                    parent = new
                    for t in target[:-1]:
                        parent = parent[t]
                    parent[target[-1]] = op["value"]
            new["metadata"]["resourceVersion"] = str(next(self._rv))
            self.objects[key] = new
            return 200, json.dumps(new).encode()
        want_rv = (data.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != obj["metadata"]["resourceVersion"]:
            return 409, json.dumps({"message": "the object has been modified"}).encode()
        patch = dict(data)
        patch.pop("metadata", None) if sub else None
        new = merge_patch(obj, patch)
        if sub:
            new = {**obj, "status": new.get("status")}
        return 200, json.dumps(self.put(plural, new, "jobscrape-operator", sub)).encode()
