"""The SQLite store: WAL, one transaction per run, a file lock against concurrent runs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from jobscrape.api.vocabulary import OK_STATES
from jobscrape.httpcache import Validators
from jobscrape.postings import Posting, posting_from_dict
from jobscrape.store.base import BoardOutcome, RunDiff, RunRecord, StoreLocked
from jobscrape.store.migrations import MIGRATIONS


def _iso(t: datetime) -> str:
    return t.isoformat()


class SqliteStore:
    """Postings of any number of sources in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a crash of this process (the case that
        # matters in a pod); only an OS crash may lose the last transactions, never corrupt
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA busy_timeout=30000")

    # --- schema ----------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply every migration newer than the file's version, each in its own transaction."""
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        for v, sql in MIGRATIONS:
            if v <= version:
                continue
            with self._tx():
                for stmt in sql.split(";"):
                    if stmt.strip():
                        self.db.execute(stmt)
                self.db.execute(f"PRAGMA user_version={v}")
            version = v
        return version

    @property
    def schema_version(self) -> int:
        """The version recorded in the file."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- lock ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, source: str, timeout: float = 30.0) -> Iterator[None]:
        """An exclusive lock on a file beside the database; the OS drops it if we die."""
        lock_path = self.path.with_name(self.path.name + ".lock")
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
                            f"{timeout:.0f}s)") from None
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
        rows = self.db.execute(
            "SELECT board, etag, last_modified, body_digest, filters_fp FROM boards WHERE "
            "source = ? AND (etag IS NOT NULL OR last_modified IS NOT NULL OR "
            "body_digest IS NOT NULL)", (source,))
        return {b: Validators(etag=e, last_modified=lm, digest=d, filters=f)
                for b, e, lm, d, f in rows}

    def open_postings(self, source: str, board: str | None = None) -> list[Posting]:
        """Postings not closed, ordered by board then id."""
        q = "SELECT data FROM postings WHERE source = ? AND closed_at IS NULL"
        args: tuple[str, ...] = (source,)
        if board is not None:
            q += " AND board = ?"
            args += (board,)
        return [posting_from_dict(json.loads(d))
                for (d,) in self.db.execute(q + " ORDER BY board, id", args)]

    def board_counts(self, source: str) -> dict[str, int]:
        """Open postings per board."""
        rows = self.db.execute(
            "SELECT board, COUNT(*) FROM postings WHERE source = ? AND closed_at IS NULL "
            "GROUP BY board", (source,))
        return {b: int(n) for b, n in rows}

    def runs(self, source: str, limit: int = 20) -> list[RunRecord]:
        """Run history, newest first, with each board's state."""
        out = []
        for run_id, fin, c, u, r in self.db.execute(
                "SELECT run_id, finished_at, created, updated, removed FROM runs WHERE "
                "source = ? ORDER BY finished_at DESC LIMIT ?", (source, limit)).fetchall():
            boards = dict(self.db.execute(
                "SELECT board, state FROM run_boards WHERE source = ? AND run_id = ?",
                (source, run_id)).fetchall())
            out.append(RunRecord(run_id, datetime.fromisoformat(fin), c, u, r, boards))
        return out

    # --- the run ---------------------------------------------------------------------------
    def apply_run(self, source: str, run_id: str, outcomes: list[BoardOutcome],
                  now: datetime, _hook: object = None) -> RunDiff:
        """All of a run's writes in one transaction: before or after, never half."""
        diff = RunDiff()
        ts = _iso(now)
        with self._tx() as db:
            for o in outcomes:
                if o.complete and not o.not_modified:
                    self._apply_board(db, source, o, ts, diff)
                    if callable(_hook):
                        _hook(o)  # tests: fail or stall in the middle of a run
                self._board_row(db, source, o, ts)
            db.execute("INSERT INTO runs (source, run_id, finished_at, created, updated, "
                       "removed) VALUES (?, ?, ?, ?, ?, ?)",
                       (source, run_id, ts, *diff.counts))
            counts = dict(db.execute(
                "SELECT board, COUNT(*) FROM postings WHERE source = ? AND closed_at IS NULL "
                "GROUP BY board", (source,)).fetchall())
            db.executemany(
                "INSERT INTO run_boards (source, run_id, board, state, http_status, message, "
                "postings) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(source, run_id, o.board, o.state, o.http_status, o.message,
                  counts.get(o.board, 0)) for o in outcomes])
        return diff

    def _apply_board(self, db: sqlite3.Connection, source: str, o: BoardOutcome, ts: str,
                     diff: RunDiff) -> None:
        known = {pid: (h, closed) for pid, h, closed in db.execute(
            "SELECT id, content_hash, closed_at FROM postings WHERE source = ? AND board = ?",
            (source, o.board))}
        inserts, changes, touched = [], [], []
        seen: set[str] = set()
        for p in o.postings:
            if p.id in seen:
                continue  # a board listing the same posting twice
            seen.add(p.id)
            old = known.get(p.id)
            data = json.dumps(p.to_dict(), ensure_ascii=False, separators=(",", ":"))
            if old is None:
                inserts.append((source, p.id, o.board, o.board_type, p.title, p.content_hash,
                                data, ts, ts))
                diff.created.append(p)
            elif old[1] is not None:  # reappeared after being closed: open again, as new
                changes.append((p.title, p.content_hash, data, ts, ts, source, p.id))
                diff.created.append(p)
            elif old[0] != p.content_hash:
                changes.append((p.title, p.content_hash, data, ts, ts, source, p.id))
                diff.updated.append(p)
            else:
                touched.append((ts, source, p.id))
        gone = [pid for pid, (_, closed) in known.items() if closed is None and pid not in seen]
        db.executemany(
            "INSERT INTO postings (source, id, board, board_type, title, content_hash, data, "
            "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", inserts)
        db.executemany(
            "UPDATE postings SET title = ?, content_hash = ?, data = ?, last_seen = ?, "
            "updated_at = ?, closed_at = NULL WHERE source = ? AND id = ?", changes)
        db.executemany("UPDATE postings SET last_seen = ? WHERE source = ? AND id = ?", touched)
        if gone:
            for pid in gone:
                (data,) = db.execute("SELECT data FROM postings WHERE source = ? AND id = ?",
                                     (source, pid)).fetchone()
                diff.removed.append(posting_from_dict(json.loads(data)))
            db.executemany("UPDATE postings SET closed_at = ? WHERE source = ? AND id = ?",
                           [(ts, source, pid) for pid in gone])

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

