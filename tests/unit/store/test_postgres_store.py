"""PostgreSQL-only store behaviour, on a real throwaway server: DSNs, connection failures in
one line without the password, connection settings, a server restarted between runs, the
per-source lock, bulk writes, the `jobscrape_postings` view."""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from datetime import timedelta
from urllib.parse import quote

import psycopg
import pytest

from jobscrape.store import StoreError, StoreLocked, StoreLockLost, Target, open_store
from jobscrape.store.postgres import PostgresStore
from jobscrape.store.postgres_migrations import LATEST, VIEW_COLUMNS
from jobscrape_dev.devcluster.processes import free_port

from storekit import PG_PASSWORD, T0, ok, posting, raw


def _fails(dsn: str) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(StoreError) as e:
        open_store(dsn)
    message = str(e.value)
    assert PG_PASSWORD not in message and quote(PG_PASSWORD) not in message
    assert "\n" not in message and dsn not in message
    assert e.value.__cause__ is None and e.value.__suppress_context__
    return message, time.monotonic() - started


def test_both_url_schemes_open_postgres(pg_dsn):
    for dsn in (pg_dsn, pg_dsn.replace("postgresql://", "postgres://", 1)):
        s = open_store(dsn)
        assert isinstance(s, PostgresStore) and s.migrate() == LATEST
        s.close()


def test_closed_port_fails_fast_without_the_password():
    port = free_port()
    message, _ = _fails(f"postgresql://jobscrape:{PG_PASSWORD}@127.0.0.1:{port}/jobs")
    assert message == f"cannot connect to PostgreSQL at 127.0.0.1:{port}: Connection refused"


def test_silent_server_times_out_within_the_connect_timeout():
    with socket.socket() as silent:  # accepts TCP connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        message, took = _fails(
            f"postgresql://jobscrape:{PG_PASSWORD}@127.0.0.1:{port}/jobs?connect_timeout=2")
        silent.setblocking(False)
        tried = 0
        with contextlib.suppress(BlockingIOError):
            while True:
                silent.accept()[0].close()
                tried += 1
    assert message == (f"cannot connect to PostgreSQL at 127.0.0.1:{port}: "
                       "connection timeout expired")
    assert took > 1.5  # it waited for the DSN's connect_timeout, then gave up
    assert tried == 3  # a timeout is tried again (the network may drop a packet), twice


def test_wrong_password_and_missing_database(pg_server):
    wrong = "Wr0ng-" + PG_PASSWORD
    message, _ = _fails(pg_server.dsn("postgres", password=wrong))
    assert wrong not in message
    assert message == (f"cannot connect to PostgreSQL at 127.0.0.1:{pg_server.port}: "
                       'password authentication failed for user "jobscrape"')
    message, _ = _fails(pg_server.dsn("no_such_db"))
    assert message.endswith('database "no_such_db" does not exist')


def test_a_dsn_that_does_not_parse():
    message, _ = _fails(f"postgresql://jobscrape:{PG_PASSWORD}@127.0.0.1:5432/db?bogus=1")
    assert message.startswith("the PostgreSQL DSN is not valid")


