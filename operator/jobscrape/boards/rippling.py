"""Rippling ATS job board: `GET api.rippling.com/platform/api/ats/v1/board/{slug}/jobs` (v1,
the default), or the newer paged board API through a board.url override (believed to be
`ats.rippling.com/api/v2/board/{slug}/jobs`, not verified, so not the default). The body tells
the versions apart: v1 is a bare array, v2 an object `{items, page, pageSize, totalItems,
totalPages}`.

Both list one row per job and location: the rows of one job (same `uuid` in v1, same `id` in
v2) become one posting with every location, in the order met; a reason for a skipped job
names its place among the merged jobs. Rows of one job that a v2 page boundary splits cannot
be merged here (each page is parsed alone): the store keeps the first page's posting.

v1 row: `uuid`, `name` (title), `url` (the job page, which is also the apply URL),
`department.label`, `workLocation.label` ("Austin, TX", "Remote (United States)"). v2 row:
`id`, `name`, `url`, `department.name`, `locations[].{name, city, state, country,
workplaceType ("ON_SITE", "HYBRID", "REMOTE")}`. Remote: a job with any remote location is
remote; else one with only on-site or hybrid ones is not; else (v1, or unknown workplace
types) it is guessed from the location names ("Remote (United States)"), else unknown.
v2 pages: page N+1 (`page`, 0-based, in the query) follows page N while N+1 < `totalPages`.
Rippling lists no company, description, date, employment type or pay: the company is the
board token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.normalise import (
    as_dict,
    as_list,
    as_str,
    build_posting,
    endpoint,
    join_parts,
    load_json,
    map_items,
    query_int,
    remote_from_text,
    remote_from_workplace,
    require_str,
    set_query,
    unique,
)
from jobscrape.postings import Posting, Remote, clean_line

TYPE = "rippling"


def first_url(board: BoardRef) -> str:
    """The board's v1 job list (the whole board)."""
    return endpoint(
        board,
        lambda slug: "https://api.rippling.com/platform/api/ats/v1/board/"
        f"{quote(slug, safe='')}/jobs",
    )


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """The jobs of a v1 list (the whole board) or of one v2 page, one posting per job, and the
    next v2 page's URL while pages are left."""
    doc = load_json(body, TYPE)
    if isinstance(doc, list):
        return _merged(doc, "uuid", lambda rows: _v1_posting(rows, board))
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        page = _merged(doc["items"], "id", lambda rows: _v2_posting(rows, board))
        return replace(page, next_url=_next_url(doc, url, len(doc["items"])))
    raise ParseError(
        f"{TYPE}: expected a JSON array of jobs (v1) or an object with an 'items' array (v2), "
        f"got {type(doc).__name__}"
    )


def _merged(
    rows: list[Any], key: str, convert: Callable[[list[Mapping[str, Any]]], Posting]
) -> Page:
    """One posting per job from its rows (grouped by `key` as the posting id will read it,
    first occurrence's order); a row without a readable key, or that is not an object, is a
    job of its own (and is skipped)."""
    groups: dict[object, list[Any]] = {}
    for i, row in enumerate(rows):
        job_id = as_str(row.get(key)) if isinstance(row, dict) else None
        groups.setdefault(clean_line(job_id) if job_id is not None else i, []).append(row)
    return map_items(list(groups.values()), lambda group: _checked(group, key, convert),
                     f"{TYPE}: jobs", objects_only=False)


def _checked(
    group: list[Any], key: str, convert: Callable[[list[Mapping[str, Any]]], Posting]
) -> Posting:
    """The group's posting; ParseError when its first row is not an object with a key."""
    first = group[0]
    if not isinstance(first, dict):
        raise ParseError(f"expected an object, got {type(first).__name__}")
    require_str(first, key)
    return convert(group)


def _title(rows: list[Mapping[str, Any]]) -> str:
    """The first row's title (a row of the job with one, when the first has none)."""
    for row in rows:
        if as_str(row.get("name")) is not None:
            return require_str(row, "name")
    raise ParseError("name is missing or not a non-empty string")


def _first(values: list[str | None]) -> str | None:
    """The first non-empty value, or None."""
    return next((v for v in values if v), None)


def _remote(workplaces: list[object], places: tuple[str, ...]) -> Remote:
    """Remote when a location is remote, not remote when all known ones are on site or
    hybrid, else a guess from the location names."""
    known = [r for r in map(remote_from_workplace, workplaces) if r is not None]
    if Remote.TRUE in known:
        return Remote.TRUE
    if known:
        return Remote.FALSE
    return remote_from_text(*places)


def _v1_posting(rows: list[Mapping[str, Any]], board: BoardRef) -> Posting:
    places = unique(as_dict(row.get("workLocation")).get("label") for row in rows)
    url = _first([as_str(row.get("url")) for row in rows])
    return build_posting(
        board, TYPE, require_str(rows[0], "uuid"), _title(rows),
        url=url,
        apply_url=url,
        company=board.token or None,
        department=_first([as_str(as_dict(row.get("department")).get("label")) for row in rows]),
        locations=places,
        remote=_remote([], places),
    )


def _v2_posting(rows: list[Mapping[str, Any]], board: BoardRef) -> Posting:
    locations = [as_dict(loc) for row in rows for loc in as_list(row.get("locations"))]
    places = unique(
        as_str(loc.get("name")) or join_parts(loc.get("city"), loc.get("state"), loc.get("country"))
        for loc in locations
    )
    url = _first([as_str(row.get("url")) for row in rows])
    return build_posting(
        board, TYPE, require_str(rows[0], "id"), _title(rows),
        url=url,
        apply_url=url,
        company=board.token or None,
        department=_first([as_str(as_dict(row.get("department")).get("name")) for row in rows]),
        locations=places,
        remote=_remote([loc.get("workplaceType") for loc in locations], places),
    )


def _next_url(doc: Mapping[str, Any], url: str, count: int) -> str | None:
    page, pages = doc.get("page"), doc.get("totalPages")
    if not isinstance(page, int) or isinstance(page, bool) or page < 0:
        page = query_int(url, "page") or 0
    if not isinstance(pages, int) or isinstance(pages, bool) or count == 0:
        return None
    if page + 1 >= pages:
        return None
    return set_query(url, page=page + 1)
