"""The store interface and the values that cross it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from jobscrape.httpcache import Validators
from jobscrape.postings import Posting


class StoreLocked(RuntimeError):
    """Another run holds the store's lock."""


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


@dataclass
class RunDiff:
    """What one run changed."""

    created: list[Posting] = field(default_factory=list, repr=False)
    updated: list[Posting] = field(default_factory=list, repr=False)
    removed: list[Posting] = field(default_factory=list, repr=False)

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

    def apply_run(self, source: str, run_id: str, outcomes: list[BoardOutcome],
                  now: datetime) -> RunDiff:
        """Store one run's results atomically and return what changed."""
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