def test_missing_rights_give_a_one_line_error(pg_server, pg_dsn):
    role, password = "r_" + uuid.uuid4().hex[:10], "R0le-" + PG_PASSWORD
    dbname = pg_dsn.rsplit("/", 1)[1]
    raw(pg_dsn, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        dsn = f"postgresql://{role}:{password}@127.0.0.1:{pg_server.port}/{dbname}"
        s = open_store(dsn)
        with pytest.raises(StoreError) as e:
            s.migrate()  # PostgreSQL 15: no CREATE on schema public for other roles
        s.close()
        assert str(e.value) == (f"PostgreSQL at 127.0.0.1:{pg_server.port}: "
                                "permission denied for schema public")
    finally:
        raw(pg_dsn, f"DROP OWNED BY {role}")
        raw(pg_dsn, f"DROP ROLE {role}")


def test_connection_settings(pg_store):
    params = pg_store._conn.info.get_parameters()
    assert params["connect_timeout"] == "10" and params["keepalives"] == "1"
    assert params["application_name"] == "jobscrape"
    assert pg_store._read("SHOW statement_timeout") == [("1min",)]
    assert pg_store._read("SHOW TimeZone") == [("UTC",)]
    assert pg_store._read("SHOW idle_in_transaction_session_timeout") == [("0",)]
    # the server drops a dead client's session (and its run lock) within 25 s
    assert pg_store._read("SELECT current_setting('tcp_keepalives_idle'), current_setting("
                          "'tcp_keepalives_interval'), current_setting('tcp_keepalives_count')"
                          ) == [("10", "5", "3")]


def test_dsn_settings_win(pg_dsn):
    raw(pg_dsn, "CREATE SCHEMA jobs")
    s = open_store(pg_dsn + "?connect_timeout=3&options=-csearch_path%3Djobs%20"
                   "-cstatement_timeout%3D5s")
    try:
        assert s.migrate() == LATEST
        assert s._conn.info.get_parameters()["connect_timeout"] == "3"
        assert s._read("SHOW statement_timeout") == [("5s",)]
        s.apply_run("s", "r1", [ok([posting(1)])], T0)
        assert raw(pg_dsn, "SELECT count(*) FROM jobs.postings") == [(1,)]
        assert raw(pg_dsn, "SELECT to_regclass('public.postings')") == [(None,)]
    finally:
        s.close()


def test_server_restarted_between_runs(pg_server, pg_dsn):
    a = open_store(pg_dsn)
    a.migrate()
    a.apply_run("s", "r1", [ok([posting(1)])], T0, targets=[Target("hook")])
    long_lived = open_store(pg_dsn)
    assert long_lived.board_counts("s") == {"gh": 1}
    a.close()
    pg_server.restart()
    b = open_store(pg_dsn)  # a new store object connects fresh
    try:
        assert b.migrate() == LATEST
        d = b.apply_run("s", "r2", [ok([posting(1), posting(2)])], T0 + timedelta(hours=1),
                        targets=[Target("hook")])
        assert d.counts == (1, 0, 0) and d.queued == {"hook": 1}
        # a store object kept across the restart reconnects on its next call
        assert long_lived.board_counts("s") == {"gh": 2}
        with long_lived.lock("s"):
            pass
    finally:
        b.close()
        long_lived.close()


def test_connection_lost_while_holding_the_lock(pg_server, pg_store):
    with pg_store.lock("s"):
        pg_server.restart()
        with pytest.raises(StoreError, match=r"lost the connection .* holding the run lock"):
            pg_store.apply_run("s", "r1", [ok([posting(1)])], T0)
    assert pg_store.apply_run("s", "r1", [ok([posting(1)])], T0).counts == (1, 0, 0)


def _lock_sessions(dsn: str) -> list[tuple[int, float, str]]:
    """(pid, seconds since its last statement began, that statement) of every session
    holding an advisory lock in the test's database."""
    return raw(dsn, "SELECT a.pid, extract(epoch FROM now() - a.query_start)::float, a.query "
                    "FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())")


def test_a_held_lock_is_never_idle_long_enough_to_be_probed(pg_store, pg_dsn, monkeypatch):
    # the server probes a session idle for tcp_keepalives_idle (10 s) and drops it when the
    # probes go unanswered: a live run's lock session is pinged well before that
    from jobscrape.store import pglock

    monkeypatch.setattr(pglock, "PING_SECONDS", 0.2)
    with pg_store.lock("s"):
        (pid, _, _), = _lock_sessions(pg_dsn)
        time.sleep(1.0)
        (again, since, query), = _lock_sessions(pg_dsn)
        assert (again, query) == (pid, "SELECT 1") and since < 0.6
    assert _lock_sessions(pg_dsn) == []  # released with its session


def test_a_lock_whose_session_the_server_dropped_stops_the_run(pg_store, pg_dsn):
    with pg_store.lock("s"):
        (pid, _, _), = _lock_sessions(pg_dsn)
        assert raw(pg_dsn, f"SELECT pg_terminate_backend({pid})") == [(True,)]
        with pytest.raises(StoreLockLost, match=r"lost the connection .* holding the run lock: "):
            pg_store.apply_run("s", "r1", [ok([posting(1)])], T0)
    assert pg_store.board_counts("s") == {}  # nothing was written


def test_a_connection_left_idle_is_replaced_before_the_server_probes_it(pg_store, monkeypatch):
    from jobscrape.store import postgres

    monkeypatch.setattr(postgres, "IDLE_RECONNECT", 0.3)
    first = pg_store._read("SELECT pg_backend_pid()")
    assert pg_store._read("SELECT pg_backend_pid()") == first  # in use: kept
    time.sleep(0.5)
    assert pg_store._read("SELECT pg_backend_pid()") != first  # idle too long: a new session


def test_the_lock_is_per_source(pg_store, pg_dsn):
    other = open_store(pg_dsn)
    try:
        with (pg_store.lock("ns/a"), other.lock("ns/b", timeout=0.3),
              pytest.raises(StoreLocked, match="ns/a"), other.lock("ns/a", timeout=0.3)):
            pass
        held = raw(pg_dsn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                           "database = (SELECT oid FROM pg_database WHERE "
                           "datname = current_database())")
        assert held == [(0,)]  # released on exit
    finally:
        other.close()


def test_bulk_writes_no_round_trip_per_posting(pg_store, monkeypatch):
    calls: list[str] = []
    for cls, name in ((psycopg.Cursor, "execute"), (psycopg.Cursor, "copy"),
                      (psycopg.Cursor, "executemany"), (psycopg.Connection, "execute")):
        real = getattr(cls, name)

        def counting(self, *a, _real=real, _name=name, **kw):
            calls.append(_name)
            return _real(self, *a, **kw)

        monkeypatch.setattr(cls, name, counting)

    def statements(source: str, n: int, changed: bool) -> int:
        calls.clear()
        postings = [posting(i, title=f"T{i}" if changed else None) for i in range(n)]
        pg_store.apply_run(source, f"r{changed}", [ok(postings)], T0,
                           targets=[Target("a"), Target("b", backfill=True)])
        return len(calls)

    small, big = statements("small", 20, False), statements("big", 2000, False)
    assert small == big
    assert statements("small", 20, True) == statements("big", 2000, True)
    assert pg_store.board_counts("big") == {"gh": 2000}


def test_the_view_for_sql_users(pg_store, pg_dsn):
    p = posting(1, company="ACME", department="R&D", apply_url="https://x/1/apply",
                locations=("Berlin", "Remote"))
    pg_store.apply_run("s", "r1", [ok([p, posting(2)])], T0)
    pg_store.apply_run("s", "r2", [ok([p])], T0 + timedelta(hours=1))
    columns = raw(pg_dsn, "SELECT column_name, data_type FROM information_schema.columns "
                          "WHERE table_name = 'jobscrape_postings' ORDER BY ordinal_position")
    assert tuple(c for c, _ in columns) == VIEW_COLUMNS
    types = dict(columns)
    for c in ("posted_at", "first_seen", "last_seen", "closed_at"):
        assert types[c] == "timestamp with time zone"
    assert types["locations"] == "ARRAY" and types["salary_min"] == "double precision"
    assert types["title"] == types["state"] == "text"
    assert raw(pg_dsn, "SELECT data_type FROM information_schema.columns WHERE "
                       "table_name = 'postings' AND column_name = 'data'") == [("jsonb",)]
    rows = {r[1]: dict(zip(VIEW_COLUMNS, r, strict=True)) for r in raw(
        pg_dsn, f"SELECT {', '.join(VIEW_COLUMNS)} FROM jobscrape_postings")}
    one = rows[p.id]
    assert one == {
        "source": "s", "id": p.id, "board": "gh", "board_type": "greenhouse",
        "title": "Engineer 1", "company": "ACME", "department": "R&D",
        "locations": ["Berlin", "Remote"], "remote": "true", "employment_type": "full_time",
        "salary_min": 100000.0, "salary_max": 120000.0, "salary_currency": "EUR",
        "salary_period": "year", "url": "https://x/1", "apply_url": "https://x/1/apply",
        "posted_at": T0, "first_seen": T0, "last_seen": T0 + timedelta(hours=1),
        "closed_at": None, "state": "open", "description_text": "hi"}
    two = rows[posting(2).id]
    assert two["state"] == "removed" and two["closed_at"] == T0 + timedelta(hours=1)
    assert two["company"] is None and two["apply_url"] is None


def test_a_run_waiting_for_a_slow_board_outlives_the_servers_idle_transaction_limit(pg_dsn):
    # the run's transaction is open while its boards are fetched, idle while it waits for
    # the next one: a database whose sessions end idle transactions after 0.5 s must not end it
    name = raw(pg_dsn, "SELECT current_database()")[0][0]
    raw(pg_dsn, f"ALTER DATABASE {name} SET idle_in_transaction_session_timeout = '500ms'")
    s = open_store(pg_dsn)
    try:
        s.migrate()

        def slow_boards():
            yield ok([posting(1)])
            time.sleep(1.5)  # the fetch of the next board takes a while
            yield ok([posting(2)], board="lv")

        assert s.apply_run("s", "r1", slow_boards(), T0).counts == (2, 0, 0)
        assert s.board_counts("s") == {"gh": 1, "lv": 1}
    finally:
        s.close()


def test_a_lock_lost_while_boards_are_still_fetched_stops_the_run_before_its_next_write(
        pg_store, pg_dsn):
    # boards are written as they come: a lock lost between two of them rolls the run back
    with pg_store.lock("s"):
        (pid, _, _), = _lock_sessions(pg_dsn)

        def boards_then_lost_lock():
            yield ok([posting(1)])
            assert raw(pg_dsn, f"SELECT pg_terminate_backend({pid})") == [(True,)]
            yield ok([posting(2)], board="lv")

        with pytest.raises(StoreLockLost, match=r"lost the connection .* holding the run lock: "):
            pg_store.apply_run("s", "r1", boards_then_lost_lock(), T0)
    assert pg_store.board_counts("s") == {}  # the first board's writes were rolled back


def test_server_restarted_while_boards_are_still_fetched(pg_server, pg_store):
    # the run's transaction is open while its boards come: a restart between two of them
    # ends the run as a lost lock (runner: run once more), and nothing of it is kept
    def boards_then_restart():
        yield ok([posting(1)])
        pg_server.restart()
        yield ok([posting(2)], board="lv")

    with pg_store.lock("s"), pytest.raises(StoreLockLost,
                                           match=r"lost the connection .* holding the run lock"):
        pg_store.apply_run("s", "r1", boards_then_restart(), T0)
    assert pg_store.board_counts("s") == {}
    assert pg_store.apply_run("s", "r1", [ok([posting(1)])], T0).counts == (1, 0, 0)
