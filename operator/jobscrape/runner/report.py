"""Pure decisions of a run: per-board status, the run's result, and the conditions it sets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobscrape.api import conditions
from jobscrape.api.status import (
    BoardStatus,
    JobSourceStatus,
    LastRun,
    NotifyStatus,
    RecentPosting,
    wire,
    wire_conditions,
)
from jobscrape.api.vocabulary import OK_STATES
from jobscrape.postings import clean_line
from jobscrape.store import StoredPosting, TargetStats

MAX_MESSAGE = 256


@dataclass(frozen=True)
class BoardRun:
    """What one board's fetch in this run came to."""

    name: str
    type: str
    state: str  # OK | Empty | NotFound | RateLimited | Failing
    postings: int  # open postings of the board after this run (kept ones for failures)
    http_status: int | None
    message: str
    skipped: int = 0  # items of the board's pages that could not be read


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
    notify: Sequence[NotifyStatus] | None = None  # None: leave status.notify as it is
    recent: Sequence[RecentPosting] | None = None  # None: leave status.recentPostings


def notify_statuses(names: Sequence[str], stats: Mapping[str, TargetStats]
                    ) -> list[NotifyStatus]:
    """status.notify: one entry per spec target, in spec order (zeros for a target that has
    not been registered yet)."""
    out = []
    for name in names:
        s = stats.get(name) or TargetStats(name)
        out.append(NotifyStatus(
            name=name, delivered=s.delivered, pending=s.pending, dead=s.dead,
            last_error=clean_line(s.last_error)[:MAX_MESSAGE] or None,
            last_delivery_time=conditions.fmt_time(s.last_delivery) if s.last_delivery
            else None,
            oldest_pending_time=conditions.fmt_time(s.oldest_pending) if s.oldest_pending
            else None))
    return out


def recent_postings(recent: Sequence[StoredPosting]) -> list[RecentPosting]:
    """status.recentPostings from the store's most recently found postings (at most 10)."""
    return [RecentPosting(title=clean_line(r.posting.title)[:256], board=r.posting.board,
                          url=(r.posting.url or None) if len(r.posting.url or "") <= 2048
                          else None,
                          first_seen=conditions.fmt_time(r.first_seen))
            for r in recent[:10]]


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


def is_retry(last_run: LastRun | None, job_name: str | None) -> bool:
    """Whether this run is a further attempt of the Job that wrote `last_run` (the previous
    status.lastRun). Never for a run without a Job (a local run counts on its own)."""
    return bool(job_name) and last_run is not None and last_run.job_name == job_name


def attempt_of(last_run: LastRun | None, job_name: str | None) -> int | None:
    """Which attempt of its Job this run is: 1 for the Job's first pod, one more than the
    previous lastRun's attempt for a retry of the same Job; None without a Job."""
    if not job_name:
        return None
    if last_run is None or not is_retry(last_run, job_name):
        return 1
    return (last_run.attempt or 1) + 1


def _failures_before(p: BoardStatus | None, retry: bool) -> int:
    """A board's consecutive failures before this run. For a retry of the same Job, the
    previous attempt's count without the failure that attempt added (it is the same run)."""
    if p is None:
        return 0
    failures = p.consecutive_failures or 0
    if retry and p.state is not None and p.state not in OK_STATES:
        failures -= 1
    return max(0, failures)


def board_statuses(previous: Sequence[BoardStatus], boards: Sequence[BoardRun],
                   now: datetime, retry: bool = False) -> list[BoardStatus]:
    """status.boards after this run: failures counted once per run, last success times
    carried over, `skipped` set when items were left out (absent when none). With `retry` (this
    run is another attempt of the Job that wrote `previous`), this attempt replaces the
    previous attempt's count instead of adding to it."""
    prev = {b.name: b for b in previous}
    out = []
    for b in boards:
        p = prev.get(b.name)
        ok = b.state in OK_STATES
        out.append(BoardStatus(
            name=b.name, type=b.type, state=b.state, postings=b.postings,
            skipped=b.skipped or None,
            consecutive_failures=0 if ok else _failures_before(p, retry) + 1,
            message=b.message[:MAX_MESSAGE], http_status=b.http_status,
            last_success_time=conditions.fmt_time(now) if ok else (
                p.last_success_time if p is not None else None)))
    return out


def dropped_sharply(previous: Sequence[BoardStatus], boards: Sequence[BoardRun]) -> list[str]:
    """Boards whose postings fell by more than half since the previous run."""
    prev = {b.name: b.postings or 0 for b in previous}
    return [b.name for b in boards
            if b.state in OK_STATES and prev.get(b.name, 0) > 0 and b.postings * 2 < prev[b.name]]


