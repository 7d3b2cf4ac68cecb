"""The reconciler against an in-memory API (fakeapi.py): it writes only differences and reads
only what no watch shows, from the cache the watches keep."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from fakeapi import FakeApi

from jobscrape.controller import builders, naming
from jobscrape.controller.apiclient import AsyncKube
from jobscrape.controller.reconciler import (
    NameConflict,
    Reconciler,
    _fingerprint,
    claim_ttl_for,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NS = "team"
WATCHED = {"cronjobs", "serviceaccounts", "roles", "rolebindings"}


class World:
    """A fake API, a reconciler on it, its events, and a hand-cranked watch."""

    def __init__(self) -> None:
        self.api = FakeApi()
        self.kube = AsyncKube(self.api.send, field_manager=naming.FIELD_MANAGER)
        self.events: list[str] = []
        self.time = 1000.0

        async def emit(involved: dict[str, Any], type_: str, reason: str, message: str,
                       key: str | None) -> None:
            self.events.append(reason)

        self.rec = Reconciler(kube=self.kube, options=builders.OperatorOptions(), emit=emit,
                              clock=lambda: NOW, monotonic=lambda: self.time)

    def source(self, name: str = "src", **spec: Any) -> dict[str, Any]:
        body = {"schedule": "0 */6 * * *",
                "boards": [{"name": "acme", "type": "greenhouse", "token": "acme"}]}
        body.update(spec)
        obj = self.api.put("jobsources", {
            "apiVersion": "jobscrape.io/v1alpha1", "kind": "JobSource",
            "metadata": {"name": name, "namespace": NS, "generation": 1}, "spec": body},
            manager="tenant")
        self.rec.source_seen(copy.deepcopy(obj))
        return obj

    def watch(self) -> None:
        """Deliver what a watch would show: the operator's objects and the JobSources."""
        for (plural, _, _), obj in self.api.objects.items():
            if plural in WATCHED and (obj["metadata"].get("labels") or {}).get(
                    naming.MANAGED_BY) == naming.OPERATOR:
                self.rec.owned.observe(copy.deepcopy(obj))
            if plural == "jobsources":
                self.rec.source_seen(copy.deepcopy(obj))

    async def reconcile(self, name: str = "src") -> Any:
        self.api.clear_log()
        return await self.rec.reconcile(NS, name)


def _ready(world: World, name: str = "src") -> dict[str, Any]:
    st = world.api.get("jobsources", NS, name)["status"]
    return next(c for c in st["conditions"] if c["type"] == "Ready")


async def test_a_new_source_costs_its_creates_and_one_status_patch_and_no_read() -> None:
    w = World()
    w.source()
    out = await w.reconcile()
    assert w.api.requests("GET") == []
    assert sorted(p.rsplit("/", 1)[-1] for m, p in w.api.requests("POST")) == [
        "cronjobs", "persistentvolumeclaims", "rolebindings", "roles", "serviceaccounts"]
    assert [p for m, p in w.api.requests("PATCH")] == [
        f"/apis/jobscrape.io/v1alpha1/namespaces/{NS}/jobsources/src/status"]
    assert out.status_written and len(out.created) == 5
    assert _ready(w)["status"] == "True"
    assert w.events == ["CronJobCreated"]


async def test_the_role_exists_before_its_binding_is_created() -> None:
    w = World()
    w.source()
    await w.reconcile()
    posts = [p.rsplit("/", 1)[-1] for m, p in w.api.requests("POST")]
    assert posts.index("roles") < posts.index("rolebindings") < posts.index("cronjobs")
    assert posts.index("serviceaccounts") < posts.index("cronjobs")


async def test_an_idle_reconcile_makes_no_request() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    out = await w.reconcile()
    assert w.api.log == []
    assert not out.created and not out.updated and not out.status_written


async def test_an_idle_reconcile_before_the_watch_caught_up_makes_no_request() -> None:
    """The write responses alone fill the cache."""
    w = World()
    w.source()
    await w.reconcile()
    out = await w.reconcile()
    assert w.api.log == [] and not out.status_written


