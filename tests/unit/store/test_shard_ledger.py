"""The PostgreSQL store shared by the shards of one run: each shard's summary kept until the
run is whole, exactly one shard told to merge, and shards writing at once without losing or
doubling a notification."""

from __future__ import annotations

import threading
from datetime import timedelta

from jobscrape.store import ShardLedger, Target, open_store

from storekit import T0, ok, posting, raw


def test_the_shard_that_completes_the_run_gets_every_record(pg_store):
    assert isinstance(pg_store, ShardLedger)
    rec = [{"shard": i, "boards": [f"b{i}"]} for i in range(3)]
    assert pg_store.record_shard("ns/a", "job-1", 2, 3, rec[2], T0) is None
    assert pg_store.record_shard("ns/a", "job-1", 0, 3, rec[0], T0) is None
    assert pg_store.record_shard("ns/b", "job-1", 1, 3, rec[1], T0) is None  # another source
    assert pg_store.record_shard("ns/a", "job-1", 1, 3, rec[1], T0) == rec  # in shard order
    # a shard retried after that replaces its record, and the run is merged again
    again = {"shard": 1, "boards": ["b1"], "retry": True}
    assert pg_store.record_shard("ns/a", "job-1", 1, 3, again, T0) == [rec[0], again, rec[2]]
    # another run of the source starts from nothing
    assert pg_store.record_shard("ns/a", "job-2", 0, 3, rec[0], T0) is None
    # what a run's shards recorded, as its finisher reads them
    assert pg_store.shard_records("ns/a", "job-2", 3) == {0: rec[0]}
    assert pg_store.shard_records("ns/a", "job-1", 3) == {0: rec[0], 1: again, 2: rec[2]}
    assert pg_store.shard_records("ns/a", "job-1", 2) == {}  # another shard count
    assert pg_store.shard_records("ns/a", "job-9", 3) == {}


def test_records_of_runs_that_never_finished_are_dropped_after_a_week(pg_store, pg_dsn):
    pg_store.record_shard("ns/a", "job-old", 0, 2, {"x": 1}, T0)
    pg_store.record_shard("ns/a", "job-new", 0, 2, {"x": 2}, T0 + timedelta(days=8))
    assert raw(pg_dsn, "SELECT run_key FROM run_shards ORDER BY run_key") == [("job-new",)]


def test_shards_writing_at_once_register_a_new_target_once(pg_dsn):
    """Two shards queue their changes for a target neither has seen at the same moment: both
    runs are stored, the target is registered once and each posting reaches it once."""
    stores = [open_store(pg_dsn) for _ in range(2)]
    for s in stores:
        s.migrate()
    together = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def shard(i: int) -> None:
        try:
            stores[i].apply_run(  # type: ignore[call-arg]
                "ns/a", f"run-{i}", [ok([posting(10 * i + k, board=f"b{i}") for k in range(3)],
                                        board=f"b{i}")],
                T0, targets=[Target("hook", backfill=True)],
                _hook=lambda _o: together.wait())
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=shard, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in stores:
        s.close()
    assert errors == []
    assert raw(pg_dsn, "SELECT count(*) FROM notify_targets") == [(1,)]
    assert raw(pg_dsn, "SELECT kind, count(*), count(DISTINCT posting_id) FROM outbox "
                       "WHERE target = 'hook' GROUP BY kind") == [("created", 6, 6)]
