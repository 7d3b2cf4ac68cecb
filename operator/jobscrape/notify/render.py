"""What the chat formats (discord, slack) share: labels, a salary line, lengths as chat services
count them, truncation with an ellipsis that never breaks an escape, and the link check.

Board text reaching these helpers is data: each format escapes it with its own function, and
`fit` applies that function before measuring, so a limit always holds for the escaped text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from jobscrape.postings import ChangeKind, Remote, Salary, SalaryPeriod, safe_url

ELLIPSIS = "…"
EN_DASH = "\u2013"
#: Longest link a chat message gets; longer posting URLs are left out (the title stays).
MAX_LINK = 2000

KIND_LABEL = {ChangeKind.CREATED: "New", ChangeKind.UPDATED: "Updated",
              ChangeKind.REMOVED: "Removed"}
REMOTE_LABEL = {Remote.TRUE: "yes", Remote.FALSE: "no", Remote.UNKNOWN: "unknown"}

# Bidirectional overrides and isolates: they reorder what a reader sees ("exe.txt" shown as
# "txt.exe"), so they are dropped from board text in chat messages.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def units(text: str) -> int:
    """The length of `text` in UTF-16 code units: never less than its length in code points,
    so a limit that holds in units holds however the service counts characters."""
    return len(text.encode("utf-16-le")) // 2


def drop_bidi(text: str) -> str:
    """The text without bidirectional override and isolate characters."""
    return _BIDI.sub("", text)


def fit(text: str, limit: int, escape: Callable[[str], str]) -> str:
    """`escape(text)` when it is at most `limit` (>= 1) units long; otherwise the escape of the
    longest prefix of `text` that fits with a trailing ellipsis. Cutting the raw text (not the
    escaped one) keeps every escape sequence whole."""
    out = escape(text)
    if units(out) <= limit:
        return out

    def fits(n: int) -> bool:  # true for 0, and then until some n (escaped lengths only grow)
        return units(escape(text[:n]).rstrip()) + 1 <= limit

    hi = min(len(text), limit)  # escapes rarely shorten text: the answer is usually below
    while hi < len(text) and fits(hi):
        hi = min(len(text), 2 * hi)
    lo = 0
    while lo < hi:  # the largest n that fits
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return escape(text[:lo]).rstrip() + ELLIPSIS


def link_url(url: str | None) -> str | None:
    """The posting URL as a link target: absolute http(s) (safe_url), non-ASCII characters of
    path, query and fragment percent-encoded, at most MAX_LINK characters; None when it is not
    that (an internationalised host name included: it is left unlinked rather than risk a
    rejected message)."""
    url = safe_url(url)
    if url is None:
        return None
    if not url.isascii():
        parts = urlsplit(url)
        if not parts.netloc.isascii():
            return None
        url = quote(url, safe="".join(chr(c) for c in range(0x21, 0x7F)))
    return url if len(url) <= MAX_LINK else None


def _amount(v: float) -> str:
    return f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"


def salary_text(s: Salary | None) -> str | None:
    """'60,000-80,000 EUR / year' (an en dash between the figures), 'from 60,000 EUR',
    'up to 30 USD / hour'; None without a finite figure. Currency and figures are board
    data: the caller escapes the result."""
    if s is None:
        return None
    lo = s.min if isinstance(s.min, int | float) and math.isfinite(s.min) else None
    hi = s.max if isinstance(s.max, int | float) and math.isfinite(s.max) else None
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None and lo != hi:
        text = f"{_amount(lo)}{EN_DASH}{_amount(hi)}"
    elif lo is not None:
        text = _amount(lo) if hi is not None else f"from {_amount(lo)}"
    else:
        text = f"up to {_amount(hi)}"  # type: ignore[arg-type]
    if s.currency:
        text += f" {s.currency}"
    if s.period is not SalaryPeriod.UNKNOWN:
        text += f" / {s.period.value}"
    return text
