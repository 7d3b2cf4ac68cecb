"""The PostgreSQL store (psycopg 3): one transaction per run written in bulk (COPY and
array-parameter statements, never a round trip per posting), a per-source advisory lock,
migrations that are safe to run concurrently."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import pq
from psycopg.types.json import Jsonb

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
    StoreLockLost,
    Target,
)
from jobscrape.store.pgconnect import USAGE_ERRORS, Dsn, connect, lock_key, reason
from jobscrape.store.pglock import LockSession
from jobscrape.store.postgres_migrations import LATEST, MIGRATIONS, SCHEMA_TABLE
from jobscrape.store.postgres_outbox import PgOutbox

Cursor = psycopg.Cursor[tuple[Any, ...]]
MIGRATION_LOCK = lock_key("migrate")
MIGRATION_TIMEOUT = "10min"  # statement timeout inside a migration (index builds)
SHARD_RECORDS_KEPT = timedelta(days=7)  # the shards' records of a sharded run
#: seconds after which an unused connection is replaced rather than used: below the idle
#: time after which the server probes a session (pgconnect.SERVER_KEEPALIVES) and drops it
#: when the probes go unanswered
IDLE_RECONNECT = 8.0



class PostgresStore(PgOutbox):
    """Postings of any number of sources in one PostgreSQL database (or schema: set
    search_path in the DSN's options)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = Dsn.parse(dsn)
        self._conn = connect(self._dsn)
        self._locks: list[LockSession] = []  # run locks held, each on a session of its own
        self._used = time.monotonic()  # when the connection was last handed out

    @property
    def where(self) -> str:
        """host:port of the server, for messages."""
        return self._dsn.where

    def _db(self) -> psycopg.Connection[tuple[Any, ...]]:
        """The connection; a dead one (server restarted since the last call) is replaced, and
        so is one idle for IDLE_RECONNECT seconds (a run fetching for minutes never uses a
        session the server has started to probe). StoreLockLost when a run lock held meanwhile
        was lost with its session: another run may hold it now, so this run must stop."""
        self._check_locks()
        now, conn = time.monotonic(), self._conn
        idle = conn.info.transaction_status == pq.TransactionStatus.IDLE
        if not _alive(conn) or (idle and now - self._used > IDLE_RECONNECT):
            with contextlib.suppress(psycopg.Error):
                conn.close()
            self._conn = connect(self._dsn)
        self._used = now
        return self._conn

    def _check_locks(self) -> None:
        """StoreLockLost when a run lock held was lost with its session (another run may
        hold it now: this one must not write on)."""
        for held in self._locks:
            if not held.alive():
                raise StoreLockLost(f"lost the connection to PostgreSQL at {self.where} while "
                                    f"holding the run lock: {held.lost_because}")

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Server-side failures (connection lost, timeouts, rights) become one-line
        StoreErrors without secrets; errors in our own SQL stay as they are."""
        try:
            yield
        except USAGE_ERRORS as e:
            raise StoreError(f"PostgreSQL at {self.where}: {reason(e, self._dsn)}") from None

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with self._errors():
            conn = self._db()
            with conn.transaction(), conn.cursor() as cur:
                yield cur

    def _read(self, sql: str, args: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        with self._errors():
            return self._db().execute(sql, args).fetchall()  # type: ignore[arg-type]

    # --- schema ----------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply every migration newer than the database's version, each in its own
        transaction under an advisory lock (concurrent migrators wait, then find it done).
        StoreError when the schema is newer than this code knows."""
        with self._errors():
            version = self._migration_step(None)
            if version > LATEST:
                raise StoreError(f"store schema version {version} is newer than this "
                                 f"jobscrape (knows {LATEST})")
            for v, statements in MIGRATIONS:
                if v > version:
                    version = self._migration_step((v, statements))
            return version

    def _migration_step(self, step: tuple[int, list[str]] | None) -> int:
        """Under the migration lock: create jobscrape_schema if missing, apply `step` unless
        it is applied already; return the version after."""
        conn = self._db()
        with conn.transaction():
            conn.execute("SELECT set_config('statement_timeout', %s, true)",
                         (MIGRATION_TIMEOUT,))
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if not _has_schema_table(conn):
                conn.execute(SCHEMA_TABLE)
            version = _version(conn)
            if step is not None and step[0] > version:
                for stmt in step[1]:
                    conn.execute(stmt)  # type: ignore[arg-type]  (our own constant SQL)
                conn.execute("INSERT INTO jobscrape_schema (version) VALUES (%s)", (step[0],))
                version = step[0]
        return version

    @property
    def schema_version(self) -> int:
        """The version recorded in the database (0: none)."""
        with self._errors():
            conn = self._db()
            return _version(conn) if _has_schema_table(conn) else 0

    # --- lock ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, source: str, timeout: float = 30.0) -> Iterator[None]:
        """A session advisory lock on the source (by a stable 64-bit hash of its name),
        polled until `timeout`, on a session of its own that a LockSession keeps busy; the
        server drops it if this process dies (see pgconnect.SERVER_KEEPALIVES)."""
        key = lock_key("source:" + source)
        with self._errors():
            conn = connect(self._dsn)
        try:
            with self._errors():
                deadline = time.monotonic() + timeout
                while not conn.execute("SELECT pg_try_advisory_lock(%s)",
                                       (key,)).fetchone()[0]:  # type: ignore[index]
                    if time.monotonic() >= deadline:
                        raise StoreLocked(f"another run holds the lock of {source} in "
                                          f"PostgreSQL at {self.where} (waited {timeout:g}s)")
                    time.sleep(0.2)
        except BaseException:
            conn.close()
            raise
        held = LockSession(conn, describe=lambda e: reason(e, self._dsn))
        self._locks.append(held)
        try:
            yield
        finally:
            self._locks.remove(held)
            held.close()  # the session ends: the lock is released with it

    # --- reads -----------------------------------------------------------------------------
    def validators(self, source: str) -> dict[str, Validators]:
        """ETag / Last-Modified / digest per board from earlier runs."""
        return {b: Validators(etag=e, last_modified=lm, digest=d, filters=f)
                for b, e, lm, d, f in self._read(
                    "SELECT board, etag, last_modified, body_digest, filters_fp FROM boards "
                    "WHERE source = %s AND (etag IS NOT NULL OR last_modified IS NOT NULL OR "
                    "body_digest IS NOT NULL)", (source,))}

    def open_postings(self, source: str, board: str | None = None) -> list[Posting]:
        """Postings not closed, ordered by board then id."""
        return [rows.posting_of(d) for _, d in self._open_rows(source, board)]

    def _open_rows(self, source: str, board: str | None = None) -> list[tuple[str, str]]:
        q = "SELECT id, data::text FROM postings WHERE source = %s AND closed_at IS NULL"
        args: tuple[str, ...] = (source,)
        if board is not None:
            q += " AND board = %s"
            args += (board,)
        q += ' ORDER BY board COLLATE "C", id COLLATE "C"'
        return self._read(q, args)

    def board_counts(self, source: str) -> dict[str, int]:
        """Open postings per board."""
        return {b: int(n) for b, n in self._read(
            "SELECT board, count(*) FROM postings WHERE source = %s AND closed_at IS NULL "
            "GROUP BY board", (source,))}

    def runs(self, source: str, limit: int = 20) -> list[RunRecord]:
        """Run history, newest first, with each board's state."""
        found = self._read(
            "SELECT r.run_id, r.finished_at, r.created, r.updated, r.removed, "
            "coalesce(jsonb_object_agg(b.board, b.state) FILTER (WHERE b.board IS NOT NULL), "
            "'{}') FROM (SELECT * FROM runs WHERE source = %s ORDER BY finished_at DESC "
            "LIMIT %s) r LEFT JOIN run_boards b ON b.source = %s AND b.run_id = r.run_id "
            "GROUP BY r.run_id, r.finished_at, r.created, r.updated, r.removed "
            "ORDER BY r.finished_at DESC", (source, limit, source))
        return [RunRecord(run_id, fin, c, u, r, dict(boards))
                for run_id, fin, c, u, r, boards in found]

    # --- the run ---------------------------------------------------------------------------
    def apply_run(self, source: str, run_id: str, outcomes: Iterable[BoardOutcome],
                  now: datetime, targets: Sequence[Target] | None = None, *,
                  _hook: Callable[[BoardOutcome], None] | None = None) -> RunDiff:
        """All of a run's writes in one transaction (postings, boards, history, the change
        log and the outbox): before or after, never half. Boards are written as `outcomes`
        yields them; of each, only its changes' ChangeRefs are kept to the end. `_hook`
        (tests) runs after each stored board, inside the transaction."""
        now = rows.utc(now)
        diff = RunDiff()
        with self._tx() as cur:
            changes, boards = rows.write_boards(
                outcomes, lambda o: self._apply_board(cur, source, run_id, o, now),
                lambda o: self._board_row(cur, source, o, now),
                # the fetch may have taken minutes since the last write
                before_each=self._check_locks, hook=_hook)
            self._check_locks()
            rows.add_to_diff(diff, changes)
            if targets is not None:
                diff.queued = self._queue(cur, source, run_id, changes, diff.created, targets,
                                          now)
            cur.execute("INSERT INTO runs (source, run_id, finished_at, created, updated, "
                        "removed) VALUES (%s, %s, %s, %s, %s, %s)",
                        (source, run_id, now, *diff.counts))
            cur.execute("INSERT INTO run_boards (source, run_id, board, state, http_status, "
                        "message, postings) SELECT %(s)s, %(r)s, o.board, o.state, o.status, "
                        "o.message, (SELECT count(*) FROM postings p WHERE p.source = %(s)s "
                        "AND p.board = o.board AND p.closed_at IS NULL) FROM unnest("
                        "%(b)s::text[], %(st)s::text[], %(h)s::int[], %(m)s::text[]) "
                        "AS o(board, state, status, message)",
                        {"s": source, "r": run_id, "b": [b[0] for b in boards],
                         "st": [b[1] for b in boards], "h": [b[2] for b in boards],
                         "m": [b[3] for b in boards]})
        return diff

    def _apply_board(self, cur: Cursor, source: str, run_id: str, o: BoardOutcome,
                     now: datetime) -> list[rows.ChangeRef]:
        """Write a complete board's postings and change-log rows; its ChangeRefs."""
        # its own rows, and rows of its postings stored under another board (a renamed board,
        # or one that listed them first): those move to this board
        found = cur.execute(
            "SELECT id, content_hash, closed_at IS NOT NULL, board FROM postings "
            "WHERE source = %s AND (board = %s OR id = ANY(%s::text[]))",
            (source, o.board, [p.id for p in o.postings])).fetchall()
        known = {pid: (h, closed) for pid, h, closed, _ in found}
        d = rows.diff_board(known, o.postings, o.report_updates)
        moved = rows.moved_unchanged(o, d, {pid: b for pid, _, _, b in found})
        _copy(cur, "postings", ("source", "id", "board", "board_type", "title", "content_hash",
                                "data", "first_seen", "last_seen"),
              ((source, c.posting.id, o.board, o.board_type, c.posting.title,
                c.posting.content_hash, c.data, now, now) for c in d.inserts))
        if d.rewrites:
            cur.execute(
                "UPDATE postings AS p SET title = v.title, content_hash = v.hash, "
                "data = v.data::jsonb, last_seen = %(t)s, updated_at = %(t)s, closed_at = NULL, "
                "board = %(b)s, board_type = %(bt)s "
                "FROM unnest(%(i)s::text[], %(ti)s::text[], %(h)s::text[], %(d)s::text[]) "
                "AS v(id, title, hash, data) WHERE p.source = %(s)s AND p.id = v.id",
                {"t": now, "s": source, "b": o.board, "bt": o.board_type,
                 "i": [c.posting.id for c in d.rewrites],
                 "ti": [c.posting.title for c in d.rewrites],
                 "h": [c.posting.content_hash for c in d.rewrites],
                 "d": [c.data for c in d.rewrites]})
        if d.unchanged:
            cur.execute("UPDATE postings SET last_seen = %s WHERE source = %s AND "
                        "id = ANY(%s::text[])", (now, source, d.unchanged))
        if moved:
            cur.execute(
                "UPDATE postings AS p SET board = %(b)s, board_type = %(bt)s, "
                "data = v.data::jsonb FROM unnest(%(i)s::text[], %(d)s::text[]) AS v(id, data) "
                "WHERE p.source = %(s)s AND p.id = v.id",
                {"b": o.board, "bt": o.board_type, "s": source, "i": [m[0] for m in moved],
                 "d": [m[1] for m in moved]})
        if d.gone:
            cur.execute("UPDATE postings SET closed_at = %s WHERE source = %s AND "
                        "id = ANY(%s::text[])", (now, source, d.gone))
        refs = rows.change_refs(d.changes) + rows.removed_refs(
            d.gone, {pid: (h, b) for pid, h, _, b in found})
        _copy(cur, "changes", ("source", "run_id", "kind", "board", "posting_id",
                               "content_hash", "at"),
              ((source, run_id, c.kind.value, c.board, c.posting_id, c.content_hash, now)
               for c in refs))
        return refs

    def _queue(self, cur: Cursor, source: str, run_id: str, changes: list[rows.ChangeRef],
               created: list[str], targets: Sequence[Target], now: datetime) -> dict[str, int]:
        """Make the source's target list `targets` and write the run's outbox rows (each with
        its posting's stored data, joined by the server). The
        source's queue lock (held to the end of the transaction) orders runs of one source
        that write at once (the shards of a sharded run): each sees the targets the one
        before it registered, so a new target is registered and backfilled once."""
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("queue:" + source),))
        plan = rows.plan_targets((t for (t,) in cur.execute(
            "SELECT target FROM notify_targets WHERE source = %s FOR UPDATE", (source,))),
            targets)
        if plan.gone:
            cur.execute("DELETE FROM outbox WHERE source = %s AND target = ANY(%s::text[])",
                        (source, plan.gone))
            cur.execute("DELETE FROM notify_targets WHERE source = %s AND "
                        "target = ANY(%s::text[])", (source, plan.gone))
        if plan.new:
            cur.execute("INSERT INTO notify_targets (source, target, added_at) "
                        "SELECT %s, t, %s FROM unnest(%s::text[]) AS t",
                        (source, now, [t.name for t in plan.new]))
        backfill: list[rows.ChangeRef] = []
        if rows.needs_backfill(plan):
            new = set(created)
            backfill = [rows.ChangeRef(ChangeKind.CREATED, board, pid, h)
                        for pid, board, h in cur.execute(
                            "SELECT id, board, content_hash FROM postings WHERE source = %s "
                            'AND closed_at IS NULL ORDER BY board COLLATE "C", id COLLATE "C"',
                            (source,)).fetchall()
                        if pid not in new]
        out = rows.outbox_rows(source, run_id, changes, plan, backfill)
        if out:
            # in order (seq follows the rows' order), each with its posting's stored data
            cur.execute(
                "INSERT INTO outbox (source, target, run_id, kind, board, posting_id, "
                "content_hash, idempotency_key, data, created_at, next_attempt_at) "
                "SELECT %(s)s, v.target, %(r)s, v.kind, v.board, v.id, v.hash, v.key, p.data, "
                "%(t)s, %(t)s FROM unnest(%(tg)s::text[], %(k)s::text[], %(b)s::text[], "
                "%(i)s::text[], %(h)s::text[], %(ky)s::text[]) WITH ORDINALITY "
                "AS v(target, kind, board, id, hash, key, n) "
                "JOIN postings p ON p.source = %(s)s AND p.id = v.id ORDER BY v.n",
                {"s": source, "r": run_id, "t": now, "tg": [r.target for r in out],
                 "k": [r.kind.value for r in out], "b": [r.board for r in out],
                 "i": [r.posting_id for r in out], "h": [r.content_hash for r in out],
                 "ky": [r.key for r in out]})
        return rows.queued_counts(out, plan)

    @staticmethod
    def _board_row(cur: Cursor, source: str, o: BoardOutcome, now: datetime) -> None:
        v = o.validators
        cur.execute(
            "INSERT INTO boards AS b (source, board, board_type, state, http_status, message, "
            "etag, last_modified, body_digest, filters_fp, last_success, updated_at) "
            "VALUES (%(s)s, %(b)s, %(bt)s, %(st)s, %(h)s, %(m)s, %(e)s, %(lm)s, %(d)s, %(f)s, "
            "%(ok)s, %(t)s) ON CONFLICT (source, board) DO UPDATE SET "
            "board_type = excluded.board_type, state = excluded.state, "
            "http_status = excluded.http_status, message = excluded.message, "
            "etag = CASE WHEN %(v)s THEN excluded.etag ELSE b.etag END, "
            "last_modified = CASE WHEN %(v)s THEN excluded.last_modified "
            "ELSE b.last_modified END, "
            "body_digest = CASE WHEN %(v)s THEN excluded.body_digest ELSE b.body_digest END, "
            "filters_fp = CASE WHEN %(v)s THEN excluded.filters_fp ELSE b.filters_fp END, "
            "last_success = coalesce(excluded.last_success, b.last_success), "
            "updated_at = excluded.updated_at",
            {"s": source, "b": o.board, "bt": o.board_type, "st": o.state,
             "h": o.http_status, "m": o.message, "e": v.etag if v else None,
             "lm": v.last_modified if v else None, "d": v.digest if v else None,
             "f": v.filters if v else None, "ok": now if o.state in OK_STATES else None,
             "t": now, "v": v is not None})

    # --- sharded runs ----------------------------------------------------------------------
    def record_shard(self, source: str, run_key: str, shard: int, shards: int,
                     summary: dict[str, Any], now: datetime) -> list[dict[str, Any]] | None:
        """Keep one shard's summary of the run `run_key` (a retried shard's replaces its
        earlier one). When, with it, the records of all `shards` shards are in, return them in
        shard order: records are made one at a time, so of the shards that finish the run's
        first attempt exactly one gets them (and a shard retried after that, again, with its
        newer result). Otherwise None."""
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("shards:" + source),))
            # records of other runs whose missing shards never came are of no further use
            cur.execute("DELETE FROM run_shards WHERE source = %s AND run_key <> %s AND "
                        "recorded_at < %s", (source, run_key, rows.utc(now) - SHARD_RECORDS_KEPT))
            cur.execute(
                "INSERT INTO run_shards AS r (source, run_key, shard, shards, summary, "
                "recorded_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (source, run_key, "
                "shard) DO UPDATE SET shards = excluded.shards, summary = excluded.summary, "
                "recorded_at = excluded.recorded_at",
                (source, run_key, shard, shards, Jsonb(summary), rows.utc(now)))
            found = cur.execute(
                "SELECT summary FROM run_shards WHERE source = %s AND run_key = %s AND "
                "shards = %s AND shard < %s ORDER BY shard",
                (source, run_key, shards, shards)).fetchall()
            return [r for (r,) in found] if len(found) == shards else None

    def shard_records(self, source: str, run_key: str, shards: int) -> dict[int, dict[str, Any]]:
        """The summaries recorded so far by the shards of the run `run_key`, by shard."""
        with self._tx() as cur:
            found = cur.execute(
                "SELECT shard, summary FROM run_shards WHERE source = %s AND run_key = %s AND "
                "shards = %s AND shard < %s ORDER BY shard",
                (source, run_key, shards, shards)).fetchall()
        return {int(i): r for i, r in found}

    def close(self) -> None:
        """Close the connection and the sessions of the locks still held (releasing them)."""
        for held in self._locks:
            held.close()
        self._conn.close()


