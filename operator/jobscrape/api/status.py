"""JobSource.status: written by the operator (Ready, schedule times) and by each run
(lastRun, boards, postings, Healthy and Degraded)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from jobscrape.api.base import ApiModel
from jobscrape.api.vocabulary import BoardState, RunResult

_STATUS_CONFIG = ApiModel.model_config | ConfigDict(extra="ignore")


class Condition(ApiModel):
    """A standard Kubernetes condition."""

    model_config = _STATUS_CONFIG
    type: str = Field(max_length=64, description="Ready, Healthy or Degraded.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field("", max_length=128, description="One-word reason in CamelCase.")
    message: str = Field("", max_length=4096, description="Human-readable details.")
    last_transition_time: str | None = Field(None, max_length=64, json_schema_extra={
        "format": "date-time"}, description="When the status last changed.")
    observed_generation: int | None = Field(None, description="Generation it was set for.")


class LastRun(ApiModel):
    """The most recent finished run."""

    model_config = _STATUS_CONFIG
    job_name: str | None = Field(None, max_length=63, description="The run's Job.")
    attempt: int | None = Field(
        None, description="Which attempt of its Job this run was (retries of one Job are one "
                          "run).")
    start_time: str | None = Field(None, max_length=64, json_schema_extra={"format": "date-time"},
                                   description="When the run started.")
    completion_time: str | None = Field(None, max_length=64, json_schema_extra={
        "format": "date-time"}, description="When the run finished.")
    duration_seconds: float | None = Field(None, description="How long it took.")
    result: RunResult | None = Field(
        None, description="Succeeded (every board), PartiallyFailed or Failed (no board).")
    fetched: int | None = Field(
        None, description="Postings the boards delivered in this run, before filters (a board "
                           "whose body was unchanged counts with its stored postings).")
    not_modified: int | None = Field(
        None, description="Postings of boards that answered 304 Not Modified.")
    created: int | None = Field(None, description="New postings.")
    updated: int | None = Field(None, description="Postings whose content changed.")
    removed: int | None = Field(None, description="Postings gone from a fully fetched board.")


class BoardStatus(ApiModel):
    """How one board did in the last run."""

    model_config = _STATUS_CONFIG
    name: str = Field(max_length=63, description="The board's name.")
    type: str | None = Field(None, max_length=32, description="The board's type.")
    state: BoardState | None = Field(
        None, description="OK, Empty (no postings), NotFound (404), RateLimited (429: the "
                          "message has the host's Retry-After) or Failing.")
    postings: int | None = Field(None, description="Open postings of this board.")
    skipped: int | None = Field(
        None, description="Items of the last fetch that could not be read and were left out "
                          "(absent when none).")
    last_success_time: str | None = Field(None, max_length=64, json_schema_extra={
        "format": "date-time"}, description="When the board was last fetched fine.")
    consecutive_failures: int | None = Field(None, description="Failed runs in a row.")
    http_status: int | None = Field(None, description="HTTP status of the last fetch.")
    message: str | None = Field(None, max_length=1024, description="Short reason, no secrets.")


class NotifyStatus(ApiModel):
    """Delivery to one notification target, as of the last run (or `jobscrape deliver`)."""

    name: str = Field(max_length=63, description="The target's name.")
    delivered: int | None = Field(None, description="Changes delivered, ever.")
    pending: int | None = Field(None, description="Changes waiting to be delivered.")
    dead: int | None = Field(None, description="Changes given up after the target's "
                                               "maxAttempts or maxAgeHours; kept, never "
                                               "dropped (`jobscrape deliver --retry-dead`).")
    last_error: str | None = Field(None, max_length=256,
                                   description="Why the last delivery failed; no secrets.")
    last_delivery_time: str | None = Field(None, max_length=64, json_schema_extra={
        "format": "date-time"}, description="When a change was last delivered.")
    oldest_pending_time: str | None = Field(None, max_length=64, json_schema_extra={
        "format": "date-time"}, description="When the oldest pending change was found.")


class RecentPosting(ApiModel):
    """A posting that a recent run found new."""

    title: str = Field(max_length=256, description="Its title.")
    board: str = Field(max_length=63, description="The board it is on.")
    url: str | None = Field(None, max_length=2048, description="Its page (http or https).")
    first_seen: str | None = Field(None, max_length=64, json_schema_extra={
        "format": "date-time"}, description="When a run first found it.")


class JobSourceStatus(ApiModel):
    """Observed state of a JobSource."""

    model_config = _STATUS_CONFIG
    observed_generation: int | None = Field(None, description="Spec generation last handled.")
    conditions: list[Condition] = Field(
        default_factory=list, max_length=16,
        json_schema_extra={"x-kubernetes-list-type": "map",
                           "x-kubernetes-list-map-keys": ["type"]},
        description="Ready (CronJob in sync with a valid spec), Healthy (last run fully "
                    "succeeded), Degraded (boards failing or postings dropped sharply).")
    cron_job_name: str | None = Field(None, max_length=63, description="The CronJob's name.")
    board_count: int | None = Field(None, description="Boards in the spec.")
    next_schedule_time: str | None = Field(None, max_length=64, json_schema_extra={
        "format": "date-time"}, description="Next scheduled run.")
    last_schedule_time: str | None = Field(None, max_length=64, json_schema_extra={
        "format": "date-time"}, description="Last time a run was scheduled.")
    last_successful_time: str | None = Field(None, max_length=64, json_schema_extra={
        "format": "date-time"}, description="Last time a run succeeded.")
    last_run_now: str | None = Field(None, max_length=256,
                                     description="The last jobscrape.io/run-now value handled.")
    postings: int | None = Field(None, description="Open postings after filters, all boards.")
    failing_boards: int | None = Field(None, description="Boards that failed in the last run.")
    last_run: LastRun | None = Field(None, description="The most recent finished run.")
    boards: list[BoardStatus] = Field(
        default_factory=list, max_length=500,
        json_schema_extra={"x-kubernetes-list-type": "map",
                           "x-kubernetes-list-map-keys": ["name"]},
        description="One entry per spec board.")
    notify: list[NotifyStatus] = Field(
        default_factory=list, max_length=20,
        json_schema_extra={"x-kubernetes-list-type": "map",
                           "x-kubernetes-list-map-keys": ["name"]},
        description="One entry per notification target.")
    recent_postings: list[RecentPosting] = Field(
        default_factory=list, max_length=10,
        description="The last 10 postings found new, newest first.")

    def condition(self, type_: str) -> Condition | None:
        """The condition of this type, if present."""
        return next((c for c in self.conditions if c.type == type_), None)


def read_status(raw: Any) -> JobSourceStatus:
    """A JobSource's status as the typed model; never raises: a field someone wrote wrongly
    (the status subresource is anyone's with the right RBAC) is dropped, the rest kept."""
    if isinstance(raw, JobSourceStatus):
        return raw
    if not isinstance(raw, Mapping):
        return JobSourceStatus()
    try:
        return JobSourceStatus.model_validate(raw)
    except ValidationError:
        good = {}
        for key, value in raw.items():
            try:
                JobSourceStatus.model_validate({key: value})
            except ValidationError:
                continue
            good[key] = value
        return JobSourceStatus.model_validate(good)


def wire(model: ApiModel, *, keep_none: bool = False) -> dict[str, Any]:
    """A model as the API stores it (camelCase). Without `keep_none`, unset and None fields
    are left out; with it, fields set to None explicitly stay (a merge patch deletes them)."""
    if keep_none:
        return model.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def wire_conditions(status: JobSourceStatus) -> list[dict[str, Any]]:
    """The status' conditions as plain dicts (what the condition helpers merge)."""
    return [wire(c) for c in status.conditions]
