"""The SQLite store's outbox (pending, mark_sent, mark_failed, retry_dead, notify_stats) and
its posting queries; a part of SqliteStore."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jobscrape.postings import Change
from jobscrape.store import rows
from jobscrape.store.base import RetryPolicy, StoredPosting, TargetStats


def iso(t: datetime) -> str:
    """A time as the store keeps it: ISO 8601 in UTC, so text order is time order."""
    return rows.utc(t).isoformat()


def _time(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


_POSTING_COLUMNS = "source, data, first_seen, last_seen, closed_at"


class SqliteOutbox:
    """Outbox and query methods over `self.db`; SqliteStore supplies the connection."""

    db: sqlite3.Connection

    def _tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def _read(self, sql: str, args: Sequence[Any]) -> list[Any]:
        with self._errors():
            return self.db.execute(sql, tuple(args)).fetchall()

    # --- the outbox ------------------------------------------------------------------------
    def pending(self, source: str, target: str, now: datetime,
                limit: int = 500) -> list[Change]:
        """Pending changes of one target that are due at `now`, oldest first."""
        return [rows.change_of(source, target, seq, kind, board, data, key,
                               datetime.fromisoformat(created), attempts)
                for seq, kind, board, data, key, created, attempts in self._read(
                    "SELECT seq, kind, board, data, idempotency_key, created_at, attempts "
                    "FROM outbox WHERE source = ? AND target = ? AND state = 'pending' AND "
                    "next_attempt_at <= ? ORDER BY seq LIMIT ?",
                    (source, target, iso(now), limit))]

    def mark_sent(self, source: str, target: str, seqs: Sequence[int], now: datetime) -> None:
        """Drop the delivered changes from the outbox and count them as delivered; the
        target's last error is cleared."""
        with self._tx() as db:
            n = db.execute("DELETE FROM outbox WHERE source = ? AND target = ? AND seq IN "
                           "(SELECT value FROM json_each(?))",
                           (source, target, _ints(seqs))).rowcount
            if n:
                db.execute("UPDATE notify_targets SET delivered = delivered + ?, "
                           "last_error = '', last_delivery = ? WHERE source = ? AND target = ?",
                           (n, iso(now), source, target))

    def mark_failed(self, source: str, target: str, seqs: Sequence[int], error: str,
                    now: datetime, policy: RetryPolicy,
                    retry_after: float | None = None) -> int:
        """One more attempt for each pending change, the next after the policy's delay; those
        past its bounds become dead. Returns how many became dead."""
        error = rows.short_error(error)
        with self._tx() as db:
            plan = rows.plan_failures(
                ((seq, attempts, datetime.fromisoformat(created))
                 for seq, attempts, created in db.execute(
                     "SELECT seq, attempts, created_at FROM outbox WHERE source = ? AND "
                     "target = ? AND state = 'pending' AND seq IN "
                     "(SELECT value FROM json_each(?))", (source, target, _ints(seqs)))),
                now, policy, retry_after)
            db.executemany(
                "UPDATE outbox SET attempts = ?, next_attempt_at = ?, state = ?, "
                "last_error = ? WHERE seq = ?",
                [(f.attempts, iso(f.next_attempt_at), "dead" if f.dead else "pending", error,
                  f.seq) for f in plan])
            if plan:
                db.execute("UPDATE notify_targets SET last_error = ? WHERE source = ? AND "
                           "target = ?", (error, source, target))
        return sum(f.dead for f in plan)

    def retry_dead(self, source: str, target: str | None = None) -> int:
        """Make dead changes pending again (attempts from zero), due at once."""
        q = ("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = created_at "
             "WHERE source = ? AND state = 'dead'")
        args: tuple[str, ...] = (source,)
        if target is not None:
            q += " AND target = ?"
            args += (target,)
        with self._tx() as db:
            return db.execute(q, args).rowcount

    def notify_stats(self, source: str) -> dict[str, TargetStats]:
        """Delivery figures per registered target."""
        agg = {t: (p, d, oldest) for t, p, d, oldest in self._read(
            "SELECT target, SUM(state = 'pending'), SUM(state = 'dead'), "
            "MIN(CASE WHEN state = 'pending' THEN created_at END) FROM outbox "
            "WHERE source = ? GROUP BY target", (source,))}
        out = {}
        for t, delivered, err, last in self._read(
                "SELECT target, delivered, last_error, last_delivery FROM notify_targets "
                "WHERE source = ? ORDER BY target", (source,)):
            p, d, oldest = agg.get(t, (0, 0, None))
            out[t] = TargetStats(target=t, delivered=delivered, pending=p, dead=d,
                                 last_error=err, last_delivery=_time(last),
                                 oldest_pending=_time(oldest))
        return out

    # --- queries ---------------------------------------------------------------------------
    def recent_created(self, source: str, limit: int = 10) -> list[StoredPosting]:
        """The open postings seen first most recently, newest first."""
        return self._stored(self._read(
            f"SELECT {_POSTING_COLUMNS} FROM postings WHERE source = ? AND closed_at IS NULL "
            "ORDER BY first_seen DESC, id LIMIT ?", (source, limit)))

    def query_postings(self, source: str | None = None, board: str | None = None,
                       since: datetime | None = None, state: str | None = None,
                       text: str | None = None, limit: int | None = None
                       ) -> list[StoredPosting]:
        """Postings filtered by source, board, first seen at or after `since`, state
        ("open"/"removed") and a case-insensitive text in title, company, department or
        locations; ordered by source, first_seen desc, id."""
        rows.check_state(state)
        where, args = ["1 = 1"], []
        for column, value in (("source", source), ("board", board)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("first_seen >= ?")
            args.append(iso(since))
        if state is not None:
            where.append("closed_at IS NULL" if state == "open" else "closed_at IS NOT NULL")
        if text:
            where.append("jobscrape_contains(?, json_extract(data, '$.locations'), title, "
                         "json_extract(data, '$.company'), json_extract(data, '$.department'))")
            args.append(text)
        q = (f"SELECT {_POSTING_COLUMNS} FROM postings WHERE {' AND '.join(where)} "
             "ORDER BY source, first_seen DESC, id")
        if limit is not None:
            q += " LIMIT ?"
            args.append(limit)
        return self._stored(self._read(q, args))

    @staticmethod
    def _stored(found: list[Any]) -> list[StoredPosting]:
        return [StoredPosting(source=s, posting=rows.posting_of(d),
                              first_seen=datetime.fromisoformat(first),
                              last_seen=datetime.fromisoformat(last), closed_at=_time(closed))
                for s, d, first, last, closed in found]


def _ints(seqs: Sequence[int]) -> str:
    return json.dumps([int(s) for s in seqs])

