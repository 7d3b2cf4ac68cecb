"""Slack incoming-webhook payloads (Block Kit): one section block per change, with mrkdwn text
(linked title, company, locations, remote, salary, board), for a new or updated posting with a
description a second section with an excerpt of it, and a plain `text` fallback for
notifications.

Limits (Slack Block Kit): 50 blocks per message, 3,000 characters of text per section block;
a message here carries at most 50 blocks (so 25 to 50 changes), the first section of a change
stays under 2,600 characters, its excerpt under EXCERPT_MAX (1,000).
Board text is escaped for mrkdwn (& < > as entities, which also kills <!channel>, <@U123> and
<url|text> syntax) and the formatting characters * _ ~ ` are replaced by look-alikes that
Slack does not format (U+2217, U+02CD, U+223C, U+02CB), so no posting can mention anyone or
format anything. The excerpt is the description's HTML as mrkdwn (jobscrape.markdown): its
bold, italics, lists, code and http(s) links are kept, its text escaped by the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobscrape.markdown import html_to_mrkdwn
from jobscrape.notify.render import KIND_LABEL, REMOTE_LABEL, drop_bidi, fit, link_url, units
from jobscrape.notify.render import salary_text as _salary
from jobscrape.postings import Change, ChangeKind

# Slack's documented limits.
MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000

# What one section of ours uses at most per part, and the fallback text.
_TITLE, _COMPANY, _LOCATIONS, _SALARY, _BOARD = 300, 200, 500, 100, 100
_LINK = 1200  # a longer link target (after escaping) is left out, the title stays
TEXT_MAX = 3000
#: The longest description excerpt (its own section block).
EXCERPT_MAX = 1000

_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))  # & first
# The formatting characters and their look-alikes; `@` gets a word joiner so that @channel,
# @here and @everyone stay text even where Slack would link names; `://` one, so that board
# text is not auto-linked.
_LOOKALIKES = (("*", "\u2217"), ("_", "\u02cd"), ("~", "\u223c"), ("`", "\u02cb"),
               ("@", "@\u2060"), ("://", ":\u2060//"))


def _replace(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:  # str.replace: linear and fast even on huge board text
        text = text.replace(old, new)
    return text


def escape_mrkdwn(text: str) -> str:
    """Board text that Slack shows as text: & < > as entities, * _ ~ ` replaced by look-alikes,
    a word joiner after `@` and inside `://` (no bare auto-link), bidirectional overrides
    dropped."""
    return _replace(_replace(drop_bidi(text), _ENTITIES), _LOOKALIKES)


def link_target(url: str) -> str:
    """A URL made safe for Slack's <url|text> syntax: & < > as entities, | percent-encoded."""
    return _replace(url, _ENTITIES).replace("|", "%7C")


def section_text(change: Change) -> str:
    """The mrkdwn text of one change: '*New:* <url|title>' and one line each for company,
    locations, remote, salary and board; under 2,600 characters (SECTION_TEXT_MAX is 3,000)."""
    p = change.posting
    title = fit(p.title.strip() or "(untitled)", _TITLE, escape_mrkdwn)
    url = link_url(p.url or p.apply_url)
    target = link_target(url) if url else ""
    link = f"<{target}|{title}>" if target and units(target) <= _LINK else title
    lines = [f"*{KIND_LABEL[change.kind]}:* {link}"]
    parts = [("Company", p.company, _COMPANY), ("Locations", ", ".join(p.locations), _LOCATIONS),
             ("Remote", REMOTE_LABEL[p.remote], 16), ("Salary", _salary(p.salary), _SALARY),
             ("Board", p.board, _BOARD)]
    lines += [f"*{name}:* {fit(raw.strip(), limit, escape_mrkdwn)}"
              for name, raw, limit in parts if raw and raw.strip()]
    return "\n".join(lines)


def section(change: Change) -> dict[str, Any]:
    """One change as a section block with mrkdwn text."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": section_text(change)}}


def excerpt_text(change: Change) -> str:
    """The posting's description as mrkdwn, at most EXCERPT_MAX units; "" for a removed
    posting or an empty description."""
    if change.kind is ChangeKind.REMOVED or not change.posting.description_html:
        return ""
    return html_to_mrkdwn(change.posting.description_html, EXCERPT_MAX)


def blocks(change: Change) -> list[dict[str, Any]]:
    """The blocks of one change: its section, then its excerpt's section when it has one."""
    out = [section(change)]
    if text := excerpt_text(change):
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return out


def fallback_text(changes: Sequence[Change]) -> str:
    """The plain notification text: 'jobscrape: N changes: New: title; ...', at most
    TEXT_MAX characters, escaped like the blocks."""
    head = f"jobscrape: {len(changes)} change{'s' if len(changes) != 1 else ''}: "
    body = "; ".join(f"{KIND_LABEL[c.kind]}: {c.posting.title.strip() or '(untitled)'}"
                     for c in changes)
    return head + fit(body, TEXT_MAX - units(head), escape_mrkdwn)


def message(changes: Sequence[Change],
            parts: Sequence[Sequence[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The incoming-webhook body for changes of at most MAX_BLOCKS blocks (`parts`: each
    change's blocks, when made already): blocks, fallback text, and no link unfurling."""
    out = [b for bs in (parts if parts is not None else map(blocks, changes)) for b in bs]
    if len(out) > MAX_BLOCKS:
        raise ValueError(f"a Slack message carries at most {MAX_BLOCKS} blocks")
    return {"text": fallback_text(changes), "blocks": out,
            "unfurl_links": False, "unfurl_media": False}


def messages(changes: Sequence[Change]) -> list[tuple[list[Change], dict[str, Any]]]:
    """The changes in order, packed into messages of at most MAX_BLOCKS blocks (one or two a
    change), each with the changes it carries."""
    out = []
    batch: list[Change] = []
    parts: list[list[dict[str, Any]]] = []
    count = 0
    for change in changes:
        bs = blocks(change)
        if batch and count + len(bs) > MAX_BLOCKS:
            out.append((batch, message(batch, parts)))
            batch, parts, count = [], [], 0
        batch.append(change)
        parts.append(bs)
        count += len(bs)
    if batch:
        out.append((batch, message(batch, parts)))
    return out
