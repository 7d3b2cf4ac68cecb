"""The Muse public jobs API: `GET www.themuse.com/api/public/jobs?page=N`.

An aggregator: unfiltered, the API lists every job The Muse has (312,784 jobs in 15,640 pages of
20 in the March 2024 capture), and not newest first. The board token is a free label that names
the board in posting ids. A board.url override replaces the endpoint, typically to add The
Muse's own query filters (an `api_key` there is a secret: it never reaches a posting); `page=0`
is added when it lacks a page.

Pages are numbered from 0; `page_count` says how many there are. The next page is read while
page + 1 < page_count, the page had results, and page + 1 < MAX_PAGES: a board reads at most
MAX_PAGES pages of 20 jobs. Without a filter narrow enough to fit, the board is
that window of The Muse's list, and a job that leaves the window counts as removed. (The API
allows 500 requests an hour without a key.)

Mapping: `id` is the source id, `name` the title, `refs.landing_page` the job page, `company.name`
the company, the first `categories[].name` (but "Unknown") the department, `locations[].name`
the locations, `publication_date` the posting time, `contents` (HTML) the description. Remote is
TRUE when a location is "Flexible / Remote" (or otherwise says remote), FALSE when one says
hybrid or on-site, else UNKNOWN: a city alone does not say the job is not remote. `levels` is
seniority, not an employment type: there is no employment type and no salary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobscrape.boards.base import BoardRef, Page
from jobscrape.boards.normalise import (
    as_dict,
    as_list,
    as_str,
    build_posting,
    describe,
    load_json,
    map_items,
    merge_query,
    parse_datetime,
    query_int,
    remote_from_text,
    require_list,
    require_str,
    set_query,
    unique,
)
from jobscrape.postings import Posting

TYPE = "themuse"
DEFAULT_URL = "https://www.themuse.com/api/public/jobs?page=0"
#: The most pages a board reads (page numbers 0 to MAX_PAGES - 1): 400 jobs of The Muse's
#: 300,000, in 20 of the 500 requests an hour the API allows without a key.
MAX_PAGES = 20


def first_url(board: BoardRef) -> str:
    """Page 0 of the jobs (board.url when set, with `page=0` unless it names a page)."""
    return merge_query(board.url, {"page": "0"}) if board.url else DEFAULT_URL


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """The jobs of one page, and the next page's URL while pages are left under the cap."""
    doc = load_json(body, TYPE)
    results = require_list(doc, "results", TYPE)
    return map_items(results, lambda item: _posting(item, board), f"{TYPE}: results",
                     next_url=_next_url(doc, url, len(results)))


def _next_url(doc: Mapping[str, Any], url: str, count: int) -> str | None:
    page = doc.get("page")
    if not isinstance(page, int) or isinstance(page, bool) or page < 0:
        page = query_int(url, "page") or 0
    total = doc.get("page_count")
    if not isinstance(total, int) or isinstance(total, bool) or count == 0:
        return None
    if page + 1 >= min(total, MAX_PAGES):
        return None
    return set_query(url, page=page + 1)


def _posting(item: Mapping[str, Any], board: BoardRef) -> Posting:
    locations = unique(as_dict(loc).get("name") for loc in as_list(item.get("locations")))
    categories = [as_str(as_dict(c).get("name")) for c in as_list(item.get("categories"))]
    department = next((c for c in categories if c), None)
    body_html, body_text = describe(as_str(item.get("contents")))
    return build_posting(
        board, TYPE, require_str(item, "id"), require_str(item, "name"),
        url=as_str(as_dict(item.get("refs")).get("landing_page")),
        company=as_str(as_dict(item.get("company")).get("name")),
        department=None if department == "Unknown" else department,
        locations=locations,
        remote=remote_from_text(*locations),
        posted_at=parse_datetime(item.get("publication_date")),
        description_html=body_html,
        description_text=body_text,
    )
