"""The store interface and the values that cross it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from jobscrape.httpcache import Validators
from jobscrape.postings import Change, ChangeKind, Posting


class StoreLocked(RuntimeError):
    """Another run holds the store's lock."""


class StoreError(RuntimeError):
    """The store cannot be used; the message says why in one line, without secrets."""


class StoreLockLost(StoreError):
    """The session that held the run's lock is gone (the server dropped it): another run may
    hold the lock now. Nothing of the run was committed after that; trying again is safe."""


@dataclass(frozen=True)
class Target:
    """A notification target as the outbox sees it: which change kinds it takes, and whether
    it gets every open posting (as `created`) when it is first seen."""

    name: str
    events: frozenset[ChangeKind] = frozenset(ChangeKind)
    backfill: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """When a change that failed to deliver is tried again, and when it is given up (dead):
    after `max_attempts` failed attempts or once it is older than `max_age`."""

    max_attempts: int = 12
    max_age: timedelta = timedelta(hours=72)
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """The wait after the `attempts`-th failure: doubling from first_delay up to
        max_delay, and never less than the server's Retry-After."""
        d = min(self.first_delay * (2 ** max(attempts - 1, 0)), self.max_delay)
        if retry_after is not None:
            d = max(d, timedelta(seconds=retry_after))
        return d


@dataclass(frozen=True)
class TargetStats:
    """Delivery figures of one target of one source."""

    target: str
    delivered: int = 0  # changes delivered, ever
    pending: int = 0  # changes waiting (due now or later)
    dead: int = 0  # changes given up; kept until retried or purged by hand
    last_error: str = ""  # short, secret-free
    last_delivery: datetime | None = None
    oldest_pending: datetime | None = None  # when the oldest pending change was made


@dataclass(frozen=True)
class StoredPosting:
    """A posting with its bookkeeping, as `query_postings` returns it."""

    source: str
    posting: Posting
    first_seen: datetime
    last_seen: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class BoardOutcome:
    """One board's part of a run, as the store needs it.

    `complete`: the whole board was fetched, so postings missing from it are gone.
    `not_modified`: the server answered 304; keep everything as it is.
    """

    board: str
    board_type: str
    complete: bool
    not_modified: bool
    postings: list[Posting]
    state: str
    http_status: int | None = None
    message: str = ""
    validators: Validators | None = None
    report_updates: bool = True  # False: a new parser version read it; rewrite quietly


@dataclass
class RunDiff:
    """What one run changed, as posting ids in the order stored (and, for `targets`, what it
    queued: changes per target). Ids, not postings: a run's postings are not all kept in
    memory until it ends."""

    created: list[str] = field(default_factory=list, repr=False)
    updated: list[str] = field(default_factory=list, repr=False)
    removed: list[str] = field(default_factory=list, repr=False)
    queued: dict[str, int] = field(default_factory=dict)  # target -> outbox rows written

    @property
    def counts(self) -> tuple[int, int, int]:
        """(created, updated, removed)."""
        return len(self.created), len(self.updated), len(self.removed)


@dataclass(frozen=True)
class RunRecord:
    """One row of run history."""

    run_id: str
    finished_at: datetime
    created: int
    updated: int
    removed: int
    boards: dict[str, str]  # board -> state


class Store(Protocol):
    """What every store offers; all writes of one run happen in one transaction."""

    def migrate(self) -> int:
        """Bring the schema up to date; return its version."""
        ...

    def lock(self, source: str, timeout: float = 30.0) -> AbstractContextManager[None]:
        """Hold the run lock; StoreLocked when another run keeps it past `timeout`."""
        ...

    def validators(self, source: str) -> dict[str, Validators]:
        """HTTP validators per board name, from the last runs."""
        ...

    def apply_run(self, source: str, run_id: str, outcomes: Iterable[BoardOutcome],
                  now: datetime, targets: Sequence[Target] | None = None) -> RunDiff:
        """Store one run's results atomically and return what changed.

        `outcomes` may be a stream (a generator waiting for boards still being fetched):
        each board is written as it comes, inside the run's one transaction, and its postings
        are not kept afterwards.

        In the same transaction: one `changes` row per change, and one pending outbox row per
        change and target whose events include its kind. With `targets` given, the source's
        target list becomes exactly that: a target seen for the first time is registered (with
        `backfill`, every open posting not created in this run is queued for it as `created`);
        a registered target missing from `targets` is unregistered and its pending and dead
        rows are deleted. `targets=None` leaves targets and outbox as they are.
        """
        ...

    def pending(self, source: str, target: str, now: datetime,
                limit: int = 500) -> list[Change]:
        """Pending changes of one target that are due at `now`, oldest first."""
        ...

    def mark_sent(self, source: str, target: str, seqs: Sequence[int], now: datetime) -> None:
        """These changes were delivered: drop them from the outbox, count them as delivered."""
        ...

    def mark_failed(self, source: str, target: str, seqs: Sequence[int], error: str,
                    now: datetime, policy: RetryPolicy,
                    retry_after: float | None = None) -> int:
        """These changes failed: one more attempt each, the next one after
        `policy.delay(...)`; those past the policy's bounds become dead. Returns how many
        became dead. `error` must be short and secret-free; it is shown in status."""
        ...

    def retry_dead(self, source: str, target: str | None = None) -> int:
        """Make dead changes pending again, due at once; returns how many."""
        ...

    def notify_stats(self, source: str) -> dict[str, TargetStats]:
        """Delivery figures per registered target."""
        ...

    def recent_created(self, source: str, limit: int = 10) -> list[StoredPosting]:
        """The open postings seen first most recently, newest first."""
        ...

    def query_postings(self, source: str | None = None, board: str | None = None,
                       since: datetime | None = None, state: str | None = None,
                       text: str | None = None, limit: int | None = None
                       ) -> list[StoredPosting]:
        """Postings of every source (or one), filtered: `board`; first seen at or after
        `since`; `state` "open" or "removed"; `text` a case-insensitive substring of the
        title, company, department or locations. Ordered by source, first_seen desc, id."""
        ...

    def open_postings(self, source: str, board: str | None = None) -> list[Posting]:
        """Postings not closed, optionally of one board."""
        ...

    def board_counts(self, source: str) -> dict[str, int]:
        """Open postings per board."""
        ...

    def runs(self, source: str, limit: int = 20) -> list[RunRecord]:
        """Run history, newest first."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


@runtime_checkable
class ShardLedger(Protocol):
    """A store that several pods of one run can share (PostgreSQL): it keeps each shard's
    summary until the run is whole."""

    def record_shard(self, source: str, run_key: str, shard: int, shards: int,
                     summary: dict[str, Any], now: datetime) -> list[dict[str, Any]] | None:
        """Keep one shard's summary; all the run's summaries to the shard whose record
        completes the set (None to the others)."""
        ...

    def shard_records(self, source: str, run_key: str, shards: int) -> dict[int, dict[str, Any]]:
        """The summaries the run's shards have recorded so far, by shard."""
        ...
