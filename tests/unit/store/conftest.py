"""Store fixtures: one throwaway PostgreSQL server per session (started only when a test asks
for it), and a `store` on a fresh SQLite file or a fresh PostgreSQL database per test, with
ids `sqlite` and `postgres`. Helpers to build postings and to look at the raw tables."""

from __future__ import annotations

import multiprocessing
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from jobscrape.postings import (
    EmploymentType,
    Posting,
    Remote,
    Salary,
    SalaryPeriod,
    posting_id,
    with_hash,
)
from jobscrape.store import BoardOutcome, Store, open_store, postgres_migrations
from jobscrape.store import migrations as sqlite_migrations
from jobscrape_dev.pgserver import PgServer

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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throwaway PostgreSQL server for the session."""
    with PgServer(password=PG_PASSWORD) as pg:
        yield pg


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> Iterator[str]:
    """A fresh database on the session's server; dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:16]
    dsn = pg_server.create_database(name)
    yield dsn
    if pg_server.proc is not None:
        pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
def store_target(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Where the test's store lives: a fresh SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "jobs.db")
    return str(request.getfixturevalue("pg_dsn"))


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    """A migrated store of the parametrized backend (ids `sqlite`, `postgres`)."""
    s = open_store(store_target)
    assert s.migrate() == latest(store_target)
    yield s
    s.close()


@pytest.fixture
def pg_store(pg_dsn: str) -> Iterator[Store]:
    """A migrated PostgreSQL store (for the PostgreSQL-only tests)."""
    s = open_store(pg_dsn)
    s.migrate()
    yield s
    s.close()