async def test_status_only_changes_keep_the_verdict() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    cj = copy.deepcopy(w.api.get("cronjobs", NS, "jobsource-src"))
    cj["status"] = {"lastScheduleTime": "2026-01-01T06:00:00Z"}
    w.api.put("cronjobs", cj, manager="kube-controller-manager", subresource="status")
    w.watch()
    await w.reconcile()
    assert w.api.requests("GET") == []
    assert [p.rsplit("/", 1)[-1] for _, p in w.api.requests("PATCH")] == ["status"]
    assert w.api.get("jobsources", NS, "src")["status"]["lastScheduleTime"] == \
        "2026-01-01T06:00:00Z"


async def test_drift_is_put_back_by_apply_guarded_by_uid_and_foreign_additions_stay() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    cj = copy.deepcopy(w.api.get("cronjobs", NS, "jobsource-src"))
    uid = cj["metadata"]["uid"]
    cj["spec"]["schedule"] = "1 1 * * *"
    cj["metadata"].setdefault("annotations", {})["team"] = "platform"
    w.api.put("cronjobs", cj, manager="kubectl")
    w.watch()
    out = await w.reconcile()
    assert out.updated == ["CronJob/jobsource-src"]
    live = w.api.get("cronjobs", NS, "jobsource-src")
    assert live["spec"]["schedule"] == "0 */6 * * *"
    assert live["metadata"]["uid"] == uid and live["metadata"]["annotations"]["team"] == \
        "platform"
    # the create entry became an apply entry first (one read for its managedFields), once
    assert [m for m, _ in w.api.log].count("GET") == 1
    mine = [e for e in live["metadata"]["managedFields"]
            if e["manager"] == naming.FIELD_MANAGER]
    assert [e["operation"] for e in mine] == ["Apply"]
    assert "CronJobUpdated" in w.events


async def test_foreign_additions_cause_no_write() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    cj = copy.deepcopy(w.api.get("cronjobs", NS, "jobsource-src"))
    cj["metadata"]["labels"]["policy.example/injected"] = "yes"
    cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "HTTPS_PROXY", "value": "http://proxy:3128"})
    w.api.put("cronjobs", cj, manager="kyverno")
    w.watch()
    out = await w.reconcile()
    assert w.api.log == [] and not out.updated


async def test_a_spec_change_is_applied_without_a_read_once_the_entry_is_an_apply() -> None:
    w = World()
    w.source(timeZone="Europe/Berlin")
    await w.reconcile()
    w.watch()
    src = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    src["spec"]["schedule"] = "15 3 * * *"
    src["spec"].pop("timeZone")
    src["metadata"]["generation"] = 2
    w.api.put("jobsources", src, manager="tenant")
    w.watch()
    await w.reconcile()
    live = w.api.get("cronjobs", NS, "jobsource-src")
    assert live["spec"]["schedule"] == "15 3 * * *"
    assert "timeZone" not in live["spec"]  # dropped fields leave: the entry is an Apply
    w.watch()
    src = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    src["spec"]["schedule"] = "30 4 * * *"
    src["metadata"]["generation"] = 3
    w.api.put("jobsources", src, manager="tenant")
    w.watch()
    await w.reconcile()
    assert w.api.requests("GET") == []
    assert [p.rsplit("/", 1)[-1] for _, p in w.api.requests("PATCH")] == [
        "jobsource-src", "status"]
    assert w.api.get("cronjobs", NS, "jobsource-src")["spec"]["schedule"] == "30 4 * * *"


async def test_a_deleted_object_is_created_again() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    gone = w.api.delete("serviceaccounts", NS, "jobscrape-runner-src")
    w.rec.owned.deleted(gone)
    out = await w.reconcile()
    assert out.created == ["ServiceAccount/jobscrape-runner-src"]
    assert w.api.get("serviceaccounts", NS, "jobscrape-runner-src") is not None


async def test_a_late_write_response_does_not_bring_back_a_deleted_object() -> None:
    w = World()
    w.source()
    await w.reconcile()
    live = copy.deepcopy(w.api.get("roles", NS, "jobscrape-runner-src"))
    w.rec.owned.deleted(live)  # the watch's DELETED came first
    assert w.rec.owned.observe(live) is None  # then the (older) write response
    assert w.rec.owned.get(("Role", NS, "jobscrape-runner-src")) is None