def _copy(cur: Cursor, table: str, columns: tuple[str, ...],
          values: Iterable[tuple[Any, ...]]) -> None:
    """COPY rows into a table (text format: the server parses each value, jsonb included)."""
    it = iter(values)
    first = next(it, None)
    if first is None:
        return
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:  # type: ignore[arg-type]
        cp.write_row(first)
        for row in it:
            cp.write_row(row)


def _alive(conn: psycopg.Connection[tuple[Any, ...]]) -> bool:
    """Whether an idle connection is still up: reads whatever the server sent meanwhile
    (without blocking), such as the end of the connection when it shut down."""
    if conn.closed or conn.broken:
        return False
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        return True  # inside a transaction: leave the protocol alone
    try:
        for _ in range(3):  # the server's last words, then the end of the stream
            conn.pgconn.consume_input()
    except psycopg.OperationalError:
        return False
    return conn.pgconn.status == pq.ConnStatus.OK


def _has_schema_table(conn: psycopg.Connection[tuple[Any, ...]]) -> bool:
    row = conn.execute("SELECT to_regclass('jobscrape_schema') IS NOT NULL").fetchone()
    return bool(row and row[0])


def _version(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    row = conn.execute("SELECT coalesce(max(version), 0) FROM jobscrape_schema").fetchone()
    return int(row[0]) if row else 0
