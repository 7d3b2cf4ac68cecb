"""The JSON webhook payload: valid against its shipped schema, batched, and signed so that a
receiver can tell a genuine, fresh, untampered request."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from jobscrape.markdown import html_to_markdown
from jobscrape.notify import jsonhook
from jobscrape.notify.jsonhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    batches,
    payload,
    request,
    signature,
    verify_signature,
)
from jobscrape.postings import (
    Change,
    ChangeKind,
    EmploymentType,
    Posting,
    Remote,
    Salary,
    SalaryPeriod,
)

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
KEY = "s3cret-signing-key"


def _change(seq: int = 1, kind: ChangeKind = ChangeKind.CREATED, **kw: Any) -> Change:
    p = Posting(id=f"ashby:acme:{seq}", board="acme", board_type="ashby", source_id=str(seq),
                title="@everyone **x** <!channel>", **({
                    "url": "https://jobs.example.com/1", "company": "Acme",
                    "locations": ("Berlin",), "remote": Remote.TRUE,
                    "employment_type": EmploymentType.FULL_TIME,
                    "salary": Salary(1.5, math.nan, "EUR", SalaryPeriod.MONTH),
                    "posted_at": datetime(2025, 1, 1, tzinfo=UTC),
                    "description_html": "<p>Hi</p>", "description_text": "Hi",
                    "content_hash": "abc"} | kw))
    return Change(seq=seq, target="hook", kind=kind, source="jobs/acme", board="acme",
                  posting=p, idempotency_key=f"key-{seq}", created_at=datetime(2025, 3, 4))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = jsonhook.schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_payload_validates_against_the_shipped_schema(validator: Draft202012Validator
                                                          ) -> None:
    changes = [_change(1), _change(2, ChangeKind.UPDATED, salary=None, url=None),
               _change(3, ChangeKind.REMOVED, posted_at=None, locations=())]
    doc = payload(changes, "hook", NOW)
    validator.validate(doc)
    assert doc["schema"] == jsonhook.SCHEMA_ID == jsonhook.schema()["$id"]
    assert (doc["version"], doc["source"], doc["target"]) == (1, "jobs/acme", "hook")
    assert doc["sentAt"] == "2025-03-04T05:06:07+00:00"
    first = doc["changes"][0]
    assert first["kind"] == "created" and first["idempotencyKey"] == "key-1"
    assert first["createdAt"] == "2025-03-04T00:00:00+00:00"  # naive times are UTC
    assert first["posting"]["salary"] == {"min": 1.5, "max": None, "currency": "EUR",
                                          "period": "month"}  # NaN is not JSON
    assert first["posting"]["title"] == "@everyone **x** <!channel>"  # data, as it was
    assert json.loads(jsonhook.encode(doc)) == doc


def test_the_schema_lists_every_posting_field(validator: Draft202012Validator) -> None:
    """A field added to Posting must be added to the published schema (and its version);
    description_markdown is the one optional property (added to version 1)."""
    posting = jsonhook.schema()["$defs"]["posting"]
    names = [f.name for f in fields(Posting)]
    assert sorted(posting["required"]) == sorted(names)
    assert sorted(posting["properties"]) == sorted([*names, "description_markdown"])


def test_the_schema_refuses_what_v1_does_not_have(validator: Draft202012Validator) -> None:
    doc = payload([_change()], "hook", NOW)
    for broken in ({**doc, "version": 2}, {**doc, "changes": []}, {**doc, "extra": 1},
                   {**doc, "changes": [{**doc["changes"][0], "kind": "moved"}]}):
        assert not validator.is_valid(broken)


def test_batches_hold_at_most_100_changes_and_about_a_megabyte() -> None:
    assert [len(b) for b in batches([_change(i) for i in range(250)])] == [100, 100, 50]
    big = [_change(i, description_html="x" * 300_000) for i in range(7)]
    out = batches(big)
    assert [len(b) for b in out] == [3, 3, 1]
    assert all(len(jsonhook.encode(payload(b, "hook", NOW))) <= jsonhook.MAX_BODY for b in out)
    huge = [_change(1, description_html="x" * 2_000_000), _change(2)]
    assert [len(b) for b in batches(huge)] == [1, 1]


def test_a_signed_request_verifies() -> None:
    body, headers = request([_change()], "hook", KEY, NOW)
    header = headers[SIGNATURE_HEADER]
    t = int(NOW.timestamp())
    assert header.startswith(f"t={t},v1=") and len(header.rpartition("=")[2]) == 64
    assert verify_signature(body, header, KEY, now=t + 10)
    assert verify_signature(body, header, KEY.encode(), now=t - 10)
    fresh_body, fresh = request([_change()], "hook", KEY, datetime.now(UTC))
    assert verify_signature(fresh_body, fresh[SIGNATURE_HEADER], KEY)  # now: the current time
    assert not verify_signature(body, header, KEY)  # NOW is long past
    assert headers[IDEMPOTENCY_HEADER] == "key-1"
    assert headers["Content-Type"] == "application/json"


def test_tampering_a_stale_timestamp_or_another_key_fail() -> None:
    body, headers = request([_change()], "hook", KEY, NOW)
    header = headers[SIGNATURE_HEADER]
    t = int(NOW.timestamp())
    assert not verify_signature(body + b" ", header, KEY, now=t)
    assert not verify_signature(body.replace(b"acme", b"acmf"), header, KEY, now=t)
    assert not verify_signature(body, header, "other-key", now=t)
    assert not verify_signature(body, header, KEY, now=t + 301)  # a replay, later
    assert not verify_signature(body, header, KEY, now=t - 301)  # from the future
    assert verify_signature(body, header, KEY, now=t + 301, tolerance=600)
    resigned = signature(body, KEY, t + 1000)  # a new time needs the key
    forged = f"t={t + 1000},v1={header.rpartition('v1=')[2]}"
    assert verify_signature(body, resigned, KEY, now=t + 1000)
    assert not verify_signature(body, forged, KEY, now=t + 1000)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=1", "t=x,v1=ab", "garbage",
                                    "t=-5,v1=00", "t=99999999999999999999,v1=00"])
def test_malformed_signature_headers_fail(header: str | None) -> None:
    assert not verify_signature(b"{}", header, KEY, now=NOW.timestamp())


def test_any_of_several_v1_values_may_match() -> None:
    """During a key rotation a sender may sign with both keys."""
    body, t = b'{"a":1}', int(NOW.timestamp())
    old = signature(body, "old", t).rpartition("v1=")[2]
    new = signature(body, "new", t).rpartition("v1=")[2]
    header = f"t={t},v1={old},v1={new}"
    assert verify_signature(body, header, "new", now=t)
    assert verify_signature(body, header, "old", now=t)


def test_without_a_key_there_is_no_signature_and_batches_have_no_single_key() -> None:
    body, headers = request([_change(1), _change(2)], "hook", None, NOW)
    assert SIGNATURE_HEADER not in headers and IDEMPOTENCY_HEADER not in headers
    assert len(json.loads(body)["changes"]) == 2


# ----------------------------------------------------------------------------- description_markdown


def test_the_posting_carries_its_description_as_markdown(validator: Draft202012Validator
                                                         ) -> None:
    html = ("<h2>About</h2><p><b>We</b> hire @everyone: "
            "<a href='https://jobs.example.com/apply'>apply</a> "
            "<a href='javascript:alert(1)'>x</a> <img src='https://t.example/p.png'></p>")
    doc = payload([_change(1, description_html=html), _change(2, description_html="")],
                  "hook", NOW)
    validator.validate(doc)
    first, second = (c["posting"] for c in doc["changes"])
    assert first["description_markdown"] == (
        "**About**\n\n**We** hire @\u200beveryone: [apply](https://jobs.example.com/apply) x")
    assert first["description_markdown"] == html_to_markdown(html, jsonhook.MARKDOWN_MAX)
    assert first["description_html"] == html  # the rest of the posting as it was
    assert second["description_markdown"] == ""
    assert json.loads(jsonhook.encode(doc)) == doc


def test_descriptionmarkdown_is_optional_bounded_and_a_string(validator: Draft202012Validator
                                                               ) -> None:
    doc = payload([_change()], "hook", NOW)
    posting = doc["changes"][0]["posting"]
    limit = jsonhook.schema()["$defs"]["posting"]["properties"]["description_markdown"][
        "maxLength"]
    assert limit == jsonhook.MARKDOWN_MAX
    del posting["description_markdown"]
    assert validator.is_valid(doc)  # what a sender before it sent
    for bad in (None, 1, "x" * (limit + 1)):
        posting["description_markdown"] = bad
        assert not validator.is_valid(doc)
    huge = "<p>" + "word " * 100_000 + "</p>"
    markdown = payload([_change(description_html=huge)], "hook", NOW)["changes"][0]["posting"][
        "description_markdown"]
    assert len(markdown) <= jsonhook.MARKDOWN_MAX and markdown.endswith("word…")


def test_each_description_is_converted_once_per_send(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(html: str, limit: int) -> str:
        calls.append(html)
        return html_to_markdown(html, limit)

    monkeypatch.setattr(jsonhook, "html_to_markdown", counting)
    changes = [_change(i, description_html=f"<p>once {i} {id(calls)}</p>") for i in range(150)]
    requests = [request(b, "hook", KEY, NOW) for b in batches(changes)]
    assert len(requests) == 2 and len(calls) == 150 == len(set(calls))
    for i in range(300):
        jsonhook.description_markdown(f"<p>more {i} {id(calls)}</p>")
    assert len(jsonhook._MARKDOWN) <= 2 * jsonhook.MAX_CHANGES  # the memo stays small
