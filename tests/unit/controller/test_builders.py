"""Pure builders: the CronJob, RBAC, claim and run-now Job made for a JobSource."""

from __future__ import annotations

from jobscrape.api.spec import JobSourceSpec
from jobscrape.controller import builders
from jobscrape.controller.diff import contains

SRC = builders.SourceRef("jobs", "platform", "uid-1")
OPTS = builders.OperatorOptions(runner_image="ghcr.io/jobscrape/jobscrape:1.0")
BASE = {"schedule": "0 */6 * * *", "boards": [{"name": "a", "type": "greenhouse", "token": "a"}]}


def _spec(**kw) -> JobSourceSpec:
    return JobSourceSpec.model_validate({**BASE, **kw})


def test_cronjob_carries_spec_and_restricted_pod():
    cj = builders.build_cronjob(SRC, _spec(timeZone="UTC", suspend=True,
                                           concurrencyPolicy="Allow",
                                           startingDeadlineSeconds=60,
                                           run={"timeoutSeconds": 120, "retries": 0}), OPTS)
    s = cj["spec"]
    assert (s["schedule"], s["timeZone"], s["suspend"], s["concurrencyPolicy"],
            s["startingDeadlineSeconds"]) == ("0 */6 * * *", "UTC", True, "Allow", 60)
    assert cj["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    job = s["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == 120 and job["backoffLimit"] == 0
    pod = job["template"]["spec"]
    c = pod["containers"][0]
    assert c["image"] == "ghcr.io/jobscrape/jobscrape:1.0"
    assert c["args"] == ["run", "--namespace=jobs", "--name=platform",
                         "--store=/var/lib/jobscrape/jobscrape.db"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert {v["name"] for v in pod["volumes"]} == {"tmp", "store"}
    assert builders.SPEC_HASH_ANNOTATION in cj["metadata"]["annotations"]


def test_spec_hash_changes_with_spec_and_drift_check_sees_it():
    a = builders.build_cronjob(SRC, _spec(), OPTS)
    b = builders.build_cronjob(SRC, _spec(schedule="@hourly"), OPTS)
    h = builders.SPEC_HASH_ANNOTATION
    assert a["metadata"]["annotations"][h] != b["metadata"]["annotations"][h]
    assert builders.build_cronjob(SRC, _spec(), OPTS) == a  # deterministic
    assert contains(a, builders.build_cronjob(SRC, _spec(), OPTS))
    assert not contains(a, b)


def test_postgres_store_uses_secret_env_and_no_claim():
    spec = _spec(store={"postgres": {"dsnSecretRef": {"name": "pg", "key": "dsn"}}},
                 notify=[{"name": "team-chat", "webhook": {
                     "urlSecretRef": {"name": "hooks", "key": "d"}}}])
    pod = builders.build_cronjob(SRC, spec, OPTS)["spec"]["jobTemplate"]["spec"]["template"]
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    assert env["JOBSCRAPE_POSTGRES_DSN"]["valueFrom"]["secretKeyRef"] == {"name": "pg",
                                                                          "key": "dsn"}
    assert env["JOBSCRAPE_WEBHOOK_TEAM_CHAT"]["valueFrom"]["secretKeyRef"]["name"] == "hooks"
    assert not any(v["name"] == "store" for v in pod["spec"]["volumes"])
    assert builders.build_store_claim(SRC, spec) is None


def test_claim_ownership_follows_when_deleted():
    keep = builders.build_store_claim(SRC, _spec())
    assert "ownerReferences" not in keep["metadata"]
    drop = builders.build_store_claim(SRC, _spec(store={"sqlite": {"whenDeleted": "Delete",
                                                                   "size": "5Gi"}}))
    assert drop["metadata"]["ownerReferences"][0]["kind"] == "JobSource"
    assert drop["spec"]["resources"]["requests"]["storage"] == "5Gi"


def test_role_is_least_privilege():
    role = builders.build_role(SRC)
    assert role["rules"] == [
        {"apiGroups": ["jobscrape.io"], "resources": ["jobsources"],
         "resourceNames": ["platform"], "verbs": ["get"]},
        {"apiGroups": ["jobscrape.io"], "resources": ["jobsources/status"],
         "resourceNames": ["platform"], "verbs": ["patch"]}]
    rb = builders.build_role_binding(SRC)
    assert rb["subjects"][0] == {"kind": "ServiceAccount", "name": "jobscrape-runner-platform",
                                 "namespace": "jobs"}


def test_run_now_job_is_owned_by_the_cronjob():
    job = builders.build_run_now_job(SRC, _spec(), OPTS, "v1", "cj-uid")
    assert job["metadata"]["ownerReferences"][0] == {
        "apiVersion": "batch/v1", "kind": "CronJob", "name": "jobsource-platform",
        "uid": "cj-uid", "controller": False, "blockOwnerDeletion": True}
    assert job["spec"] == builders.job_spec(SRC, _spec(), OPTS)


def test_signing_key_and_runner_env_reach_the_pod():
    spec = _spec(notify=[{"name": "hook", "webhook": {
        "format": "json", "urlSecretRef": {"name": "jobscrape-hooks", "key": "url"},
        "signingKeySecretRef": {"name": "jobscrape-hooks", "key": "hmac"}}}])
    opts = builders.OperatorOptions(runner_image="img", runner_env=(
        ("PUBSUB_EMULATOR_HOST", "10.0.0.5:8085"),))
    pod = builders.build_cronjob(SRC, spec, opts)["spec"]["jobTemplate"]["spec"]["template"]
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    assert env["JOBSCRAPE_SIGNING_KEY_HOOK"]["valueFrom"]["secretKeyRef"] == {
        "name": "jobscrape-hooks", "key": "hmac"}
    assert env["PUBSUB_EMULATOR_HOST"] == {"name": "PUBSUB_EMULATOR_HOST",
                                           "value": "10.0.0.5:8085"}


def test_sharded_runs_are_indexed_jobs_with_a_retry_limit_per_shard():
    pg = {"postgres": {"dsnSecretRef": {"name": "pg", "key": "dsn"}}}
    spec = _spec(store=pg, run={"shards": 3, "retries": 2})
    for job in (builders.build_cronjob(SRC, spec, OPTS)["spec"]["jobTemplate"]["spec"],
                builders.build_run_now_job(SRC, spec, OPTS, "now", "cj-uid")["spec"]):
        assert (job["completionMode"], job["completions"], job["parallelism"]) == (
            "Indexed", 3, 3)
        assert job["backoffLimitPerIndex"] == 2 and job["maxFailedIndexes"] == 2
        assert job["podReplacementPolicy"] == "Failed"  # no two pods of one shard at once
        assert "backoffLimit" not in job  # one shard's failures never stop the others
        env = {e["name"]: e for e in job["template"]["spec"]["containers"][0]["env"]}
        assert env["JOBSCRAPE_SHARDS"] == {"name": "JOBSCRAPE_SHARDS", "value": "3"}
    one = builders.build_cronjob(SRC, _spec(store=pg), OPTS)["spec"]["jobTemplate"]["spec"]
    assert "completionMode" not in one and one["backoffLimit"] == 1
    env = one["template"]["spec"]["containers"][0]["env"]
    assert "JOBSCRAPE_SHARDS" not in {e["name"] for e in env}


def test_the_cpu_request_sizes_the_parse_pool():
    spec = _spec(run={"resources": {"requests": {"cpu": "1500m"}}})
    pod = builders.build_cronjob(SRC, spec, OPTS)["spec"]["jobTemplate"]["spec"]["template"]
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    assert env["JOBSCRAPE_PARSE_WORKERS"]["valueFrom"] == {"resourceFieldRef": {
        "containerName": "runner", "resource": "requests.cpu", "divisor": "1"}}
    from jobscrape.runner.main import fetch_options, parse_workers

    assert parse_workers({"JOBSCRAPE_PARSE_WORKERS": "2"}) == 2
    for bad in ("", "0", "x", "-1", "999"):
        assert parse_workers({"JOBSCRAPE_PARSE_WORKERS": bad}) is None
    assert fetch_options(spec, False, {"JOBSCRAPE_PARSE_WORKERS": "3"}).parse_workers == 3
