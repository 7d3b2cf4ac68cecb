"""`jobscrape run`: the CronJob pod's program. Reads its JobSource, runs the pipeline, and
writes lastRun, boards, postings and the Healthy/Degraded conditions back to the status."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jobscrape.boards.base import BoardRef

if TYPE_CHECKING:
    from jobscrape.kubeclient import Kube
    from jobscrape.runner.fetch import FetchOptions
    from jobscrape.runner.report import RunSummary
    from jobscrape.store import Store

log = logging.getLogger("jobscrape.run")


def allow_private_default() -> bool:
    """Whether JOBSCRAPE_ALLOW_PRIVATE_NETWORKS=1 is set."""
    return os.environ.get("JOBSCRAPE_ALLOW_PRIVATE_NETWORKS") == "1"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `jobscrape run`."""
    p.add_argument("--namespace", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--store", default="jobscrape.db",
                   help="SQLite file (ignored when the source uses PostgreSQL)")
    p.add_argument("--allow-private-networks", action="store_true",
                   default=allow_private_default())
    p.add_argument("--kubeconfig", default=None)
    p.add_argument("--log-format", choices=("text", "json"), default="text")


def parse_workers(env: Mapping[str, str]) -> int | None:
    """The parse pool's size the pod was given (its CPU request, rounded up); None when not
    set or unusable (then the CPUs the process may use decide)."""
    from jobscrape.api.contract import PARSE_WORKERS_ENV

    raw = env.get(PARSE_WORKERS_ENV, "")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 64 else None


def fetch_options(spec: Any, allow_private: bool, env: Mapping[str, str] | None = None
                  ) -> FetchOptions:
    """Fetch settings from spec.run, and the parse pool's size from the pod's environment."""
    from jobscrape.runner.fetch import FetchOptions

    return FetchOptions(concurrency=spec.run.concurrency,
                        requests_per_second_per_host=float(spec.run.requests_per_second_per_host),
                        allow_private_networks=allow_private,
                        parse_workers=parse_workers(os.environ if env is None else env))


def board_refs(spec: Any) -> list[BoardRef]:
    """The spec's boards as the fetcher's references."""
    return [BoardRef(name=b.name, type=b.type, token=b.token or "", url=b.url or None)
            for b in spec.boards]


def run(args: argparse.Namespace) -> int:
    """Run once for the named JobSource; exit 0 unless every board failed (2: bad input,
    3: the store cannot be used)."""
    from jobscrape import logs
    from jobscrape.api import contract
    from jobscrape.api.validate import parse_spec, validate_spec
    from jobscrape.api.vocabulary import OK_STATES
    from jobscrape.kubeclient import Kube, load_api_client
    from jobscrape.runner import report
    from jobscrape.runner.shards import shard_count, shard_of
    from jobscrape.store import ShardLedger, StoreError, StoreLocked, open_store

    logs.configure(args.log_format)
    ctx = {"namespace": args.namespace, "jobsource": args.name}
    kube = Kube(load_api_client(args.kubeconfig), field_manager="jobscrape-runner")
    body = kube.get(contract.API_VERSION, contract.KIND, args.namespace, args.name)
    spec, problems = parse_spec(body.get("spec") or {})
    if spec is not None and not problems:
        problems = validate_spec(spec)
    if spec is None or problems:
        for p in problems:
            log.error("invalid spec: %s: %s", p.path, p.message, extra=ctx)
        return 2
    job_name = os.environ.get(contract.JOB_NAME_ENV) or None
    finishing = os.environ.get(contract.FINISH_RUN_ENV) == "true"
    try:
        shard = shard_of(os.environ) if not finishing else None
        shards = shard[1] if shard is not None else shard_count(os.environ)
        if finishing and shards is None:
            raise ValueError(f"{contract.FINISH_RUN_ENV} finishes a sharded run, but "
                             f"{contract.SHARDS_ENV} is not set above 1")
        if shards is not None and job_name is None:
            raise ValueError(f"{contract.JOB_NAME_ENV} is not set: the shards of a run find "
                             "each other by their Job's name")
    except ValueError as e:
        log.error("%s", e, extra=ctx)
        return 2
    try:
        store = open_store(os.environ.get(contract.DSN_ENV) or args.store)
        if shards is not None and not isinstance(store, ShardLedger):
            store.close()
            log.error("spec.run.shards > 1 needs spec.store.postgres: the shards of a run "
                      "share one store", extra=ctx)
            return 2
        store.migrate()
    except StoreError as e:
        return store_failed(kube, args.namespace, args.name, str(e), ctx)
    source = f"{args.namespace}/{args.name}"
    try:
        if finishing:
            assert shards is not None and job_name is not None
            out = asyncio.run(finish_and_deliver(source, spec, store,
                                                 args.allow_private_networks, job_name, shards))
        else:
            out = run_in_attempts(source, spec, store, args.allow_private_networks, job_name,
                                  shard, ctx)
    except (StoreError, StoreLocked) as e:
        return store_failed(kube, args.namespace, args.name, str(e), ctx)
    finally:
        store.close()
    if out.whole is None:  # a shard, and others of its run are still going
        return report.exit_code(out.own.boards)
    s = out.whole
    log.info("run %s: fetched=%d not_modified=%d created=%d updated=%d removed=%d",
             report.result_of(s.boards), s.fetched, s.not_modified, s.created, s.updated,
             s.removed, extra=ctx)
    for b in s.boards:
        if b.state not in OK_STATES:
            log.warning("board %s: %s %s", b.name, b.state, b.message, extra=ctx)
    write_status(kube, args.namespace, args.name, s, unless_superseded=finishing)
    return 0 if finishing else report.exit_code(out.own.boards)


