"""RSS 2.0 and Atom job feeds (e.g. We Work Remotely), read with feedparser.

board.url is the feed (required). The body is handed to feedparser as a stream, so it never
fetches or opens anything itself. Sloppy but complete feeds are read leniently; a feed that
is not well-formed *and* does not end with its closing root tag is taken as truncated and is a
ParseError (reading it leniently would silently lose the postings after the cut).

Mapping: the id is the entry's guid/id, else its link. Job feeds often title items
`Company: Title`; without an author, such a title is split at the first ": ". The first
category is the department; a `<region>` element (We Work Remotely) is the location; a
`<type>` element the employment type. Remote is guessed from title and region ("Remote",
"Anywhere in the World"). Items without a title are skipped.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any
from xml.sax import SAXParseException

import feedparser

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.normalise import (
    UNEXPECTED,
    as_dict,
    as_list,
    as_str,
    build_posting,
    describe,
    employment_type,
    from_struct_time,
    map_items,
    remote_from_text,
    unique,
)
from jobscrape.postings import Posting

TYPE = "feed"
# The closing tag of an RSS, Atom or RDF document, at the very end of the body.
_CLOSED = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>\s*\Z", re.IGNORECASE)


def first_url(board: BoardRef) -> str:
    """The feed named by board.url; ValueError when it is not set."""
    if not board.url:
        raise ValueError(f"board {board.name!r} ({TYPE}): url is required")
    return board.url


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """Every titled entry of the feed (feeds do not page)."""
    try:
        result = feedparser.parse(
            io.BytesIO(body), response_headers={"content-location": url}, sanitize_html=False
        )
    except UNEXPECTED as e:
        raise ParseError(f"{TYPE}: body could not be read as a feed: {e}") from None
    error = result.get("bozo_exception")
    if not result.get("version") and not result.get("entries"):
        reason = f": {error}" if error else ""
        raise ParseError(f"{TYPE}: body is not an RSS or Atom feed{reason}")
    if isinstance(error, SAXParseException) and not _CLOSED.search(body[-512:]):
        raise ParseError(f"{TYPE}: feed is truncated or not well-formed XML: {error}")
    entries = [e for e in as_list(result.get("entries")) if as_str(as_dict(e).get("title"))]
    return map_items(entries, lambda entry: _posting(entry, board), f"{TYPE}: entries")


def _posting(entry: Mapping[str, Any], board: BoardRef) -> Posting:
    title = as_str(entry.get("title")) or ""
    company = as_str(entry.get("author"))
    if company is None and ": " in title:
        head, tail = title.split(": ", 1)
        if head.strip() and tail.strip():
            company, title = head.strip(), tail
    link = as_str(entry.get("link"))
    source_id = as_str(entry.get("id")) or link or title
    region = as_str(entry.get("region"))
    tags = [as_str(as_dict(t).get("term")) for t in as_list(entry.get("tags"))]
    content = [as_str(as_dict(c).get("value")) for c in as_list(entry.get("content"))]
    body_html, body_text = describe(next((c for c in content if c), None) or as_str(
        entry.get("summary")
    ))
    return build_posting(
        board, TYPE, source_id, title,
        url=link,
        company=company,
        department=next((t for t in tags if t), None),
        locations=unique([region]),
        remote=remote_from_text(title, region),
        employment_type=employment_type(entry.get("type")),
        posted_at=from_struct_time(entry.get("published_parsed"))
        or from_struct_time(_own(entry, "updated_parsed")),
        updated_at=from_struct_time(_own(entry, "updated_parsed")),
        description_html=body_html,
        description_text=body_text,
    )


def _own(entry: Mapping[str, Any], key: str) -> object:
    """The entry's own value for key, without feedparser's fallbacks (updated -> published)."""
    return dict.get(entry, key) if isinstance(entry, dict) else None
