"""Comeet careers API:
`GET www.comeet.co/careers-api/2.0/company/{uid}/positions?token={careers token}`.

The API needs two things: the company UID (e.g. "F6.003") in the path and the company's
careers-API token as the `token` query parameter. The board token carries both as
`{uid}:{careers token}` ("F6.003:6F32..."). Only the UID names the board in posting ids: the
careers token is a credential and never reaches a posting. With a board.url override (the
positions URL, `token=` included) the board token may be the UID alone; a `{uid}:{token}` board
token adds `token=` to an override that lacks it.

One page holds every position; the body is a bare array with one row per position and location:
the row of the position's first location has the position's `uid` ("18.767"), each other
location's row has `{uid}-{location_uid}` ("18.767-9B.20A"). Rows of one position are merged
into one posting (its locations in row order; remote when any row's location `is_remote`).
`position_url` (the API's own link, which carries the careers token) is never read; every link
taken from the rows is scrubbed of secret-looking query values (netguard.scrub_secrets).

Mapping: `url_active_page` (the position on the company's site, else the Comeet-hosted page) is
the url, `url_comeet_hosted_page` of the position's first row the apply URL, `company_name` the
company, `department`, `employment_type`, location `city, state, country` (else its `name`),
remote from `location.is_remote` and `workplace_type` ("On-site", "Hybrid", "Remote"). The
description is `details[]` (name as heading, HTML value) in their `order`; details without text
are left out. `time_updated` is when the position last changed (updated_at): the API gives no
publication date. There is no salary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
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
    join_parts,
    load_json,
    map_items,
    parse_datetime,
    remote_from_workplace,
    require_str,
    section,
    strip_tags,
    unique,
)
from jobscrape.netguard import scrub_secrets
from jobscrape.postings import Posting, Remote

TYPE = "comeet"
BASE = "https://www.comeet.co/careers-api/2.0/company"


def credentials(board: BoardRef) -> tuple[str, str]:
    """(company UID, careers token) from a `{uid}:{careers token}` board token; either may be
    empty ("F6.003" alone is a UID without a careers token)."""
    uid, _, api_token = board.token.partition(":")
    return uid.strip(), api_token.strip()


def first_url(board: BoardRef) -> str:
    """The company's positions with the careers token; ValueError when the board token lacks the
    UID or the careers token and board.url is not set."""
    uid, api_token = credentials(board)
    required = {"token": api_token} if api_token else {}
    if not board.url and not (uid and api_token):
        raise ValueError(
            f"board {board.name!r} ({TYPE}): token must be '{{company uid}}:{{careers token}}' "
            "when url is not set"
        )
    return endpoint(
        board,
        lambda _: f"{BASE}/{quote(uid, safe='')}/positions?token={quote(api_token, safe='')}",
        required,
    )


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """Every position of the company, its rows merged (Comeet does not page)."""
    doc = load_json(body, TYPE)
    if not isinstance(doc, list):
        raise ParseError(f"{TYPE}: expected a JSON array of positions, got {type(doc).__name__}")
    # Posting ids name the board by its UID alone, and links are scrubbed against the URL the
    # body came from (it carries the careers token, whether from the token or an override).
    id_board = replace(board, token=credentials(board)[0], url=url)
    return map_items(_positions(doc), lambda rows: _posting(rows, id_board),
                     f"{TYPE}: positions", objects_only=False)


def _positions(rows: Sequence[Any]) -> list[list[Any]]:
    """The rows grouped by position, in order of first appearance; a row whose position cannot
    be told (not an object, no uid) is a group of its own, to be skipped and counted."""
    groups: dict[object, list[Any]] = {}
    for i, row in enumerate(rows):
        key: object = ("unreadable", i)
        if isinstance(row, dict) and (uid := as_str(row.get("uid"))):
            location_uid = as_str(as_dict(row.get("location")).get("location_uid"))
            key = uid.removesuffix(f"-{location_uid}") if location_uid else uid
        groups.setdefault(key, []).append(row)
    return list(groups.values())


def _posting(rows: list[Any], board: BoardRef) -> Posting:
    if not isinstance(rows[0], dict):
        raise ParseError(f"expected an object, got {type(rows[0]).__name__}")
    uid = require_str(rows[0], "uid")
    location_uid = as_str(as_dict(rows[0].get("location")).get("location_uid"))
    position_uid = uid.removesuffix(f"-{location_uid}") if location_uid else uid
    first = next((r for r in rows if as_str(r.get("uid")) == position_uid), rows[0])
    places = [as_dict(r.get("location")) for r in rows]
    locations = unique(
        join_parts(p.get("city"), p.get("state"), p.get("country")) or as_str(p.get("name"))
        for p in places
    )
    body_html, body_text = describe(_description(first.get("details")))
    return build_posting(
        board, TYPE, position_uid, require_str(first, "name"),
        url=_link(first.get("url_active_page"), board)
        or _link(first.get("url_comeet_hosted_page"), board),
        apply_url=_link(first.get("url_comeet_hosted_page"), board),
        company=as_str(first.get("company_name")),
        department=as_str(first.get("department")),
        locations=locations,
        remote=_remote(first.get("workplace_type"), [p.get("is_remote") for p in places]),
        employment_type=employment_type(first.get("employment_type")),
        updated_at=parse_datetime(first.get("time_updated")),
        description_html=body_html,
        description_text=body_text,
    )


def _link(value: object, board: BoardRef) -> str | None:
    """A link from a row, secret-looking query values of the page URL taken out."""
    link = as_str(value)
    return scrub_secrets(link, board.url) if link else None


def _remote(workplace: object, flags: list[object]) -> Remote:
    """TRUE when any location is remote, else what the workplace type says, else FALSE when
    every location says it is not remote; UNKNOWN without any signal."""
    if any(flag is True for flag in flags):
        return Remote.TRUE
    by_type = remote_from_workplace(workplace)
    if by_type is not None:
        return by_type
    if flags and all(flag is False for flag in flags):
        return Remote.FALSE
    return Remote.UNKNOWN


def _description(details: object) -> str:
    """The details that have text, in their `order` (as given where it is missing), each as a
    section headed by its name."""
    entries = [as_dict(d) for d in as_list(details)]
    parts = []
    for _, entry in sorted(enumerate(entries), key=_detail_order):
        value = as_str(entry.get("value"))
        if value and strip_tags(value):
            parts.append(section(as_str(entry.get("name")), value))
    return "".join(parts)


def _detail_order(indexed: tuple[int, Mapping[str, Any]]) -> tuple[int, float, int]:
    """Numbered details first, by number; the others after them, as given (NaN is no number)."""
    index, entry = indexed
    order = entry.get("order")
    if isinstance(order, int | float) and not isinstance(order, bool) and order == order:
        return 0, order, index
    return 1, 0, index
