"""Discord execute-webhook payloads: one embed per change, batched within Discord's limits.

Limits (Discord API, "Embed Limits" and "Execute Webhook"): 10 embeds per message and 6,000
characters in total across the title, description, field names and values, footer text and
author name of all of them; title 256, description 4,096, field name 256, field value 1,024,
footer 2,048, author name 256, 25 fields, content 2,000. This module stays well inside each
(lengths counted in UTF-16 units, see render.units), and an embed never exceeds EMBED_MAX
(6,000 / 3), so at least three embeds always fit one message. Board text is escaped for
Discord markdown, mentions are neutralised, and `allowed_mentions` parses nothing, so no posting
can ping anyone or format anything.

The embed's description is the department and employment type, then (for a new or updated
posting) an excerpt of the posting's description as Markdown (jobscrape.markdown: formatting
and http(s) links from the board's HTML, everything else escaped, no mention, no image) of at
most EXCERPT_MAX units, or less: what the rest of the embed leaves of EMBED_MAX.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from jobscrape.markdown import html_to_markdown
from jobscrape.notify.render import KIND_LABEL, REMOTE_LABEL, drop_bidi, fit, link_url, units
from jobscrape.notify.render import salary_text as _salary
from jobscrape.postings import Change, ChangeKind, EmploymentType

# Discord's documented limits.
MAX_EMBEDS = 10
MAX_TOTAL = 6000
TITLE_MAX, DESCRIPTION_MAX, FOOTER_MAX, AUTHOR_MAX = 256, 4096, 2048, 256
FIELD_NAME_MAX, FIELD_VALUE_MAX, MAX_FIELDS, CONTENT_MAX = 256, 1024, 25, 2000

# What one embed of ours uses at most (title, description, field values, footer).
_TITLE, _DESCRIPTION, _FOOTER = 256, 300, 200
_COMPANY, _LOCATIONS, _SALARY, _BOARD = 256, 512, 128, 128
#: The characters of one embed at most (embed_chars): three always fit one message.
EMBED_MAX = MAX_TOTAL // 3
#: The longest description excerpt, and the shortest worth showing.
EXCERPT_MAX, EXCERPT_MIN = 700, 80

COLORS = {ChangeKind.CREATED: 0x2ECC71, ChangeKind.UPDATED: 0x3498DB,
          ChangeKind.REMOVED: 0x95A5A6}
ALLOWED_MENTIONS: dict[str, list[str]] = {"parse": []}

# Markdown characters (and `<` of mention, channel, emoji and timestamp syntax, `:` of bare
# links): a backslash before any of them shows it literally.
_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()<:+])")
_LIST_NUMBER = re.compile(r"^(\s*\d+)\.")


def escape_markdown(text: str) -> str:
    """Board text that Discord shows exactly as written: markdown characters backslashed
    (bold, italics, strike, code, spoilers, quotes, headings, lists, masked links,
    `<@id>`/`<#id>`/`<@&id>` mentions, `https://` auto-links), a zero-width space after every
    `@` (no @everyone/@here), bidirectional overrides dropped."""
    text = _MARKDOWN.sub(r"\\\1", drop_bidi(text))
    return _LIST_NUMBER.sub(r"\1\\.", text).replace("@", "@\u200b")


def _field(name: str, raw: str | None, limit: int, inline: bool = True) -> dict[str, Any] | None:
    if raw is None or not raw.strip():
        return None
    return {"name": name, "value": fit(raw.strip(), limit, escape_markdown), "inline": inline}


def embed(change: Change) -> dict[str, Any]:
    """One change as an embed: '<New|Updated|Removed>: <title>' linked to the posting,
    colored by kind, with company, locations, remote, salary and board fields, the time of
    the change and, for a new or updated posting, an excerpt of its description as Markdown;
    every part within its Discord limit, the whole within EMBED_MAX."""
    p = change.posting
    prefix = f"{KIND_LABEL[change.kind]}: "
    title = prefix + fit(p.title.strip() or "(untitled)", _TITLE - units(prefix),
                         escape_markdown)
    about = [x for x in (p.department,
                         None if p.employment_type is EmploymentType.UNKNOWN
                         else p.employment_type.value.replace("_", " "))
             if x and x.strip()]
    if change.kind is ChangeKind.REMOVED:
        about.append("No longer listed on the board.")
    fields = [f for f in (
        _field("Company", p.company, _COMPANY),
        _field("Locations", ", ".join(p.locations), _LOCATIONS, inline=False),
        _field("Remote", REMOTE_LABEL[p.remote], 16),
        _field("Salary", _salary(p.salary), _SALARY),
        _field("Board", p.board, _BOARD),
    ) if f is not None]
    out: dict[str, Any] = {"title": title, "color": COLORS[change.kind], "fields": fields}
    if about:
        out["description"] = fit(" · ".join(a.strip() for a in about), _DESCRIPTION,
                                 escape_markdown)
    if url := link_url(p.url or p.apply_url):
        out["url"] = url
    when = change.created_at
    out["timestamp"] = (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()
    # the idempotency key last, so a consumer of the channel can de-duplicate
    key = f" · {change.idempotency_key}"
    out["footer"] = {"text": fit(f"jobscrape · {change.source} · {change.target}",
                                 _FOOTER - units(key), drop_bidi) + key}
    if change.kind is not ChangeKind.REMOVED and p.description_html:
        _add_excerpt(out, p.description_html)
    return out


def _add_excerpt(e: dict[str, Any], html: str) -> None:
    """The description's Markdown after the embed's description line, within what the embed
    leaves of EMBED_MAX (and EXCERPT_MAX); nothing when that is under EXCERPT_MIN."""
    head = e.get("description", "")
    sep = "\n\n" if head else ""
    room = min(EXCERPT_MAX, EMBED_MAX - embed_chars(e) - units(sep))
    if room < EXCERPT_MIN:
        return
    if excerpt := html_to_markdown(html, room):
        e["description"] = head + sep + excerpt


def embed_chars(e: dict[str, Any]) -> int:
    """The characters of an embed that count towards Discord's 6,000 per message."""
    n = units(e.get("title", "")) + units(e.get("description", ""))
    n += sum(units(f["name"]) + units(f["value"]) for f in e.get("fields", []))
    return n + units(e.get("footer", {}).get("text", "")) + units(
        e.get("author", {}).get("name", ""))


def message(embeds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The execute-webhook body for some embeds; mentions never parsed."""
    return {"embeds": list(embeds), "allowed_mentions": ALLOWED_MENTIONS}


def messages(changes: Sequence[Change]) -> list[tuple[list[Change], dict[str, Any]]]:
    """The changes in order, packed into as few messages as Discord's limits allow (at most
    10 embeds and 6,000 characters each), each with the changes it carries."""
    out: list[tuple[list[Change], dict[str, Any]]] = []
    batch: list[Change] = []
    embeds: list[dict[str, Any]] = []
    total = 0
    for change in changes:
        e = embed(change)
        size = embed_chars(e)
        if embeds and (len(embeds) == MAX_EMBEDS or total + size > MAX_TOTAL):
            out.append((batch, message(embeds)))
            batch, embeds, total = [], [], 0
        batch.append(change)
        embeds.append(e)
        total += size
    if embeds:
        out.append((batch, message(embeds)))
    return out
