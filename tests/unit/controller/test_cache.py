"""The cache of owned objects and JobSources: compact, never going back in time, and keeping a
drift verdict exactly as long as the content it was given for."""

from __future__ import annotations

import copy
from typing import Any

from jobscrape.controller.cache import (
    OwnedCache,
    SourceCache,
    content_digest,
    needs_upgrade,
    older,
    trimmed_claim,
)

MANAGER = "jobscrape-operator"


def _cronjob(rv: str = "10", schedule: str = "0 */6 * * *", **status: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "jobsource-a", "namespace": "ns", "uid": "u-1",
                         "resourceVersion": rv, "labels": {"app": "x"},
                         "ownerReferences": [{"uid": "src-uid", "kind": "JobSource"}],
                         "managedFields": [{"manager": MANAGER, "operation": "Update",
                                            "time": "2026-01-01T00:00:00Z"}]},
            "spec": {"schedule": schedule}, "status": status}


def test_older_compares_numeric_versions_only() -> None:
    assert older("9", "10") and not older("10", "9") and not older("10", "10")
    assert not older("abc", "10") and not older(None, "10")


def test_the_digest_ignores_status_and_bookkeeping_but_not_content() -> None:
    a = _cronjob()
    b = _cronjob(rv="11", lastScheduleTime="2026-01-01T06:00:00Z")
    b["metadata"]["managedFields"] = []
    assert content_digest(a) == content_digest(b)
    assert content_digest(a) != content_digest(_cronjob(schedule="1 1 * * *"))
    c = _cronjob()
    c["metadata"]["labels"]["team"] = "x"
    assert content_digest(a) != content_digest(c)


def test_observe_keeps_ids_owners_times_and_the_upgrade_flag() -> None:
    cache = OwnedCache(MANAGER)
    rec = cache.observe(_cronjob(lastScheduleTime="2026-01-01T06:00:00Z"))
    assert rec is not None
    assert (rec.uid, rec.resource_version, rec.owners) == ("u-1", "10", ("src-uid",))
    assert rec.needs_upgrade and rec.verified is None and rec.live() is not None
    assert rec.cronjob_status() == {"lastScheduleTime": "2026-01-01T06:00:00Z"}
    assert "managedFields" not in rec.live()["metadata"] and "status" not in rec.live()


def test_a_verdict_survives_status_changes_and_goes_with_content_changes() -> None:
    cache = OwnedCache(MANAGER)
    key = ("CronJob", "ns", "jobsource-a")
    cache.observe(_cronjob())
    cache.verify(key, 7)
    rec = cache.get(key)
    assert rec is not None and rec.verified == 7 and rec.live() is None  # body dropped
    cache.observe(_cronjob(rv="11", lastScheduleTime="2026-01-01T06:00:00Z"))
    rec = cache.get(key)
    assert rec is not None and rec.verified == 7 and rec.resource_version == "11"
    cache.observe(_cronjob(rv="12", schedule="1 1 * * *"))
    rec = cache.get(key)
    assert rec is not None and rec.verified is None
    assert rec.live()["spec"]["schedule"] == "1 1 * * *"


def test_an_older_version_is_ignored() -> None:
    cache = OwnedCache(MANAGER)
    cache.observe(_cronjob(rv="12", schedule="1 1 * * *"))
    assert cache.observe(_cronjob(rv="11")) is None
    rec = cache.get(("CronJob", "ns", "jobsource-a"))
    assert rec is not None and rec.resource_version == "12"


def test_a_new_uid_is_a_new_object() -> None:
    cache = OwnedCache(MANAGER)
    cache.observe(_cronjob(rv="12"))
    cache.verify(("CronJob", "ns", "jobsource-a"), 7)
    other = _cronjob(rv="5")
    other["metadata"]["uid"] = "u-2"
    rec = cache.observe(other)
    assert rec is not None and rec.uid == "u-2" and rec.verified is None


def test_a_tombstone_stops_a_stale_response_but_not_a_newer_version() -> None:
    cache = OwnedCache(MANAGER)
    key = ("CronJob", "ns", "jobsource-a")
    cache.observe(_cronjob(rv="10"))
    cache.deleted(_cronjob(rv="11"))
    assert cache.get(key) is None
    assert cache.observe(_cronjob(rv="10")) is None and cache.get(key) is None
    assert cache.observe(_cronjob(rv="13")) is not None  # back under the label, say
    assert cache.get(key) is not None


def test_sweep_drops_watched_records_a_full_list_did_not_show() -> None:
    cache = OwnedCache(MANAGER)
    cache.observe(_cronjob())
    b = _cronjob()
    b["metadata"]["name"] = "jobsource-b"
    cache.observe(b)
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {
        "name": "c", "namespace": "ns", "uid": "c1", "resourceVersion": "3"},
        "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
    cache.observe(claim, watched=False)
    assert cache.sweep(("CronJob", "PersistentVolumeClaim"),
                       {("CronJob", "ns", "jobsource-a")}) == 1
    assert cache.get(("CronJob", "ns", "jobsource-b")) is None
    assert cache.get(("PersistentVolumeClaim", "ns", "c")) is not None  # not watched: kept


