"""Workday career sites: `POST {tenant}.wd{N}.myworkdayjobs.com/wday/cxs/{tenant}/{site}/jobs`.

The token is `{tenant}.wd{N}/{site}` (TOKEN_PATTERN), e.g. `nvidia.wd5/NVIDIAExternalCareerSite`.
The list is a POST of `{"appliedFacets":{},"limit":20,"offset":N,"searchText":""}`: 20 is the
largest page some tenants accept. Paging is by offset: the next page is asked for while
offset + 20 < `total`, where `total` is the *first* page's (later pages' totals are not to be
trusted, Workday sends 0 there), carried from page to page in the request; an empty page ends
the board, and so does a page short of 20 when the first page had no total. A board.url
override replaces the list endpoint (it is POSTed to as is); the token is then only checked
where it builds something (the job page), and otherwise just names the postings.

A list item has `title`, `externalPath` (e.g. `/job/Israel-Yokneam/Test-Engineer_JR2021705`),
`locationsText` ("Kocaeli, Kocaeli, Turkey", or "3 Locations" when there are several: that is
not a place and is dropped), `postedOn` (relative text such as "Posted 30+ Days Ago": not made
a date, which would take the clock and "30+" is only a bound), `bulletFields` (the first is the
requisition id; a tenant without locationsText has the city in the second, which is then
the location) and sometimes `remoteType`. The posting id is the externalPath: the one
identifier every list item has (the requisition id is in the detail only, and one requisition
can be posted under several paths, `..._R0089483-1`). The job page, which is where one applies,
is `https://{tenant}.wd{N}.myworkdayjobs.com/{site}{externalPath}`, built from the token.

The detail is `GET .../{site}{externalPath}` (the list URL with its last segment, `jobs`,
replaced by the externalPath, which starts with `/job/`; relative to a board.url override
too). It adds
`jobPostingInfo.jobDescription` (HTML), `location` and `additionalLocations`, `country`,
`remoteType`, `timeType` (the employment type), `startDate` (YYYY-MM-DD: the posting date),
`externalUrl` (the job page and apply URL; no apply URL when `canApply` is false) and
`hiringOrganization.name` (the legal entity: the company). There is no department and no
structured pay. A detail URL is only built for an externalPath that is a plain path, and must
stay on the list's host.

A tenant down for maintenance answers an HTML page where JSON is expected: a ParseError saying
so, so that its board alone is Failing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from jobscrape.boards.base import BoardRef, Page, ParseError, Request
from jobscrape.boards.normalise import (
    as_dict,
    as_list,
    as_str,
    build_posting,
    describe,
    employment_type,
    endpoint,
    load_json,
    map_items,
    parse_datetime,
    remote_from_text,
    remote_from_workplace,
    require_list,
    require_str,
    unique,
)
from jobscrape.postings import Posting, Remote, safe_url

TYPE = "workday"
PAGE_SIZE = 20  # the largest page every tenant accepts
#: What a workday token looks like: `{tenant}.wd{N}/{site}`.
TOKEN_PATTERN = r"[a-z0-9][a-z0-9-]*\.wd[0-9]{1,3}/[A-Za-z0-9_-]+"
OUTAGE = "workday: the tenant answered an HTML page instead of JSON (outage or maintenance?)"

_TOKEN = re.compile(TOKEN_PATTERN)
_SEVERAL = re.compile(r"\d+\s+locations?", re.IGNORECASE)  # "3 Locations"
_PATH_SAFE = "/-._~!$&'()*+,;=:@%"
_BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"


def _parts(token: str) -> tuple[str, str, str] | None:
    """(tenant, data centre number, site) of a token, or None when it is not one."""
    if not _TOKEN.fullmatch(token):
        return None
    host, site = token.split("/", 1)
    tenant, wd = host.split(".", 1)
    return tenant, wd[2:], site


def _token(board: BoardRef) -> tuple[str, str, str]:
    """The token's parts; ValueError naming the board when it is not `{tenant}.wd{N}/{site}`."""
    parts = _parts(board.token)
    if parts is None:
        raise ValueError(
            f"board {board.name!r} ({TYPE}): token {board.token!r} must look like "
            "TENANT.wdN/SITE (e.g. nvidia.wd5/NVIDIAExternalCareerSite)"
        )
    return parts


def first_url(board: BoardRef) -> str:
    """The site's list endpoint (POSTed to): board.url, else built from the token."""

    def default(_: str) -> str:
        tenant, n, site = _token(board)
        return f"https://{tenant}.wd{n}.myworkdayjobs.com/wday/cxs/{tenant}/{site}/jobs"

    return endpoint(board, default)


def _list_body(offset: int) -> dict[str, Any]:
    return {"appliedFacets": {}, "limit": PAGE_SIZE, "offset": offset, "searchText": ""}


def first_request(board: BoardRef) -> Request:
    """The POST of the first page (offset 0)."""
    return Request(first_url(board), "POST", _list_body(0))


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """A list page taken as the first one (offset 0) of the site at `url`."""
    return parse_response(body, board, Request(url, "POST", _list_body(0)))


