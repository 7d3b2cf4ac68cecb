"""Pure helpers both stores share, no SQL: posting JSON, the per-board diff, which targets a
run registers and drops, the outbox rows a run queues, and the retry arithmetic."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from jobscrape.postings import (
    Change,
    ChangeKind,
    Posting,
    idempotency_key,
    posting_from_dict,
)
from jobscrape.store.base import BoardOutcome, RetryPolicy, RunDiff, Target

MAX_ERROR = 300  # characters of a delivery error kept for status


def posting_json(p: Posting) -> str:
    """The posting as compact JSON (Posting.to_dict), the form both stores keep."""
    return p.to_json()


def posting_of(data: str | Mapping[str, object]) -> Posting:
    """The posting back from its stored JSON (text or already parsed)."""
    return posting_from_dict(json.loads(data) if isinstance(data, str) else dict(data))


def utc(t: datetime) -> datetime:
    """The same instant in UTC (naive times are taken as UTC)."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


@dataclass(frozen=True)
class Changed:
    """One change of a run: its kind, the posting as it is now (as it was last stored, for
    `removed`) and that posting's JSON."""

    kind: ChangeKind
    posting: Posting
    data: str


@dataclass
class BoardDiff:
    """What storing one complete board does to its stored postings."""

    inserts: list[Changed] = field(default_factory=list)  # never stored before
    rewrites: list[Changed] = field(default_factory=list)  # content changed, or reopened
    unchanged: list[str] = field(default_factory=list)  # ids seen again as they were
    gone: list[str] = field(default_factory=list)  # open ids missing from the board, sorted
    changes: list[Changed] = field(default_factory=list)  # created and updated, listing order


def diff_board(known: Mapping[str, tuple[str, bool]], postings: Iterable[Posting],
               report_updates: bool = True) -> BoardDiff:
    """Compare a complete board's postings with what is stored for it (`known`: id ->
    (content_hash, closed)). A posting listed twice counts once; one that reappears after it
    was closed is created again; open ones missing from the board are gone. Without
    `report_updates` (a new parser version read the board), changed postings are rewritten
    but are not changes: the board did not change, its reading did."""
    d = BoardDiff()
    seen: set[str] = set()
    for p in postings:
        if p.id in seen:
            continue  # a board listing the same posting twice
        seen.add(p.id)
        old = known.get(p.id)
        if old is not None and not old[1] and old[0] == p.content_hash:
            d.unchanged.append(p.id)
            continue
        if old is None:
            c = Changed(ChangeKind.CREATED, p, posting_json(p))
            d.inserts.append(c)
        else:  # reappeared after being closed (open again, as new), or changed
            c = Changed(ChangeKind.CREATED if old[1] else ChangeKind.UPDATED, p,
                        posting_json(p))
            d.rewrites.append(c)
            if c.kind is ChangeKind.UPDATED and not report_updates:
                continue
        d.changes.append(c)
    d.gone = sorted(pid for pid, (_, closed) in known.items() if not closed and pid not in seen)
    return d


def claim_postings(outcomes: Iterable[BoardOutcome]) -> Iterator[BoardOutcome]:
    """The outcomes, one at a time as they come, with every posting kept by the first board
    of the run that lists it: two boards of one source with the same type and token list the
    same posting ids, and a posting belongs to one board."""
    claimed: set[str] = set()
    for o in outcomes:
        if o.complete and not o.not_modified:
            mine = [p for p in o.postings if p.id not in claimed]
            claimed.update(p.id for p in mine)
            if len(mine) != len(o.postings):
                o = replace(o, postings=mine)
        yield o


#: A board of a run as its run_boards row records it: name, state, HTTP status, message.
BoardRun = tuple[str, str, int | None, str]


def write_boards(outcomes: Iterable[BoardOutcome],
                 store_board: Callable[[BoardOutcome], list[ChangeRef]],
                 board_row: Callable[[BoardOutcome], None], *,
                 before_each: Callable[[], None] | None = None,
                 hook: Callable[[BoardOutcome], None] | None = None,
                 ) -> tuple[list[ChangeRef], list[BoardRun]]:
    """The boards of a run written as `outcomes` yields them, the same on both stores, inside
    the store's transaction: each outcome's postings claimed (claim_postings); `before_each`
    first (PostgreSQL checks its locks); a complete board that changed stored by
    `store_board` (its postings and change-log rows; it returns the board's ChangeRefs), then
    `hook` (tests: fail or stall in the middle of a run); every board's own row written by
    `board_row`. Returns the run's ChangeRefs in order, and its boards."""
    changes: list[ChangeRef] = []
    boards: list[BoardRun] = []
    for o in claim_postings(outcomes):
        if before_each is not None:
            before_each()
        if o.complete and not o.not_modified:
            changes += store_board(o)
            if hook is not None:
                hook(o)
        board_row(o)
        boards.append((o.board, o.state, o.http_status, o.message))
    return changes, boards


def moved_unchanged(o: BoardOutcome, d: BoardDiff, stored_board: Mapping[str, str]
                    ) -> list[tuple[str, str]]:
    """(id, posting JSON) of the unchanged postings of `o` that are stored under another
    board: they move to `o.board` (changed ones move with their rewrite)."""
    unchanged = set(d.unchanged)
    return [(p.id, posting_json(p)) for p in o.postings
            if p.id in unchanged and stored_board.get(p.id, o.board) != o.board]


