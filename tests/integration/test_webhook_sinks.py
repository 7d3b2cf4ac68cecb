"""The webhook sinks against the recording receiver on loopback: delivery and batching, every
failure reported as a short secret-free error (nothing marked sent), Retry-After honoured,
timeouts, no redirects, private addresses refused, and hostile board text delivered inert."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobscrape.notify.base import MAX_ERROR, SendResult, Sink, SinkConfigError
from jobscrape.notify.jsonhook import SIGNATURE_HEADER, schema, verify_signature
from jobscrape.notify.webhook import MAX_RETRY_AFTER, retry_after_seconds, webhook_sink
from jobscrape.postings import Change, ChangeKind, Posting, Remote
from jobscrape_dev.receiver import WebhookReceiver

SECRET = "T0KEN-d0-not-leak"
PATH = f"/api/webhooks/123456/{SECRET}"
KEY = "signing-KEY-d0-not-leak"
HOSTILE = "@everyone **x** <!channel>"


def _change(seq: int, title: str = "Backend Engineer") -> Change:
    p = Posting(id=f"greenhouse:acme:{seq}", board="acme", board_type="greenhouse",
                source_id=str(seq), title=title, url=f"https://jobs.example.com/{seq}",
                company="Acme", locations=("Berlin",), remote=Remote.TRUE)
    return Change(seq=seq, target="hook", kind=ChangeKind.CREATED, source="jobs/acme",
                  board="acme", posting=p, idempotency_key=f"key-{seq}",
                  created_at=datetime(2025, 1, 1, tzinfo=UTC))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


def _sink(receiver: WebhookReceiver, fmt: str = "json", key: str | None = None,
          **kw: Any) -> Sink:
    return webhook_sink("hook", fmt, receiver.hook_url(PATH), key, True, **kw)


def assert_clean(result: SendResult) -> None:
    """An error is short and names neither the URL's secret path nor the signing key."""
    assert result.error
    assert len(result.error) <= MAX_ERROR
    for secret in (SECRET, "123456", "/api/", KEY):
        assert secret not in result.error


async def test_json_delivers_a_signed_payload(receiver: WebhookReceiver) -> None:
    from jsonschema import Draft202012Validator

    sink = _sink(receiver, key=KEY)
    result = await sink.send([_change(1), _change(2)])
    await sink.aclose()
    assert result == SendResult(sent=[1, 2])
    (req,) = receiver.requests
    assert req.method == "POST" and req.path == PATH
    assert req.header("content-type") == "application/json"
    assert (req.header("user-agent") or "").startswith("jobscrape/")
    Draft202012Validator(schema()).validate(req.json)
    assert verify_signature(req.body, req.header(SIGNATURE_HEADER), KEY, now=time.time())
    assert not verify_signature(req.body, req.header(SIGNATURE_HEADER), "wrong", time.time())


async def test_json_batches_of_at_most_100(receiver: WebhookReceiver) -> None:
    sink = _sink(receiver)
    assert sink.max_batch == 100
    result = await sink.send([_change(i) for i in range(1, 251)])
    assert result.sent == list(range(1, 251)) and not result.error
    assert [len(r.json["changes"]) for r in receiver.requests] == [100, 100, 50]
    assert receiver.requests[0].header(SIGNATURE_HEADER) is None
    await sink.aclose()


async def test_discord_batches_embeds_ten_per_message(receiver: WebhookReceiver) -> None:
    sink = _sink(receiver, "discord")
    result = await sink.send([_change(i) for i in range(1, 26)])
    await sink.aclose()
    assert result.sent == list(range(1, 26)) and not result.error
    assert [len(r.json["embeds"]) for r in receiver.requests] == [10, 10, 5]
    assert all(r.json["allowed_mentions"] == {"parse": []} for r in receiver.requests)


async def test_slack_batches_fifty_blocks_per_message(receiver: WebhookReceiver) -> None:
    sink = _sink(receiver, "slack")
    result = await sink.send([_change(i) for i in range(1, 61)])
    await sink.aclose()
    assert result.sent == list(range(1, 61))
    assert [len(r.json["blocks"]) for r in receiver.requests] == [50, 10]
    assert receiver.requests[0].json["text"].startswith("jobscrape: 50 changes")


@pytest.mark.parametrize("fmt", ["json", "discord", "slack"])
async def test_hostile_board_text_arrives_inert(receiver: WebhookReceiver, fmt: str) -> None:
    sink = _sink(receiver, fmt)
    assert (await sink.send([_change(1, HOSTILE)])).sent == [1]
    await sink.aclose()
    body = receiver.requests[0].json
    if fmt == "json":  # data for a program: as it was, inside a JSON string
        assert body["changes"][0]["posting"]["title"] == HOSTILE
        return
    text = json.dumps(body, ensure_ascii=False)
    assert "@everyone" not in text and "<!channel>" not in text and "**x**" not in text


