"""Helpers of the store tests: postings, outcomes, raw SQL on either backend (a module of
its own, not the conftest: `from conftest import` resolves to whichever conftest pytest
loaded first)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from jobscrape.postings import (
    EmploymentType,
    Posting,
    Remote,
    Salary,
    SalaryPeriod,
    posting_id,
    with_hash,
)
from jobscrape.store import BoardOutcome, postgres_migrations
from jobscrape.store import migrations as sqlite_migrations

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
PG_PASSWORD = "Pw-5ecr3t-Xq7"  # a known password: no error message may ever show it


def posting(i: int, board: str = "gh", title: str | None = None, **kw: Any) -> Posting:
    """Posting number `i` of a greenhouse board."""
    fields: dict[str, Any] = {
        "url": f"https://x/{i}", "locations": ("Berlin", "Remote"), "remote": Remote.TRUE,
        "employment_type": EmploymentType.FULL_TIME,
        "salary": Salary(100000, 120000, "EUR", SalaryPeriod.YEAR), "posted_at": T0,
        "description_html": "<p>hi</p>", "description_text": "hi"}
    fields.update(kw)
    return with_hash(Posting(
        id=posting_id("greenhouse", board, str(i)), board=board, board_type="greenhouse",
        source_id=str(i), title=title or f"Engineer {i}", **fields))


def ok(postings: list[Posting], board: str = "gh", **kw: Any) -> BoardOutcome:
    """A board fetched completely."""
    return BoardOutcome(board=board, board_type="greenhouse", complete=True,
                        not_modified=False, postings=postings, state="OK", http_status=200,
                        **kw)


def is_postgres(target: str) -> bool:
    return target.startswith(("postgres://", "postgresql://"))


def latest(target: str) -> int:
    """The schema version the code knows for this backend."""
    return postgres_migrations.LATEST if is_postgres(target) else sqlite_migrations.LATEST


def raw(target: str, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL on the store's database directly (`?` placeholders; autocommit)."""
    if is_postgres(target):
        with psycopg.connect(target, autocommit=True) as c:
            cur = c.execute(sql.replace("?", "%s"), args)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []
    db = sqlite3.connect(target, isolation_level=None)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def count(target: str, table: str, where: str = "true", args: tuple[Any, ...] = ()) -> int:
    return int(raw(target, f"SELECT count(*) FROM {table} WHERE {where}", args)[0][0])


def set_schema_version(target: str, version: int) -> None:
    """Pretend a newer jobscrape migrated the store."""
    if is_postgres(target):
        raw(target, "INSERT INTO jobscrape_schema (version) VALUES (?)", (version,))
    else:
        raw(target, f"PRAGMA user_version={version}")


def in_child(fn: Callable[..., None], *args: Any) -> multiprocessing.process.BaseProcess:
    """Start fn(*args) in a forked child process."""
    child = multiprocessing.get_context("fork").Process(target=fn, args=args, daemon=True)
    child.start()
    return child
