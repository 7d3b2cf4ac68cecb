"""Pure decisions of the operator: its part of a JobSource's status, and what to write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from jobscrape.controller import conditions, schedule

READY = "Ready"


class FieldProblem(Protocol):
    """A problem with one field of the spec."""

    path: str
    message: str


@dataclass(frozen=True)
class Observed:
    """What the operator saw of the world for one source."""

    generation: int | None
    cronjob_name: str
    board_count: int
    schedule: str | None
    time_zone: str | None
    suspended: bool
    cronjob_status: dict[str, Any] | None  # None: no CronJob (yet)
    run_now_handled: str | None


def invalid_message(problems: Sequence[FieldProblem]) -> str:
    """One line naming every bad field, as shown in the Ready condition and the event."""
    return "; ".join(f"{p.path}: {p.message}" for p in problems)


def operator_status(
    current: dict[str, Any], obs: Observed, problems: Sequence[FieldProblem], now: datetime
) -> dict[str, Any]:
    """The operator-owned status fields (including the full conditions list with Ready set)."""
    out: dict[str, Any] = {"observedGeneration": obs.generation}
    conds = list(current.get("conditions") or [])
    if problems:
        ready = conditions.condition(READY, False, "InvalidSpec", invalid_message(problems),
                                     obs.generation)
        # keep what describes the last good CronJob: times and names stay as they were
        for k in ("cronJobName", "nextScheduleTime", "lastScheduleTime", "lastSuccessfulTime",
                  "lastRunNow", "boardCount"):
            if k in current:
                out[k] = current[k]
    else:
        cj = obs.cronjob_status
        out["cronJobName"] = obs.cronjob_name
        out["boardCount"] = obs.board_count
        if cj is None:
            ready = conditions.condition(READY, False, "CronJobMissing",
                                         f"CronJob {obs.cronjob_name} does not exist yet",
                                         obs.generation)
        else:
            msg = f"CronJob {obs.cronjob_name} is in sync"
            if obs.suspended:
                msg += " (suspended)"
            ready = conditions.condition(READY, True, "Reconciled", msg, obs.generation)
            for src, dst in (("lastScheduleTime", "lastScheduleTime"),
                             ("lastSuccessfulTime", "lastSuccessfulTime")):
                if cj.get(src):
                    out[dst] = cj[src]
                elif current.get(dst):
                    out[dst] = current[dst]
        if obs.schedule and not obs.suspended:
            out["nextScheduleTime"] = conditions.fmt_time(
                schedule.next_run(obs.schedule, obs.time_zone, now))
        else:
            out["nextScheduleTime"] = None
        if obs.run_now_handled is not None:
            out["lastRunNow"] = obs.run_now_handled
    merged = conditions.merge(conds, ready, now)
    out["conditions"] = [c for c in conds if c.get("type") != READY] + [merged]
    return out


def status_patch(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any] | None:
    """The merge patch that turns `current` into `desired` for the keys of `desired`; None
    when nothing differs (an idle resync writes nothing)."""
    patch = {k: v for k, v in desired.items() if current.get(k) != v}
    if "conditions" in patch and _same_conditions(current.get("conditions"),
                                                  desired["conditions"]):
        del patch["conditions"]
    return patch or None


def _same_conditions(a: list[dict[str, Any]] | None, b: list[dict[str, Any]]) -> bool:
    key = {c.get("type"): c for c in a or []}
    return len(key) == len(b) and all(key.get(c["type"]) == c for c in b)


def owned_change_needs_reconcile(event_type: str | None, managed_fields: list[dict[str, Any]]
                                 | None, own_manager: str) -> bool:
    """Whether a watch event on an owned object calls for reconciling its JobSource.

    Deletions do; the initial listing and additions do not (the JobSource's own event covers
    them); a modification does unless this operator made it (the latest managedFields entry
    is its own), so the operator's writes do not echo back as work.
    """
    if event_type == "DELETED":
        return True
    if event_type in (None, "ADDED"):
        return False
    entries = [e for e in managed_fields or [] if e.get("time")]
    if not entries:
        return True
    latest = max(entries, key=lambda e: str(e["time"]))
    return latest.get("manager") != own_manager or latest.get("subresource") == "status"