@pytest.mark.parametrize("fmt", ["json", "discord", "slack"])
async def test_a_server_error_marks_nothing_sent(receiver: WebhookReceiver, fmt: str) -> None:
    receiver.fail(500)
    sink = _sink(receiver, fmt, key=KEY if fmt == "json" else None)
    result = await sink.send([_change(1), _change(2)])
    assert result.sent == [] and result.retry_after is None
    assert result.error == "HTTP 500 from 127.0.0.1"
    assert_clean(result)
    assert (await sink.send([_change(1), _change(2)])).sent == [1, 2]  # and then it works
    await sink.aclose()


async def test_a_failure_midway_keeps_what_was_delivered(receiver: WebhookReceiver) -> None:
    receiver.fail(503, after=1)
    sink = _sink(receiver, "discord")
    result = await sink.send([_change(i) for i in range(1, 26)])
    await sink.aclose()
    assert result.sent == list(range(1, 11))
    assert result.error == "HTTP 503 from 127.0.0.1"
    assert len(receiver.requests) == 2  # stopped at the first failure


async def test_a_client_error_is_not_retried_early(receiver: WebhookReceiver) -> None:
    sink = _sink(receiver, "slack")
    receiver.fail(404)
    result = await sink.send([_change(1)])
    assert result.error == "HTTP 404 from 127.0.0.1"  # "fault 404" is no error code
    assert result.retry_after is None and result.sent == []
    await sink.aclose()


@pytest.mark.parametrize(("body", "error"), [
    (b"invalid_payload", "HTTP 400 from hooks.example.com: invalid_payload"),
    (b'{"message": "Unknown Webhook", "code": 10015}',
     "HTTP 400 from hooks.example.com: Unknown Webhook"),
    (b'{"message": "<@everyone> https://evil.example"}', "HTTP 400 from hooks.example.com"),
    (b"<html>" + b"x" * 100_000, "HTTP 400 from hooks.example.com"),
])
async def test_a_server_error_code_is_named_when_it_is_plainly_one(body: bytes, error: str
                                                                   ) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(400, content=body))
    async with httpx.AsyncClient(transport=transport) as client:
        sink = webhook_sink("hook", "slack", f"https://hooks.example.com{PATH}", None, True,
                            client=client)
        result = await sink.send([_change(1)])
    assert result.error == error


async def test_discord_429_reports_its_retry_after(receiver: WebhookReceiver) -> None:
    receiver.rate_limit(retry_after=0.4)
    sink = _sink(receiver, "discord")
    result = await sink.send([_change(1)])
    assert result.sent == [] and result.retry_after == pytest.approx(0.4)
    assert result.error == "HTTP 429 from 127.0.0.1: rate limited"
    assert_clean(result)
    await asyncio.sleep(result.retry_after)  # what the delivery loop does with a short one
    assert (await sink.send([_change(1)])).sent == [1]
    await sink.aclose()


async def test_a_429_with_retry_after_header_only(receiver: WebhookReceiver) -> None:
    receiver.rate_limit(retry_after=3, discord_body=False)
    sink = _sink(receiver, "slack")
    result = await sink.send([_change(1)])
    await sink.aclose()
    assert result.sent == [] and result.retry_after == 3.0 and "429" in result.error


def test_retry_after_values() -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after_seconds(date, now=1445412480.0 - 30) == 30.0
    assert retry_after_seconds(date) == 0.0  # in the past
    assert (retry_after_seconds("120"), retry_after_seconds(" 1.5 ")) == (120.0, 1.5)
    assert retry_after_seconds("-3") == 0.0 and retry_after_seconds("1e12") == MAX_RETRY_AFTER
    for bad in (None, "", "soon", "nan", "inf"):
        assert retry_after_seconds(bad) is None


async def test_a_429_with_an_http_date() -> None:
    when = "Wed, 21 Oct 2099 07:28:00 GMT"
    transport = httpx.MockTransport(
        lambda request: httpx.Response(429, headers={"Retry-After": when}))
    async with httpx.AsyncClient(transport=transport) as client:
        sink = webhook_sink("hook", "json", f"https://hooks.example.com{PATH}", KEY, True,
                            client=client)
        result = await sink.send([_change(1)])
    assert result.retry_after == MAX_RETRY_AFTER and result.sent == []
    assert result.error == "HTTP 429 from hooks.example.com: rate limited"


async def test_discord_rate_limit_headers_pace_the_next_request(receiver: WebhookReceiver
                                                                ) -> None:
    receiver.rate_limit_headers(remaining=0, reset_after=0.5)
    sink = _sink(receiver, "discord")
    result = await sink.send([_change(i) for i in range(1, 16)])
    await sink.aclose()
    assert result.sent == list(range(1, 16)) and not result.error
    first, second = receiver.requests
    assert second.time - first.time >= 0.45


