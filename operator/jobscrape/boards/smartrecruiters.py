"""SmartRecruiters Posting API:
`GET api.smartrecruiters.com/v1/companies/{id}/postings?offset=0&limit=100`.

Pages are read with offset/limit until offset + count reaches `totalFound`; the next page's
URL is this page's URL with `offset` moved on by the number of postings received. The list
carries no description or pay. The public job page is
`https://jobs.smartrecruiters.com/{company identifier}/{posting id}`. An unknown company
answers 200 with `totalFound: 0`, which is an empty board here. A board.url override replaces
the endpoint; the offset/limit parameters it lacks are added.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from jobscrape.boards.base import BoardRef, Page
from jobscrape.boards.normalise import (
    as_dict,
    as_str,
    build_posting,
    employment_type,
    endpoint,
    join_parts,
    load_json,
    map_items,
    parse_datetime,
    query_int,
    remote_from_flag,
    require_list,
    require_str,
    set_query,
    unique,
)
from jobscrape.postings import Posting, Remote

TYPE = "smartrecruiters"
PAGE_SIZE = 100  # the API's maximum


def first_url(board: BoardRef) -> str:
    """The first page of the company's postings."""
    return endpoint(
        board,
        lambda cid: f"https://api.smartrecruiters.com/v1/companies/{quote(cid, safe='')}"
        f"/postings?offset=0&limit={PAGE_SIZE}",
        {"offset": "0", "limit": str(PAGE_SIZE)},
    )


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """The postings of one page, and the next page's URL while more are left."""
    doc = load_json(body, TYPE)
    content = require_list(doc, "content", TYPE)
    return map_items(content, lambda item: _posting(item, board), f"{TYPE}: content",
                     next_url=_next_url(doc, url, len(content)))


def _next_url(doc: Mapping[str, Any], url: str, count: int) -> str | None:
    total = doc.get("totalFound")
    offset = doc.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        offset = query_int(url, "offset") or 0
    if not isinstance(total, int) or isinstance(total, bool) or count == 0:
        return None
    if offset + count >= total:
        return None
    return set_query(url, offset=offset + count)


def _posting(item: Mapping[str, Any], board: BoardRef) -> Posting:
    posting_id = require_str(item, "id")
    company = as_dict(item.get("company"))
    location = as_dict(item.get("location"))
    place = as_str(location.get("fullLocation")) or join_parts(
        location.get("city"), location.get("region"), location.get("country")
    )
    remote = remote_from_flag(location.get("remote"))
    if remote is Remote.UNKNOWN and location.get("hybrid") is True:
        remote = Remote.FALSE
    kind = as_dict(item.get("typeOfEmployment"))
    department = as_str(as_dict(item.get("department")).get("label"))
    function = as_str(as_dict(item.get("function")).get("label"))
    slug = as_str(company.get("identifier")) or board.token
    return build_posting(
        board, TYPE, posting_id, require_str(item, "name"),
        url=f"https://jobs.smartrecruiters.com/{quote(slug, safe='')}/{quote(posting_id, safe='')}"
        if slug else None,
        company=as_str(company.get("name")),
        department=department or function,
        locations=unique([place]),
        remote=remote,
        employment_type=employment_type(kind.get("label"), kind.get("id")),
        posted_at=parse_datetime(item.get("releasedDate")),
    )