async def test_a_foreign_object_is_never_adopted_and_is_then_read_not_posted() -> None:
    w = World()
    w.api.put("cronjobs", {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {
        "name": "jobsource-victim", "namespace": NS}, "spec": {"schedule": "0 0 * * *"}},
        manager="admin")
    before = copy.deepcopy(w.api.get("cronjobs", NS, "jobsource-victim"))
    w.source("victim")
    out = await w.reconcile("victim")
    assert out.blocked is not None and out.blocked[0] == "NameConflict"
    assert "CronJob jobsource-victim" in out.blocked[1]
    assert w.api.get("cronjobs", NS, "jobsource-victim") == before
    assert _ready(w, "victim")["reason"] == "NameConflict"
    w.watch()
    await w.reconcile("victim")
    assert [m for m, _ in w.api.log] == ["GET"]  # known foreign: read, not posted again
    assert w.api.get("cronjobs", NS, "jobsource-victim") == before


async def test_a_foreign_service_account_keeps_the_cronjob_from_being_made() -> None:
    w = World()
    w.api.put("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
        "name": "jobscrape-runner-victim2", "namespace": NS}}, manager="admin")
    w.source("victim2")
    out = await w.reconcile("victim2")
    assert out.blocked is not None and "ServiceAccount" in out.blocked[1]
    assert w.api.get("cronjobs", NS, "jobsource-victim2") is None


async def test_an_object_replaced_by_someone_else_is_not_applied_over() -> None:
    """The cache still holds our object; a foreign one took the name: the uid guard holds."""
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    w.api.delete("cronjobs", NS, "jobsource-src")
    w.api.put("cronjobs", {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {
        "name": "jobsource-src", "namespace": NS}, "spec": {"schedule": "0 0 * * *"}},
        manager="admin")
    foreign = copy.deepcopy(w.api.get("cronjobs", NS, "jobsource-src"))
    src = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    src["spec"]["schedule"] = "15 3 * * *"
    src["metadata"]["generation"] = 2
    w.api.put("jobsources", src, manager="tenant")
    w.watch()
    with pytest.raises(Exception):  # noqa: B017 - 422 from the uid guard: retried
        await w.reconcile()
    assert w.api.get("cronjobs", NS, "jobsource-src")["spec"] == foreign["spec"]
    out = await w.reconcile()  # the next round reads it and calls it what it is
    assert out.blocked is not None and out.blocked[0] == "NameConflict"
    assert w.api.get("cronjobs", NS, "jobsource-src")["spec"] == foreign["spec"]


async def test_the_store_claim_is_read_again_only_after_its_ttl() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    w.time += claim_ttl_for("jobscrape-store-src", w.rec.claim_ttl) - 1
    await w.reconcile()
    assert w.api.log == []
    w.time += 2
    await w.reconcile()
    assert w.api.log == [("GET", f"/api/v1/namespaces/{NS}/persistentvolumeclaims/"
                                  "jobscrape-store-src")]


async def test_a_deleted_claim_is_created_again_after_its_ttl() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.api.delete("persistentvolumeclaims", NS, "jobscrape-store-src")
    w.time += 2 * w.rec.claim_ttl
    out = await w.reconcile()
    assert out.created == ["PersistentVolumeClaim/jobscrape-store-src"]


async def test_claim_owner_follows_when_deleted_without_a_read() -> None:
    w = World()
    w.source(store={"sqlite": {"whenDeleted": "Delete"}})
    await w.reconcile()
    w.watch()
    assert w.api.get("persistentvolumeclaims", NS, "jobscrape-store-src")["metadata"][
        "ownerReferences"]
    src = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    src["spec"]["store"] = {"sqlite": {"whenDeleted": "Retain"}}
    src["metadata"]["generation"] = 2
    w.api.put("jobsources", src, manager="tenant")
    w.watch()
    await w.reconcile()
    assert w.api.requests("GET") == []
    claim = w.api.get("persistentvolumeclaims", NS, "jobscrape-store-src")
    assert not claim["metadata"].get("ownerReferences")


