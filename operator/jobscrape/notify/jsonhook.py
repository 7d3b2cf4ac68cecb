"""The documented JSON webhook payload (version 1) and its HMAC-SHA256 signature.

    {"schema": SCHEMA_ID, "version": 1, "source": "<ns>/<name>", "target": "<target>",
     "sentAt": "<ISO 8601 UTC>", "changes": [{"kind": "created|updated|removed",
     "idempotencyKey": "...", "board": "...", "createdAt": "...", "posting": {...}}]}

`posting` is Posting.to_dict() and `description_markdown`: the description as Markdown for chat
messages and people (jobscrape.markdown: escaped, no mention, http(s) links only, no image, at
most MARKDOWN_MAX UTF-16 units; "" without a description), an optional property added to
version 1 (receivers that do not know it ignore it; older senders leave it out). The JSON
Schema ships next to this module (webhook-v1.schema.json, `schema()`).

With a signing key, each request carries `X-Jobscrape-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256 of "<t>." + body>`, computed over the exact bytes sent; `verify_signature` is the
receiving side's check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from jobscrape.markdown import DOCUMENT_MAX, html_to_markdown
from jobscrape.postings import Change

SCHEMA_ID = "https://jobscrape.io/schemas/webhook-v1.json"
SCHEMA_FILE = "webhook-v1.schema.json"
VERSION = 1
SIGNATURE_HEADER = "X-Jobscrape-Signature"
IDEMPOTENCY_HEADER = "X-Jobscrape-Idempotency-Key"
#: A request carries at most this many changes, and at most MAX_BODY bytes unless one change
#: alone is larger (it is then sent by itself).
MAX_CHANGES = 100
MAX_BODY = 1_000_000
DEFAULT_TOLERANCE = 300
#: The longest description_markdown, in UTF-16 units.
MARKDOWN_MAX = DOCUMENT_MAX


def schema() -> dict[str, Any]:
    """The payload's JSON Schema (draft 2020-12), as shipped in the package."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _finite(value: Any) -> Any:
    """Non-finite floats (NaN, infinities: not JSON) as null, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _time(t: datetime) -> str:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


# The Markdown of recent descriptions, by a digest of their HTML: batches() sizes each change
# and request() then encodes it, so each description is converted once (the digest, not the
# HTML, is kept: descriptions may be large).
_MARKDOWN: OrderedDict[bytes, str] = OrderedDict()
_MARKDOWN_KEPT = 2 * MAX_CHANGES


def description_markdown(html: str) -> str:
    """html_to_markdown(html, MARKDOWN_MAX), remembered for the last few descriptions."""
    if not html:
        return ""
    key = hashlib.blake2b(html.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    text = _MARKDOWN.get(key)
    if text is None:
        text = html_to_markdown(html, MARKDOWN_MAX)
        _MARKDOWN[key] = text
        while len(_MARKDOWN) > _MARKDOWN_KEPT:
            _MARKDOWN.popitem(last=False)
    return text


def change_dict(c: Change) -> dict[str, Any]:
    """One change as the payload carries it: the posting as Posting.to_dict() gives it,
    with its description as Markdown (description_markdown)."""
    posting = _finite(c.posting.to_dict())
    posting["description_markdown"] = description_markdown(c.posting.description_html)
    return {"kind": c.kind.value, "idempotencyKey": c.idempotency_key, "board": c.board,
            "createdAt": _time(c.created_at), "posting": posting}


def payload(changes: Sequence[Change], target: str, sent_at: datetime) -> dict[str, Any]:
    """The version 1 payload for some changes of one source (at least one change)."""
    if not changes:
        raise ValueError("a payload carries at least one change")
    return {"schema": SCHEMA_ID, "version": VERSION, "source": changes[0].source,
            "target": target, "sentAt": _time(sent_at),
            "changes": [change_dict(c) for c in changes]}


def encode(doc: dict[str, Any]) -> bytes:
    """The body bytes: compact UTF-8 JSON (no NaN)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def batches(changes: Sequence[Change], max_changes: int = MAX_CHANGES,
            max_body: int = MAX_BODY) -> list[list[Change]]:
    """The changes in order, in requests of at most `max_changes` changes and about
    `max_body` bytes (a change larger than that alone)."""
    out: list[list[Change]] = []
    batch: list[Change] = []
    size = 0
    for c in changes:
        n = len(encode(change_dict(c))) + 1
        if batch and (len(batch) >= max_changes or size + n > max_body - 1024):
            out.append(batch)
            batch, size = [], 0
        batch.append(c)
        size += n
    if batch:
        out.append(batch)
    return out


def _key(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


def signature(body: bytes, key: str | bytes, timestamp: int) -> str:
    """The X-Jobscrape-Signature value: 't=<timestamp>,v1=<hex HMAC-SHA256(key,
    "<timestamp>." + body)>'."""
    mac = hmac.new(_key(key), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(body: bytes, header: str | None, key: str | bytes,
                     now: float | None = None, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """True when `header` signs exactly `body` with `key` (any of its v1 values, compared in
    constant time) and its timestamp is within `tolerance` seconds of `now` (unix seconds,
    default the current time): older signatures are refused, so a recorded request cannot be
    replayed later."""
    if not header:
        return False
    now = time.time() if now is None else now
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and value:
            macs.append(value)
    if timestamp is None or not macs or abs(now - timestamp) > tolerance:
        return False
    expected = signature(body, key, timestamp).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected.encode(), m.encode("utf-8", "replace"))
               for m in macs)


def request(changes: Sequence[Change], target: str, signing_key: str | bytes | None,
            now: datetime) -> tuple[bytes, dict[str, str]]:
    """Body and headers of one request: the payload, its signature when there is a key, and
    the idempotency key as a header when the request carries one change."""
    body = encode(payload(changes, target, now))
    headers = {"Content-Type": "application/json"}
    if signing_key:
        headers[SIGNATURE_HEADER] = signature(body, signing_key, int(now.timestamp()))
    if len(changes) == 1:
        headers[IDEMPOTENCY_HEADER] = changes[0].idempotency_key
    return body, headers