async def test_pacing_longer_than_the_bound_is_left_to_a_later_send(receiver: WebhookReceiver
                                                                     ) -> None:
    receiver.rate_limit_headers(remaining=0, reset_after=20)
    sink = _sink(receiver, "discord", max_pacing_wait=1.0)
    result = await sink.send([_change(i) for i in range(1, 16)])
    await sink.aclose()
    assert result.sent == list(range(1, 11)) and len(receiver.requests) == 1
    assert result.retry_after == pytest.approx(20, abs=1) and "rate limited" in result.error


async def test_a_hanging_server_times_out(receiver: WebhookReceiver) -> None:
    receiver.hang(30)
    sink = _sink(receiver, "json", key=KEY, timeout=0.5)
    result = await sink.send([_change(1)])
    await sink.aclose()
    assert result.sent == [] and result.error == "timed out posting to 127.0.0.1"
    assert_clean(result)


async def test_a_redirect_is_not_followed(receiver: WebhookReceiver) -> None:
    receiver.redirect(location="/elsewhere")
    sink = _sink(receiver, "json")
    result = await sink.send([_change(1)])
    await sink.aclose()
    assert result.sent == [] and "307" in result.error and "not followed" in result.error
    assert [r.path for r in receiver.requests] == [PATH]
    assert_clean(result)


async def test_a_redirect_is_not_followed_even_by_a_redirect_following_client(
        receiver: WebhookReceiver) -> None:
    receiver.redirect(location="/elsewhere")
    async with httpx.AsyncClient(follow_redirects=True) as client:
        sink = _sink(receiver, "slack", client=client)
        result = await sink.send([_change(1)])
    assert result.sent == [] and [r.path for r in receiver.requests] == [PATH]


async def test_a_private_address_is_refused_unless_allowed(receiver: WebhookReceiver) -> None:
    url = f"http://localhost:{receiver.port}{PATH}"
    sink = webhook_sink("hook", "json", url, KEY, allow_private=False)
    result = await sink.send([_change(1)])
    await sink.aclose()
    assert result.sent == [] and result.error.startswith("refused: localhost")
    assert "loopback" in result.error
    assert_clean(result)
    assert receiver.requests == []
    with pytest.raises(SinkConfigError) as e:  # a literal address is refused up front
        webhook_sink("hook", "json", receiver.hook_url(PATH), KEY, allow_private=False)
    assert "127.0.0.1" in str(e.value) and SECRET not in str(e.value)


async def test_an_unreachable_server_is_a_short_error() -> None:
    with WebhookReceiver() as r:
        url = r.hook_url(PATH)
    sink = webhook_sink("hook", "discord", url, None, True)
    result = await sink.send([_change(1)])
    await sink.aclose()
    assert result.sent == [] and result.error == "cannot post to 127.0.0.1: ConnectError"


@pytest.mark.parametrize(("fmt", "url", "key", "message"), [
    ("json", f"ftp://hooks.example.com{PATH}", None, "must be an absolute http(s) URL"),
    ("json", PATH, None, "must be an absolute http(s) URL"),
    ("json", f"https://hooks.example.com{PATH} x", None, "must be an absolute http(s) URL"),
    ("xml", f"https://hooks.example.com{PATH}", None, "must be one of discord, slack, json"),
    ("discord", f"https://hooks.example.com{PATH}", KEY, "only for webhooks of format json"),
    ("json", f"https://hooks.example.com{PATH}", "", "is empty"),
    ("json", f"http://169.254.169.254{PATH}", None, "link-local"),
])
def test_unusable_configuration_is_refused_without_the_secret(
        fmt: str, url: str, key: str | None, message: str) -> None:
    with pytest.raises(SinkConfigError) as e:
        webhook_sink("hook", fmt, url, key, allow_private=False)
    assert message in str(e.value) and "target hook" in str(e.value)
    assert SECRET not in str(e.value) and KEY not in str(e.value)


async def test_the_receiver_runs_as_a_process(tmp_path: Path) -> None:
    record = tmp_path / "hooks.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "jobscrape_dev.receiver", "--port", "0",
                             "--record", str(record)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip().rpartition(" ")[2]
        assert base.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as client:
            r = await client.post(base + "/_control",
                                  json={"mode": "fail", "status": 502, "count": 1})
            assert r.status_code == 200 and r.json()["faults"][0]["status"] == 502
            assert (await client.post(base + "/_control", json={"mode": "x"})).status_code == 400
            sink = webhook_sink("hook", "slack", base + PATH, None, True)
            assert (await sink.send([_change(1)])).error == "HTTP 502 from 127.0.0.1"
            assert (await sink.send([_change(1)])).sent == [1]
            await sink.aclose()
            recorded = (await client.get(base + "/_requests")).json()
        lines = [json.loads(line) for line in record.read_text().splitlines()]
        assert [x["path"] for x in lines] == [PATH, PATH] == [x["path"] for x in recorded]
        assert lines[1]["body"]["blocks"][0]["type"] == "section"
        assert lines[1]["headers"]["Content-Type"] == "application/json"
    finally:
        proc.terminate()
        proc.wait(10)
