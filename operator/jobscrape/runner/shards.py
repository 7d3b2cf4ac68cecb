"""Sharded runs (`spec.run.shards: N`): which boards each pod of the Indexed Job fetches, and
how the pods' results become one run.

Boards are assigned **by host**: every board whose first request goes to one host lands in one
shard, so the per-host politeness limit (which lives in one process) holds across pods. Hosts
are spread by size: the host with the most boards first, each to the shard with the fewest
boards so far (ties: the lower index). Every pod computes the same assignment from the same
spec, with no coordination.

Each shard stores its boards in its own transaction and records its summary in the store; the
shard whose record completes the set merges the summaries (boards in spec order, counts
summed, the earliest start and the latest finish) and writes the status once. When a shard's
pod fails for good or the run's deadline ends it, the operator starts a pod that finishes the
run: the shards' records, and for each missing shard its boards as failed
(`finished_records`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from jobscrape.boards import get_adapter
from jobscrape.boards.base import BoardRef
from jobscrape.netguard import host_of
from jobscrape.runner.report import BoardRun, RunSummary


def board_host(board: BoardRef) -> str:
    """The host a board's first request goes to ("" when its token or URL is unusable: such
    boards share a shard and fail there, each with its own message)."""
    try:
        url = get_adapter(board.type).first_url(board)
    except ValueError:
        return ""
    host = host_of(url)
    return "" if host == "?" else host.lower()


def assign_shards(boards: Sequence[BoardRef], shards: int) -> list[list[BoardRef]]:
    """The boards of each shard (`shards` lists, some maybe empty), each in spec order; all
    boards of one host in one shard, the biggest hosts spread first."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    by_host: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(boards):
        by_host[board_host(b)].append(i)
    load = [0] * shards
    chosen: list[list[int]] = [[] for _ in range(shards)]
    for _, idx in sorted(by_host.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        target = min(range(shards), key=lambda s: (load[s], s))
        load[target] += len(idx)
        chosen[target].extend(idx)
    return [[boards[i] for i in sorted(c)] for c in chosen]


def summary_record(summary: RunSummary) -> dict[str, Any]:
    """A shard's summary as JSON-ready data (what the store keeps until the run is whole)."""
    return {
        "job_name": summary.job_name, "started": summary.started.isoformat(),
        "finished": summary.finished.isoformat(), "fetched": summary.fetched,
        "not_modified": summary.not_modified, "created": summary.created,
        "updated": summary.updated, "removed": summary.removed,
        "boards": [{"name": b.name, "type": b.type, "state": b.state, "postings": b.postings,
                    "http_status": b.http_status, "message": b.message, "skipped": b.skipped}
                   for b in summary.boards],
    }


def missing_shard_message(shard: int, shards: int) -> str:
    """What the status says of each board of a shard that never recorded."""
    return (f"shard {shard} of {shards} did not finish (its pod failed for good or the run's "
            "deadline ran out): not read in this run")


def finished_records(recorded: Mapping[int, Mapping[str, Any]], boards: Sequence[BoardRef],
                     shards: int, job_name: str | None, kept: Mapping[str, int],
                     now: datetime) -> list[Mapping[str, Any]]:
    """Every shard's record of a run that has ended: those recorded, and for each missing
    shard one with its boards failed (their stored open postings, `kept`, as they were),
    nothing fetched, from the run's earliest recorded start (else `now`) to `now`."""
    plan = assign_shards(boards, shards)
    starts = [datetime.fromisoformat(r["started"]) for r in recorded.values()]
    started = min(starts, default=now)
    out: list[Mapping[str, Any]] = []
    for i in range(shards):
        if i in recorded:
            out.append(recorded[i])
            continue
        message = missing_shard_message(i, shards)
        out.append(summary_record(RunSummary(
            job_name=job_name, started=started, finished=now, fetched=0, created=0,
            updated=0, removed=0, boards=[BoardRun(name=b.name, type=b.type, state="Failing",
                                                   postings=kept.get(b.name, 0),
                                                   http_status=None, message=message)
                                          for b in plan[i]])))
    return out


def _summary_of(record: Mapping[str, Any]) -> RunSummary:
    return RunSummary(
        job_name=record.get("job_name"),
        started=datetime.fromisoformat(record["started"]),
        finished=datetime.fromisoformat(record["finished"]),
        fetched=int(record["fetched"]), not_modified=int(record.get("not_modified", 0)),
        created=int(record["created"]), updated=int(record["updated"]),
        removed=int(record["removed"]),
        boards=[BoardRun(name=b["name"], type=b["type"], state=b["state"],
                         postings=int(b["postings"]), http_status=b.get("http_status"),
                         message=b.get("message", ""), skipped=int(b.get("skipped", 0)))
                for b in record["boards"]])


def merge_records(records: Sequence[Mapping[str, Any]], order: Sequence[str]) -> RunSummary:
    """One run's summary from its shards' records: boards in `order` (the spec's board names;
    boards not in it follow, by name), counts summed, the earliest start, the latest finish."""
    if not records:
        raise ValueError("no shard records to merge")
    parts = [_summary_of(r) for r in records]
    rank = {name: i for i, name in enumerate(order)}
    boards = sorted((b for p in parts for b in p.boards),
                    key=lambda b: (rank.get(b.name, len(rank)), b.name))
    return RunSummary(
        job_name=parts[0].job_name,
        started=min(p.started for p in parts), finished=max(p.finished for p in parts),
        fetched=sum(p.fetched for p in parts), not_modified=sum(p.not_modified for p in parts),
        created=sum(p.created for p in parts), updated=sum(p.updated for p in parts),
        removed=sum(p.removed for p in parts), boards=boards)


def shard_count(env: Mapping[str, str]) -> int | None:
    """How many shards the run has (JOBSCRAPE_SHARDS); None for an unsharded run. ValueError
    naming the variable when its value is unusable."""
    from jobscrape.api.contract import MAX_SHARDS, SHARDS_ENV

    raw = env.get(SHARDS_ENV, "")
    if raw in ("", "1"):
        return None
    try:
        count = int(raw)
    except ValueError:
        raise ValueError(f"{SHARDS_ENV}={raw!r} is not a whole number") from None
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"{SHARDS_ENV}={count} is outside 1..{MAX_SHARDS}")
    return count


def shard_of(env: Mapping[str, str]) -> tuple[int, int] | None:
    """(index, count) of this pod's shard from the environment the operator and the Job
    controller set (JOBSCRAPE_SHARDS, JOB_COMPLETION_INDEX); None for an unsharded run.
    ValueError naming the variable when a value is unusable."""
    from jobscrape.api.contract import SHARD_INDEX_ENV, SHARDS_ENV

    count = shard_count(env)
    if count is None:
        return None
    raw_index = env.get(SHARD_INDEX_ENV)
    if raw_index is None:
        raise ValueError(f"{SHARDS_ENV}={count} but {SHARD_INDEX_ENV} is not set: a sharded "
                         "run is an Indexed Job's pod")
    try:
        index = int(raw_index)
    except ValueError:
        raise ValueError(f"{SHARD_INDEX_ENV}={raw_index!r} is not a whole number") from None
    if not 0 <= index < count:
        raise ValueError(f"{SHARD_INDEX_ENV}={index} is outside 0..{count - 1}")
    return index, count
