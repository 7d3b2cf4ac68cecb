"""The Pub/Sub sink against the real Pub/Sub emulator (one per module; the test that stops an
emulator starts its own). The sink finds the emulator the way google-cloud-pubsub does in
production: PUBSUB_EMULATOR_HOST, read by PublisherClient itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobscrape.notify.base import MAX_ERROR, Sink, SinkConfigError
from jobscrape.notify.pubsub import pubsub_sink
from jobscrape.postings import Change, ChangeKind, Posting, posting_from_dict, with_hash
from jobscrape_dev.pubsubemu import PubSubEmulator

HOSTILE_TITLE = ('Engineer</script><script>alert(1)</script> =cmd|" /C calc"!A0 '
                 '\u202eevil\u202c "quoted" \\ back\\slash 💥 ünïcödé')
HOSTILE_HTML = '<p onclick="x()">a</p><img src=x onerror=alert(1)>\n{"json": "in text"}'


@pytest.fixture(scope="module")
def emu() -> Iterator[PubSubEmulator]:
    with PubSubEmulator() as e, pytest.MonkeyPatch.context() as mp:
        mp.setenv("PUBSUB_EMULATOR_HOST", e.host)
        yield e


def _names(emu: PubSubEmulator | None = None) -> tuple[str, str]:
    """A fresh topic and subscription (created when `emu` is given)."""
    tag = uuid.uuid4().hex[:10]
    topic, sub = f"projects/jobs/topics/changes-{tag}", f"projects/jobs/subscriptions/sub-{tag}"
    if emu is not None:
        emu.create_topic(topic)
        emu.create_subscription(topic, sub)
    return topic, sub


def _change(seq: int, posting_id: str, kind: ChangeKind = ChangeKind.CREATED,
            title: str = "Engineer", html: str = "<p>hi</p>") -> Change:
    p = with_hash(Posting(id=posting_id, board="acme", board_type="greenhouse",
                          source_id=posting_id.rsplit(":", 1)[-1], title=title,
                          url="https://example.com/jobs/1", locations=("Berlin",),
                          description_html=html, description_text=title))
    return Change(seq=seq, target="team-pubsub", kind=kind, source="jobs-acme", board="acme",
                  posting=p, idempotency_key=f"idem-{seq}-{uuid.uuid4().hex[:6]}",
                  created_at=datetime.now(UTC))


def _sink(topic: str, max_messages: int = 100, max_latency: float = 0.05,
          max_bytes: int = 1_000_000, timeout: float = 20.0) -> Sink:
    return pubsub_sink("team-pubsub", topic, max_messages, max_latency, max_bytes,
                       timeout=timeout)


async def test_one_message_per_change_with_posting_json_attributes_and_ordering_key(
        emu: PubSubEmulator) -> None:
    topic, sub = _names(emu)
    kinds = [ChangeKind.CREATED, ChangeKind.UPDATED, ChangeKind.REMOVED]
    changes = [_change(i, f"greenhouse:acme:{i % 4}", kinds[(i // 4) % 3], title=f"Job {i}")
               for i in range(12)]
    sink = _sink(topic)
    try:
        result = await sink.send(changes)
    finally:
        await sink.aclose()
    assert result.sent == [c.seq for c in changes] and result.error == ""

    msgs = emu.pull(sub, count=len(changes))
    assert len(msgs) == len(changes)
    by_key = {c.idempotency_key: c for c in changes}
    order: dict[str, list[int]] = defaultdict(list)
    for m in msgs:
        c = by_key[m.message.attributes["idempotencyKey"]]
        assert m.message.data == json.dumps(c.posting.to_dict(), separators=(",", ":"),
                                            ensure_ascii=False).encode()
        assert dict(m.message.attributes) == {
            "source": "jobs-acme", "board": "acme", "kind": c.kind.value,
            "postingId": c.posting.id, "idempotencyKey": c.idempotency_key,
            "target": "team-pubsub", "contentHash": c.posting.content_hash}
        assert m.message.ordering_key == c.posting.id
        order[c.posting.id].append(c.seq)
    # every posting's changes arrive in the order they were made
    assert all(seqs == sorted(seqs) and len(seqs) == 3 for seqs in order.values())


async def test_hostile_posting_text_arrives_byte_exact_as_data(emu: PubSubEmulator) -> None:
    topic, sub = _names(emu)
    change = _change(1, "greenhouse:acme:666", title=HOSTILE_TITLE, html=HOSTILE_HTML)
    sink = _sink(topic)
    try:
        assert (await sink.send([change])).sent == [1]
    finally:
        await sink.aclose()
    [msg] = emu.pull(sub, count=1)
    data = msg.message.data
    assert data == json.dumps(change.posting.to_dict(), separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8")
    assert posting_from_dict(json.loads(data)) == change.posting
    decoded = json.loads(data)
    assert (decoded["title"], decoded["description_html"]) == (HOSTILE_TITLE, HOSTILE_HTML)
    # plain UTF-8 JSON: not HTML-escaped, not ASCII-escaped
    assert b"</script><script>" in data and b"\\u" not in data and b"&lt;" not in data
    assert "💥 ünïcödé".encode() in data and "\u202eevil".encode() in data


@pytest.mark.parametrize(("max_messages", "max_bytes"), [(1, 1_000_000), (1000, 1000)])
async def test_small_batches_lose_nothing_and_keep_order(emu: PubSubEmulator, max_messages: int,
                                                         max_bytes: int) -> None:
    """max_messages=1, or max_bytes below one message's size: every message is its own
    Publish request, and still all arrive, in order per posting."""
    topic, sub = _names(emu)
    changes = [_change(i, f"lever:acme:{i % 3}", ChangeKind.UPDATED, title=f"v{i} " + "x" * 1200)
               for i in range(60)]
    sink = _sink(topic, max_messages=max_messages, max_bytes=max_bytes)
    try:
        result = await sink.send(changes)
    finally:
        await sink.aclose()
    assert result.sent == list(range(60))
    msgs = emu.pull(sub, count=60)
    got: dict[str, list[str]] = defaultdict(list)
    for m in msgs:
        got[m.message.ordering_key].append(json.loads(m.message.data)["title"].split()[0])
    assert sum(map(len, got.values())) == 60
    for key, titles in got.items():
        want = [c.posting.title.split()[0] for c in changes if c.posting.id == key]
        assert titles == want


async def test_max_latency_holds_a_batch_back(emu: PubSubEmulator) -> None:
    topic, sub = _names(emu)
    elapsed = {}
    for latency in (0.0, 2.0):
        sink = _sink(topic, max_latency=latency)
        t0 = time.monotonic()
        try:
            assert (await sink.send([_change(1, "ashby:acme:1")])).sent == [1]
        finally:
            await sink.aclose()
        elapsed[latency] = time.monotonic() - t0
    assert elapsed[2.0] >= 1.9  # the batch was held back for its latency
    assert len(emu.pull(sub, count=2)) == 2


async def test_missing_topic_is_a_clear_error_and_the_next_send_can_retry(
        emu: PubSubEmulator) -> None:
    topic, sub = _names()
    changes = [_change(i, f"greenhouse:acme:{i % 2}") for i in range(4)]
    sink = _sink(topic)
    try:
        result = await sink.send(changes)
        assert result.sent == []
        assert result.error == f"Pub/Sub topic {topic} does not exist"
        # the paused ordering keys were resumed: once the topic exists the same sink delivers
        emu.create_topic(topic)
        emu.create_subscription(topic, sub)
        assert (await sink.send(changes)).sent == [0, 1, 2, 3]
    finally:
        await sink.aclose()
    assert len(emu.pull(sub, count=4)) == 4


async def test_stopped_emulator_is_an_error_within_the_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with PubSubEmulator() as own:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", own.host)
        topic, _ = _names(own)
        sink = _sink(topic, timeout=4.0)
        try:
            assert (await sink.send([_change(1, "workable:acme:1")])).sent == [1]
            own.stop()
            result = await sink.send([_change(i, f"workable:acme:{i}") for i in range(2, 7)])
        finally:
            await sink.aclose()
    assert result.sent == []
    assert result.error.startswith(f"Pub/Sub publish to {topic} failed: ServiceUnavailable")
    assert len(result.error) <= MAX_ERROR and "\n" not in result.error


def test_no_credentials_outside_the_emulator_is_a_config_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("PUBSUB_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud ADC file
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # not on GCE/GKE: no metadata server
    with pytest.raises(SinkConfigError) as err:
        pubsub_sink("team-pubsub", "projects/jobs/topics/changes", 100, 0.05, 1_000_000)
    msg = str(err.value)
    assert "team-pubsub" in msg and "credentials" in msg and "\n" not in msg
    assert len(msg) <= MAX_ERROR


def test_the_module_imports_without_the_google_client() -> None:
    probe = ("import sys, jobscrape.notify.pubsub; "
             "print(any(m.startswith(('google.cloud.pubsub', 'grpc')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"


async def test_a_posting_too_large_for_pubsub_stops_the_batch_but_not_its_key(
        emu: PubSubEmulator) -> None:
    topic, sub = _names(emu)
    huge = _change(2, "greenhouse:acme:big", html="<p>" + "y" * 10_000_000 + "</p>")
    sink = _sink(topic)
    try:
        result = await sink.send([_change(1, "greenhouse:acme:a"), huge,
                                  _change(3, "greenhouse:acme:c")])
        assert result.sent == [1]
        assert "over Pub/Sub's 10 MB message limit" in result.error
        assert len(result.error) <= MAX_ERROR
        # the posting's key is not wedged: its next change goes out on the same client
        assert (await sink.send([_change(4, "greenhouse:acme:big")])).sent == [4]
    finally:
        await sink.aclose()
    msgs = emu.pull(sub, count=2)
    assert sorted(m.message.attributes["postingId"] for m in msgs) == [
        "greenhouse:acme:a", "greenhouse:acme:big"]