def parse_response(body: bytes, board: BoardRef, request: Request) -> Page:
    """The postings of one list page, and the request for the next page while more are left
    (see the module's description)."""
    doc = _load(body)
    items = require_list(doc, "jobPostings", TYPE)
    offset = _count(as_dict(request.json_body).get("offset")) or 0
    carried = as_dict(request.carry)
    total = _count(carried.get("total")) if "total" in carried else _count(doc.get("total"))
    page = map_items(items, lambda item: _posting(item, board), f"{TYPE}: jobPostings")
    more = bool(items) and (offset + PAGE_SIZE < total if total is not None
                            else len(items) >= PAGE_SIZE)
    if not more:
        return page
    return replace(page, next_request=Request(
        request.url, "POST", _list_body(offset + PAGE_SIZE),
        None if total is None else {"total": total}))


def _load(body: bytes) -> Any:
    """The JSON document; ParseError saying so when the tenant sent an HTML page instead."""
    if body[:1024].lstrip(_BOM_AND_SPACE)[:1] == b"<":
        raise ParseError(OUTAGE)
    return load_json(body, TYPE)


def _count(value: object) -> int | None:
    """A non-negative integer, or None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _posting(item: Mapping[str, Any], board: BoardRef) -> Posting:
    path = require_str(item, "externalPath")
    text = as_str(item.get("locationsText"))
    if text is None:
        bullets = as_list(item.get("bulletFields"))
        text = as_str(bullets[1]) if len(bullets) > 1 else None
    locations = unique([text]) if text and not _SEVERAL.fullmatch(text) else ()
    url = _job_page(board, path)
    return build_posting(
        board, TYPE, path, require_str(item, "title"),
        url=url,
        apply_url=url,
        locations=locations,
        remote=remote_from_workplace(item.get("remoteType")) or remote_from_text(*locations),
    )


def _plain_path(path: str) -> str | None:
    """The externalPath quoted for a URL; None unless it is a plain absolute path (no query,
    fragment, backslash or white space, no "." or ".." segment, which would climb out of the
    site)."""
    if not path.startswith("/") or any(c.isspace() or c in "?#\\" for c in path):
        return None
    if any(unquote(segment) in (".", "..") for segment in path.split("/")):
        return None
    return quote(path, safe=_PATH_SAFE)


def _job_page(board: BoardRef, path: str) -> str | None:
    """The public job page, from the token; None without a valid token or path."""
    parts = _parts(board.token)
    quoted = _plain_path(path)
    if parts is None or quoted is None:
        return None
    tenant, n, site = parts
    return f"https://{tenant}.wd{n}.myworkdayjobs.com/{site}{quoted}"


def detail_url(posting: Posting, board: BoardRef) -> str | None:
    """The posting's detail: its externalPath (the source id) in place of the list URL's last
    segment; None when the path is not a plain one or would leave the list's host."""
    quoted = _plain_path(posting.source_id)
    if quoted is None:
        return None
    try:
        base = first_url(board)
    except ValueError:
        return None
    url = urljoin(base, "." + quoted)
    there, here = urlsplit(url), urlsplit(base)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        return None
    return url


def parse_detail(body: bytes, posting: Posting, board: BoardRef) -> Posting:
    """The posting completed from its detail (see the module's description): the detail's
    fields where it has them, the list's elsewhere; the id stays the list's."""
    doc = _load(body)
    if not isinstance(doc, dict):
        raise ParseError(f"{TYPE}: expected a JSON object, got {type(doc).__name__}")
    info = doc.get("jobPostingInfo")
    if not isinstance(info, dict):
        raise ParseError(f"{TYPE}: expected an object under 'jobPostingInfo'")
    locations = unique([info.get("location"), *as_list(info.get("additionalLocations"))])
    if not locations:
        locations = posting.locations or unique(
            [as_dict(info.get("country")).get("descriptor")])
    remote = remote_from_workplace(info.get("remoteType"))
    if remote is None:
        remote = posting.remote if posting.remote is not Remote.UNKNOWN else remote_from_text(
            *locations)
    kind = employment_type(info.get("timeType"))
    url = safe_url(as_str(info.get("externalUrl"))) or posting.url
    content = info.get("jobDescription")
    body_html, body_text = describe(content if isinstance(content, str) else None)
    return build_posting(
        board, TYPE, posting.source_id, as_str(info.get("title")) or posting.title,
        url=url,
        apply_url=None if info.get("canApply") is False else url,
        company=as_str(as_dict(doc.get("hiringOrganization")).get("name")) or posting.company,
        department=posting.department,
        locations=locations,
        remote=remote,
        employment_type=kind if info.get("timeType") is not None else posting.employment_type,
        salary=posting.salary,
        posted_at=parse_datetime(info.get("startDate")) or posting.posted_at,
        updated_at=posting.updated_at,
        description_html=body_html or posting.description_html,
        description_text=body_text or posting.description_text,
    )
