"""The reconcile work queue: a key once however often added, one worker per key at a time, no
change lost while a key is being processed, and a bounded number of workers."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

from jobscrape.controller.workqueue import WorkQueue


async def test_a_key_added_many_times_before_it_starts_is_processed_once() -> None:
    seen: list[Hashable] = []

    async def process(key: Hashable) -> None:
        seen.append(key)

    q = WorkQueue(process, workers=2)
    for _ in range(5):
        q.add("a")
    q.add("b")
    assert len(q) == 2
    q.start()
    await asyncio.wait_for(q.join(), 5)
    await q.stop()
    assert sorted(seen) == ["a", "b"]


async def test_a_key_added_while_processed_runs_again_after_never_alongside() -> None:
    running: set[Hashable] = set()
    runs: list[str] = []
    release = asyncio.Event()

    async def process(key: Hashable) -> None:
        assert key not in running  # never twice at once
        running.add(key)
        runs.append(f"start {key}")
        await release.wait()
        running.discard(key)
        runs.append(f"end {key}")

    q = WorkQueue(process, workers=4)
    q.start()
    q.add("a")
    await asyncio.sleep(0.01)
    q.add("a")  # a change arrives while "a" is being reconciled
    q.add("a")
    await asyncio.sleep(0.01)
    assert runs == ["start a"]
    release.set()
    await asyncio.wait_for(q.join(), 5)
    await q.stop()
    assert runs == ["start a", "end a", "start a", "end a"]


async def test_at_most_workers_keys_are_processed_at_once() -> None:
    now = 0
    peak = 0

    async def process(key: Hashable) -> None:
        nonlocal now, peak
        now += 1
        peak = max(peak, now)
        await asyncio.sleep(0.005)
        now -= 1

    q = WorkQueue(process, workers=3)
    q.start()
    for i in range(20):
        q.add(i)
    await asyncio.wait_for(q.join(), 5)
    await q.stop()
    assert peak == 3


async def test_an_unexpected_error_does_not_stop_a_worker() -> None:
    done: list[Hashable] = []

    async def process(key: Hashable) -> None:
        if key == "bad":
            raise RuntimeError("bug")
        done.append(key)

    q = WorkQueue(process, workers=1)
    q.start()
    q.add("bad")
    q.add("good")
    await asyncio.wait_for(q.join(), 5)
    await q.stop()
    assert done == ["good"]
