"""Workable widget API: `GET apply.workable.com/api/v1/widget/accounts/{sub}?details=true`.

One page holds every job. The id is the job's `shortcode`; `telecommuting` is the remote
flag; the account's `name` is the company. Locations come from `locations` (hidden ones
skipped), else from the job's own city/state/country. The widget carries no pay.
A board.url override replaces the endpoint; `details=true` is added when it is missing.
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
    employment_type,
    endpoint,
    join_parts,
    load_json,
    map_items,
    parse_datetime,
    remote_from_flag,
    require_list,
    require_str,
    unique,
)
from jobscrape.postings import Posting

TYPE = "workable"


def first_url(board: BoardRef) -> str:
    """The account's job list, with details."""
    return endpoint(
        board,
        lambda sub: f"https://apply.workable.com/api/v1/widget/accounts/{quote(sub, safe='')}"
        "?details=true",
        {"details": "true"},
    )


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All postings of the account (the widget does not page)."""
    doc = load_json(body, TYPE)
    jobs = require_list(doc, "jobs", TYPE)
    company = as_str(doc.get("name"))
    return map_items(jobs, lambda job: _posting(job, board, company), f"{TYPE}: jobs")


def _posting(job: Mapping[str, Any], board: BoardRef, company: str | None) -> Posting:
    places = [
        join_parts(loc.get("city"), loc.get("region"), loc.get("country"))
        for loc in map(as_dict, as_list(job.get("locations")))
        if loc.get("hidden") is not True
    ]
    if not any(places):
        places = [join_parts(job.get("city"), job.get("state"), job.get("country"))]
    body_html, body_text = describe(as_str(job.get("description")))
    return build_posting(
        board, TYPE, require_str(job, "shortcode"), require_str(job, "title"),
        url=as_str(job.get("url")) or as_str(job.get("shortlink")),
        apply_url=as_str(job.get("application_url")),
        company=company,
        department=as_str(job.get("department")),
        locations=unique(places),
        remote=remote_from_flag(job.get("telecommuting")),
        employment_type=employment_type(job.get("employment_type")),
        posted_at=parse_datetime(job.get("published_on")) or parse_datetime(job.get("created_at")),
        description_html=body_html,
        description_text=body_text,
    )
