"""Where postings are kept between runs, behind one small interface (`Store`)."""

from __future__ import annotations

from pathlib import Path

from jobscrape.store.base import BoardOutcome, RunDiff, RunRecord, Store, StoreLocked

__all__ = ["BoardOutcome", "RunDiff", "RunRecord", "Store", "StoreLocked", "open_store"]


def open_store(target: str | Path) -> Store:
    """A store for a path or `sqlite:///path` (SQLite); PostgreSQL DSNs arrive with their own
    issue and are refused with a clear message until then."""
    t = str(target)
    if t.startswith(("postgres://", "postgresql://")):
        raise NotImplementedError("the PostgreSQL store is not available in this version; "
                                  "use spec.store.sqlite")
    from jobscrape.store.sqlite import SqliteStore

    return SqliteStore(Path(t.removeprefix("sqlite:///") if t.startswith("sqlite:///") else t))
