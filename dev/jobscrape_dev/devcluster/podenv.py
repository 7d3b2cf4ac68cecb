"""Pure helpers of the pod executor: which pods it runs, their argv, env and path mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

JOBSCRAPE_REPOSITORIES = ("jobscrape", "ghcr.io/jobscrape/jobscrape")


class PodConfigError(ValueError):
    """The pod cannot be started as specified (what a kubelet calls CreateContainerConfigError)."""


def image_repository(image: str) -> str:
    """`registry/name:tag@digest` → `registry/name`."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref = ref[: len(ref) - len(last)] + last.split(":", 1)[0]
    return ref


def is_jobscrape_image(image: str, extra_images: tuple[str, ...] = ()) -> bool:
    """Whether the executor can run this image (the project's own image, or one named to it)."""
    if image in extra_images or image_repository(image) in map(image_repository, extra_images):
        return True
    repo = image_repository(image)
    return repo in JOBSCRAPE_REPOSITORIES or repo.endswith("/jobscrape")


PYTHON_COMMANDS = ("python", "python3", "/usr/local/bin/python", "/usr/local/bin/python3")


def container_argv(container: Mapping[str, Any], jobscrape_bin: str,
                   python_bin: str | None = None) -> list[str]:
    """The local argv for the container: the image's entry point is `jobscrape`. With
    `python_bin`, a `python` command runs that interpreter (the development environment's,
    where `python -m jobscrape_dev.selftest` is installed for the harness tests)."""
    command = list(container.get("command") or [])
    args = list(container.get("args") or [])
    if not command:
        return [jobscrape_bin, *args]
    if command[0] in ("jobscrape", "/usr/local/bin/jobscrape"):
        return [jobscrape_bin, *command[1:], *args]
    if python_bin and command[0] in PYTHON_COMMANDS:
        return [python_bin, *command[1:], *args]
    raise PodConfigError(
        f"command {command[0]!r} is not available: the local executor runs only the jobscrape "
        "entry point of the jobscrape image (and its python)"
    )


def map_path(value: str, mounts: Mapping[str, str]) -> str:
    """Rewrite a container path (or `--flag=path`) under a mount onto its local directory."""
    for mount_path in sorted(mounts, key=len, reverse=True):
        local = mounts[mount_path]
        mp = mount_path.rstrip("/") or "/"
        if value == mp or value.startswith(mp + "/"):
            return local + value[len(mp):]
        if "=" in value:
            flag, _, rest = value.partition("=")
            if rest == mp or rest.startswith(mp + "/"):
                return f"{flag}={local}{rest[len(mp):]}"
    return value


SecretLookup = Callable[[str, str], Mapping[str, str]]  # (kind, name) -> data (decoded)


def _field_ref(path: str, pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata", {})
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.serviceAccountName": pod.get("spec", {}).get("serviceAccountName", "default"),
        "spec.nodeName": "jobscrape-local-executor",
        "status.podIP": "127.0.0.1",
        "status.hostIP": "127.0.0.1",
    }
    if path in simple:
        return str(simple[path])
    for key in ("labels", "annotations"):
        prefix = f"metadata.{key}['"
        if path.startswith(prefix) and path.endswith("']"):
            return str((meta.get(key) or {}).get(path[len(prefix):-2], ""))
    raise PodConfigError(f"fieldRef {path!r} is not supported by the local executor")


def _resource_ref(ref: Mapping[str, Any], container: Mapping[str, Any]) -> str:
    """A resourceFieldRef as the kubelet resolves it: the container's request or limit
    divided by the divisor, rounded up (a limit not set: the node's capacity, here its CPUs
    or 0 for memory)."""
    import math
    import os

    from kubernetes.utils import parse_quantity

    kind, _, resource = str(ref["resource"]).partition(".")
    value = ((container.get("resources") or {}).get(kind) or {}).get(resource)
    if value is None:
        value = os.cpu_count() or 1 if resource == "cpu" else 0
    divisor = parse_quantity(str(ref.get("divisor") or "1"))
    return str(max(1, math.ceil(parse_quantity(str(value)) / divisor)) if resource == "cpu"
               else math.ceil(parse_quantity(str(value)) / divisor))


def container_env(
    container: Mapping[str, Any], pod: Mapping[str, Any], lookup: SecretLookup
) -> dict[str, str]:
    """The container's environment with Secret, ConfigMap and field references resolved."""
    env: dict[str, str] = {}
    for src in container.get("envFrom") or []:
        prefix = src.get("prefix") or ""
        for kind in ("secretRef", "configMapRef"):
            ref = src.get(kind)
            if ref:
                data = _lookup(lookup, kind, ref["name"], bool(ref.get("optional")))
                env.update({prefix + k: v for k, v in data.items()})
    for item in container.get("env") or []:
        name = item["name"]
        if "value" in item:
            env[name] = _expand(str(item["value"]), env)
            continue
        vf = item.get("valueFrom") or {}
        if "fieldRef" in vf:
            env[name] = _field_ref(vf["fieldRef"]["fieldPath"], pod)
        if "resourceFieldRef" in vf:
            env[name] = _resource_ref(vf["resourceFieldRef"], container)
        for kind, ref_key in (("secretRef", "secretKeyRef"), ("configMapRef", "configMapKeyRef")):
            ref = vf.get(ref_key)
            if not ref:
                continue
            optional = bool(ref.get("optional"))
            data = _lookup(lookup, kind, ref["name"], optional)
            if ref["key"] in data:
                env[name] = data[ref["key"]]
            elif not optional:
                raise PodConfigError(
                    f"env {name}: key {ref['key']!r} not found in {kind[:-3]} {ref['name']!r}"
                )
    return env


def _lookup(lookup: SecretLookup, kind: str, name: str, optional: bool) -> Mapping[str, str]:
    try:
        return lookup(kind, name)
    except KeyError:
        if optional:
            return {}
        raise PodConfigError(f"{kind[:-3]} {name!r} not found") from None


def _expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion of earlier variables; $$ escapes."""
    out, i = [], 0
    while i < len(value):
        if value.startswith("$$", i):
            out.append("$")
            i += 2
        elif value.startswith("$(", i) and ")" in value[i:]:
            end = value.index(")", i)
            var = value[i + 2:end]
            out.append(env.get(var, value[i:end + 1]))
            i = end + 1
        else:
            out.append(value[i])
            i += 1
    return "".join(out)