def run_in_attempts(source: str, spec: Any, store: Store, allow_private: bool,
                    job_name: str | None, shard: tuple[int, int] | None,
                    ctx: dict[str, str]) -> Finished:
    """The run, once more when the store's server dropped its lock's session (what the
    first attempt committed stays)."""
    from jobscrape.store import StoreLockLost

    for attempt in range(1, RUN_ATTEMPTS + 1):
        try:
            return asyncio.run(run_and_deliver(source, spec, store,
                                               fetch_options(spec, allow_private),
                                               allow_private, job_name, shard))
        except StoreLockLost as e:
            if attempt == RUN_ATTEMPTS:
                raise
            log.warning("%s; running again", e, extra=ctx)
    raise AssertionError("unreachable")


#: Times a run is tried in one pod when the server drops its lock's session (StoreLockLost)
RUN_ATTEMPTS = 2

#: Seconds a run waits for its store's run lock: long enough for the lock of a run whose pod
#: died to come free (PostgreSQL notices a dead session within 25 s, see store.pgconnect).
RUN_LOCK_WAIT = 60.0


def delivery_budget(spec: Any) -> float:
    """Seconds a run spends delivering at most: a quarter of its Job's deadline, 30 to 300."""
    return float(min(300, max(30, spec.run.timeout_seconds // 4)))


@dataclass(frozen=True)
class Finished:
    """What a pod's run came to: its own part (`own`: the whole run unless it is a shard) and
    the run's summary to write into the status (`whole`; None: another shard writes it)."""

    own: RunSummary
    whole: RunSummary | None


async def run_and_deliver(source: str, spec: Any, store: Store, options: FetchOptions,
                          allow_private: bool, job_name: str | None,
                          shard: tuple[int, int] | None = None) -> Finished:
    """One run: fetch, store and queue the changes (one transaction), then deliver what is
    pending to every target, and put delivery figures and recent postings in the summary.

    A shard (index, count) fetches and stores only its boards and records its summary; the
    shard whose record completes the run merges all of them and delivers; for the others
    the run is not whole yet (their results are stored; the status is not theirs to write)."""
    from jobscrape.runner.pipeline import run_once
    from jobscrape.runner.shards import assign_shards, merge_records, summary_record
    from jobscrape.runner.targets import outbox_targets
    from jobscrape.store import ShardLedger

    boards, lock_name = board_refs(spec), None
    if shard is not None:
        index, count = shard
        boards = assign_shards(boards, count)[index]
        lock_name = f"{source}#shard-{index}"
        log.info("shard %d of %d: boards %s", index, count,
                 ", ".join(b.name for b in boards) or "(none)")
    out = await run_once(source, boards, store, options, filters=spec.filters,
                         job_name=job_name, targets=outbox_targets(spec.notify),
                         lock_name=lock_name, lock_timeout=RUN_LOCK_WAIT)
    whole = out.summary
    if shard is not None:
        assert isinstance(store, ShardLedger) and job_name is not None
        records = store.record_shard(source, job_name, shard[0], shard[1],
                                     summary_record(out.summary), out.summary.finished)
        if records is None:
            log.info("shard %d of %d stored; the shard that finishes the run last writes "
                     "its status", *shard)
            return Finished(own=out.summary, whole=None)
        whole = merge_records(records, [b.name for b in spec.boards])
    return Finished(own=out.summary, whole=await deliver_whole(store, source, spec, whole,
                                                              allow_private))


async def finish_and_deliver(source: str, spec: Any, store: Store, allow_private: bool,
                             job_name: str, shards: int) -> Finished:
    """Finish a sharded run that ended with shards missing: merge the shards' records, each
    missing shard's boards as failed, then deliver what is pending (the recorded shards'
    changes) like the shard that completes a run does."""
    from jobscrape.runner.shards import finished_records, merge_records
    from jobscrape.store import ShardLedger

    assert isinstance(store, ShardLedger)
    recorded = store.shard_records(source, job_name, shards)
    records = finished_records(recorded, board_refs(spec), shards, job_name,
                               store.board_counts(source), datetime.now(UTC))
    whole = merge_records(records, [b.name for b in spec.boards])
    log.info("run %s: shards %s recorded, %s did not", job_name,
             ",".join(map(str, sorted(recorded))) or "none",
             ",".join(str(i) for i in range(shards) if i not in recorded) or "none")
    return Finished(own=whole, whole=await deliver_whole(store, source, spec, whole,
                                                         allow_private))


async def deliver_whole(store: Store, source: str, spec: Any, whole: RunSummary,
                        allow_private: bool) -> RunSummary:
    """Deliver what is pending to every target; the run's summary with delivery figures and
    recent postings added."""
    from jobscrape.runner import report
    from jobscrape.runner.delivery import deliver_source

    if spec.notify:
        for o in await deliver_source(store, source, spec.notify, os.environ, allow_private,
                                      delivery_budget(spec)):
            if o.error:
                log.warning("target %s: %d not delivered: %s", o.target, o.failed, o.error)
            if o.delivered:
                log.info("target %s: %d delivered", o.target, o.delivered)
    names = [n.name for n in spec.notify]
    return replace(whole, notify=report.notify_statuses(names, store.notify_stats(source)),
                   recent=report.recent_postings(store.recent_created(source, 10)))


def store_failed(kube: Kube, namespace: str, name: str, message: str,
                 ctx: dict[str, str]) -> int:
    """Log a store that cannot be used in one line, set Healthy=False StoreUnavailable, and
    return the run's exit code (3). Nothing was written to the store."""
    from jobscrape.api import contract, status
    from jobscrape.runner import report

    log.error("store: %s", message, extra=ctx)
    body = kube.get(contract.API_VERSION, contract.KIND, namespace, name)
    current = status.read_status(body.get("status"))
    kube.merge_patch_status(contract.API_VERSION, contract.KIND, namespace, name, {
        "status": {"conditions": report.store_failure_conditions(
            current, message, body["metadata"].get("generation"))}})
    return 3


def write_status(kube: Kube, namespace: str, name: str, summary: RunSummary,
                 unless_superseded: bool = False) -> None:
    """Patch the run's results into the status, re-reading on a conflicting write; with
    `unless_superseded`, not over the status of a run that started later."""
    from jobscrape.api import contract
    from jobscrape.api.status import read_status
    from jobscrape.kubeclient import Conflict
    from jobscrape.runner import report

    for attempt in range(5):
        body = kube.get(contract.API_VERSION, contract.KIND, namespace, name)
        current = read_status(body.get("status"))
        if unless_superseded and report.superseded(current, summary):
            log.info("run %s: a later run has written the status; it stays", summary.job_name)
            return
        patch = report.status_patch(current, summary, body["metadata"].get("generation"))
        try:
            kube.merge_patch_status(contract.API_VERSION, contract.KIND, namespace, name, {
                "metadata": {"resourceVersion": body["metadata"]["resourceVersion"]},
                "status": patch})
            return
        except Conflict:
            if attempt == 4:
                raise
