"""Teamtailor career site feeds: `GET {company}.teamtailor.com/jobs.rss` (default) or
`/jobs.json`, told apart by the body (a JSON body starts with "{").

Either feed holds the whole board (Teamtailor does not page them). The default is jobs.rss:
it carries every field jobs.json has plus the department, the remote status and structured
locations, and its channel title names the company. A board.url override replaces the
endpoint (a custom careers domain, or jobs.json).

RSS 2.0 (read with defusedxml): the id is `guid` (the job's uuid, the same as jobs.json's
`id`, so a board keeps its ids when switched between feeds), else `link`. `link` is both the
job page and the apply URL; `description` is HTML, escaped once in the XML; `pubDate` is
RFC 822. `remoteStatus` none/hybrid/fully is not remote/not remote (hybrid needs presence)/
remote; another value or none at all leaves remote to the location names (else unknown).
Locations are `tt:locations/tt:location` (namespace https://teamtailor.com/locations), each
its `tt:city` and `tt:country`, else its `tt:name`; `tt:department` is the department.
The company is the channel's `title`, else the board token.

JSON Feed 1.1: `items[]` with `id` (uuid), `title`, `url` (job page and apply URL),
`date_published`, `content_html`, and `_jobposting`, a schema.org JobPosting whose
`jobLocation[].address` gives the locations (addressLocality and addressCountry: Teamtailor
puts its own region groups, "Europe", in addressRegion, so that is left out) and whose
`hiringOrganization` names the company (else the feed's `title`, else the board token). This
feed has no department and no remote status: remote is guessed from the location names.
Neither feed carries pay or an employment type.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.normalise import (
    UNEXPECTED,
    as_dict,
    as_list,
    as_str,
    build_posting,
    describe,
    endpoint,
    host_label,
    join_parts,
    load_json,
    map_items,
    parse_datetime,
    remote_from_text,
    require_list,
    require_str,
    unique,
)
from jobscrape.postings import Posting, Remote

TYPE = "teamtailor"
TT = "{https://teamtailor.com/locations}"
_REMOTE_STATUS = {"none": Remote.FALSE, "hybrid": Remote.FALSE, "fully": Remote.TRUE}


def first_url(board: BoardRef) -> str:
    """The career site's RSS feed of its jobs."""
    return endpoint(board, lambda _: f"https://{host_label(board)}.teamtailor.com/jobs.rss")


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All jobs of the feed, RSS or JSON Feed whichever the body is (neither pages)."""
    head = body[:1024].lstrip()
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8):].lstrip()
    if head.startswith((b"{", b"[")):
        return _parse_json(body, board)
    return _parse_rss(body, board)


# ----------------------------------------------------------------------------- RSS


def _parse_rss(body: bytes, board: BoardRef) -> Page:
    try:
        root = fromstring(body)
    except (XmlParseError, DefusedXmlException, *UNEXPECTED, LookupError) as e:
        raise ParseError(f"{TYPE}: body is neither JSON nor valid XML: {e}") from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ParseError(f"{TYPE}: expected an RSS document with a channel, got <{root.tag}>")
    company = _text(channel, "title") or board.token or None
    return map_items(channel.findall("item"), lambda item: _rss_posting(item, board, company),
                     f"{TYPE}: item", objects_only=False)


def _text(element: Element, path: str) -> str | None:
    found = element.find(path)
    return as_str(found.text) if found is not None else None


def _rss_posting(item: Element, board: BoardRef, company: str | None) -> Posting:
    link = _text(item, "link")
    source_id = _text(item, "guid") or link
    title = _text(item, "title")
    if source_id is None:
        raise ParseError("guid and link are missing")
    if title is None:
        raise ParseError("title is missing")
    locations = unique(
        join_parts(_text(loc, f"{TT}city"), _text(loc, f"{TT}country")) or _text(loc, f"{TT}name")
        for loc in item.findall(f"{TT}locations/{TT}location")
    )
    status = (_text(item, "remoteStatus") or "").lower()
    body_html, body_text = describe(_text(item, "description"))
    return build_posting(
        board, TYPE, source_id, title,
        url=link,
        apply_url=link,
        company=company,
        department=_text(item, f"{TT}department"),
        locations=locations,
        remote=_REMOTE_STATUS.get(status) or remote_from_text(*locations),
        posted_at=_rfc822(_text(item, "pubDate")),
        description_html=body_html,
        description_text=body_text,
    )


def _rfc822(value: str | None) -> datetime | None:
    """An RFC 822 date ("Tue, 08 Sep 2026 19:07:00 +0200") as aware UTC; None when absent or
    unreadable. A date without a zone ("-0000") is taken as UTC."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except UNEXPECTED:
        return None


# ----------------------------------------------------------------------------- JSON Feed


def _parse_json(body: bytes, board: BoardRef) -> Page:
    doc = load_json(body, TYPE)
    items = require_list(doc, "items", TYPE)
    company = as_str(doc.get("title")) or board.token or None
    return map_items(items, lambda item: _json_posting(item, board, company), f"{TYPE}: items")


def _json_posting(item: Mapping[str, Any], board: BoardRef, company: str | None) -> Posting:
    job = as_dict(item.get("_jobposting"))
    locations = unique(
        join_parts(address.get("addressLocality"), address.get("addressCountry"))
        for address in (as_dict(as_dict(place).get("address"))
                        for place in as_list(job.get("jobLocation")))
    )
    url = as_str(item.get("url"))
    body_html, body_text = describe(as_str(item.get("content_html")))
    return build_posting(
        board, TYPE, require_str(item, "id"), require_str(item, "title"),
        url=url,
        apply_url=url,
        company=_organisation(job.get("hiringOrganization")) or company,
        locations=locations,
        remote=remote_from_text(*locations),
        posted_at=parse_datetime(item.get("date_published")) or parse_datetime(
            job.get("datePosted")
        ),
        description_html=body_html,
        description_text=body_text,
    )


def _organisation(value: object) -> str | None:
    """A schema.org Organization's name, or the text itself when the value is text."""
    return as_str(value.get("name")) if isinstance(value, dict) else as_str(value)
