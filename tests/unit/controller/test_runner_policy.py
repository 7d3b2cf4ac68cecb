"""The runner policy: images, resources and Secrets a JobSource may ask for."""

from __future__ import annotations

import pytest

from jobscrape.api.spec import JobSourceSpec
from jobscrape.controller import builders
from jobscrape.controller.main import bind_address
from jobscrape.controller.policy import (
    RunnerPolicy,
    check_spec,
    image_allowed,
    parse_image_list,
    runner_resources,
)

IMAGE = "ghcr.io/jobscrape/jobscrape:1.0"
BASE = {"schedule": "0 */6 * * *", "boards": [{"name": "a", "type": "greenhouse", "token": "a"}]}


def _spec(**kw) -> JobSourceSpec:
    return JobSourceSpec.model_validate({**BASE, **kw})


def _paths(spec: JobSourceSpec, policy: RunnerPolicy | None = None) -> list[str]:
    return [e.path for e in check_spec(spec, policy or RunnerPolicy(), IMAGE)]


def test_foreign_image_refused_unless_allowlisted():
    spec = _spec(run={"image": "docker.io/attacker/exfil:latest"})
    errors = check_spec(spec, RunnerPolicy(), IMAGE)
    assert [e.path for e in errors] == ["spec.run.image"]
    assert "allowlist" in errors[0].message
    assert _paths(_spec(run={"image": IMAGE})) == []
    allow = RunnerPolicy(allowed_images=("registry.example/jobscrape/*", "x.io/y:1"))
    assert _paths(_spec(run={"image": "registry.example/jobscrape/runner:2"}), allow) == []
    assert _paths(_spec(run={"image": "registry.example/other:1"}), allow) == ["spec.run.image"]
    assert _paths(_spec(run={"image": "x.io/y:2"}), allow) == ["spec.run.image"]


def test_image_list_parsing_and_matching():
    assert parse_image_list(" a:1, b/*  c ") == ("a:1", "b/*", "c")
    assert image_allowed("b/x:1", ("b/*",)) and not image_allowed("bb/x:1", ("b/*",))
    assert not image_allowed("a:1", ())


def test_resources_bounded_and_extended_resources_refused():
    spec = _spec(run={"resources": {"limits": {"cpu": 64, "memory": "512Gi",
                                               "nvidia.com/gpu": 8},
                                    "requests": {"cpu": "100m"}}})
    errors = {e.path: e.message for e in check_spec(spec, RunnerPolicy(), IMAGE)}
    assert set(errors) == {"spec.run.resources.limits.cpu", "spec.run.resources.limits.memory",
                           "spec.run.resources.limits.nvidia.com/gpu"}
    assert "more than the operator allows (2)" in errors["spec.run.resources.limits.cpu"]
    assert "not allowed" in errors["spec.run.resources.limits.nvidia.com/gpu"]
    ok = _spec(run={"resources": {"limits": {"cpu": "2", "memory": "2Gi"}}})
    assert _paths(ok) == []
    assert _paths(_spec(run={"resources": {"requests": {"memory": "lots"}}})) == [
        "spec.run.resources.requests.memory"]


def test_secret_names_need_the_prefix_and_are_never_read():
    spec = _spec(store={"postgres": {"dsnSecretRef": {"name": "db-admin", "key": "password"}}},
                 notify=[{"name": "t", "webhook": {"urlSecretRef": {"name": "jobscrape-hooks",
                                                                    "key": "k"}}},
                         {"name": "u", "webhook": {"urlSecretRef": {"name": "other",
                                                                    "key": "k"}}}])
    errors = check_spec(spec, RunnerPolicy(), IMAGE)
    assert [e.path for e in errors] == ["spec.store.postgres.dsnSecretRef.name",
                                        "spec.notify[1].webhook.urlSecretRef.name"]
    assert "'jobscrape-'" in errors[0].message and "password" not in errors[0].message
    assert _paths(spec, RunnerPolicy(secret_name_prefix="")) == []


def test_runner_resources_fill_defaults_within_limits():
    out = runner_resources(_spec(), RunnerPolicy())
    assert out == {"requests": {"cpu": "50m", "memory": "128Mi"},
                   "limits": {"cpu": "1", "memory": "512Mi"}}
    asked = runner_resources(_spec(run={"resources": {"requests": {"memory": "1Gi"}}}),
                             RunnerPolicy())
    assert asked["limits"]["memory"] == "1Gi"  # never below the request
    low = runner_resources(_spec(run={"resources": {"limits": {"memory": "64Mi"}}}),
                           RunnerPolicy())
    assert low["requests"]["memory"] == "64Mi"  # never above the limit
    opts = builders.OperatorOptions(runner_image=IMAGE)
    cj = builders.build_cronjob(builders.SourceRef("n", "s", "u"), _spec(), opts)
    c = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert c["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}


def test_bind_address_parsing():
    assert bind_address("127.0.0.1:8000", "--x") == ("127.0.0.1", 8000)
    assert bind_address(":9000", "--x") == ("0.0.0.0", 9000)
    assert bind_address("[::1]:9000", "--x") == ("::1", 9000)
    assert bind_address("", "--x") is None
    with pytest.raises(SystemExit, match="--metrics-bind-address: 'localhost' is not HOST:PORT"):
        bind_address("localhost", "--metrics-bind-address")


def test_shards_are_bounded_by_the_policy_and_the_flag():
    from jobscrape.cli import build_parser
    from jobscrape.controller.main import runner_policy

    pg = {"postgres": {"dsnSecretRef": {"name": "jobscrape-pg", "key": "dsn"}}}
    spec = _spec(store=pg, run={"shards": 12})
    errors = check_spec(spec, RunnerPolicy(), IMAGE)
    assert [(e.path, e.message) for e in errors] == [
        ("spec.run.shards", "12 shards is more than the operator allows (8)")]
    assert check_spec(spec, RunnerPolicy(max_shards=12), IMAGE) == []
    parser = build_parser(only="operator")
    args = parser.parse_args(["operator", "--max-runner-shards", "12"])
    assert runner_policy(args).max_shards == 12
    with pytest.raises(SystemExit, match=r"--max-runner-shards: 0 is outside 1\.\.64"):
        runner_policy(parser.parse_args(["operator", "--max-runner-shards", "0"]))
