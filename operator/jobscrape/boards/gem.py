"""Gem job board API: `GET api.gem.com/job_board/v0/{board}/job_posts`.

The body is a bare JSON array holding the whole board (Gem does not page), Greenhouse-like:
`id`, `title`, `absolute_url` (the job page; no apply URL), `content` (HTML, not escaped;
`content_plain` is its text and is not needed), `location.name` and `offices[]` (each its
`location.name`, else its `name`) for the locations, the first `departments[].name`,
`employment_type` ("full_time"), `first_published_at` (else `created_at`) and `updated_at`.
`location_type` says remote ("remote") or not ("hybrid", on site); when it is null or
unknown, remote is guessed from the location names, else unknown. Gem lists no company and no
pay: the company is the board token. A board.url override replaces the endpoint.
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
    load_json,
    map_items,
    parse_datetime,
    remote_from_text,
    remote_from_workplace,
    require_str,
    unique,
)
from jobscrape.postings import Posting

TYPE = "gem"


def first_url(board: BoardRef) -> str:
    """The board's job posts."""
    return endpoint(
        board,
        lambda name: f"https://api.gem.com/job_board/v0/{quote(name, safe='')}/job_posts",
    )


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All job posts of the board (Gem does not page)."""
    doc = load_json(body, TYPE)
    if not isinstance(doc, list):
        raise ParseError(f"{TYPE}: expected a JSON array of job posts, got {type(doc).__name__}")
    return map_items(doc, lambda post: _posting(post, board), f"{TYPE}: job_posts")


def _posting(post: Mapping[str, Any], board: BoardRef) -> Posting:
    offices = [
        as_str(as_dict(office.get("location")).get("name")) or as_str(office.get("name"))
        for office in map(as_dict, as_list(post.get("offices")))
    ]
    locations = unique([as_dict(post.get("location")).get("name"), *offices])
    departments = [as_str(as_dict(d).get("name")) for d in as_list(post.get("departments"))]
    body_html, body_text = describe(as_str(post.get("content")))
    return build_posting(
        board, TYPE, require_str(post, "id"), require_str(post, "title"),
        url=as_str(post.get("absolute_url")),
        company=board.token or None,
        department=next((d for d in departments if d), None),
        locations=locations,
        remote=remote_from_workplace(post.get("location_type")) or remote_from_text(*locations),
        employment_type=employment_type(post.get("employment_type")),
        posted_at=parse_datetime(post.get("first_published_at"))
        or parse_datetime(post.get("created_at")),
        updated_at=parse_datetime(post.get("updated_at")),
        description_html=body_html,
        description_text=body_text,
    )
