"""Sharded runs that end with shards missing: which Jobs the operator finishes (pure), the
finishing Job it builds, and the reconciler starting it once (against the in-memory API)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_reconciler_cache import NS, World

from jobscrape.api.contract import FINISH_RUN_ENV, JOB_NAME_ENV, SHARDS_ENV
from jobscrape.api.validate import parse_spec
from jobscrape.controller import builders, finisher, naming

SHARDED = {"shards": 3}
PG = {"postgres": {"dsnSecretRef": {"name": "jobscrape-pg", "key": "dsn"}}}


def _job(name: str = "jobsource-src-29000000", shards: str | None = "3",
         failed: bool = True, start: str = "2026-01-01T06:00:00Z", **status: Any
         ) -> dict[str, Any]:
    labels = naming.labels("src")
    if shards is not None:
        labels[naming.SHARDS_LABEL] = shards
    conds = [{"type": "FailureTarget", "status": "True"}]
    if failed:
        conds.append({"type": "Failed", "status": "True", "reason": "FailedIndexes"})
    return {"metadata": {"name": name, "namespace": NS, "uid": "job-uid", "labels": labels},
            "status": {"startTime": start, "conditions": conds, **status}}


def test_a_failed_sharded_job_without_its_status_is_finished() -> None:
    assert finisher.run_to_finish(_job(), None) == 3
    earlier = {"jobName": "jobsource-src-28999000", "startTime": "2026-01-01T05:00:05Z"}
    assert finisher.run_to_finish(_job(), earlier) == 3


@pytest.mark.parametrize("job, last_run", [
    (_job(failed=False), None),  # still going, or complete (the last shard wrote)
    (_job(shards=None), None),  # not a sharded run
    (_job(shards="1"), None),
    (_job(shards="many"), None),
    (_job(shards="65"), None),
    (_job(), {"jobName": "jobsource-src-29000000"}),  # its status is written
    (_job(), {"jobName": "jobsource-src-29000060", "startTime": "2026-01-01T07:00:04Z"}),
])
def test_other_jobs_are_left_alone(job: dict[str, Any], last_run: dict[str, Any] | None
                                   ) -> None:
    assert finisher.run_to_finish(job, last_run) is None


def test_failed_indexes_are_bounded() -> None:
    assert finisher.failed_indexes(_job(failedIndexes="1")) == "1"
    assert len(finisher.failed_indexes(_job(failedIndexes="1," * 100))) == 80
    assert "deadline" in finisher.failed_indexes(_job())


def _spec(**run: Any) -> Any:
    spec, problems = parse_spec({"schedule": "0 * * * *", "store": PG, "run": run,
                                 "boards": [{"name": "a", "type": "greenhouse",
                                             "token": "a"}]})
    assert spec is not None and not problems, problems
    return spec


def test_the_jobs_of_a_sharded_run_carry_the_shard_count() -> None:
    src = builders.SourceRef(NS, "src", "uid-1")
    opts = builders.OperatorOptions()
    cj = builders.build_cronjob(src, _spec(shards=3), opts)
    assert cj["spec"]["jobTemplate"]["metadata"]["labels"][naming.SHARDS_LABEL] == "3"
    now = builders.build_run_now_job(src, _spec(shards=3), opts, "x", "cj-uid")
    assert now["metadata"]["labels"][naming.SHARDS_LABEL] == "3"
    assert now["metadata"]["labels"][naming.RUN_NOW_LABEL] == naming.run_now_hash("x")
    plain = builders.build_cronjob(src, _spec(), opts)
    assert naming.SHARDS_LABEL not in plain["spec"]["jobTemplate"]["metadata"]["labels"]


def test_the_finishing_job_names_the_run_and_goes_with_its_job() -> None:
    src = builders.SourceRef(NS, "src", "uid-1")
    job = builders.build_finish_job(src, _spec(shards=3), builders.OperatorOptions(),
                                    "jobsource-src-29000000", "job-uid", 3)
    assert job["metadata"]["name"] == "jobsource-src-29000000-finish"
    assert job["metadata"]["ownerReferences"] == [{
        "apiVersion": "batch/v1", "kind": "Job", "name": "jobsource-src-29000000",
        "uid": "job-uid", "controller": False, "blockOwnerDeletion": False}]
    assert naming.SHARDS_LABEL not in job["metadata"]["labels"]  # not watched itself
    spec = job["spec"]
    assert "completionMode" not in spec and spec["backoffLimit"] == builders.FINISH_RETRIES
    env = {e["name"]: e for e in spec["template"]["spec"]["containers"][0]["env"]}
    assert env[JOB_NAME_ENV] == {"name": JOB_NAME_ENV, "value": "jobsource-src-29000000"}
    assert env[SHARDS_ENV]["value"] == "3" and env[FINISH_RUN_ENV]["value"] == "true"
    assert len(naming.finish_job_name("j" * 63)) == 63


def _world_with_run(**spec: Any) -> tuple[World, dict[str, Any]]:
    w = World()
    w.source(store=PG, run=SHARDED, **spec)
    return w, w.api.objects


async def test_the_reconciler_starts_one_finishing_job_for_a_run_of_its_cronjob() -> None:
    w, _ = _world_with_run()
    await w.reconcile()
    w.watch()
    cj = w.api.get("cronjobs", NS, "jobsource-src")
    job = _job()
    job["metadata"]["ownerReferences"] = [{"kind": "CronJob", "name": "jobsource-src",
                                           "uid": cj["metadata"]["uid"]}]
    w.api.clear_log()
    assert await w.rec.finish_run(copy.deepcopy(job)) == "jobsource-src-29000000-finish"
    assert [p.rsplit("/", 1)[-1] for _, p in w.api.requests("POST")] == ["jobs"]
    assert w.api.get("jobs", NS, "jobsource-src-29000000-finish") is not None
    assert w.events[-1] == "ShardsFailed"
    # the same event again (a restart, a resync of the watch): no second Job, no event
    events = len(w.events)
    assert await w.rec.finish_run(copy.deepcopy(job)) is None
    assert len(w.events) == events


async def test_a_job_not_of_the_sources_cronjob_is_not_finished() -> None:
    w, _ = _world_with_run()
    await w.reconcile()
    w.watch()
    job = _job()
    job["metadata"]["ownerReferences"] = [{"kind": "CronJob", "name": "jobsource-src",
                                           "uid": "someone-elses"}]
    assert await w.rec.finish_run(job) is None
    job["metadata"]["ownerReferences"] = []
    assert await w.rec.finish_run(job) is None
    assert not [p for _, p in w.api.requests("POST") if p.endswith("/jobs")]
