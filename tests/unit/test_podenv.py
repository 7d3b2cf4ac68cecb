"""Pure parts of the pod executor: images, argv, env resolution and path mapping."""

from __future__ import annotations

import pytest

from jobscrape_dev.devcluster import podenv


@pytest.mark.parametrize(("image", "ok"), [
    ("ghcr.io/jobscrape/jobscrape:0.1.0", True),
    ("jobscrape", True),
    ("registry.local:5000/jobscrape@sha256:abc", True),
    ("busybox:1.36", False),
    ("ghcr.io/jobscrape/jobscrape-evil:1", False),
])
def test_is_jobscrape_image(image, ok):
    assert podenv.is_jobscrape_image(image) is ok


def test_extra_images_are_allowed():
    assert podenv.is_jobscrape_image("my/runner:2", ("my/runner:1",))


def test_argv_uses_entry_point():
    assert podenv.container_argv({"args": ["run", "--x"]}, "/venv/jobscrape") == [
        "/venv/jobscrape", "run", "--x"]
    assert podenv.container_argv({"command": ["jobscrape", "run"], "args": ["-v"]}, "/b") == [
        "/b", "run", "-v"]
    with pytest.raises(podenv.PodConfigError, match="'sh' is not available"):
        podenv.container_argv({"command": ["sh", "-c", "true"]}, "/b")


def test_python_runs_the_development_interpreter_only_when_given():
    container = {"command": ["python", "-m", "jobscrape_dev.selftest"], "args": ["--x"]}
    assert podenv.container_argv(container, "/b", "/venv/bin/python") == [
        "/venv/bin/python", "-m", "jobscrape_dev.selftest", "--x"]
    with pytest.raises(podenv.PodConfigError, match="'python' is not available"):
        podenv.container_argv(container, "/b")
    with pytest.raises(podenv.PodConfigError, match="'sh' is not available"):
        podenv.container_argv({"command": ["sh", "-c", "true"]}, "/b", "/venv/bin/python")


@pytest.mark.parametrize(("value", "expected"), [
    ("/data/jobscrape.db", "/tmp/pvc/jobscrape.db"),
    ("--store=/data/x.db", "--store=/tmp/pvc/x.db"),
    ("/data", "/tmp/pvc"),
    ("/database", "/database"),
    ("/data/cache/a", "/tmp/cache/a"),
    ("plain", "plain"),
])
def test_map_path(value, expected):
    assert podenv.map_path(value, {"/data": "/tmp/pvc", "/data/cache": "/tmp/cache"}) == expected


def _lookup(kind, name):
    data = {("secretRef", "pg"): {"dsn": "postgres://u:p@h/db"},
            ("configMapRef", "cfg"): {"A": "1", "B": "2"}}
    return data[(kind, name)]


POD = {"metadata": {"name": "p1", "namespace": "ns", "uid": "u1", "labels": {"app": "x"}},
       "spec": {"serviceAccountName": "runner"}}


def test_env_resolves_references_in_order():
    container = {
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "env": [
            {"name": "DSN", "valueFrom": {"secretKeyRef": {"name": "pg", "key": "dsn"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "MSG", "value": "pod $(POD) in $$HOME"},
            {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k",
                                                           "optional": True}}},
        ],
    }
    env = podenv.container_env(container, POD, _lookup)
    assert env == {"CFG_A": "1", "CFG_B": "2", "DSN": "postgres://u:p@h/db", "POD": "p1",
                   "APP": "x", "MSG": "pod p1 in $HOME"}


def test_env_missing_secret_or_key_is_a_config_error():
    with pytest.raises(podenv.PodConfigError, match="secret 'nope' not found"):
        podenv.container_env({"env": [{"name": "X", "valueFrom": {
            "secretKeyRef": {"name": "nope", "key": "k"}}}]}, POD, _lookup)
    with pytest.raises(podenv.PodConfigError, match="key 'missing' not found in secret 'pg'"):
        podenv.container_env({"env": [{"name": "X", "valueFrom": {
            "secretKeyRef": {"name": "pg", "key": "missing"}}}]}, POD, _lookup)


def test_env_resolves_resource_references_rounded_up():
    def ref(resource: str, divisor: str = "1") -> dict:
        return {"resourceFieldRef": {"containerName": "c", "resource": resource,
                                     "divisor": divisor}}
    container = {
        "resources": {"requests": {"cpu": "1500m", "memory": "128Mi"}, "limits": {"cpu": "2"}},
        "env": [{"name": "REQ", "valueFrom": ref("requests.cpu")},
                {"name": "LIM", "valueFrom": ref("limits.cpu")},
                {"name": "MEM", "valueFrom": ref("requests.memory", "1Mi")}],
    }
    env = podenv.container_env(container, POD, _lookup)
    assert env == {"REQ": "2", "LIM": "2", "MEM": "128"}
    small = {"resources": {"requests": {"cpu": "50m"}}, "env": [
        {"name": "REQ", "valueFrom": ref("requests.cpu")}]}
    assert podenv.container_env(small, POD, _lookup) == {"REQ": "1"}
