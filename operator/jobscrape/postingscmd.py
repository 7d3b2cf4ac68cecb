"""`jobscrape postings`: read a store (SQLite file or PostgreSQL DSN) and print its postings,
filtered, as a table, json, jsonl or csv. json and jsonl records also carry the description as
Markdown (`description_markdown`, jobscrape.markdown, at most DOCUMENT_MAX UTF-16 units)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from jobscrape.markdown import DOCUMENT_MAX, html_to_markdown
from jobscrape.output import FORMATS, POSTING_FIELDS, posting_row, render_records

STORE_ENV = "JOBSCRAPE_STORE"  # a DSN here keeps its password out of `ps`
CSV_FIELDS = ("source", *POSTING_FIELDS, "first_seen", "last_seen", "state")
TABLE_COLUMNS = (("source", "source"), ("board", "board"), ("title", "title"),
                 ("company", "company"), ("location", "locations"), ("first seen", "first_seen"),
                 ("state", "state"))
_RELATIVE = re.compile(r"^([0-9]+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class UsageError(ValueError):
    """Bad command-line input; the message names the option and what is wrong."""


def parse_since(value: str, now: datetime) -> datetime:
    """`--since`: an ISO 8601 date or time (UTC when it has no zone), or an age such as
    30m, 24h, 7d, 2w counted back from `now`."""
    m = _RELATIVE.fullmatch(value.strip())
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--since {value!r}: give an ISO date/time (2026-11-20, "
                         "2026-11-20T08:00Z) or an age (30m, 24h, 7d, 2w)") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `jobscrape postings`."""
    p.add_argument("--store", default=None,
                   help=f"SQLite file or postgresql:// DSN (default: ${STORE_ENV}, then "
                        "jobscrape.db)")
    p.add_argument("--source", default=None, help="only this source (namespace/name)")
    p.add_argument("--board", default=None, help="only this board (its name)")
    p.add_argument("--since", default=None,
                   help="first seen at or after: ISO date/time or an age (24h, 7d)")
    p.add_argument("--state", choices=("open", "removed", "all"), default="open")
    p.add_argument("--search", default=None,
                   help="text in the title, company, department or locations")
    p.add_argument("--limit", type=int, default=None, help="at most this many postings")
    p.add_argument("-o", "--format", choices=FORMATS, default="table")


def record(sp: Any, markdown: bool = False) -> dict[str, Any]:
    """A stored posting as one output record; with `markdown`, its description as Markdown
    too (description_markdown, "" without one)."""
    out = {"source": sp.source, **posting_row(sp.posting.to_dict()),
           "first_seen": sp.first_seen.isoformat(), "last_seen": sp.last_seen.isoformat(),
           "state": "removed" if sp.closed_at else "open"}
    if markdown:
        out["description_markdown"] = html_to_markdown(sp.posting.description_html,
                                                        DOCUMENT_MAX)
    return out


def run(args: argparse.Namespace) -> int:
    """Print the store's postings that match the filters."""
    from jobscrape.store import StoreError, open_store

    try:
        if args.limit is not None and args.limit < 1:
            raise UsageError(f"--limit must be at least 1, got {args.limit}")
        since = parse_since(args.since, datetime.now(UTC)) if args.since else None
    except UsageError as e:
        print(f"jobscrape postings: {e}", file=sys.stderr)
        return 2
    target = args.store or os.environ.get(STORE_ENV) or "jobscrape.db"
    if "://" not in target and not os.path.exists(target):
        print(f"jobscrape postings: --store {target}: no such file", file=sys.stderr)
        return 2
    try:
        store = open_store(target)
        try:
            store.migrate()
            found = store.query_postings(
                source=args.source, board=args.board, since=since,
                state=None if args.state == "all" else args.state, text=args.search,
                limit=args.limit)
        finally:
            store.close()
    except StoreError as e:
        print(f"jobscrape postings: {e}", file=sys.stderr)
        return 1
    records = [record(sp, markdown=args.format in ("json", "jsonl")) for sp in found]
    if args.format == "table":
        for r in records:
            r["first_seen"] = r["first_seen"][:16].replace("T", " ")
            r["locations"] = r["locations"][:40]
    sys.stdout.write(render_records(records, args.format, CSV_FIELDS, TABLE_COLUMNS,
                                    f"{len(records)} postings"))
    return 0
