"""The Google Pub/Sub sink: one message per change, the posting as JSON in its data, what a
subscriber filters or de-duplicates on in its attributes, the posting id as its ordering key.

Credentials and endpoint are google-cloud-pubsub's own: Application Default Credentials
(Workload Identity on GKE), or the emulator at PUBSUB_EMULATOR_HOST (plain gRPC, anonymous),
both picked by PublisherClient itself. google.cloud.pubsub is imported only by the factory.

Timeouts: the client retries an ordered publish forever (it overrides any retry deadline), so
the sink publishes with retry=None and a per-RPC timeout, and retries transient failures
itself, all within one overall bound per `send`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from jobscrape.notify.base import MAX_ERROR, SendResult, Sink, SinkConfigError
from jobscrape.postings import Change

#: Changes one `send` takes (Pub/Sub's own limit per Publish request is 1000 messages).
MAX_BATCH = 1000
#: Bound of one `send`, retries included.
SEND_TIMEOUT = 60.0
#: Bound of one Publish RPC.
RPC_TIMEOUT = 15.0
#: Largest message data the sink hands over: Pub/Sub takes 10 MB per message with its
#: attributes and framing, and the client wedges a key whose message it refused as too large.
MAX_DATA = 9_900_000
_FIRST_BACKOFF, _MAX_BACKOFF = 0.5, 5.0


def pubsub_sink(name: str, topic: str, max_messages: int, max_latency_seconds: float,
                max_bytes: int, publisher: Any = None, *, timeout: float = SEND_TIMEOUT
                ) -> Sink:
    """A sink publishing to `topic` (projects/<p>/topics/<t>) with the target's batching
    settings. `publisher` (a PublisherClient with message ordering enabled; the sink owns and
    closes it) defaults to one built from the environment; without Google credentials and
    without PUBSUB_EMULATOR_HOST that raises SinkConfigError. `send` takes at most `timeout`
    seconds."""
    if publisher is None:
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import pubsub_v1

        try:
            publisher = pubsub_v1.PublisherClient(
                batch_settings=pubsub_v1.types.BatchSettings(
                    max_bytes=max_bytes, max_latency=max_latency_seconds,
                    max_messages=max_messages),
                publisher_options=pubsub_v1.types.PublisherOptions(
                    enable_message_ordering=True, retry=None, timeout=RPC_TIMEOUT))
        except DefaultCredentialsError:
            raise SinkConfigError(
                f"no Google credentials for Pub/Sub target {name}: set up Workload Identity "
                f"or Application Default Credentials") from None
    return PubSubSink(name, topic, publisher, timeout)


class PubSubSink:
    """Publishes changes to one topic; see `pubsub_sink`."""

    max_batch = MAX_BATCH

    def __init__(self, name: str, topic: str, publisher: Any, timeout: float) -> None:
        self.name, self.topic = name, topic
        self._publisher = publisher
        self._timeout = timeout

    async def send(self, changes: Sequence[Change]) -> SendResult:
        """Publish every change; returns the seqs confirmed, in order, up to the first that was
        not (with its error). Transient failures are retried within the overall bound; a
        failed ordering key is resumed, so the next `send` can publish it again."""
        deadline = time.monotonic() + self._timeout
        outcome: dict[int, BaseException | None] = {}
        todo = list(changes)
        backoff = _FIRST_BACKOFF
        while todo:
            await self._round(todo, deadline, outcome)
            todo = [c for c in todo if outcome[c.seq] is not None]
            if (not todo or not all(_transient(outcome[c.seq]) for c in todo)
                    or time.monotonic() + backoff >= deadline):
                break
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)
        sent: list[int] = []
        for c in changes:
            exc = outcome.get(c.seq)
            if exc is not None:
                return SendResult(sent=sent, error=self._describe(exc))
            sent.append(c.seq)
        return SendResult(sent=sent)

    async def _round(self, changes: list[Change], deadline: float,
                     outcome: dict[int, BaseException | None]) -> None:
        """Publish `changes` once and record each one's outcome (None: published)."""
        rpc_timeout = max(1.0, min(RPC_TIMEOUT, deadline - time.monotonic()))
        futures = await asyncio.to_thread(self._publish_all, changes, rpc_timeout)
        waiting = {asyncio.wrap_future(f): c.seq for c, f in zip(changes, futures, strict=False)}
        done, pending = (await asyncio.wait(waiting, timeout=max(0.0, deadline - time.monotonic()))
                         if waiting else (set(), set()))
        for fut in done:
            outcome[waiting[fut]] = fut.exception()
        for fut in pending:  # still in flight: its RPC timeout ends it in the background
            fut.cancel()
            outcome[waiting[fut]] = TimeoutError(f"no answer within {self._timeout:g}s")
        for c in changes[len(futures):]:  # not handed over: the client refused one before
            outcome[c.seq] = RuntimeError("not published")
        paused = {c.posting.id for c in changes if outcome[c.seq] is not None}
        if paused:
            await asyncio.to_thread(self._resume, paused)

    def _publish_all(self, changes: list[Change], rpc_timeout: float) -> list[Future[str]]:
        """Hand each change to the client (in a worker thread: it blocks); stops at the first
        that the client refuses outright (e.g. too large)."""
        out: list[Future[str]] = []
        for c in changes:
            data = json.dumps(c.posting.to_dict(), separators=(",", ":"),
                              ensure_ascii=False).encode()
            try:
                if len(data) > MAX_DATA:
                    raise ValueError(f"posting {c.posting.id[:60]} is {len(data)} bytes as "
                                     f"JSON, over Pub/Sub's 10 MB message limit")
                out.append(self._publisher.publish(
                    self.topic, data, ordering_key=c.posting.id, retry=None,
                    timeout=rpc_timeout, **_attributes(c)))
            except (ValueError, RuntimeError, TypeError) as e:
                failed: Future[str] = Future()
                failed.set_exception(e)
                out.append(failed)
                break
        return out

    def _resume(self, keys: set[str]) -> None:
        for key in keys:
            # RuntimeError: not paused (yet: still in flight), or the client is stopped
            with contextlib.suppress(RuntimeError, ValueError):
                self._publisher.resume_publish(self.topic, key)

    def _describe(self, exc: BaseException) -> str:
        """One short, secret-free line for status.notify[].lastError."""
        from google.api_core import exceptions as gexc

        if isinstance(exc, gexc.NotFound):
            text = f"Pub/Sub topic {self.topic} does not exist"
        elif isinstance(exc, gexc.PermissionDenied):
            text = f"permission denied publishing to {self.topic} (needs roles/pubsub.publisher)"
        else:
            detail = exc.message if isinstance(exc, gexc.GoogleAPICallError) else str(exc)
            text = f"Pub/Sub publish to {self.topic} failed: {type(exc).__name__}: {detail}"
        return " ".join(text.split())[:MAX_ERROR]

    async def aclose(self) -> None:
        """Stop the publisher (flushing what it still holds) and close its channel."""
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self._publisher.stop()
        self._publisher.transport.close()


def _attributes(c: Change) -> dict[str, str]:
    return {"source": c.source, "board": c.board, "kind": c.kind.value,
            "postingId": c.posting.id, "idempotencyKey": c.idempotency_key,
            "target": c.target, "contentHash": c.posting.content_hash}


def _transient(exc: BaseException | None) -> bool:
    """Whether publishing again may succeed (after resuming the key)."""
    from google.api_core import exceptions as gexc
    from google.auth.exceptions import TransportError
    from google.cloud.pubsub_v1.publisher.exceptions import PublishToPausedOrderingKeyException

    return isinstance(exc, (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.Aborted,
                            gexc.InternalServerError, gexc.ResourceExhausted, gexc.Cancelled,
                            gexc.Unknown, TransportError, PublishToPausedOrderingKeyException,
                            TimeoutError))
