"""The SQLite store: diffs per run, failing boards keep everything, atomic runs, a lock,
history and migrations, on real database files."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from jobscrape.httpcache import Validators
from jobscrape.postings import (
    EmploymentType,
    Posting,
    Remote,
    Salary,
    SalaryPeriod,
    posting_id,
    with_hash,
)
from jobscrape.store import BoardOutcome, StoreLocked, open_store
from jobscrape.store.migrations import LATEST

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _p(i: int, board: str = "gh", title: str | None = None) -> Posting:
    return with_hash(Posting(
        id=posting_id("greenhouse", board, str(i)), board=board, board_type="greenhouse",
        source_id=str(i), title=title or f"Engineer {i}", url=f"https://x/{i}",
        locations=("Berlin", "Remote"), remote=Remote.TRUE,
        employment_type=EmploymentType.FULL_TIME,
        salary=Salary(100000, 120000, "EUR", SalaryPeriod.YEAR), posted_at=T0,
        description_html="<p>hi</p>", description_text="hi"))


def _ok(postings, board="gh", **kw):
    return BoardOutcome(board=board, board_type="greenhouse", complete=True,
                        not_modified=False, postings=postings, state="OK", http_status=200,
                        **kw)


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "jobs.db")
    assert s.migrate() == LATEST
    yield s
    s.close()


def test_created_unchanged_updated_removed(store):
    d1 = store.apply_run("ns/a", "r1", [_ok([_p(1), _p(2), _p(3)])], T0)
    assert d1.counts == (3, 0, 0)
    d2 = store.apply_run("ns/a", "r2", [_ok([_p(1), _p(2), _p(3)])], T0 + timedelta(hours=1))
    assert d2.counts == (0, 0, 0)
    d3 = store.apply_run("ns/a", "r3", [_ok([_p(1, title="Staff Engineer 1"), _p(2)])],
                         T0 + timedelta(hours=2))
    assert d3.counts == (0, 1, 1)
    assert d3.updated[0].title == "Staff Engineer 1" and d3.removed[0].source_id == "3"
    d4 = store.apply_run("ns/a", "r4", [_ok([_p(1, title="Staff Engineer 1"), _p(2)])],
                         T0 + timedelta(hours=3))
    assert d4.counts == (0, 0, 0)  # removed once only
    assert store.board_counts("ns/a") == {"gh": 2}
    d5 = store.apply_run("ns/a", "r5", [_ok([_p(1, title="Staff Engineer 1"), _p(2), _p(3)])],
                         T0 + timedelta(hours=4))
    assert d5.counts == (1, 0, 0)  # a reappearing posting is opened again, as new


def test_round_trip_is_exact(store):
    p = _p(7)
    store.apply_run("s", "r1", [_ok([p])], T0)
    (back,) = store.open_postings("s")
    assert back == p and back.content_hash == p.content_hash
    assert back.posted_at == T0 and back.salary.period is SalaryPeriod.YEAR


def test_failing_and_not_modified_boards_keep_everything(store):
    store.apply_run("s", "r1", [_ok([_p(1), _p(2)]), _ok([_p(9, "lv")], board="lv")], T0)
    failing = BoardOutcome(board="gh", board_type="greenhouse", complete=False,
                           not_modified=False, postings=[], state="Failing", http_status=500,
                           message="HTTP 500")
    unchanged = BoardOutcome(board="lv", board_type="greenhouse", complete=True,
                             not_modified=True, postings=[], state="OK", http_status=304)
    d = store.apply_run("s", "r2", [failing, unchanged], T0 + timedelta(hours=1))
    assert d.counts == (0, 0, 0)
    assert store.board_counts("s") == {"gh": 2, "lv": 1}
    assert store.runs("s")[0].boards == {"gh": "Failing", "lv": "OK"}


def test_sources_are_kept_apart(store):
    store.apply_run("a", "r1", [_ok([_p(1)])], T0)
    d = store.apply_run("b", "r1", [_ok([])], T0)
    assert d.counts == (0, 0, 0) and store.board_counts("a") == {"gh": 1}


def test_validators_round_trip_and_survive_failures(store):
    store.apply_run("s", "r1", [_ok([_p(1)], validators=Validators('"v1"', "Mon"))], T0)
    assert store.validators("s") == {"gh": Validators('"v1"', "Mon")}
    failing = BoardOutcome(board="gh", board_type="greenhouse", complete=False,
                           not_modified=False, postings=[], state="Failing")
    store.apply_run("s", "r2", [failing], T0)
    assert store.validators("s") == {"gh": Validators('"v1"', "Mon")}


def test_failure_mid_run_leaves_store_as_before(store):
    store.apply_run("s", "r1", [_ok([_p(1), _p(2)])], T0)

    def boom(outcome):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        store.apply_run("s", "r2", [_ok([_p(1, title="changed")]), _ok([_p(5, "lv")], "lv")],
                        T0, _hook=boom)
    assert [p.title for p in store.open_postings("s")] == ["Engineer 1", "Engineer 2"]
    assert [r.run_id for r in store.runs("s")] == ["r1"]


def _slow_run(path, started):  # runs in a child process that is SIGKILLed mid-transaction
    s = open_store(path)
    big = [_p(i) for i in range(3000)]

    def stall(outcome):
        started.set()
        time.sleep(60)

    s.apply_run("s", "r2", [_ok(big)], T0, _hook=stall)


def test_kill_mid_run_leaves_store_before_or_after(tmp_path):
    path = tmp_path / "kill.db"
    s = open_store(path)
    s.migrate()
    s.apply_run("s", "r1", [_ok([_p(1)])], T0)
    s.close()
    started = multiprocessing.Event()
    child = multiprocessing.Process(target=_slow_run, args=(path, started))
    child.start()
    assert started.wait(60)
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    s = open_store(path)
    assert s.board_counts("s") == {"gh": 1}  # as before the killed run
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    s.close()


def test_second_run_waits_then_gives_up(tmp_path):
    a, b = open_store(tmp_path / "l.db"), open_store(tmp_path / "l.db")
    with (a.lock("s"), pytest.raises(StoreLocked, match="another run holds the lock"),
          b.lock("s", timeout=0.5)):
        pass
    with b.lock("s", timeout=0.5):  # free again once the first run is done
        pass


def test_migration_from_empty_and_idempotent(tmp_path):
    path = tmp_path / "m.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE unrelated (x)")
    raw.commit()
    raw.close()
    s = open_store(path)
    assert s.schema_version == 0
    assert s.migrate() == LATEST and s.migrate() == LATEST
    s.apply_run("s", "r1", [_ok([_p(1)])], T0)
    s.close()
    s = open_store(path)
    assert s.migrate() == LATEST and s.board_counts("s") == {"gh": 1}


def test_duplicate_postings_in_one_board_count_once(store):
    d = store.apply_run("s", "r1", [_ok([_p(1), _p(1), replace(_p(2))])], T0)
    assert d.counts == (2, 0, 0)


def test_postgres_dsn_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="PostgreSQL"):
        open_store("postgresql://u:p@h/db")


def test_upgrade_from_version_1_keeps_data(tmp_path):
    from jobscrape.store.migrations import MIGRATIONS

    path = tmp_path / "v1.db"
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[0][1] + "; PRAGMA user_version=1;")
    raw.execute("INSERT INTO boards (source, board, board_type, state, etag, updated_at) "
                "VALUES ('s', 'gh', 'greenhouse', 'OK', '\"e1\"', 'x')")
    raw.commit()
    raw.close()
    s = open_store(path)
    assert s.schema_version == 1 and s.migrate() == LATEST == 2
    assert s.validators("s") == {"gh": Validators(etag='"e1"')}
    s.apply_run("s", "r1", [_ok([_p(1)], validators=Validators(None, None, "d1", "f1"))], T0)
    assert s.validators("s")["gh"] == Validators(None, None, "d1", "f1")
    s.close()