@dataclass(frozen=True, slots=True)
class ChangeRef:
    """A change of a run without its posting: what the change log and the outbox rows need
    until the run ends (an outbox row's posting data is read back from the stored row)."""

    kind: ChangeKind
    board: str
    posting_id: str
    content_hash: str


def change_refs(changes: Iterable[Changed]) -> list[ChangeRef]:
    """The ChangeRefs of a board's changes, in order."""
    return [ChangeRef(c.kind, c.posting.board, c.posting.id, c.posting.content_hash)
            for c in changes]


def removed_refs(gone: Sequence[str], stored: Mapping[str, tuple[str, str]]) -> list[ChangeRef]:
    """The ChangeRefs of the postings a board no longer lists, in `gone`'s order (`stored`: id
    -> (content hash, board) of its stored row)."""
    return [ChangeRef(ChangeKind.REMOVED, stored[pid][1], pid, stored[pid][0]) for pid in gone]


def add_to_diff(diff: RunDiff, changes: Iterable[ChangeRef]) -> None:
    """Count changes into the run's diff (their posting ids, by kind)."""
    for c in changes:
        {ChangeKind.CREATED: diff.created, ChangeKind.UPDATED: diff.updated,
         ChangeKind.REMOVED: diff.removed}[c.kind].append(c.posting_id)


@dataclass(frozen=True)
class TargetPlan:
    """A source's targets after a run: all wanted (deduplicated by name, first wins), those
    seen for the first time, and the names of registered ones no longer wanted."""

    wanted: list[Target]
    new: list[Target]
    gone: list[str]


def plan_targets(registered: Iterable[str], targets: Sequence[Target]) -> TargetPlan:
    """Which targets to register and which to drop so that `targets` is the list."""
    have = set(registered)
    wanted: dict[str, Target] = {}
    for t in targets:
        wanted.setdefault(t.name, t)
    return TargetPlan(wanted=list(wanted.values()),
                      new=[t for t in wanted.values() if t.name not in have],
                      gone=sorted(have - wanted.keys()))


@dataclass(frozen=True)
class OutboxRow:
    """One pending outbox row to write: a change of a posting for a target (the posting's
    data is the stored row's, read by the insert)."""

    target: str
    kind: ChangeKind
    board: str
    posting_id: str
    content_hash: str
    key: str


def needs_backfill(plan: TargetPlan) -> list[Target]:
    """The new targets that get every open posting as `created`."""
    return [t for t in plan.new if t.backfill and ChangeKind.CREATED in t.events]


def outbox_rows(source: str, run_id: str, changes: Sequence[ChangeRef], plan: TargetPlan,
                backfill: Sequence[ChangeRef] = ()) -> list[OutboxRow]:
    """The outbox rows of a run: first, for each new target with backfill, every posting of
    `backfill` (the open postings not created in this run) as `created`; then each change for
    every wanted target whose events include its kind."""
    def row(target: str, c: ChangeRef, kind: ChangeKind) -> OutboxRow:
        return OutboxRow(target, kind, c.board, c.posting_id, c.content_hash, idempotency_key(
            source, c.board, c.posting_id, c.content_hash, kind.value, run_id))

    rows = [row(t.name, c, ChangeKind.CREATED)
            for t in needs_backfill(plan) for c in backfill]
    rows += [row(t.name, c, c.kind) for c in changes for t in plan.wanted
             if c.kind in t.events]
    return rows


def queued_counts(rows: Iterable[OutboxRow], plan: TargetPlan) -> dict[str, int]:
    """Rows written per wanted target (0 for a target that got none)."""
    out = {t.name: 0 for t in plan.wanted}
    for r in rows:
        out[r.target] += 1
    return out


def change_of(source: str, target: str, seq: int, kind: str, board: str,
              data: str | Mapping[str, object], key: str, created_at: datetime,
              attempts: int) -> Change:
    """A Change rebuilt from an outbox row."""
    return Change(seq=int(seq), target=target, kind=ChangeKind(kind), source=source,
                  board=board, posting=posting_of(data), idempotency_key=key,
                  created_at=created_at, attempts=int(attempts))


@dataclass(frozen=True)
class Failure:
    """What one failed delivery does to its outbox row."""

    seq: int
    attempts: int
    next_attempt_at: datetime
    dead: bool


def plan_failures(rows: Iterable[tuple[int, int, datetime]], now: datetime,
                  policy: RetryPolicy, retry_after: float | None = None) -> list[Failure]:
    """For rows (seq, attempts so far, created_at): one more attempt, the next one after the
    policy's delay; dead at `max_attempts` attempts or once `max_age` old."""
    out = []
    for seq, attempts, created_at in rows:
        n = attempts + 1
        dead = n >= policy.max_attempts or utc(now) - utc(created_at) >= policy.max_age
        out.append(Failure(seq, n, now + policy.delay(n, retry_after), dead))
    return out


def short_error(error: str) -> str:
    """The error on one line, at most MAX_ERROR characters."""
    line = " ".join(error.split())
    return line if len(line) <= MAX_ERROR else line[:MAX_ERROR - 1] + "…"


def contains_text(needle: str, *fields: str | None) -> bool:
    """Whether `needle` is a case-insensitive substring of one of the fields."""
    n = needle.casefold()
    return any(f and n in f.casefold() for f in fields)


def check_state(state: str | None) -> None:
    """ValueError unless `state` is None, "open" or "removed"."""
    if state not in (None, "open", "removed"):
        raise ValueError(f"state must be 'open' or 'removed', not {state!r}")
