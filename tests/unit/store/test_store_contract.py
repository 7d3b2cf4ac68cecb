"""The store contract, run against SQLite and PostgreSQL alike: diffs per run, failing boards
keep everything, atomic runs (a failure or a kill -9 mid-run leaves the store as before), the
run lock, migrations, queries."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from jobscrape.httpcache import Validators
from jobscrape.postings import ChangeKind, SalaryPeriod
from jobscrape.store import BoardOutcome, StoreError, StoreLocked, Target, open_store

from storekit import (
    T0,
    count,
    in_child,
    is_postgres,
    latest,
    ok,
    posting,
    set_schema_version,
)


def test_created_unchanged_updated_removed(store):
    d1 = store.apply_run("ns/a", "r1", [ok([posting(1), posting(2), posting(3)])], T0)
    assert d1.counts == (3, 0, 0) and d1.queued == {}
    d2 = store.apply_run("ns/a", "r2", [ok([posting(1), posting(2), posting(3)])],
                         T0 + timedelta(hours=1))
    assert d2.counts == (0, 0, 0)
    d3 = store.apply_run("ns/a", "r3", [ok([posting(1, title="Staff Engineer 1"), posting(2)])],
                         T0 + timedelta(hours=2))
    assert d3.counts == (0, 1, 1)
    assert d3.updated == [posting(1).id] and d3.removed == [posting(3).id]
    assert {p.source_id: p.title for p in store.open_postings("ns/a")}["1"] == "Staff Engineer 1"
    d4 = store.apply_run("ns/a", "r4", [ok([posting(1, title="Staff Engineer 1"), posting(2)])],
                         T0 + timedelta(hours=3))
    assert d4.counts == (0, 0, 0)  # removed once only
    assert store.board_counts("ns/a") == {"gh": 2}
    d5 = store.apply_run("ns/a", "r5", [ok([posting(1, title="Staff Engineer 1"), posting(2),
                                            posting(3)])], T0 + timedelta(hours=4))
    assert d5.counts == (1, 0, 0)  # a reappearing posting is opened again, as new
    assert [r.run_id for r in store.runs("ns/a")] == ["r5", "r4", "r3", "r2", "r1"]
    assert store.runs("ns/a", limit=1)[0].finished_at == T0 + timedelta(hours=4)


def test_a_new_parser_version_rewrites_quietly(store):
    # a board read by a newer parser (report_updates=False): what changed is stored but not
    # reported or queued; postings that came or went are reported as ever
    store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0, targets=[Target("hook")])
    read_anew = [posting(1, company="acme"), posting(3, company="acme")]
    d = store.apply_run("s", "r2", [ok(read_anew, report_updates=False)],
                        T0 + timedelta(hours=1), targets=[Target("hook")])
    assert (d.counts, d.queued) == ((1, 0, 1), {"hook": 2})
    assert {p.source_id: p.company for p in store.open_postings("s")} == {"1": "acme",
                                                                         "3": "acme"}
    again = store.apply_run("s", "r3", [ok(read_anew)], T0 + timedelta(hours=2))
    assert again.counts == (0, 0, 0)  # stored as read: unchanged from now on


def test_removed_is_the_last_stored_version(store):
    hook = [Target("hook", events=frozenset({ChangeKind.REMOVED}))]
    store.apply_run("s", "r1", [ok([posting(1), posting(2, title="Old title")])], T0,
                    targets=hook)
    store.apply_run("s", "r2", [ok([posting(1), posting(2, title="New title")])], T0,
                    targets=hook)
    d = store.apply_run("s", "r3", [ok([posting(1)])], T0, targets=hook)
    assert d.removed == [posting(2).id] and d.queued == {"hook": 1}
    [change] = store.pending("s", "hook", T0 + timedelta(hours=1))
    assert change.kind is ChangeKind.REMOVED
    assert change.posting == posting(2, title="New title")


def test_round_trip_is_exact(store):
    p = posting(7, department="R&D", company="ACME \u00fcber", locations=("M\u00fcnchen",))
    store.apply_run("s", "r1", [ok([p])], T0)
    (back,) = store.open_postings("s")
    assert back == p and back.content_hash == p.content_hash
    assert back.posted_at == T0 and back.salary.period is SalaryPeriod.YEAR


def test_failing_and_not_modified_boards_keep_everything(store):
    store.apply_run("s", "r1", [ok([posting(1), posting(2)]), ok([posting(9, "lv")], board="lv")],
                    T0)
    failing = BoardOutcome(board="gh", board_type="greenhouse", complete=False,
                           not_modified=False, postings=[], state="Failing", http_status=500,
                           message="HTTP 500")
    unchanged = BoardOutcome(board="lv", board_type="greenhouse", complete=True,
                             not_modified=True, postings=[], state="OK", http_status=304)
    d = store.apply_run("s", "r2", [failing, unchanged], T0 + timedelta(hours=1),
                        targets=[Target("hook")])
    assert d.counts == (0, 0, 0) and d.queued == {"hook": 0}
    assert store.board_counts("s") == {"gh": 2, "lv": 1}
    assert store.runs("s")[0].boards == {"gh": "Failing", "lv": "OK"}
    assert [p.id for p in store.open_postings("s", board="lv")] == ["greenhouse:lv:9"]


def test_sources_are_kept_apart(store):
    store.apply_run("a", "r1", [ok([posting(1)])], T0, targets=[Target("hook")])
    d = store.apply_run("b", "r1", [ok([])], T0, targets=[Target("hook")])
    assert d.counts == (0, 0, 0) and store.board_counts("a") == {"gh": 1}
    assert len(store.pending("a", "hook", T0)) == 1 and store.pending("b", "hook", T0) == []


def test_validators_round_trip_and_survive_failures(store):
    store.apply_run("s", "r1", [ok([posting(1)], validators=Validators('"v1"', "Mon"))], T0)
    assert store.validators("s") == {"gh": Validators('"v1"', "Mon")}
    failing = BoardOutcome(board="gh", board_type="greenhouse", complete=False,
                           not_modified=False, postings=[], state="Failing")
    store.apply_run("s", "r2", [failing], T0)
    assert store.validators("s") == {"gh": Validators('"v1"', "Mon")}
    store.apply_run("s", "r3", [ok([posting(1)], validators=Validators(None, None, "d", "f"))],
                    T0)
    assert store.validators("s") == {"gh": Validators(None, None, "d", "f")}


def test_duplicate_postings_in_one_board_count_once(store):
    d = store.apply_run("s", "r1", [ok([posting(1), posting(1), replace(posting(2))])], T0,
                        targets=[Target("hook")])
    assert d.counts == (2, 0, 0) and d.queued == {"hook": 2}


def test_failure_mid_run_leaves_neither_postings_nor_outbox(store, store_target):
    store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0, targets=[Target("old")])
    before = (count(store_target, "changes"), count(store_target, "outbox"))

    def boom(outcome):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        store.apply_run("s", "r2", [ok([posting(1, title="changed")]),
                                    ok([posting(5, "lv")], "lv")], T0,
                        targets=[Target("new", backfill=True)], _hook=boom)
    assert [p.title for p in store.open_postings("s")] == ["Engineer 1", "Engineer 2"]
    assert [r.run_id for r in store.runs("s")] == ["r1"]
    assert (count(store_target, "changes"), count(store_target, "outbox")) == before == (2, 2)
    assert list(store.notify_stats("s")) == ["old"]  # "new" not registered, "old" kept
    assert store.validators("s") == {}


def _slow_run(target, started):  # a child process that is SIGKILLed mid-transaction
    s = open_store(target)
    big = [posting(i) for i in range(3000)]

    def stall(outcome):
        started.set()
        time.sleep(60)

    s.apply_run("s", "r2", [ok(big)], T0, targets=[Target("hook", backfill=True)], _hook=stall)


def test_kill_mid_run_leaves_store_before_or_after(store, store_target):
    import multiprocessing

    store.apply_run("s", "r1", [ok([posting(1)])], T0, targets=[Target("hook")])
    started = multiprocessing.get_context("fork").Event()
    child = in_child(_slow_run, store_target, started)
    assert started.wait(60)
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    assert child.exitcode == -signal.SIGKILL
    again = open_store(store_target)
    try:
        assert again.migrate() == latest(store_target)
        assert again.board_counts("s") == {"gh": 1}  # as before the killed run
        assert [r.run_id for r in again.runs("s")] == ["r1"]
        assert count(store_target, "outbox") == 1 and count(store_target, "changes") == 1
        d = again.apply_run("s", "r3", [ok([posting(1), posting(2)])], T0,
                            targets=[Target("hook")])
        assert d.counts == (1, 0, 0) and d.queued == {"hook": 1}
        if not is_postgres(store_target):
            import sqlite3

            db = sqlite3.connect(store_target)
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            db.close()
    finally:
        again.close()


def test_second_run_waits_then_gives_up(store, store_target):
    other = open_store(store_target)
    try:
        started = time.monotonic()
        with (store.lock("s"), pytest.raises(StoreLocked, match="another run holds the lock"),
              other.lock("s", timeout=0.5)):
            pass
        assert 0.4 < time.monotonic() - started < 5
        with other.lock("s", timeout=0.5):  # free again once the first run is done
            pass
        with store.lock("s", timeout=0.5):  # and released by the second one
            pass
    finally:
        other.close()


def _hold_lock(target, held):  # a child that takes the lock and is killed holding it
    s = open_store(target)
    with s.lock("s"):
        held.set()
        time.sleep(60)


def test_lock_of_a_killed_run_is_released(store, store_target):
    import multiprocessing

    held = multiprocessing.get_context("fork").Event()
    child = in_child(_hold_lock, store_target, held)
    assert held.wait(60)
    with pytest.raises(StoreLocked), store.lock("s", timeout=0.3):
        pass
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    with store.lock("s", timeout=10):  # the OS / the server dropped it with the process
        pass


def test_migrations_are_idempotent_and_survive_reopening(store, store_target):
    assert store.migrate() == latest(store_target) == store.schema_version
    store.apply_run("s", "r1", [ok([posting(1)])], T0)
    store.close()
    again = open_store(store_target)
    try:
        assert again.migrate() == latest(store_target) and again.migrate() == latest(store_target)
        assert again.board_counts("s") == {"gh": 1}
    finally:
        again.close()


def test_concurrent_migrators(store_target):
    stores = [open_store(store_target) for _ in range(4)]
    results: list[Any] = []
    barrier = threading.Barrier(len(stores))

    def migrate(s):
        barrier.wait()
        try:
            results.append(s.migrate())
        except Exception as e:
            results.append(e)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.close()
    assert results == [latest(store_target)] * len(stores)


def test_newer_schema_is_refused(store, store_target):
    newer = latest(store_target) + 5
    set_schema_version(store_target, newer)
    again = open_store(store_target)
    try:
        with pytest.raises(StoreError) as e:
            again.migrate()
        assert str(e.value) == (f"store schema version {newer} is newer than this jobscrape "
                                f"(knows {latest(store_target)})")
    finally:
        again.close()


def test_recent_created(store):
    store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0)
    store.apply_run("s", "r2", [ok([posting(1), posting(2), posting(3)])],
                    T0 + timedelta(hours=1))
    store.apply_run("s", "r3", [ok([posting(1), posting(3), posting(4)])],
                    T0 + timedelta(hours=2))
    store.apply_run("other", "r1", [ok([posting(9)])], T0 + timedelta(hours=3))
    recent = store.recent_created("s")
    assert [r.posting.source_id for r in recent] == ["4", "3", "1"]  # 2 is removed
    assert recent[0].first_seen == T0 + timedelta(hours=2) and recent[0].closed_at is None
    assert recent[2].last_seen == T0 + timedelta(hours=2) and recent[2].source == "s"
    assert [r.posting.source_id for r in store.recent_created("s", limit=2)] == ["4", "3"]


def test_query_postings_filters(store):
    store.apply_run("a", "r1", [
        ok([posting(1, title="Backend Engineer", company="ACME"),
            posting(2, title="Designer", department="Brand STUDIO"),
            posting(3, title="Analyst", locations=("S\u00e3o Paulo", "Lisbon"))]),
        ok([posting(4, "lv", title="Data Engineer")], board="lv")], T0)
    store.apply_run("a", "r2", [ok([posting(1, title="Backend Engineer", company="ACME"),
                                    posting(2, title="Designer", department="Brand STUDIO")]),
                                ok([posting(4, "lv", title="Data Engineer"),
                                    posting(5, "lv", title="Engineer Five")], board="lv")],
                    T0 + timedelta(hours=1))
    store.apply_run("b", "r1", [ok([posting(6, title="Engineer at B")])], T0)

    def ids(**kw):
        return [(r.source, r.posting.source_id) for r in store.query_postings(**kw)]

    assert ids() == [("a", "5"), ("a", "1"), ("a", "2"), ("a", "3"), ("a", "4"), ("b", "6")]
    assert ids(source="b") == [("b", "6")]
    assert ids(source="a", board="lv") == [("a", "5"), ("a", "4")]
    assert ids(since=T0 + timedelta(minutes=30)) == [("a", "5")]
    assert ids(state="removed") == [("a", "3")]
    assert ids(state="open", source="a", board="gh") == [("a", "1"), ("a", "2")]
    assert ids(text="engineer") == [("a", "5"), ("a", "1"), ("a", "4"), ("b", "6")]
    assert ids(text="acme") == [("a", "1")]  # company
    assert ids(text="studio") == [("a", "2")]  # department
    assert ids(text="lisb") == [("a", "3")]  # locations
    assert ids(text="100%") == [] and ids(text="_") == []  # no wildcards
    assert ids(text="engineer", limit=2) == [("a", "5"), ("a", "1")]
    (removed,) = store.query_postings(state="removed")
    assert removed.closed_at == T0 + timedelta(hours=1) and removed.first_seen == T0
    with pytest.raises(ValueError, match="state"):
        store.query_postings(state="closed")


def _with_board(p, board: str):
    """The same posting (same id) as listed by another board of the source."""
    return replace(p, board=board)


def test_two_boards_listing_the_same_postings_keep_one_row_each(store):
    # two spec boards with the same type and token list the same posting ids
    a = [posting(1), posting(2)]
    b = [_with_board(p, "gh2") for p in a] + [_with_board(posting(3), "gh2")]
    d = store.apply_run("s", "r1", [ok(a), ok(b, board="gh2")], T0)
    assert d.counts == (3, 0, 0)
    assert store.board_counts("s") == {"gh": 2, "gh2": 1}
    d = store.apply_run("s", "r2", [ok(a), ok(b, board="gh2")], T0 + timedelta(hours=1))
    assert d.counts == (0, 0, 0)


def test_a_renamed_board_takes_its_postings_along(store):
    store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0)
    renamed = [_with_board(posting(1), "greenhouse"), _with_board(posting(2, title="New"),
                                                                 "greenhouse")]
    d = store.apply_run("s", "r2", [ok(renamed, board="greenhouse")], T0 + timedelta(hours=1))
    assert d.counts == (0, 1, 0)  # moved, not created again; the changed one is updated
    assert store.board_counts("s") == {"greenhouse": 2}
    assert {p.board for p in store.open_postings("s")} == {"greenhouse"}
