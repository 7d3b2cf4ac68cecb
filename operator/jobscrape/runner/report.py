"""Pure decisions of a run: per-board status, the run's result, and the conditions it sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobscrape.controller import conditions

OK_STATES = ("OK", "Empty")
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
    """The run as a whole."""

    job_name: str | None
    started: datetime
    finished: datetime
    fetched: int
    created: int
    updated: int
    removed: int
    boards: Sequence[BoardRun]


def result_of(boards: Sequence[BoardRun]) -> str:
    """Succeeded when every board is OK or Empty, Failed when none is, else PartiallyFailed."""
    ok = sum(1 for b in boards if b.state in OK_STATES)
    if ok == len(boards):
        return "Succeeded"
    return "Failed" if ok == 0 else "PartiallyFailed"


def exit_code(boards: Sequence[BoardRun]) -> int:
    """0 unless every board failed (an empty board list is a success)."""
    return 1 if boards and result_of(boards) == "Failed" else 0


def board_statuses(previous: Sequence[dict[str, Any]] | None, boards: Sequence[BoardRun],
                   now: datetime) -> list[dict[str, Any]]:
    """status.boards after this run: failures counted, last success times carried over."""
    prev = {b.get("name"): b for b in previous or []}
    out = []
    for b in boards:
        p = prev.get(b.name) or {}
        ok = b.state in OK_STATES
        entry: dict[str, Any] = {
            "name": b.name, "type": b.type, "state": b.state, "postings": b.postings,
            "consecutiveFailures": 0 if ok else int(p.get("consecutiveFailures") or 0) + 1,
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
    """The status fields a run writes back to its JobSource."""
    duration = (summary.finished - summary.started).total_seconds()
    last_run: dict[str, Any] = {
        "startTime": conditions.fmt_time(summary.started),
        "completionTime": conditions.fmt_time(summary.finished),
        "durationSeconds": round(duration, 3),
        "result": result_of(summary.boards),
        "fetched": summary.fetched, "created": summary.created,
        "updated": summary.updated, "removed": summary.removed,
    }
    if summary.job_name:
        last_run["jobName"] = summary.job_name
    prev_boards = current.get("boards")
    return {
        "lastRun": last_run,
        "boards": board_statuses(prev_boards, summary.boards, summary.finished),
        "postings": sum(b.postings for b in summary.boards),
        "conditions": run_conditions(current.get("conditions"), summary, prev_boards,
                                     generation),
    }
