"""Where postings are kept between runs, behind one small interface (`Store`)."""

from __future__ import annotations

from pathlib import Path

from jobscrape.store.base import (
    BoardOutcome,
    RetryPolicy,
    RunDiff,
    RunRecord,
    ShardLedger,
    Store,
    StoredPosting,
    StoreError,
    StoreLocked,
    StoreLockLost,
    Target,
    TargetStats,
)

__all__ = ["BoardOutcome", "RetryPolicy", "RunDiff", "RunRecord", "ShardLedger", "Store",
           "StoreError", "StoreLockLost", "StoreLocked", "StoredPosting", "Target", "TargetStats",
           "open_store"]


def open_store(target: str | Path) -> Store:
    """A store for a path or `sqlite:///path` (SQLite), or a `postgres://` /
    `postgresql://` DSN (PostgreSQL). StoreError, in one line and without secrets, when it
    cannot be opened."""
    t = str(target)
    if t.startswith(("postgres://", "postgresql://")):
        from jobscrape.store.postgres import PostgresStore

        return PostgresStore(t)
    from jobscrape.store.sqlite import SqliteStore

    return SqliteStore(Path(t.removeprefix("sqlite:///") if t.startswith("sqlite:///") else t))
