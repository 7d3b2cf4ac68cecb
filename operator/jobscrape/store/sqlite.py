"""The SQLite store: WAL, one transaction per run, a file lock against concurrent runs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from jobscrape.api.vocabulary import OK_STATES
from jobscrape.httpcache import Validators
from jobscrape.postings import ChangeKind, Posting
from jobscrape.store import rows
from jobscrape.store.base import (
    BoardOutcome,
    RunDiff,
    RunRecord,
    StoreError,
    StoreLocked,
    Target,
)
from jobscrape.store.migrations import LATEST, MIGRATIONS
from jobscrape.store.sqlite_outbox import SqliteOutbox, iso


class SqliteStore(SqliteOutbox):
    """Postings of any number of sources in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._errors():
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and not os.access(path, os.W_OK):
                raise StoreError(f"the store file {path} is read-only: a run needs to write it")
            # autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                      check_same_thread=False)
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode: a commit survives a crash of this process (the case that
                # matters in a pod); only an OS crash may lose the last transactions
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute("PRAGMA foreign_keys=ON")
                self.db.execute("PRAGMA busy_timeout=30000")
            except BaseException:
                self.db.close()
                raise
        self.db.create_function("jobscrape_contains", -1, _contains, deterministic=True)

    # --- errors ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """sqlite3 errors about the file itself become one-line StoreErrors."""
        try:
            yield
        except sqlite3.Error as e:
            msg = _describe(e, self.path)
            if msg is None:
                raise
            raise StoreError(msg) from None
        except OSError as e:
            raise StoreError(f"cannot open the store file {self.path}: {e.strerror}") from None

    # --- schema ----------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply every migration newer than the file's version, each in its own transaction
        (concurrent migrators are safe: the version is read inside it). StoreError when the
        file's schema is newer than this code knows."""
        with self._errors():
            version = self.schema_version
            for v, statements in MIGRATIONS:
                if v <= version:
                    continue
                with self._tx():
                    version = self.schema_version
                    if v <= version:
                        continue
                    for stmt in statements:
                        self.db.execute(stmt)
                    self.db.execute(f"PRAGMA user_version={v}")
                version = v
            if version > LATEST:
                raise StoreError(f"store schema version {version} is newer than this jobscrape "
                                 f"(knows {LATEST})")
            return version

    @property
    def schema_version(self) -> int:
        """The version recorded in the file."""
        with self._errors():
            return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._errors():
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self.db.in_transaction:  # SQLite may have rolled back already (disk full)
                    self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # --- lock ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, source: str, timeout: float = 30.0) -> Iterator[None]:
        """An exclusive lock on a file beside the database (for every source of the file);
        the OS drops it if we die."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._errors():
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreLocked(
                            f"another run holds the lock on {self.path.name} (waited "
                            f"{timeout:g}s)") from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # --- reads -----------------------------------------------------------------------------
    def validators(self, source: str) -> dict[str, Validators]:
        """ETag / Last-Modified per board from earlier runs."""
        with self._errors():
            found = self.db.execute(
                "SELECT board, etag, last_modified, body_digest, filters_fp FROM boards WHERE "
                "source = ? AND (etag IS NOT NULL OR last_modified IS NOT NULL OR "
                "body_digest IS NOT NULL)", (source,)).fetchall()
        return {b: Validators(etag=e, last_modified=lm, digest=d, filters=f)
                for b, e, lm, d, f in found}

    def open_postings(self, source: str, board: str | None = None) -> list[Posting]:
        """Postings not closed, ordered by board then id."""
        return [rows.posting_of(d) for _, d in self._open_rows(source, board)]

    def _open_rows(self, source: str, board: str | None = None) -> list[tuple[str, str]]:
        q = "SELECT id, data FROM postings WHERE source = ? AND closed_at IS NULL"
        args: tuple[str, ...] = (source,)
        if board is not None:
            q += " AND board = ?"
            args += (board,)
        with self._errors():
            return self.db.execute(q + " ORDER BY board, id", args).fetchall()

    def board_counts(self, source: str) -> dict[str, int]:
        """Open postings per board."""
        with self._errors():
            found = self.db.execute(
                "SELECT board, COUNT(*) FROM postings WHERE source = ? AND closed_at IS NULL "
                "GROUP BY board", (source,)).fetchall()
        return {b: int(n) for b, n in found}

    def runs(self, source: str, limit: int = 20) -> list[RunRecord]:
        """Run history, newest first, with each board's state."""
        out = []
        with self._errors():
            for run_id, fin, c, u, r in self.db.execute(
                    "SELECT run_id, finished_at, created, updated, removed FROM runs WHERE "
                    "source = ? ORDER BY finished_at DESC LIMIT ?",
                    (source, limit)).fetchall():
                boards = dict(self.db.execute(
                    "SELECT board, state FROM run_boards WHERE source = ? AND run_id = ?",
                    (source, run_id)).fetchall())
                out.append(RunRecord(run_id, datetime.fromisoformat(fin), c, u, r, boards))
        return out

    # --- the run ---------------------------------------------------------------------------
    def apply_run(self, source: str, run_id: str, outcomes: Iterable[BoardOutcome],
                  now: datetime, targets: Sequence[Target] | None = None, *,
                  _hook: Callable[[BoardOutcome], None] | None = None) -> RunDiff:
        """All of a run's writes in one transaction (postings, boards, history, the change
        log and the outbox): before or after, never half. Boards are written as `outcomes`
        yields them; of each, only its changes' ChangeRefs are kept to the end. `_hook`
        (tests) runs after each stored board, inside the transaction."""
        ts = iso(now)
        diff = RunDiff()
        with self._tx() as db:
            changes, boards = rows.write_boards(
                outcomes, lambda o: self._apply_board(db, source, run_id, o, ts),
                lambda o: self._board_row(db, source, o, ts), hook=_hook)
            rows.add_to_diff(diff, changes)
            if targets is not None:
                diff.queued = self._queue(db, source, run_id, changes, diff.created, targets,
                                          ts)
            db.execute("INSERT INTO runs (source, run_id, finished_at, created, updated, "
                       "removed) VALUES (?, ?, ?, ?, ?, ?)",
                       (source, run_id, ts, *diff.counts))
            counts = dict(db.execute(
                "SELECT board, COUNT(*) FROM postings WHERE source = ? AND closed_at IS NULL "
                "GROUP BY board", (source,)).fetchall())
            db.executemany(
                "INSERT INTO run_boards (source, run_id, board, state, http_status, message, "
                "postings) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(source, run_id, board, state, status, message, counts.get(board, 0))
                 for board, state, status, message in boards])
        return diff

    def _apply_board(self, db: sqlite3.Connection, source: str, run_id: str, o: BoardOutcome,
                     ts: str) -> list[rows.ChangeRef]:
        """Write a complete board's postings and change-log rows; its ChangeRefs."""
        # its own rows, and rows of its postings stored under another board (a renamed board,
        # or one that listed them first): those move to this board
        # a UNION, not an OR: each half searches its index (an OR scans the source's rows,
        # which made storing a run quadratic in its postings)
        found = db.execute(
            "SELECT id, content_hash, closed_at, board FROM postings WHERE source = ? AND "
            "board = ? UNION SELECT id, content_hash, closed_at, board FROM postings WHERE "
            "source = ? AND id IN (SELECT value FROM json_each(?))",
            (source, o.board, source, _json_list([p.id for p in o.postings]))).fetchall()
        known = {pid: (h, closed is not None) for pid, h, closed, _ in found}
        d = rows.diff_board(known, o.postings, o.report_updates)
        moved = rows.moved_unchanged(o, d, {pid: b for pid, _, _, b in found})
        db.executemany(
            "INSERT INTO postings (source, id, board, board_type, title, content_hash, data, "
            "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(source, c.posting.id, o.board, o.board_type, c.posting.title,
              c.posting.content_hash, c.data, ts, ts) for c in d.inserts])
        db.executemany(
            "UPDATE postings SET title = ?, content_hash = ?, data = ?, last_seen = ?, "
            "updated_at = ?, closed_at = NULL, board = ?, board_type = ? "
            "WHERE source = ? AND id = ?",
            [(c.posting.title, c.posting.content_hash, c.data, ts, ts, o.board, o.board_type,
              source, c.posting.id) for c in d.rewrites])
        db.executemany("UPDATE postings SET last_seen = ? WHERE source = ? AND id = ?",
                       [(ts, source, pid) for pid in d.unchanged])
        db.executemany("UPDATE postings SET board = ?, board_type = ?, data = ? "
                       "WHERE source = ? AND id = ?",
                       [(o.board, o.board_type, data, source, pid) for pid, data in moved])
        if d.gone:
            db.execute("UPDATE postings SET closed_at = ? WHERE source = ? AND id IN "
                       "(SELECT value FROM json_each(?))", (ts, source, _json_list(d.gone)))
        refs = rows.change_refs(d.changes) + rows.removed_refs(
            d.gone, {pid: (h, b) for pid, h, _, b in found})
        db.executemany(
            "INSERT INTO changes (source, run_id, kind, board, posting_id, content_hash, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(source, run_id, c.kind.value, c.board, c.posting_id, c.content_hash, ts)
             for c in refs])
        return refs

    def _queue(self, db: sqlite3.Connection, source: str, run_id: str,
               changes: list[rows.ChangeRef], created: list[str], targets: Sequence[Target],
               ts: str) -> dict[str, int]:
        """Make the source's target list `targets` and write the run's outbox rows (each with
        its posting's stored data)."""
        plan = rows.plan_targets((t for (t,) in db.execute(
            "SELECT target FROM notify_targets WHERE source = ?", (source,))), targets)
        for name in plan.gone:
            db.execute("DELETE FROM outbox WHERE source = ? AND target = ?", (source, name))
            db.execute("DELETE FROM notify_targets WHERE source = ? AND target = ?",
                       (source, name))
        db.executemany("INSERT INTO notify_targets (source, target, added_at) VALUES (?, ?, ?)",
                       [(source, t.name, ts) for t in plan.new])
        backfill: list[rows.ChangeRef] = []
        if rows.needs_backfill(plan):
            new = set(created)
            backfill = [rows.ChangeRef(ChangeKind.CREATED, board, pid, h)
                        for pid, board, h in db.execute(
                            "SELECT id, board, content_hash FROM postings WHERE source = ? "
                            "AND closed_at IS NULL ORDER BY board, id", (source,))
                        if pid not in new]
        out = rows.outbox_rows(source, run_id, changes, plan, backfill)
        db.executemany(
            "INSERT INTO outbox (source, target, run_id, kind, board, posting_id, content_hash, "
            "idempotency_key, data, created_at, next_attempt_at) "
            "SELECT ?, ?, ?, ?, ?, ?, ?, ?, data, ?, ? FROM postings WHERE source = ? AND id = ?",
            [(source, r.target, run_id, r.kind.value, r.board, r.posting_id, r.content_hash,
              r.key, ts, ts, source, r.posting_id) for r in out])
        return rows.queued_counts(out, plan)

    @staticmethod
    def _board_row(db: sqlite3.Connection, source: str, o: BoardOutcome, ts: str) -> None:
        ok = o.state in OK_STATES
        v = o.validators
        db.execute(
            "INSERT INTO boards (source, board, board_type, state, http_status, message, etag, "
            "last_modified, body_digest, filters_fp, last_success, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source, board) DO UPDATE SET board_type = excluded.board_type, "
            "state = excluded.state, http_status = excluded.http_status, "
            "message = excluded.message, "
            "etag = CASE WHEN ? THEN excluded.etag ELSE boards.etag END, "
            "last_modified = CASE WHEN ? THEN excluded.last_modified "
            "ELSE boards.last_modified END, "
            "body_digest = CASE WHEN ? THEN excluded.body_digest ELSE boards.body_digest END, "
            "filters_fp = CASE WHEN ? THEN excluded.filters_fp ELSE boards.filters_fp END, "
            "last_success = COALESCE(excluded.last_success, boards.last_success), "
            "updated_at = excluded.updated_at",
            (source, o.board, o.board_type, o.state, o.http_status, o.message,
             v.etag if v else None, v.last_modified if v else None, v.digest if v else None,
             v.filters if v else None, ts if ok else None, ts,
             v is not None, v is not None, v is not None, v is not None))

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