def failing_targets(notify: Sequence[NotifyStatus]) -> list[str]:
    """Targets whose last delivery failed with changes still waiting, or with dead ones:
    `name (3 pending, 1 dead)`."""
    return [f"{n.name} ({n.pending or 0} pending, {n.dead or 0} dead)" for n in notify
            if (n.last_error and (n.pending or 0) > 0) or (n.dead or 0) > 0]


def run_conditions(current: JobSourceStatus, summary: RunSummary, generation: int | None
                   ) -> list[dict[str, Any]]:
    """The conditions list with Healthy and Degraded set for this run (others kept)."""
    result = result_of(summary.boards)
    failing = [b.name for b in summary.boards if b.state not in OK_STATES]
    healthy = conditions.condition(
        "Healthy", result == "Succeeded", result,
        "last run fetched every board" if result == "Succeeded"
        else f"{len(failing)} of {len(summary.boards)} boards failed: {', '.join(failing[:10])}",
        generation)
    drops = dropped_sharply(current.boards, summary.boards)
    reasons = []
    if failing:
        reasons.append(f"failing boards: {', '.join(failing[:10])}")
    if drops:
        reasons.append(f"postings dropped by more than half: {', '.join(drops[:10])}")
    undelivered = failing_targets(summary.notify or ())
    if undelivered:
        reasons.append(f"notify targets failing: {', '.join(undelivered[:10])}")
    reason = ("BoardsFailing" if failing else "PostingsDropped" if drops
              else "DeliveryFailing" if undelivered else "AllBoardsHealthy")
    degraded = conditions.condition(
        "Degraded", bool(reasons), reason, "; ".join(reasons) or "no board is failing",
        generation)
    conds = wire_conditions(current)
    keep = [c for c in conds if c.get("type") not in ("Healthy", "Degraded")]
    return [*keep, conditions.merge(conds, healthy, summary.finished),
            conditions.merge(conds, degraded, summary.finished)]


def store_failure_conditions(current: JobSourceStatus, message: str, generation: int | None,
                             now: datetime | None = None) -> list[dict[str, Any]]:
    """The conditions list with Healthy=False StoreUnavailable (others kept): the run could
    not open, migrate or lock its store, so it fetched and wrote nothing."""
    from datetime import UTC

    now = now or datetime.now(UTC)
    healthy = conditions.condition("Healthy", False, "StoreUnavailable",
                                   clean_line(message)[:MAX_MESSAGE], generation)
    conds = wire_conditions(current)
    return [*[c for c in conds if c.get("type") != "Healthy"],
            conditions.merge(conds, healthy, now)]


def superseded(current: JobSourceStatus, summary: RunSummary) -> bool:
    """Whether `current` describes another run that started after this one (a late writer of
    an older run, such as the pod that finishes a sharded run, leaves it alone)."""
    prev = current.last_run
    if prev is None or not prev.start_time or prev.job_name == summary.job_name:
        return False
    return prev.start_time > conditions.fmt_time(summary.started)  # RFC 3339 UTC, as text


def status_patch(current: JobSourceStatus, summary: RunSummary, generation: int | None
                 ) -> dict[str, Any]:
    """The status fields a run writes back to its JobSource, as a JSON merge patch against
    `current` (None deletes: a run without a Job clears lastRun.jobName and attempt).

    Retries of one Job are one run: when `current`'s lastRun is from this run's Job, this
    attempt replaces that attempt's failure counts. lastSuccessfulTime is set to the
    completion time when the run exits 0, and left alone otherwise."""
    prev_run = current.last_run
    last_run = LastRun(
        job_name=summary.job_name or None,
        attempt=attempt_of(prev_run, summary.job_name),
        start_time=conditions.fmt_time(summary.started),
        completion_time=conditions.fmt_time(summary.finished),
        duration_seconds=round((summary.finished - summary.started).total_seconds(), 3),
        result=result_of(summary.boards),
        fetched=summary.fetched, not_modified=summary.not_modified, created=summary.created,
        updated=summary.updated, removed=summary.removed)
    boards = board_statuses(current.boards, summary.boards, summary.finished,
                            retry=is_retry(prev_run, summary.job_name))
    patch: dict[str, Any] = {
        "lastRun": wire(last_run, keep_none=True),
        "boards": [wire(b) for b in boards],
        "postings": sum(b.postings for b in summary.boards),
        "failingBoards": failing_count(summary.boards),
        "conditions": run_conditions(current, summary, generation),
    }
    if summary.notify is not None:
        patch["notify"] = [wire(n) for n in summary.notify]
    if summary.recent is not None:
        patch["recentPostings"] = [wire(r) for r in summary.recent]
    if exit_code(summary.boards) == 0:
        patch["lastSuccessfulTime"] = conditions.fmt_time(summary.finished)
    return patch
