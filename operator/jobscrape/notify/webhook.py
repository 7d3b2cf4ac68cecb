"""The webhook sink: what the discord, slack and json formats share on the wire.

Each request is a JSON POST with a timeout on every phase and on the whole exchange, never
follows a redirect, and goes only to an address netguard accepts (checked and pinned when
connecting). 2xx is delivered; 429 reports how long to wait (Discord's body `retry_after`, else
the Retry-After header); anything else is a short error naming the status and the host only:
a webhook URL's path is its secret, and neither it nor a signing key ever reaches an error.
Discord's X-RateLimit-Remaining/X-RateLimit-Reset-After headers pace the next request (at most
MAX_PACING_WAIT seconds of waiting per send) instead of running into a 429.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from jobscrape import PROJECT_URL, __version__
from jobscrape.netguard import BlockedAddress, check_addresses, check_scheme, host_of
from jobscrape.notify import discord, jsonhook, slack
from jobscrape.notify.base import MAX_ERROR, SendResult, Sink, SinkConfigError
from jobscrape.pinned import PinnedTransport
from jobscrape.postings import Change, safe_url

FORMATS = ("discord", "slack", "json")
USER_AGENT = f"jobscrape/{__version__} (+{PROJECT_URL})"
DEFAULT_TIMEOUT = 10.0  # seconds for each phase (connect, read, write, pool); 3x for it all
MAX_PACING_WAIT = 30.0
MAX_RETRY_AFTER = 86400.0
MAX_RESPONSE = 64 * 1024  # bytes of a response read (for 429 bodies and error codes)
_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")  # Slack's "invalid_payload", ...
_MESSAGE = re.compile(r"^[A-Za-z][A-Za-z0-9 .,'()-]{0,59}$")  # Discord's "Unknown Webhook", ...

#: A request's body and headers, built just before it is sent (a signature's time is then).
Build = Callable[[], tuple[bytes, dict[str, str]]]
#: Changes to requests, in order, each with the changes it carries.
Encoder = Callable[[Sequence[Change]], list[tuple[list[Change], Build]]]


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta seconds, possibly fractional, or an HTTP
    date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - (
                time.time() if now is None else now)
        except (TypeError, ValueError, IndexError):
            return None
    return _bounded(seconds)


def _bounded(seconds: Any) -> float | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    if not math.isfinite(seconds):
        return None
    return min(max(float(seconds), 0.0), MAX_RETRY_AFTER)


def _body_retry_after(body: bytes) -> float | None:
    """Discord's 429 body: {"retry_after": <seconds>, "global": ...}."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return _bounded(doc.get("retry_after")) if isinstance(doc, dict) else None


def _detail(body: bytes) -> str:
    """A server's error code or message when it is plainly one (Slack answers a bare
    'invalid_payload', Discord {"message": "Unknown Webhook", ...}); '' otherwise."""
    text = body.decode("utf-8", "replace").strip()
    if _ERROR_CODE.match(text):
        return text
    try:
        doc = json.loads(text)
    except ValueError:
        return ""
    message = doc.get("message") if isinstance(doc, dict) else None
    return message if isinstance(message, str) and _MESSAGE.match(message) else ""


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


@dataclass
class _Reply:
    ok: bool
    error: str = ""
    retry_after: float | None = None


