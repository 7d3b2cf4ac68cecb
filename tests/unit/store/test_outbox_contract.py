"""The outbox contract, against SQLite and PostgreSQL alike: one row per change and target,
written with the run; events filtering, backfill, unregistering; pending / mark_sent /
mark_failed with backoff, Retry-After and dead letters; idempotency keys; notify_stats."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobscrape.postings import Change, ChangeKind, idempotency_key
from jobscrape.store import RetryPolicy, Target

from storekit import T0, count, ok, posting

CREATED, UPDATED, REMOVED = ChangeKind.CREATED, ChangeKind.UPDATED, ChangeKind.REMOVED
LATER = T0 + timedelta(days=1)


def kinds(changes: list[Change]) -> list[tuple[str, str]]:
    return [(c.kind.value, c.posting.source_id) for c in changes]


def test_one_row_per_change_and_target(store, store_target):
    d = store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0,
                        targets=[Target("a"), Target("b")])
    assert d.queued == {"a": 2, "b": 2}
    d = store.apply_run("s", "r2", [ok([posting(1, title="new"), posting(3)])], T0,
                        targets=[Target("a"), Target("b")])
    assert d.counts == (1, 1, 1) and d.queued == {"a": 3, "b": 3}
    assert count(store_target, "changes") == 5
    assert count(store_target, "changes", "run_id = ? AND kind = ?", ("r2", "removed")) == 1
    a = store.pending("s", "a", LATER)
    assert kinds(a) == [("created", "1"), ("created", "2"),  # r1
                        ("updated", "1"), ("created", "3"), ("removed", "2")]  # r2
    assert [c.seq for c in a] == sorted(c.seq for c in a)
    assert {(c.target, c.source, c.board, c.attempts) for c in a} == {("a", "s", "gh", 0)}
    assert a[2].posting == posting(1, title="new") and a[4].posting == posting(2)
    assert a[0].created_at == T0
    assert kinds(store.pending("s", "b", LATER)) == kinds(a)
    assert store.pending("s", "a", T0 - timedelta(seconds=1)) == []  # not made yet
    assert kinds(store.pending("s", "a", LATER, limit=2)) == kinds(a)[:2]


def test_events_filter_what_is_queued(store):
    targets = [Target("removals", events=frozenset({REMOVED})),
               Target("news", events=frozenset({CREATED, UPDATED}))]
    store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0, targets=targets)
    d = store.apply_run("s", "r2", [ok([posting(1, title="x")])], T0, targets=targets)
    assert d.queued == {"removals": 1, "news": 1}
    assert kinds(store.pending("s", "removals", LATER)) == [("removed", "2")]
    assert kinds(store.pending("s", "news", LATER)) == [("created", "1"), ("created", "2"),
                                                         ("updated", "1")]


def test_no_targets_given_leaves_targets_and_outbox(store, store_target):
    store.apply_run("s", "r1", [ok([posting(1)])], T0, targets=[Target("a")])
    d = store.apply_run("s", "r2", [ok([posting(1), posting(2)])], T0)
    assert d.counts == (1, 0, 0) and d.queued == {}
    assert list(store.notify_stats("s")) == ["a"]
    assert kinds(store.pending("s", "a", LATER)) == [("created", "1")]
    assert count(store_target, "changes") == 2  # the change log is written regardless


def test_backfill_queues_open_postings_for_a_new_target(store):
    store.apply_run("s", "r1", [ok([posting(1), posting(2), posting(3)])], T0)
    store.apply_run("s", "r2", [ok([posting(1), posting(2)])], T0)  # 3 removed
    d = store.apply_run("s", "r3", [ok([posting(1), posting(2), posting(4)]),
                                    ok([posting(7, "lv")], board="lv")], LATER,
                        targets=[Target("full", backfill=True), Target("new-only")])
    assert d.counts == (2, 0, 0) and d.queued == {"full": 4, "new-only": 2}
    full = store.pending("s", "full", LATER)
    assert kinds(full) == [("created", "1"), ("created", "2"),  # backfill, not 4 twice
                           ("created", "4"), ("created", "7")]
    assert len({c.idempotency_key for c in full}) == 4
    assert kinds(store.pending("s", "new-only", LATER)) == [("created", "4"), ("created", "7")]
    # a target already registered is not backfilled again
    d = store.apply_run("s", "r4", [ok([posting(1), posting(2), posting(4)])], LATER,
                        targets=[Target("full", backfill=True), Target("new-only")])
    assert d.queued == {"full": 0, "new-only": 0}


def test_first_run_target_gets_the_creates_once(store):
    d = store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0,
                        targets=[Target("full", backfill=True)])
    assert d.queued == {"full": 2}
    assert kinds(store.pending("s", "full", T0)) == [("created", "1"), ("created", "2")]


def test_backfill_only_for_targets_taking_created(store):
    store.apply_run("s", "r1", [ok([posting(1)])], T0)
    d = store.apply_run("s", "r2", [ok([])], T0, targets=[
        Target("rm", events=frozenset({REMOVED}), backfill=True)])
    assert d.queued == {"rm": 1}
    assert kinds(store.pending("s", "rm", T0)) == [("removed", "1")]


def test_unregistering_a_target_drops_its_rows(store, store_target):
    store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0,
                    targets=[Target("a"), Target("b")])
    (first, _) = store.pending("s", "b", T0)
    assert store.mark_failed("s", "b", [first.seq], "HTTP 500", T0,
                             RetryPolicy(max_attempts=1)) == 1
    assert store.notify_stats("s")["b"].dead == 1
    d = store.apply_run("s", "r2", [ok([posting(1)])], T0, targets=[Target("a")])
    assert d.queued == {"a": 1}
    assert list(store.notify_stats("s")) == ["a"]
    assert count(store_target, "outbox", "target = ?", ("b",)) == 0
    assert store.retry_dead("s", "b") == 0 and store.pending("s", "b", LATER) == []
    # registered again later: a new target, with no history
    store.apply_run("s", "r3", [ok([posting(1)])], T0, targets=[Target("a"), Target("b")])
    assert store.notify_stats("s")["b"].pending == 0 and store.notify_stats("s")["a"].pending == 3
    d = store.apply_run("s", "r4", [ok([])], T0, targets=[])
    assert d.queued == {} and store.notify_stats("s") == {}
    assert count(store_target, "outbox") == 0


def test_mark_sent(store):
    store.apply_run("s", "r1", [ok([posting(1), posting(2), posting(3)])], T0,
                    targets=[Target("a")])
    rows = store.pending("s", "a", T0)
    store.mark_failed("s", "a", [rows[2].seq], "HTTP 502", T0, RetryPolicy())
    assert store.notify_stats("s")["a"].last_error == "HTTP 502"
    store.mark_sent("s", "a", [rows[0].seq, rows[1].seq], T0 + timedelta(minutes=1))
    st = store.notify_stats("s")["a"]
    assert (st.delivered, st.pending, st.dead, st.last_error) == (2, 1, 0, "")
    assert st.last_delivery == T0 + timedelta(minutes=1)
    store.mark_sent("s", "a", [rows[0].seq], T0 + timedelta(minutes=2))  # already gone
    assert store.notify_stats("s")["a"].delivered == 2
    assert store.notify_stats("s")["a"].last_delivery == T0 + timedelta(minutes=1)
    store.mark_sent("s", "a", [], T0)  # nothing to do


def test_mark_failed_backs_off(store):
    store.apply_run("s", "r1", [ok([posting(1)])], T0, targets=[Target("a")])
    policy = RetryPolicy(first_delay=timedelta(seconds=30), max_delay=timedelta(seconds=100))
    (c,) = store.pending("s", "a", T0)
    t = T0
    for attempt, delay in ((1, 30), (2, 60), (3, 100), (4, 100)):
        assert store.mark_failed("s", "a", [c.seq], f"HTTP 503 #{attempt}", t, policy) == 0
        assert store.pending("s", "a", t + timedelta(seconds=delay - 1)) == []
        (c,) = store.pending("s", "a", t + timedelta(seconds=delay))
        assert c.attempts == attempt
        t += timedelta(seconds=delay)
    st = store.notify_stats("s")["a"]
    assert (st.pending, st.dead, st.last_error, st.oldest_pending) == (1, 0, "HTTP 503 #4", T0)


def test_retry_after_is_honoured(store):
    store.apply_run("s", "r1", [ok([posting(1)])], T0, targets=[Target("a")])
    (c,) = store.pending("s", "a", T0)
    store.mark_failed("s", "a", [c.seq], "HTTP 429", T0, RetryPolicy(), retry_after=600)
    assert store.pending("s", "a", T0 + timedelta(seconds=599)) == []
    assert len(store.pending("s", "a", T0 + timedelta(seconds=600))) == 1


def test_dead_by_attempts_and_retry_dead(store):
    store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0,
                    targets=[Target("a"), Target("b")])
    policy = RetryPolicy(max_attempts=3, first_delay=timedelta(seconds=1))
    seqs = [c.seq for c in store.pending("s", "a", T0)]
    t = T0
    for expected_dead in (0, 0, 2):
        assert store.mark_failed("s", "a", seqs, "connection refused", t, policy) \
            == expected_dead
        t += timedelta(minutes=5)
    assert store.pending("s", "a", LATER) == []
    st = store.notify_stats("s")["a"]
    assert (st.pending, st.dead, st.oldest_pending) == (0, 2, None)
    assert store.mark_failed("s", "a", seqs, "x", t, policy) == 0  # dead rows are left alone
    (b_first, _) = store.pending("s", "b", T0)
    store.mark_failed("s", "b", [b_first.seq], "x", T0, RetryPolicy(max_attempts=1))
    assert store.retry_dead("s", "a") == 2
    assert store.notify_stats("s")["b"].dead == 1
    again = store.pending("s", "a", T0)  # due at once, from zero attempts
    assert [c.seq for c in again] == seqs and {c.attempts for c in again} == {0}
    assert store.retry_dead("s") == 1 and store.notify_stats("s")["b"].dead == 0


def test_dead_by_age(store):
    store.apply_run("s", "r1", [ok([posting(1)])], T0, targets=[Target("a")])
    (c,) = store.pending("s", "a", T0)
    policy = RetryPolicy(max_age=timedelta(hours=1))
    assert store.mark_failed("s", "a", [c.seq], "timeout", T0 + timedelta(minutes=59),
                             policy) == 0
    assert store.mark_failed("s", "a", [c.seq], "timeout", T0 + timedelta(hours=1),
                             policy) == 1
    assert store.notify_stats("s")["a"].dead == 1


def test_idempotency_keys_are_stable_and_distinct(store):
    t = [Target("a"), Target("b")]
    store.apply_run("s", "r1", [ok([posting(1), posting(2)])], T0, targets=t)
    store.apply_run("s", "r2", [ok([posting(1)])], T0, targets=t)  # 2 removed
    store.apply_run("s", "r3", [ok([posting(1), posting(2)])], T0, targets=t)  # reappears
    store.apply_run("s", "r4", [ok([posting(1)])], T0, targets=t)  # removed again
    a = store.pending("s", "a", T0)
    assert kinds(a) == [("created", "1"), ("created", "2"), ("removed", "2"),
                        ("created", "2"), ("removed", "2")]
    keys = [c.idempotency_key for c in a]
    assert len(set(keys)) == 5
    p2 = posting(2)
    assert keys[2] == idempotency_key("s", "gh", p2.id, p2.content_hash, "removed", "r2")
    assert keys[4] == idempotency_key("s", "gh", p2.id, p2.content_hash, "removed", "r4")
    # the same change has the same key for every target and every delivery attempt
    assert [c.idempotency_key for c in store.pending("s", "b", T0)] == keys
    store.mark_failed("s", "a", [a[0].seq], "x", T0, RetryPolicy())
    assert store.pending("s", "a", LATER)[0].idempotency_key == keys[0]


def test_notify_stats(store):
    assert store.notify_stats("s") == {}
    store.apply_run("s", "r1", [ok([posting(1)])], T0, targets=[Target("a"), Target("b")])
    store.apply_run("s", "r2", [ok([posting(1), posting(2)])], T0 + timedelta(hours=1),
                    targets=[Target("a"), Target("b")])
    (a1, _) = store.pending("s", "a", LATER)
    store.mark_sent("s", "a", [a1.seq], T0 + timedelta(hours=2))
    stats = store.notify_stats("s")
    assert set(stats) == {"a", "b"}
    a, b = stats["a"], stats["b"]
    assert (a.target, a.delivered, a.pending, a.dead) == ("a", 1, 1, 0)
    assert a.oldest_pending == T0 + timedelta(hours=1)
    assert a.last_delivery == T0 + timedelta(hours=2) and a.last_error == ""
    assert (b.delivered, b.pending, b.dead, b.oldest_pending, b.last_delivery) == \
        (0, 2, 0, T0, None)
    assert store.notify_stats("other") == {}


def test_error_text_is_kept_short_and_on_one_line(store):
    store.apply_run("s", "r1", [ok([posting(1)])], T0, targets=[Target("a")])
    (c,) = store.pending("s", "a", T0)
    store.mark_failed("s", "a", [c.seq], "HTTP 500:\n" + "x" * 1000, T0, RetryPolicy())
    err = store.notify_stats("s")["a"].last_error
    assert err.startswith("HTTP 500: xxx") and "\n" not in err and len(err) <= 300


@pytest.mark.parametrize("n", [1, 3])
def test_targets_deduplicated_by_name(store, n):
    d = store.apply_run("s", "r1", [ok([posting(1)])], T0, targets=[Target("a")] * n)
    assert d.queued == {"a": 1} and store.notify_stats("s")["a"].pending == 1
