"""Arbeitnow job board API: `GET www.arbeitnow.com/api/job-board-api?page=N`.

An aggregator: the whole board is every job Arbeitnow lists (mostly Germany), newest first. The
board token is a free label that names the board in posting ids. A board.url override replaces
the endpoint (e.g. a mirror) and is used as is.

Pages are read by following `links.next` until it is null (or a page has no jobs). The link
is followed as given when it is on the host of the page that named it; a link to another host
(a mirror serving a captured page) is not: its page number is set on this page's URL instead,
so the board never leaves the host it was configured with. A link that names no page there,
or the page just read, ends the board. `meta.per_page` was 100 in 2024 and 250 in 2026.

Mapping: `slug` is the source id, `url` the job page and its apply link, `company_name` the
company, `location` the only location, `created_at` (Unix seconds) the posting time.
`description` is HTML, sometimes entity-escaped ("&lt;p&gt;"): then it is unescaped once.
Remote is TRUE when the `remote` flag is, the location says so (the flag is false for a job
located "Remote") or a tag is "Remote"; else FALSE when the flag is false. `job_types` (free
text) mixes employment types ("Full time", "Working student", "Internship") with seniority
("berufserfahren", "professional / experienced"): a list naming no employment type leaves it
UNKNOWN. There is no salary and no department; tags are not kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from jobscrape.boards.base import BoardRef, Page
from jobscrape.boards.normalise import (
    as_dict,
    as_list,
    as_str,
    build_posting,
    describe,
    employment_type,
    from_epoch_ms,
    load_json,
    map_items,
    merge_query,
    query_int,
    remote_from_text,
    require_list,
    require_str,
    set_query,
    unescape_once,
    unique,
)
from jobscrape.postings import EmploymentType, Posting, Remote, safe_url

TYPE = "arbeitnow"
DEFAULT_URL = "https://www.arbeitnow.com/api/job-board-api?page=1"


def first_url(board: BoardRef) -> str:
    """The first page of the board (board.url when set; the token is only a label)."""
    return merge_query(board.url, {}) if board.url else DEFAULT_URL


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """The jobs of one page, and the next page's URL while `links.next` names one."""
    doc = load_json(body, TYPE)
    data = require_list(doc, "data", TYPE)
    next_url = _next_url(as_dict(doc.get("links")).get("next"), url) if data else None
    return map_items(data, lambda item: _posting(item, board), f"{TYPE}: data",
                     next_url=next_url)


def _next_url(link: object, url: str) -> str | None:
    """links.next as the URL to fetch: as given on this page's host, else its page number set
    on this page's URL; None at the end, for a link that is not a web URL, and for a link
    back to this very page."""
    target = safe_url(as_str(link))
    if target is None:
        return None
    here, there = urlsplit(url), urlsplit(target)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        moved = query_int(target, "page")
        if moved is None:
            return None
        target = set_query(url, page=moved)
    page, this_page = query_int(target, "page"), query_int(url, "page")
    if target == url or (page is not None and page == this_page):
        return None
    return target


def _posting(item: Mapping[str, Any], board: BoardRef) -> Posting:
    location = as_str(item.get("location"))
    description = as_str(item.get("description"))
    if description and "<" not in description and "&lt;" in description:
        description = unescape_once(description)
    body_html, body_text = describe(description)
    url = as_str(item.get("url"))
    created = item.get("created_at")
    return build_posting(
        board, TYPE, require_str(item, "slug"), require_str(item, "title"),
        url=url,
        apply_url=url,
        company=as_str(item.get("company_name")),
        locations=unique([location]),
        remote=_remote(item.get("remote"), location, item.get("tags")),
        employment_type=_employment(item.get("job_types")),
        posted_at=from_epoch_ms(created * 1000)
        if isinstance(created, int | float) and not isinstance(created, bool) else None,
        description_html=body_html,
        description_text=body_text,
    )


def _remote(flag: object, location: str | None, tags: object) -> Remote:
    """TRUE when the flag is true, the location says remote or a tag is "Remote"; FALSE when
    the flag is false (or the location says hybrid/on-site); else UNKNOWN."""
    by_text = remote_from_text(location)
    tagged = any(isinstance(t, str) and t.strip().lower() == "remote" for t in as_list(tags))
    if flag is True or by_text is Remote.TRUE or tagged:
        return Remote.TRUE
    if flag is False:
        return Remote.FALSE
    return by_text


def _employment(job_types: object) -> EmploymentType:
    """The employment type the job types name; UNKNOWN when they only give seniority."""
    kind = employment_type(as_list(job_types))
    return EmploymentType.UNKNOWN if kind is EmploymentType.OTHER else kind
