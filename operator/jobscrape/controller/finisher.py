"""Pure decisions about sharded runs that end with shards missing.

The shard whose record completes a sharded run writes its status. When a shard's pod fails
for good (its retries used up) or the run's deadline kills it, no shard completes the set and
the run's status would never be written; the operator watches the Jobs of sharded runs and,
when one ends so, starts a Job that finishes the run (runner/finish: the missing shards'
boards as failed, the others' results as they were stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobscrape.api.contract import MAX_SHARDS
from jobscrape.controller import naming


def shards_of(job: Mapping[str, Any]) -> int | None:
    """The shard count a Job's label gives, None when it is not a sharded run's Job (or the
    label is not a usable count)."""
    raw = ((job.get("metadata") or {}).get("labels") or {}).get(naming.SHARDS_LABEL)
    try:
        n = int(str(raw))
    except ValueError:
        return None
    return n if 2 <= n <= MAX_SHARDS else None


def has_failed(job: Mapping[str, Any]) -> bool:
    """Whether the Job controller has marked the Job Failed (it is over)."""
    return any(isinstance(c, Mapping) and c.get("type") == "Failed" and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


def run_to_finish(job: Mapping[str, Any], last_run: Mapping[str, Any] | None) -> int | None:
    """The shard count of the sharded run of `job` when the operator must finish it: the Job
    failed and the source's last run (its status) is neither this run nor a later one. None
    otherwise."""
    shards = shards_of(job)
    if shards is None or not has_failed(job):
        return None
    if last_run:
        if last_run.get("jobName") == (job.get("metadata") or {}).get("name"):
            return None  # the run's status is written (a shard completed the set)
        started = (job.get("status") or {}).get("startTime")
        written = last_run.get("startTime")
        if started and written and str(written) >= str(started):  # RFC 3339 UTC: as text
            return None  # a later run has written its status since
    return shards


def failed_indexes(job: Mapping[str, Any]) -> str:
    """The shards the Job controller counts as failed ("1,3-4"), bounded, for messages."""
    raw = str((job.get("status") or {}).get("failedIndexes") or "")
    return raw[:80] or "none marked (the run's deadline ran out)"
