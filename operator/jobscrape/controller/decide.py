"""Pure decisions of the operator: its part of a JobSource's status, and what to write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from jobscrape.api import schedule
from jobscrape.api.status import Condition, JobSourceStatus, wire, wire_conditions
from jobscrape.controller import conditions
from jobscrape.kubeapi import parse_quantity

READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"


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
    blocked: tuple[str, str] | None = None  # (reason, message): Ready=False although valid


def invalid_message(problems: Sequence[FieldProblem]) -> str:
    """One line naming every bad field, as shown in the Ready condition and the event."""
    return "; ".join(f"{p.path}: {p.message}" for p in problems)


def operator_status(
    current: JobSourceStatus, obs: Observed, problems: Sequence[FieldProblem], now: datetime
) -> dict[str, Any]:
    """The operator-owned status fields as they are stored (camelCase; None deletes),
    including the full conditions list with Ready, Reconciling and Stalled set."""
    if problems:
        ready = conditions.condition(READY, False, "InvalidSpec", invalid_message(problems),
                                     obs.generation)
        # keep what describes the last good CronJob: times and names stay as they were
        fields: dict[str, Any] = {k: getattr(current, k) for k in (
            "cron_job_name", "next_schedule_time", "last_schedule_time",
            "last_successful_time", "last_run_now", "board_count")
            if getattr(current, k) is not None}
    else:
        cj = obs.cronjob_status
        if obs.blocked is not None:
            ready = conditions.condition(READY, False, obs.blocked[0], obs.blocked[1],
                                         obs.generation)
        elif cj is None:
            ready = conditions.condition(READY, False, "CronJobMissing",
                                         f"CronJob {obs.cronjob_name} does not exist yet",
                                         obs.generation)
        else:
            msg = f"CronJob {obs.cronjob_name} is in sync"
            if obs.suspended:
                msg += " (suspended)"
            ready = conditions.condition(READY, True, "Reconciled", msg, obs.generation)
        fields = {"cron_job_name": obs.cronjob_name, "board_count": obs.board_count,
                  "next_schedule_time": conditions.fmt_time(
                      schedule.next_run(obs.schedule, obs.time_zone, now))
                  if obs.schedule and not obs.suspended else None}
        # the later of the CronJob's and the status' own (runs write lastSuccessfulTime
        # themselves: run-now Jobs are not the CronJob controller's); RFC 3339 UTC times
        # compare as strings
        for key, own in (("lastScheduleTime", current.last_schedule_time),
                         ("lastSuccessfulTime", current.last_successful_time)):
            times = [t for t in ((cj or {}).get(key), own) if t]
            if times:
                fields["last_schedule_time" if key == "lastScheduleTime"
                       else "last_successful_time"] = max(times)
        if obs.run_now_handled is not None:
            fields["last_run_now"] = obs.run_now_handled
    conds = with_conditions(wire_conditions(current),
                            kstatus_conditions(ready, obs.generation), now)
    desired = JobSourceStatus(observed_generation=obs.generation,
                              conditions=[Condition.model_validate(c) for c in conds], **fields)
    return wire(desired, keep_none=True)


def kstatus_conditions(ready: dict[str, Any], generation: int | None) -> list[dict[str, Any]]:
    """Ready with the kstatus pair (what Flux and Argo CD health checks read): Stalled when the
    operator cannot go on without the author's help (an invalid spec, a name conflict, a claim
    it cannot resize), Reconciling while it still works towards the spec."""
    waiting = ready["status"] != "True"
    stalled = waiting and ready["reason"] != "CronJobMissing"
    return [
        ready,
        conditions.condition(RECONCILING, waiting and not stalled,
                             ready["reason"] if waiting and not stalled else "Reconciled",
                             ready["message"] if waiting and not stalled else
                             "nothing left to do for this generation", generation),
        conditions.condition(STALLED, stalled, ready["reason"] if stalled else "Reconciled",
                             ready["message"] if stalled else "not stalled", generation),
    ]


def failure_conditions(current: JobSourceStatus, error: str, generation: int | None,
                       now: datetime) -> list[dict[str, Any]]:
    """The conditions list after a reconcile failed with `error` (retried with backoff):
    Reconciling=True says so; Ready and Stalled stay as they were."""
    failing = conditions.condition(RECONCILING, True, "ReconcileFailed",
                                   f"retrying after an error: {error}"[:1024], generation)
    return with_conditions(wire_conditions(current), [failing], now)


def with_conditions(current: list[dict[str, Any]], new: list[dict[str, Any]], now: datetime
                    ) -> list[dict[str, Any]]:
    """`current` with each of `new` merged in (transition times kept when unchanged)."""
    types = {c["type"] for c in new}
    return ([c for c in current if c.get("type") not in types]
            + [conditions.merge(current, c, now) for c in new])


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


def owned_by(live: dict[str, Any], uid: str) -> bool:
    """Whether `live` has an owner reference to the object with this uid."""
    refs = (live.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("uid") == uid for r in refs)


def claim_is_ours(live: dict[str, Any], uid: str, labels: dict[str, str]) -> bool:
    """Whether a store claim belongs to this source: owned by it, or (whenDeleted: Retain,
    no owner) carrying the source's labels, as a claim kept from an earlier source of the
    same name does."""
    have = (live.get("metadata") or {}).get("labels") or {}
    return owned_by(live, uid) or all(have.get(k) == v for k, v in labels.items())


@dataclass(frozen=True)
class ClaimChanges:
    """What to change on an existing store claim, and what cannot be changed."""

    owner_references: list[dict[str, Any]] | None  # the new list; None: unchanged
    size: str | None  # grow the request to this; None: unchanged
    problem: str | None  # a change the claim cannot take (shrinking, storage class)


def claim_changes(live: dict[str, Any], want: dict[str, Any], uid: str) -> ClaimChanges:
    """Owner reference following whenDeleted both ways (other owners kept), and the size."""
    have_refs = list((live.get("metadata") or {}).get("ownerReferences") or [])
    want_refs = [r for r in want["metadata"].get("ownerReferences") or [] if r.get("uid") == uid]
    others = [r for r in have_refs if r.get("uid") != uid]
    ours_now = [r for r in have_refs if r.get("uid") == uid]
    refs = None if ours_now == want_refs else others + want_refs
    name = live["metadata"]["name"]
    have_size = ((live.get("spec") or {}).get("resources") or {}).get("requests", {}).get(
        "storage")
    want_size = want["spec"]["resources"]["requests"]["storage"]
    size = problem = None
    if have_size and parse_quantity(want_size) > parse_quantity(have_size):
        size = want_size
    elif have_size and parse_quantity(want_size) < parse_quantity(have_size):
        problem = (f"spec.store.sqlite.size: {want_size} is smaller than the claim {name} "
                   f"({have_size}); a claim cannot shrink")
    want_class = want["spec"].get("storageClassName")
    have_class = (live.get("spec") or {}).get("storageClassName")
    if want_class and want_class != have_class:
        problem = (f"spec.store.sqlite.storageClassName: the claim {name} has storage class "
                   f"{have_class!r}; a claim's class cannot change")
    return ClaimChanges(refs, size, problem)


def run_event_key(uid: str, last_run: dict[str, Any]) -> str:
    """The identity of a finished run's event: one per Job and result (the retries of a Job
    are attempts of one run), or per completion time for runs outside a Job."""
    job = last_run.get("jobName")
    if job:
        return f"{uid}/{job}/{last_run.get('result')}"
    return f"{uid}/{last_run.get('completionTime')}"


def managed_fields_upgrade(live: dict[str, Any], manager: str) -> list[dict[str, Any]] | None:
    """The JSON patch that turns this manager's `Update` entry (left by creating the object
    with POST) into an `Apply` entry, so that later server-side applies also remove what the
    operator stops setting; None when there is nothing to upgrade."""
    meta = live.get("metadata") or {}
    entries = list(meta.get("managedFields") or [])
    mine = [e for e in entries if e.get("manager") == manager and not e.get("subresource")]
    if len(mine) != 1 or mine[0].get("operation") != "Update":
        return None
    upgraded = [dict(e, operation="Apply") if e in mine else e for e in entries]
    return [{"op": "test", "path": "/metadata/resourceVersion",
             "value": meta.get("resourceVersion")},
            {"op": "replace", "path": "/metadata/managedFields", "value": upgraded}]