def test_a_sweep_after_one_namespaces_list_leaves_other_namespaces_and_kinds() -> None:
    cache = OwnedCache(MANAGER)
    other = _cronjob()
    other["metadata"]["namespace"] = "other"
    cache.observe(_cronjob())
    cache.observe(other)
    cache.deleted({**_cronjob(rv="12"), "kind": "Role"})
    assert cache.sweep(("CronJob",), set(), "other") == 1
    assert cache.get(("CronJob", "ns", "jobsource-a")) is not None
    assert cache.get(("CronJob", "other", "jobsource-a")) is None
    # the Role's tombstone still keeps a late response from bringing it back
    assert cache.observe({**_cronjob(rv="11"), "kind": "Role"}) is None


def test_claims_keep_only_what_decisions_need() -> None:
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {
        "name": "c", "namespace": "ns", "uid": "c1", "resourceVersion": "3",
        "labels": {"a": "b"}, "annotations": {"big": "x" * 1000},
        "ownerReferences": [{"uid": "s"}], "managedFields": [{"manager": "m"}]},
        "spec": {"resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "fast",
                 "volumeName": "pv-1", "accessModes": ["ReadWriteOnce"]},
        "status": {"phase": "Bound"}}
    small = trimmed_claim(claim)
    assert small == {"metadata": {"name": "c", "namespace": "ns", "labels": {"a": "b"},
                                  "ownerReferences": [{"uid": "s"}], "resourceVersion": "3"},
                     "spec": {"resources": {"requests": {"storage": "1Gi"}},
                              "storageClassName": "fast"}}
    cache = OwnedCache(MANAGER)
    cache.observe(claim, watched=False, now=5.0)
    cache.verify(("PersistentVolumeClaim", "ns", "c"), 7)
    rec = cache.get(("PersistentVolumeClaim", "ns", "c"))
    assert rec is not None and rec.live() == small and rec.read_at == 5.0  # kept


def test_needs_upgrade_only_for_a_single_update_entry_of_the_manager() -> None:
    obj = _cronjob()
    assert needs_upgrade(obj, MANAGER)
    obj["metadata"]["managedFields"][0]["operation"] = "Apply"
    assert not needs_upgrade(obj, MANAGER)
    assert not needs_upgrade(_cronjob(), "someone-else")
    obj["metadata"]["managedFields"] = [{"manager": MANAGER, "operation": "Update",
                                         "subresource": "status"}]
    assert not needs_upgrade(obj, MANAGER)


def test_the_source_cache_round_trips_without_managed_fields_and_keeps_the_newest() -> None:
    cache = SourceCache()
    body = {"apiVersion": "jobscrape.io/v1alpha1", "kind": "JobSource",
            "metadata": {"name": "a", "namespace": "ns", "uid": "u", "resourceVersion": "7",
                         "managedFields": [{"manager": "x"}]},
            "spec": {"schedule": "0 0 * * *"}, "status": {"boardCount": 1}}
    assert cache.put(body)
    got = cache.get("ns", "a")
    assert got is not None and "managedFields" not in got["metadata"]
    assert got["spec"] == body["spec"] and got["status"] == body["status"]
    got["spec"]["schedule"] = "changed"  # a copy
    assert cache.get("ns", "a")["spec"]["schedule"] == "0 0 * * *"
    old = copy.deepcopy(body)
    old["metadata"]["resourceVersion"] = "6"
    old["status"] = {}
    assert not cache.put(old)
    assert cache.get("ns", "a")["status"] == {"boardCount": 1}
    assert cache.keys() == [("ns", "a")] and len(cache) == 1
    cache.forget("ns", "a")
    assert cache.get("ns", "a") is None and len(cache) == 0


def test_a_write_response_found_in_line_is_kept_verified_without_its_body() -> None:
    cache = OwnedCache(MANAGER)
    rec = cache.observe(_cronjob(), verified=7)
    assert rec is not None and rec.verified == 7 and rec.live() is None


def test_the_echo_of_a_version_already_held_changes_nothing() -> None:
    cache = OwnedCache(MANAGER)
    first = cache.observe(_cronjob(), verified=7)
    assert cache.observe(_cronjob()) is first  # the watch's echo of the same version
    assert first is not None and first.verified == 7


def test_a_watch_event_before_the_write_response_is_verified_by_the_response() -> None:
    cache = OwnedCache(MANAGER)
    cache.observe(_cronjob())  # the watch was faster than the response
    rec = cache.observe(_cronjob(), verified=7)
    assert rec is not None and rec.verified == 7 and rec.live() is None