class WebhookSink:
    """A Sink posting one format to one webhook URL (see the module docstring)."""

    def __init__(self, name: str, url: str, encoder: Encoder, max_batch: int,
                 allow_private: bool, client: httpx.AsyncClient | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_pacing_wait: float = MAX_PACING_WAIT
                 ) -> None:
        self.name = name
        self.max_batch = max_batch
        self._url = url
        self._host = host_of(url)
        self._encoder = encoder
        self._allow_private = allow_private
        self._timeout = httpx.Timeout(timeout)
        self._total = 3 * timeout
        self._max_wait = max_pacing_wait
        self._own = client is None
        self._client = client or httpx.AsyncClient(  # a given client checks addresses itself
            follow_redirects=False, timeout=self._timeout,
            transport=PinnedTransport(allow_private))
        self._not_before = 0.0  # monotonic time before which the server asked us to wait

    async def send(self, changes: Sequence[Change]) -> SendResult:
        """Post the changes request by request, in order; stop at the first failure."""
        result = SendResult()
        waited = 0.0
        for batch, build in self._encoder(changes):
            delay = self._not_before - time.monotonic()
            if delay > 0:
                if waited + delay > self._max_wait:
                    result.error = f"rate limited by {self._host}: next request in {delay:.0f}s"
                    result.retry_after = delay
                    return result
                await asyncio.sleep(delay)
                waited += delay
            body, headers = build()
            reply = await self._post(body, headers)
            if not reply.ok:
                result.error, result.retry_after = _short(reply.error), reply.retry_after
                return result
            result.sent.extend(c.seq for c in batch)
        return result

    async def aclose(self) -> None:
        """Close the HTTP client when this sink made it."""
        if self._own:
            await self._client.aclose()

    async def _post(self, body: bytes, headers: dict[str, str]) -> _Reply:
        try:
            return await asyncio.wait_for(self._exchange(body, headers), self._total)
        except BlockedAddress as e:  # from the transport, when it connects: host only
            return _Reply(False, str(e))
        except (TimeoutError, httpx.TimeoutException):
            return _Reply(False, f"timed out posting to {self._host}")
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as e:  # the class: no URL in it
            return _Reply(False, f"cannot post to {self._host}: {type(e).__name__}")

    async def _exchange(self, body: bytes, headers: dict[str, str]) -> _Reply:
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json", **headers}
        async with self._client.stream("POST", self._url, content=body, headers=headers,
                                       timeout=self._timeout, follow_redirects=False) as resp:
            data = b""
            async for chunk in resp.aiter_bytes():
                data += chunk
                if len(data) >= MAX_RESPONSE:
                    break
        self._pace(resp.headers)
        return self._judge(resp.status_code, resp.headers, data[:MAX_RESPONSE])

    def _pace(self, headers: httpx.Headers) -> None:
        """Remember Discord's 'no request left until reset-after seconds'."""
        if headers.get("x-ratelimit-remaining", "").strip() != "0":
            return
        reset = retry_after_seconds(headers.get("x-ratelimit-reset-after"))
        if reset:
            self._not_before = max(self._not_before, time.monotonic() + reset)

    def _judge(self, status: int, headers: httpx.Headers, body: bytes) -> _Reply:
        if 200 <= status < 300:
            return _Reply(True)
        where = f"HTTP {status} from {self._host}"
        header_wait = retry_after_seconds(headers.get("retry-after"))
        if status == 429:
            wait = _body_retry_after(body)
            wait = header_wait if wait is None else wait
            if wait is not None:
                self._not_before = max(self._not_before, time.monotonic() + wait)
            return _Reply(False, f"{where}: rate limited", wait)
        if 300 <= status < 400:
            return _Reply(False, f"{where}: redirects are not followed")
        detail = _detail(body)
        return _Reply(False, f"{where}: {detail}" if detail else where,
                      header_wait if status >= 500 else None)


def _dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def _chat(messages: Callable[[Sequence[Change]], list[tuple[list[Change], dict[str, Any]]]]
          ) -> Encoder:
    def encoder(changes: Sequence[Change]) -> list[tuple[list[Change], Build]]:
        return [(batch, lambda doc=doc: (_dumps(doc), {})) for batch, doc in messages(changes)]
    return encoder


def _json(target: str, key: str | bytes | None) -> Encoder:
    def encoder(changes: Sequence[Change]) -> list[tuple[list[Change], Build]]:
        return [(batch, lambda batch=batch: jsonhook.request(batch, target, key,
                                                             datetime.now(UTC)))
                for batch in jsonhook.batches(changes)]
    return encoder


def webhook_sink(name: str, format: str, url: str, signing_key: str | bytes | None,
                 allow_private: bool, client: httpx.AsyncClient | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT, max_pacing_wait: float = MAX_PACING_WAIT
                 ) -> Sink:
    """The sink of one webhook target; SinkConfigError (one line, no URL path, no key) when
    the URL is not absolute http(s), the format unknown, a signing key given for a format
    other than json or empty, or the URL's host a literal non-public address while private
    networks are not allowed. Host names are checked at each send (they may resolve anew)."""
    url = url.strip()
    if safe_url(url) is None:
        raise SinkConfigError(f"webhook URL of target {name} must be an absolute http(s) URL")
    if format not in FORMATS:
        raise SinkConfigError(f"webhook format of target {name} must be one of "
                              f"{', '.join(FORMATS)}")
    if signing_key is not None and format != "json":
        raise SinkConfigError(f"a signing key is only for webhooks of format json "
                              f"(target {name})")
    if signing_key is not None and not signing_key:
        raise SinkConfigError(f"signing key of target {name} is empty")
    host = check_scheme(url).strip("[]")
    try:
        literal = str(ipaddress.ip_address(host))
    except ValueError:
        literal = ""  # a name: resolved and checked at each send
    try:
        if literal:
            check_addresses(host, [literal], allow_private)
    except BlockedAddress as e:
        raise SinkConfigError(_short(f"webhook URL of target {name}: {e}")) from None
    if format == "discord":
        encoder, max_batch = _chat(discord.messages), 3 * discord.MAX_EMBEDS
    elif format == "slack":
        encoder, max_batch = _chat(slack.messages), slack.MAX_BLOCKS
    else:
        encoder, max_batch = _json(name, signing_key), jsonhook.MAX_CHANGES
    return WebhookSink(name, url, encoder, max_batch, allow_private, client, timeout=timeout,
                       max_pacing_wait=max_pacing_wait)
