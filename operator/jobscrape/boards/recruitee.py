"""Recruitee careers API: `GET {company}.recruitee.com/api/offers/`.

One page holds every offer. Salary bounds are strings ("3750"); dates read like
`2026-09-18 13:27:28 UTC`. The description is `description` followed by `requirements`.
Locations come from `locations` (city, state, country), else the offer's `location` text.
A board.url override replaces the endpoint (e.g. a custom careers domain).
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
    employment_type,
    endpoint,
    host_label,
    join_parts,
    load_json,
    make_salary,
    map_items,
    parse_datetime,
    remote_from_flag,
    require_list,
    require_str,
    salary_period,
    unique,
)
from jobscrape.postings import Posting

TYPE = "recruitee"


def first_url(board: BoardRef) -> str:
    """The company's published offers."""
    return endpoint(board, lambda _: f"https://{host_label(board)}.recruitee.com/api/offers/")


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All published offers of the company (Recruitee does not page)."""
    offers = require_list(load_json(body, TYPE), "offers", TYPE)
    return map_items(offers, lambda offer: _posting(offer, board), f"{TYPE}: offers")


def _posting(offer: Mapping[str, Any], board: BoardRef) -> Posting:
    places = [
        join_parts(loc.get("city"), loc.get("state"), loc.get("country"))
        for loc in map(as_dict, as_list(offer.get("locations")))
    ]
    if not any(places):
        places = [offer.get("location")]
    pay = as_dict(offer.get("salary"))
    description = (as_str(offer.get("description")) or "") + (
        as_str(offer.get("requirements")) or ""
    )
    body_html, body_text = describe(description)
    return build_posting(
        board, TYPE, require_str(offer, "id"), require_str(offer, "title"),
        url=as_str(offer.get("careers_url")),
        apply_url=as_str(offer.get("careers_apply_url")),
        company=as_str(offer.get("company_name")),
        department=as_str(offer.get("department")),
        locations=unique(places),
        remote=remote_from_flag(offer.get("remote")),
        employment_type=employment_type(offer.get("employment_type_code")),
        salary=make_salary(
            pay.get("min"), pay.get("max"), pay.get("currency"), salary_period(pay.get("period"))
        ),
        posted_at=parse_datetime(offer.get("published_at")),
        updated_at=parse_datetime(offer.get("updated_at")),
        description_html=body_html,
        description_text=body_text,
    )
