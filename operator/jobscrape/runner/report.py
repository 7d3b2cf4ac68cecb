"""Pure decisions of a run: per-board status, the run's result, and the conditions it sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobscrape.api import conditions
from jobscrape.api.vocabulary import OK_STATES

MAX_MESSAGE = 256


@dataclass(frozen=True)
class BoardRun:
    """What one board's fetch in this run came to."""

    name: str
    type: str
    state: str  # OK | Empty | NotFound | Failing
    postings: int  # open postings of the board after this run (kept ones for failures)
    http_status: int | None
    message: str


@dataclass(frozen=True)
class RunSummary:
    """The run as a whole.

    `fetched`: postings the boards delivered (a board with an unchanged body counts with its
    stored postings); `not_modified`: stored postings of the boards that answered 304.
    """

    job_name: str | None
    started: datetime
    finished: datetime
    fetched: int
    created: int
    updated: int
    removed: int
    boards: Sequence[BoardRun]
    not_modified: int = 0


def result_of(boards: Sequence[BoardRun]) -> str:
    """Succeeded when every board is OK or Empty, Failed when none is, else PartiallyFailed."""
    ok = sum(1 for b in boards if b.state in OK_STATES)
    if ok == len(boards):
        return "Succeeded"
    return "Failed" if ok == 0 else "PartiallyFailed"


def exit_code(boards: Sequence[BoardRun]) -> int:
    """0 unless every board failed (an empty board list is a success)."""
    return 1 if boards and result_of(boards) == "Failed" else 0


def failing_count(boards: Sequence[BoardRun]) -> int:
    """How many boards failed (neither OK nor Empty)."""
    return sum(1 for b in boards if b.state not in OK_STATES)


def is_retry(last_run: dict[str, Any] | None, job_name: str | None) -> bool:
    """Whether this run is a further attempt of the Job that wrote `last_run` (the previous
    status.lastRun). Never for a run without a Job (a local run counts on its own)."""
    return bool(job_name) and (last_run or {}).get("jobName") == job_name


def attempt_of(last_run: dict[str, Any] | None, job_name: str | None) -> int | None:
    """Which attempt of its Job this run is: 1 for the Job's first pod, one more than the
    previous lastRun's attempt for a retry of the same Job; None without a Job."""
    if not job_name:
        return None
    if not is_retry(last_run, job_name):
        return 1
    return int((last_run or {}).get("attempt") or 1) + 1


def _failures_before(p: dict[str, Any], retry: bool) -> int:
    """A board's consecutive failures before this run. For a retry of the same Job, the
    previous attempt's count without the failure that attempt added (it is the same run)."""
    failures = int(p.get("consecutiveFailures") or 0)
    if retry and p.get("state") is not None and p["state"] not in OK_STATES:
        failures -= 1
    return max(0, failures)


def board_statuses(previous: Sequence[dict[str, Any]] | None, boards: Sequence[BoardRun],
                   now: datetime, retry: bool = False) -> list[dict[str, Any]]:
    """status.boards after this run: failures counted once per run, last success times
    carried over. With `retry` (this run is another attempt of the Job that wrote `previous`),
    this attempt replaces the previous attempt's count instead of adding to it."""
    prev = {b.get("name"): b for b in previous or []}
    out = []
    for b in boards:
        p = prev.get(b.name) or {}
        ok = b.state in OK_STATES
        entry: dict[str, Any] = {
            "name": b.name, "type": b.type, "state": b.state, "postings": b.postings,
            "consecutiveFailures": 0 if ok else _failures_before(p, retry) + 1,
            "message": b.message[:MAX_MESSAGE],
        }
        if b.http_status is not None:
            entry["httpStatus"] = b.http_status
        last = conditions.fmt_time(now) if ok else p.get("lastSuccessTime")
        if last:
            entry["lastSuccessTime"] = last
        out.append(entry)
    return out


def dropped_sharply(previous: Sequence[dict[str, Any]] | None, boards: Sequence[BoardRun]
                    ) -> list[str]:
    """Boards whose postings fell by more than half since the previous run."""
    prev = {b.get("name"): int(b.get("postings") or 0) for b in previous or []}
    return [b.name for b in boards
            if b.state in OK_STATES and prev.get(b.name, 0) > 0 and b.postings * 2 < prev[b.name]]


def run_conditions(current: list[dict[str, Any]] | None, summary: RunSummary,
                   previous_boards: Sequence[dict[str, Any]] | None, generation: int | None
                   ) -> list[dict[str, Any]]:
    """The conditions list with Healthy and Degraded set for this run (others kept)."""
    result = result_of(summary.boards)
    failing = [b.name for b in summary.boards if b.state not in OK_STATES]
    healthy = conditions.condition(
        "Healthy", result == "Succeeded", result,
        "last run fetched every board" if result == "Succeeded"
        else f"{len(failing)} of {len(summary.boards)} boards failed: {', '.join(failing[:10])}",
        generation)
    drops = dropped_sharply(previous_boards, summary.boards)
    reasons = []
    if failing:
        reasons.append(f"failing boards: {', '.join(failing[:10])}")
    if drops:
        reasons.append(f"postings dropped by more than half: {', '.join(drops[:10])}")
    degraded = conditions.condition(
        "Degraded", bool(reasons),
        ("BoardsFailing" if failing else "PostingsDropped") if reasons else "AllBoardsHealthy",
        "; ".join(reasons) or "no board is failing", generation)
    keep = [c for c in current or [] if c.get("type") not in ("Healthy", "Degraded")]
    return [*keep, conditions.merge(current, healthy, summary.finished),
            conditions.merge(current, degraded, summary.finished)]


def status_patch(current: dict[str, Any], summary: RunSummary, generation: int | None
                 ) -> dict[str, Any]:
    """The status fields a run writes back to its JobSource, as a JSON merge patch against
    `current` (None deletes: a run without a Job clears lastRun.jobName and attempt).

    Retries of one Job are one run: when `current`'s lastRun is from this run's Job, this
    attempt replaces that attempt's failure counts. lastSuccessfulTime is set to the
    completion time when the run exits 0, and left alone otherwise."""
    duration = (summary.finished - summary.started).total_seconds()
    prev_run = current.get("lastRun")
    last_run: dict[str, Any] = {
        "jobName": summary.job_name or None,
        "attempt": attempt_of(prev_run, summary.job_name),
        "startTime": conditions.fmt_time(summary.started),
        "completionTime": conditions.fmt_time(summary.finished),
        "durationSeconds": round(duration, 3),
        "result": result_of(summary.boards),
        "fetched": summary.fetched, "notModified": summary.not_modified,
        "created": summary.created, "updated": summary.updated, "removed": summary.removed,
    }
    prev_boards = current.get("boards")
    patch: dict[str, Any] = {
        "lastRun": last_run,
        "boards": board_statuses(prev_boards, summary.boards, summary.finished,
                                 retry=is_retry(prev_run, summary.job_name)),
        "postings": sum(b.postings for b in summary.boards),
        "failingBoards": failing_count(summary.boards),
        "conditions": run_conditions(current.get("conditions"), summary, prev_boards,
                                     generation),
    }
    if exit_code(summary.boards) == 0:
        patch["lastSuccessfulTime"] = conditions.fmt_time(summary.finished)
    return patch
