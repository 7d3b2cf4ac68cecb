"""Store fixtures: one throwaway PostgreSQL server per session (started only when a test asks
for it), and a `store` on a fresh SQLite file or a fresh PostgreSQL database per test, with
ids `sqlite` and `postgres`.."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from jobscrape.store import Store, open_store
from jobscrape_dev.pgserver import PgServer

from storekit import PG_PASSWORD, latest


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
