"""One scrape run: fetch every board, filter, store, diff, and summarise. No Kubernetes here."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from jobscrape.boards import get_adapter
from jobscrape.boards.base import BoardRef, parser_version
from jobscrape.filters import compile_filters
from jobscrape.runner.boardstream import BoardStream
from jobscrape.runner.fetch import BoardFetch, FetchOptions, Validators, fetch_boards
from jobscrape.runner.report import BoardRun, RunSummary
from jobscrape.store import BoardOutcome, RunDiff, Store, Target

Clock = Callable[[], datetime]


@dataclass
class RunOutput:
    """A finished run: its summary for status, the diff for notifications, the raw fetches."""

    summary: RunSummary
    diff: RunDiff = field(repr=False)  # large: asyncio.run reprs its result (cpython#112559)
    fetches: list[BoardFetch] = field(repr=False)


def delivered(fetches: list[BoardFetch], stored: Mapping[str, int],
              parsed: Mapping[str, int] | None = None) -> tuple[int, int]:
    """(fetched, not_modified) of a run. fetched: postings the boards delivered (`parsed`,
    by board name, where the fetch no longer holds them), where a board whose body was
    fetched but unchanged (same digest, so not parsed) counts with its `stored` open
    postings; not_modified: the `stored` postings of boards that answered 304 (nothing was
    transferred). Failed boards count in neither."""
    fetched = not_modified = 0
    for f in fetches:
        if not f.ok:
            continue
        if not f.not_modified:
            fetched += (parsed or {}).get(f.board.name, len(f.postings))
        elif f.http_status == 304:
            not_modified += stored.get(f.board.name, 0)
        else:
            fetched += stored.get(f.board.name, 0)
    return fetched, not_modified


def filters_fingerprint(filters: Any) -> str:
    """A digest of the filters (pydantic model, or None) the stored postings went through."""
    dump = filters.model_dump(mode="json") if hasattr(filters, "model_dump") else filters
    raw = json.dumps(dump, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def board_recipe(filters_fp: str, board_type: str) -> str:
    """How a board's stored postings were made: the filters' fingerprint and the version of
    its type's parser ("<fingerprint>/<version>"), kept with its validators."""
    return f"{filters_fp}/{parser_version(get_adapter(board_type))}"


def same_reading(stored: str | None, recipe: str) -> bool:
    """Whether postings stored under the `stored` recipe were read by the parser version of
    `recipe` (recipes from before versions were recorded count as version 1)."""
    if stored is None:
        return True
    return (stored.partition("/")[2] or "1") == recipe.partition("/")[2]


async def run_once(
    source: str,
    boards: list[BoardRef],
    store: Store,
    options: FetchOptions,
    filters: Any = None,
    job_name: str | None = None,
    on_board_done: Callable[[BoardFetch], None] | None = None,
    clock: Clock = lambda: datetime.now(UTC),
    targets: Sequence[Target] | None = None,
    lock_timeout: float = 30.0,
    lock_name: str | None = None,
) -> RunOutput:
    """Fetch, filter and store every board of `source` under the store's run lock (by
    default the source's; a shard of a sharded run holds its own, `lock_name`); with
    `targets`, the run's changes are queued for them in the same transaction (see
    Store.apply_run)."""
    keep = compile_filters(filters)
    with store.lock(lock_name or source, timeout=lock_timeout):
        started = clock()
        run_id = uuid.uuid4().hex
        stored = store.validators(source)
        fp = filters_fingerprint(filters)
        recipes = {b.name: board_recipe(fp, b.type) for b in boards}
        by_url: dict[str, Validators] = {}
        for b in boards:
            v = stored.get(b.name)
            # other filters or another parser version: fetch and read anew
            if v is not None and v.filters == recipes[b.name]:
                # a bad token or URL: the fetch reports it, for that board alone
                with contextlib.suppress(ValueError):
                    by_url[get_adapter(b.type).first_url(b)] = v
        now = clock()

        def outcome(f: BoardFetch) -> BoardOutcome:
            recipe, before = recipes[f.board.name], stored.get(f.board.name)
            return BoardOutcome(
                board=f.board.name, board_type=f.board.type, complete=f.ok,
                not_modified=f.not_modified,
                postings=f.postings if keep.keeps_all else [p for p in f.postings
                                                            if keep(p, now)],
                state=f.state, http_status=f.http_status, message=f.message,
                validators=replace(f.validators, filters=recipe) if f.validators else None,
                report_updates=same_reading(before.filters if before else None, recipe))

        # the store writes each board while the others are still fetched (in a thread: its
        # calls block), in the boards' order, and drops its postings once written
        stream = BoardStream(boards, outcome)
        writing = asyncio.get_running_loop().run_in_executor(
            None, lambda: store.apply_run(source, run_id, stream.outcomes(), now,
                                          targets=targets))

        def done(f: BoardFetch) -> None:
            if on_board_done is not None:
                on_board_done(f)
            stream.put(f)

        try:
            fetches = await fetch_boards(boards, options, validators=by_url,
                                         on_board_done=done)
        except BaseException:
            stream.close()  # some board never came: the store rolls the run back
            with contextlib.suppress(BaseException):
                await writing
            raise
        stream.close()
        diff = await writing
    # read after the lock is released: the run is committed, and a lock session lost from
    # here on must not make the run look undone (a rerun would find nothing to report)
    counts = store.board_counts(source)
    finished = clock()
    fetched, not_modified = delivered(fetches, counts, stream.delivered)
    summary = RunSummary(
        job_name=job_name, started=started, finished=finished,
        fetched=fetched, not_modified=not_modified,
        created=len(diff.created), updated=len(diff.updated), removed=len(diff.removed),
        boards=[BoardRun(name=f.board.name, type=f.board.type,
                         state=("Empty" if f.not_modified and not counts.get(f.board.name)
                                else f.state),
                         postings=counts.get(f.board.name, 0), http_status=f.http_status,
                         message=f.message, skipped=f.skipped) for f in fetches],
    )
    return RunOutput(summary=summary, diff=diff, fetches=fetches)
