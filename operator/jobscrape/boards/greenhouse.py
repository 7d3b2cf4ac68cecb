"""Greenhouse Job Board API: `GET boards-api.greenhouse.io/v1/boards/{token}/jobs?content=true`.

One page holds every job. `content` is entity-escaped HTML: it is unescaped once, then
sanitised. `pay_input_ranges` (when present) are in cents; the pay period is the one their
`title` and `blurb` name ("Annual base salary", "... per hour"), else unknown. The list has
no remote flag, so remote is guessed from the location names ("Remote", "Hybrid - London").
A board.url override replaces the endpoint; `content=true` is added when it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from jobscrape.boards.base import BoardRef, Page
from jobscrape.boards.normalise import (
    as_dict,
    as_list,
    as_str,
    build_posting,
    describe,
    endpoint,
    load_json,
    make_salary,
    map_items,
    parse_datetime,
    period_in_text,
    remote_from_text,
    require_list,
    require_str,
    unescape_once,
    unique,
)
from jobscrape.postings import Posting, Salary

TYPE = "greenhouse"
#: 2: pay periods read from the ranges' labels (see boards.base.parser_version)
PARSER_VERSION = 2


def first_url(board: BoardRef) -> str:
    """The board's job list, with content."""
    return endpoint(
        board,
        lambda token: f"https://boards-api.greenhouse.io/v1/boards/{quote(token, safe='')}"
        "/jobs?content=true",
        {"content": "true"},
    )


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All postings of the board (Greenhouse does not page)."""
    jobs = require_list(load_json(body, TYPE), "jobs", TYPE)
    return map_items(jobs, lambda job: _posting(job, board), f"{TYPE}: jobs")


def _posting(job: Mapping[str, Any], board: BoardRef) -> Posting:
    location = as_str(as_dict(job.get("location")).get("name"))
    offices = [
        as_str(office.get("location")) or as_str(office.get("name"))
        for office in map(as_dict, as_list(job.get("offices")))
    ]
    locations = unique([location, *offices])
    departments = [as_str(as_dict(d).get("name")) for d in as_list(job.get("departments"))]
    content = job.get("content")
    body_html, body_text = describe(unescape_once(content) if isinstance(content, str) else None)
    url = as_str(job.get("absolute_url"))
    return build_posting(
        board, TYPE, require_str(job, "id"), require_str(job, "title"),
        url=url,
        company=as_str(job.get("company_name")),
        department=next((d for d in departments if d), None),
        locations=locations,
        remote=remote_from_text(*locations),
        salary=_salary(job.get("pay_input_ranges")),
        posted_at=parse_datetime(job.get("first_published")),
        updated_at=parse_datetime(job.get("updated_at")),
        description_html=body_html,
        description_text=body_text,
    )


def _salary(ranges: object) -> Salary | None:
    """The widest span of the pay ranges that share the first range's currency and pay
    period (cents → units; an hourly range never widens an annual one)."""
    salaries = [
        make_salary(r.get("min_cents"), r.get("max_cents"), r.get("currency_type"),
                    period_in_text(r.get("title"), r.get("blurb")), scale=100)
        for r in map(as_dict, as_list(ranges))
    ]
    salaries = [s for s in salaries if s is not None]
    if not salaries:
        return None
    first = salaries[0]
    same = [s for s in salaries if (s.currency, s.period) == (first.currency, first.period)]
    lows = [s.min for s in same if s.min is not None]
    highs = [s.max for s in same if s.max is not None]
    return Salary(
        min=min(lows) if lows else None,
        max=max(highs) if highs else None,
        currency=first.currency,
        period=first.period,
    )
