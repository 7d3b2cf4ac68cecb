"""Delivery throughput: 10,000 changes from the outbox of a real store to a local JSON webhook
receiver and to the real Pub/Sub emulator, through the runner's delivery loop (pending, send,
mark sent). Prints messages per second for each; not a test.

    .venv/bin/python bench/delivery_bench.py [--changes 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from jobscrape.notify.pubsub import pubsub_sink
from jobscrape.notify.webhook import webhook_sink
from jobscrape.postings import Posting, posting_id, with_hash
from jobscrape.runner.delivery import deliver_all
from jobscrape.store import BoardOutcome, RetryPolicy, Target, open_store
from jobscrape_dev.pubsubemu import PubSubEmulator
from jobscrape_dev.receiver import WebhookReceiver

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def _posting(i: int) -> Posting:
    return with_hash(Posting(
        id=posting_id("greenhouse", "bench", str(i)), board="gh", board_type="greenhouse",
        source_id=str(i), title=f"Software Engineer {i}", url=f"https://example.com/jobs/{i}",
        company="Example", locations=("Berlin", "Remote"),
        description_text="Build things. " * 40))


def _queued_store(path: Path, n: int, target: str):
    store = open_store(path)
    store.migrate()
    outcome = BoardOutcome(board="gh", board_type="greenhouse", complete=True,
                           not_modified=False, postings=[_posting(i) for i in range(n)],
                           state="OK", http_status=200)
    store.apply_run("bench/src", "run-1", [outcome], T0, targets=[Target(target)])
    return store


async def _deliver(store, sink) -> tuple[float, int]:
    t = time.perf_counter()
    out = await deliver_all(store, "bench/src", {sink.name: sink},
                            {sink.name: RetryPolicy()}, lambda: datetime.now(UTC), 600)
    elapsed = time.perf_counter() - t
    await sink.aclose()
    return elapsed, out[0].delivered


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--changes", type=int, default=10_000)
    n = p.parse_args().changes
    with tempfile.TemporaryDirectory() as tmp, WebhookReceiver() as hook:
        store = _queued_store(Path(tmp) / "hook.db", n, "hook")
        sink = webhook_sink("hook", "json", hook.hook_url("/bench"), None, True)
        secs, done = asyncio.run(_deliver(store, sink))
        store.close()
        print(f"json webhook: {done} changes in {secs:.2f}s = {done / secs:,.0f} msg/s "
              f"({len(hook.requests)} requests)")
        assert done == n
        with PubSubEmulator() as emu:
            topic = "projects/bench/topics/postings"
            emu.create_topic(topic)
            os.environ["PUBSUB_EMULATOR_HOST"] = emu.host
            store = _queued_store(Path(tmp) / "bus.db", n, "bus")
            sink = pubsub_sink("bus", topic, 100, 0.05, 1_000_000)
            secs2, done2 = asyncio.run(_deliver(store, sink))
            store.close()
            print(f"pubsub emulator: {done2} changes in {secs2:.2f}s = "
                  f"{done2 / secs2:,.0f} msg/s")
            assert done2 == n
        print(f"ratio json/pubsub (same run): {(done / secs) / (done2 / secs2):.2f}x")


if __name__ == "__main__":
    main()
