"""Lever Postings API: `GET api.lever.co/v0/postings/{site}?mode=json&skip=0&limit=100`.

The body is a bare JSON array. Pages are read with skip/limit: a page that returns `limit`
postings is followed by the one at skip+limit. Boards hosted in Lever's EU region are read by
setting board.url to `https://api.eu.lever.co/v0/postings/{site}`: a board.url replaces the
endpoint, and the mode/skip/limit parameters it lacks are added. The token stays the site name
(it is part of every posting id), so there is no token syntax for the region.

The description is Lever's `description`, then each of `lists` as a heading and list, then
`additional`. `createdAt` is epoch milliseconds. `workplaceType` gives remote ("hybrid" counts
as not remote). `salaryRange.interval` is e.g. "per-year-salary". Lever names no company: the
company is the site name (the token). Without a `salaryRange`, the pay is read from the
`salaryDescriptionPlain` text when it states exactly one amount or range (boards.paytext).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.normalise import (
    as_dict,
    as_list,
    as_str,
    build_posting,
    describe,
    employment_type,
    endpoint,
    from_epoch_ms,
    load_json,
    make_salary,
    map_items,
    query_int,
    remote_from_text,
    remote_from_workplace,
    require_str,
    salary_period,
    section,
    set_query,
    unique,
)
from jobscrape.boards.paytext import salary_in_text
from jobscrape.postings import Posting

TYPE = "lever"
#: 2: the company is the site name, pay from the salary text (see boards.base.parser_version)
PARSER_VERSION = 2
PAGE_SIZE = 100


def first_url(board: BoardRef) -> str:
    """The first page of the site's postings."""
    return endpoint(
        board,
        lambda site: f"https://api.lever.co/v0/postings/{quote(site, safe='')}"
        f"?mode=json&skip=0&limit={PAGE_SIZE}",
        {"mode": "json", "skip": "0", "limit": str(PAGE_SIZE)},
    )


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """The postings of one page, and the next page's URL when this page was full."""
    doc = load_json(body, TYPE)
    if not isinstance(doc, list):
        raise ParseError(f"{TYPE}: expected a JSON array of postings, got {type(doc).__name__}")
    return map_items(doc, lambda item: _posting(item, board), f"{TYPE}: postings",
                     next_url=_next_url(url, len(doc)))


def _next_url(url: str, count: int) -> str | None:
    limit = query_int(url, "limit")
    if not limit or count < limit:
        return None
    return set_query(url, skip=(query_int(url, "skip") or 0) + limit)


def _posting(item: Mapping[str, Any], board: BoardRef) -> Posting:
    categories = as_dict(item.get("categories"))
    locations = unique([*as_list(categories.get("allLocations")), categories.get("location")])
    remote = remote_from_workplace(item.get("workplaceType")) or remote_from_text(*locations)
    pay = as_dict(item.get("salaryRange"))
    body_html, body_text = describe(_description(item))
    return build_posting(
        board, TYPE, require_str(item, "id"), require_str(item, "text"),
        url=as_str(item.get("hostedUrl")),
        apply_url=as_str(item.get("applyUrl")),
        company=board.token or None,
        department=as_str(categories.get("department")) or as_str(categories.get("team")),
        locations=locations,
        remote=remote,
        employment_type=employment_type(categories.get("commitment")),
        salary=make_salary(
            pay.get("min"), pay.get("max"), pay.get("currency"), salary_period(pay.get("interval"))
        ) or salary_in_text(as_str(item.get("salaryDescriptionPlain")) or ""),
        posted_at=from_epoch_ms(item.get("createdAt")),
        description_html=body_html,
        description_text=body_text,
    )


def _description(item: Mapping[str, Any]) -> str:
    parts = [as_str(item.get("description")) or ""]
    for entry in map(as_dict, as_list(item.get("lists"))):
        content = as_str(entry.get("content"))
        if content:
            parts.append(section(as_str(entry.get("text")), f"<ul>{content}</ul>"))
    parts.append(as_str(item.get("additional")) or "")
    return "".join(parts)