async def test_a_status_conflict_reads_the_source_again_and_retries() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    src = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    src["status"]["lastRun"] = {"result": "Succeeded", "jobName": "j1",
                                "completionTime": "2026-01-01T06:01:00Z"}
    w.api.put("jobsources", src, manager="runner", subresource="status")  # not yet seen
    src2 = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    src2["spec"]["schedule"] = "15 3 * * *"
    src2["metadata"]["generation"] = 2
    stale = copy.deepcopy(src2)
    stale["metadata"]["resourceVersion"] = "1"  # what the operator saw: older
    w.api.put("jobsources", src2, manager="tenant")
    w.rec.sources.forget(NS, "src")
    w.rec.source_seen(stale)
    out = await w.reconcile()
    assert out.status_written
    assert ("GET", f"/apis/jobscrape.io/v1alpha1/namespaces/{NS}/jobsources/src") in w.api.log
    assert w.api.get("jobsources", NS, "src")["status"]["lastRun"]["jobName"] == "j1"


async def test_a_source_gone_from_the_cache_is_not_reconciled() -> None:
    w = World()
    assert await w.reconcile("nothing") is None
    assert w.api.log == []


async def test_run_now_starts_one_job_owned_by_the_cronjob() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    src = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    src["metadata"]["annotations"] = {naming.RUN_NOW_ANNOTATION: "go"}
    w.api.put("jobsources", src, manager="tenant")
    w.watch()
    out = await w.reconcile()
    job = w.api.get("jobs", NS, naming.run_now_job_name("src", "go"))
    cj = w.api.get("cronjobs", NS, "jobsource-src")
    assert out.run_now_started == job["metadata"]["name"]
    assert job["metadata"]["ownerReferences"][0]["uid"] == cj["metadata"]["uid"]
    assert w.api.get("jobsources", NS, "src")["status"]["lastRunNow"] == "go"
    w.watch()
    await w.reconcile()
    assert w.api.log == []


async def test_an_invalid_spec_writes_status_and_no_object() -> None:
    w = World()
    w.source(schedule="every day at noon")
    out = await w.reconcile()
    assert not out.valid and w.api.requests("POST") == []
    assert _ready(w)["reason"] == "InvalidSpec"
    assert w.events == ["InvalidSpec"]


async def test_report_failure_uses_the_cache() -> None:
    w = World()
    w.source()
    await w.rec.report_failure(NS, "src", "HTTP 500: boom")
    assert w.api.requests("GET") == []
    conds = w.api.get("jobsources", NS, "src")["status"]["conditions"]
    assert any(c["type"] == "Reconciling" and c["reason"] == "ReconcileFailed" for c in conds)


def test_name_conflict_is_a_runtime_error() -> None:
    assert issubclass(NameConflict, RuntimeError)


def test_claim_ttl_is_spread_by_name() -> None:
    ttls = {claim_ttl_for(f"jobscrape-store-s{i}", 100.0) for i in range(50)}
    assert all(75.0 <= t <= 125.0 for t in ttls) and len(ttls) > 25


async def test_the_resync_skips_sources_with_nothing_to_do_and_takes_the_others() -> None:
    w = World()
    w.source()
    listed = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    assert w.rec.needs_resync(listed)  # never reconciled
    await w.reconcile()
    w.watch()
    listed = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    assert not w.rec.needs_resync(listed)
    changed = copy.deepcopy(listed)
    changed["metadata"]["generation"] = 2  # a spec change the watch missed
    assert w.rec.needs_resync(changed)
    due = copy.deepcopy(listed)
    due["status"]["nextScheduleTime"] = "2026-01-01T11:00:00Z"  # before NOW: status to move
    w.rec._seen[(NS, "src")] = _fingerprint(due)  # as if reconciled like this
    assert w.rec.needs_resync(due)
    cj = copy.deepcopy(w.api.get("cronjobs", NS, "jobsource-src"))
    cj["spec"]["schedule"] = "1 1 * * *"
    w.api.put("cronjobs", cj, manager="kubectl")
    w.watch()  # drift seen: not verified any more
    assert w.rec.needs_resync(listed)


async def test_the_resync_takes_a_source_whose_claim_is_due_to_be_read() -> None:
    w = World()
    w.source()
    await w.reconcile()
    w.watch()
    listed = copy.deepcopy(w.api.get("jobsources", NS, "src"))
    assert not w.rec.needs_resync(listed)
    w.time += 2 * w.rec.claim_ttl
    assert w.rec.needs_resync(listed)
