"""Delivery of the outbox: pending changes go to each target's sink, are marked sent when the
sink took them, and failed (with backoff, then dead) when it did not. At least once: a change
is only ever removed from the outbox after its sink confirmed it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobscrape.notify.base import MAX_ERROR, Sink
from jobscrape.store import RetryPolicy, Store

log = logging.getLogger("jobscrape.deliver")

Clock = Callable[[], datetime]

#: Wait for a server's Retry-After within the run when it is at most this long; a longer one
#: is left to the next run (the changes stay pending, due after it).
MAX_INLINE_WAIT = 60.0


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one delivery pass did for one target."""

    target: str
    delivered: int = 0
    failed: int = 0  # changes tried and not delivered (still pending, or now dead)
    dead: int = 0  # changes that became dead in this pass
    error: str = ""


async def deliver_target(store: Store, source: str, sink: Sink, policy: RetryPolicy,
                         clock: Clock, deadline: float) -> DeliveryOutcome:
    """Send the target's due changes batch by batch until none is due, a send fails, or the
    monotonic `deadline` passes. A short Retry-After (<= MAX_INLINE_WAIT and before the
    deadline) is waited out and the batch sent again, without counting an attempt."""
    delivered = 0
    while time.monotonic() < deadline:
        batch = store.pending(source, sink.name, clock(), limit=sink.max_batch)
        if not batch:
            break
        try:
            result = await asyncio.wait_for(sink.send(batch),
                                            max(deadline - time.monotonic(), 1.0))
        except TimeoutError:
            result = None
        sent = set(result.sent) if result else set()
        if sent:
            store.mark_sent(source, sink.name, [c.seq for c in batch if c.seq in sent], clock())
            delivered += len(sent)
        rest = [c.seq for c in batch if c.seq not in sent]
        if not rest:
            continue
        error = (result.error if result else "delivery timed out") or "not delivered"
        retry_after = result.retry_after if result else None
        if (retry_after is not None and retry_after <= MAX_INLINE_WAIT
                and time.monotonic() + retry_after < deadline):
            log.info("target %s: rate limited, waiting %.1fs", sink.name, retry_after)
            await asyncio.sleep(retry_after)
            continue
        dead = store.mark_failed(source, sink.name, rest, error[:MAX_ERROR], clock(), policy,
                                 retry_after=retry_after)
        return DeliveryOutcome(sink.name, delivered, len(rest), dead, error[:MAX_ERROR])
    return DeliveryOutcome(sink.name, delivered)


async def deliver_all(store: Store, source: str, sinks: Mapping[str, Sink],
                      policies: Mapping[str, RetryPolicy], clock: Clock,
                      budget_seconds: float) -> list[DeliveryOutcome]:
    """One delivery pass over every target, side by side, within `budget_seconds`."""
    deadline = time.monotonic() + budget_seconds
    return list(await asyncio.gather(*(
        deliver_target(store, source, sink, policies.get(name, RetryPolicy()), clock, deadline)
        for name, sink in sinks.items())))


async def fail_unusable(store: Store, source: str, errors: Mapping[str, str],
                        policies: Mapping[str, RetryPolicy], clock: Clock
                        ) -> list[DeliveryOutcome]:
    """Targets whose sink could not be built (bad URL, refused address, no credentials):
    their due changes count one failed attempt with that error, as a failed send would."""
    out = []
    for name, error in errors.items():
        due = store.pending(source, name, clock(), limit=100_000)
        dead = 0
        if due:
            dead = store.mark_failed(source, name, [c.seq for c in due], error[:MAX_ERROR],
                                     clock(), policies.get(name, RetryPolicy()))
        out.append(DeliveryOutcome(name, 0, len(due), dead, error[:MAX_ERROR]))
    return out


async def deliver_source(store: Store, source: str, notify: Sequence[Any],
                         env: Mapping[str, str], allow_private: bool, budget_seconds: float,
                         clock: Clock = lambda: datetime.now(UTC)) -> list[DeliveryOutcome]:
    """Deliver the source's pending changes to the targets of spec.notify, under the store's
    run lock (so two deliveries never send the same change at once)."""
    from jobscrape.runner.targets import build_sinks, close_sinks, retry_policies

    sinks, errors = build_sinks(notify, env, allow_private)
    policies = retry_policies(notify)
    try:
        with store.lock(source):
            outcomes = await deliver_all(store, source, sinks, policies, clock, budget_seconds)
            outcomes += await fail_unusable(store, source, errors, policies, clock)
    finally:
        await close_sinks(sinks)
    return outcomes