def _json_list(items: Sequence[str]) -> str:
    return json.dumps(list(items))


def _contains(needle: str, locations: str | None, *fields: str | None) -> bool:
    """SQL function: `needle` in one of the fields or of the locations (a JSON list),
    case-insensitively."""
    found = json.loads(locations) if locations else []
    return rows.contains_text(needle, *fields, *(x for x in found if isinstance(x, str)))


def _describe(e: sqlite3.Error, path: Path) -> str | None:
    """A one-line message for errors about the file itself; None for other errors."""
    name = getattr(e, "sqlite_errorname", "")
    if name == "SQLITE_NOTADB":
        return f"{path} is not a SQLite database"
    if name.startswith("SQLITE_READONLY"):
        return f"the store file {path} is read-only: a run needs to write it (and its directory)"
    if name.startswith("SQLITE_CANTOPEN"):
        return f"cannot open the store file {path}"
    if name.startswith("SQLITE_CORRUPT"):
        return f"the store file {path} is corrupt"
    if name == "SQLITE_FULL":
        return f"the disk holding {path} is full"
    if name.startswith("SQLITE_IOERR"):
        return f"I/O error on the store file {path}"
    if name.startswith("SQLITE_BUSY"):
        return f"the store file {path} stayed locked by another process (waited 30s)"
    return None
