"""The PostgreSQL store's outbox (pending, mark_sent, mark_failed, retry_dead, notify_stats)
and its posting queries; a part of PostgresStore."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from jobscrape.postings import Change
from jobscrape.store import rows
from jobscrape.store.base import RetryPolicy, StoredPosting, TargetStats

_POSTING_COLUMNS = "source, data, first_seen, last_seen, closed_at"
# a case-insensitive substring of title, company, department or one of the locations
_TEXT_MATCH = (
    "(strpos(lower(title), lower(%(text)s)) > 0 "
    "OR strpos(lower(coalesce(data ->> 'company', '')), lower(%(text)s)) > 0 "
    "OR strpos(lower(coalesce(data ->> 'department', '')), lower(%(text)s)) > 0 "
    "OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(data -> 'locations') AS l(v) "
    "WHERE strpos(lower(l.v), lower(%(text)s)) > 0))")


class PgOutbox:
    """Outbox and query methods; PostgresStore supplies the connection handling."""

    def _tx(self) -> contextlib.AbstractContextManager[psycopg.Cursor[tuple[Any, ...]]]:
        raise NotImplementedError

    def _read(self, sql: str, args: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        raise NotImplementedError

    # --- the outbox ------------------------------------------------------------------------
    def pending(self, source: str, target: str, now: datetime,
                limit: int = 500) -> list[Change]:
        """Pending changes of one target that are due at `now`, oldest first."""
        return [rows.change_of(source, target, *r) for r in self._read(
            "SELECT seq, kind, board, data, idempotency_key, created_at, attempts FROM outbox "
            "WHERE source = %s AND target = %s AND state = 'pending' AND next_attempt_at <= %s "
            "ORDER BY seq LIMIT %s", (source, target, now, limit))]

    def mark_sent(self, source: str, target: str, seqs: Sequence[int], now: datetime) -> None:
        """Drop the delivered changes from the outbox and count them as delivered; the
        target's last error is cleared."""
        with self._tx() as cur:
            n = cur.execute("DELETE FROM outbox WHERE source = %s AND target = %s AND "
                            "seq = ANY(%s::bigint[])", (source, target, list(seqs))).rowcount
            if n:
                cur.execute("UPDATE notify_targets SET delivered = delivered + %s, "
                            "last_error = '', last_delivery = %s WHERE source = %s AND "
                            "target = %s", (n, now, source, target))

    def mark_failed(self, source: str, target: str, seqs: Sequence[int], error: str,
                    now: datetime, policy: RetryPolicy,
                    retry_after: float | None = None) -> int:
        """One more attempt for each pending change, the next after the policy's delay; those
        past its bounds become dead. Returns how many became dead."""
        error = rows.short_error(error)
        with self._tx() as cur:
            plan = rows.plan_failures(cur.execute(
                "SELECT seq, attempts, created_at FROM outbox WHERE source = %s AND "
                "target = %s AND state = 'pending' AND seq = ANY(%s::bigint[]) FOR UPDATE",
                (source, target, list(seqs))).fetchall(), now, policy, retry_after)
            if plan:
                cur.execute(
                    "UPDATE outbox AS o SET attempts = v.attempts, next_attempt_at = v.next_at, "
                    "state = v.state, last_error = %(e)s FROM unnest(%(q)s::bigint[], "
                    "%(a)s::int[], %(n)s::timestamptz[], %(s)s::text[]) "
                    "AS v(seq, attempts, next_at, state) WHERE o.seq = v.seq",
                    {"e": error, "q": [f.seq for f in plan], "a": [f.attempts for f in plan],
                     "n": [f.next_attempt_at for f in plan],
                     "s": ["dead" if f.dead else "pending" for f in plan]})
                cur.execute("UPDATE notify_targets SET last_error = %s WHERE source = %s AND "
                            "target = %s", (error, source, target))
        return sum(f.dead for f in plan)

    def retry_dead(self, source: str, target: str | None = None) -> int:
        """Make dead changes pending again (attempts from zero), due at once."""
        with self._tx() as cur:
            return cur.execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, "
                "next_attempt_at = created_at WHERE source = %s AND state = 'dead' AND "
                "(%s::text IS NULL OR target = %s)", (source, target, target)).rowcount

    def notify_stats(self, source: str) -> dict[str, TargetStats]:
        """Delivery figures per registered target."""
        return {t: TargetStats(target=t, delivered=int(delivered), pending=int(p), dead=int(d),
                               last_error=err, last_delivery=last, oldest_pending=oldest)
                for t, delivered, err, last, p, d, oldest in self._read(
                    "SELECT t.target, t.delivered, t.last_error, t.last_delivery, "
                    "count(o.seq) FILTER (WHERE o.state = 'pending'), "
                    "count(o.seq) FILTER (WHERE o.state = 'dead'), "
                    "min(o.created_at) FILTER (WHERE o.state = 'pending') "
                    "FROM notify_targets t LEFT JOIN outbox o ON o.source = t.source AND "
                    "o.target = t.target WHERE t.source = %s GROUP BY t.target, t.delivered, "
                    "t.last_error, t.last_delivery ORDER BY t.target COLLATE \"C\"",
                    (source,))}

    # --- queries ---------------------------------------------------------------------------
    def recent_created(self, source: str, limit: int = 10) -> list[StoredPosting]:
        """The open postings seen first most recently, newest first."""
        return _stored(self._read(
            f"SELECT {_POSTING_COLUMNS} FROM postings WHERE source = %s AND closed_at IS NULL "
            'ORDER BY first_seen DESC, id COLLATE "C" LIMIT %s', (source, limit)))

    def query_postings(self, source: str | None = None, board: str | None = None,
                       since: datetime | None = None, state: str | None = None,
                       text: str | None = None, limit: int | None = None
                       ) -> list[StoredPosting]:
        """Postings filtered by source, board, first seen at or after `since`, state
        ("open"/"removed") and a case-insensitive text in title, company, department or
        locations; ordered by source, first_seen desc, id."""
        rows.check_state(state)
        where = ["true"]
        args: dict[str, Any] = {"source": source, "board": board, "since": since,
                                "text": text, "limit": limit}
        for column, value in (("source", source), ("board", board)):
            if value is not None:
                where.append(f"{column} = %({column})s")
        if since is not None:
            where.append("first_seen >= %(since)s")
        if state is not None:
            where.append("closed_at IS NULL" if state == "open" else "closed_at IS NOT NULL")
        if text:
            where.append(_TEXT_MATCH)
        q = (f"SELECT {_POSTING_COLUMNS} FROM postings WHERE {' AND '.join(where)} "
             'ORDER BY source COLLATE "C", first_seen DESC, id COLLATE "C"')
        if limit is not None:
            q += " LIMIT %(limit)s"
        return _stored(self._read(q, args))


def _stored(found: list[Any]) -> list[StoredPosting]:
    return [StoredPosting(source=s, posting=rows.posting_of(d), first_seen=first,
                          last_seen=last, closed_at=closed)
            for s, d, first, last, closed in found]
