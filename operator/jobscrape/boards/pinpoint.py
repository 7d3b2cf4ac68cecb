"""Pinpoint careers site feed: `GET {company}.pinpointhq.com/postings.json`.

The body is `{"data": [...]}` holding the whole board (Pinpoint does not page). The id is
`id`, the job page `url` (else `path` on the fetched URL's origin; no apply URL). The
description is `description` (no heading), then `key_responsibilities`,
`skills_knowledge_expertise` and `benefits`, each under its `*_header` as a heading; each
part is sanitised on its own (the capture's parts are cut mid-tag and mid-comment).

Pay is `compensation_minimum`/`_maximum` (amounts, not cents), `compensation_currency` and
`compensation_frequency` ("year"), left out when `compensation_visible` is false (the company
hides it); the `compensation` text is not read. `workplace_type` ("remote") says remote when
it is a known workplace word, else the label `workplace_type_text` ("Fully remote", "Hybrid")
does, else remote is unknown. The location is one line of `location.city`, `location.province` and
`location.name` (the company's label for the place: "United Kingdom", "Remote"), each once.
The department is `job.department.name`, else a text `job.division`. No posted date is
listed, nor a company: the company is the board token. A board.url override replaces the
endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from jobscrape.boards.base import BoardRef, Page
from jobscrape.boards.normalise import (
    as_dict,
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
    remote_from_text,
    remote_from_workplace,
    require_list,
    require_str,
    salary_period,
    section,
    unique,
)
from jobscrape.postings import Posting, Salary

TYPE = "pinpoint"
# The description's parts, in order, each with the key of its heading (the first has none).
_SECTIONS = (
    ("description", None),
    ("key_responsibilities", "key_responsibilities_header"),
    ("skills_knowledge_expertise", "skills_knowledge_expertise_header"),
    ("benefits", "benefits_header"),
)


def first_url(board: BoardRef) -> str:
    """The company's postings."""
    return endpoint(board, lambda _: f"https://{host_label(board)}.pinpointhq.com/postings.json")


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All postings of the company (Pinpoint does not page)."""
    data = require_list(load_json(body, TYPE), "data", TYPE)
    return map_items(data, lambda item: _posting(item, board, url), f"{TYPE}: data")


def _posting(item: Mapping[str, Any], board: BoardRef, page_url: str) -> Posting:
    job = as_dict(item.get("job"))
    path = as_str(item.get("path"))
    body_html, body_text = _description(item)
    return build_posting(
        board, TYPE, require_str(item, "id"), require_str(item, "title"),
        url=as_str(item.get("url")) or (urljoin(page_url, path) if path else None),
        company=board.token or None,
        department=as_str(as_dict(job.get("department")).get("name"))
        or as_str(job.get("division")),
        locations=unique([_place(as_dict(item.get("location")))]),
        remote=remote_from_workplace(item.get("workplace_type"))
        or remote_from_text(as_str(item.get("workplace_type_text"))),
        employment_type=employment_type(item.get("employment_type"),
                                        item.get("employment_type_text")),
        salary=_salary(item),
        description_html=body_html,
        description_text=body_text,
    )


def _description(item: Mapping[str, Any]) -> tuple[str, str]:
    """(HTML, text) of the description's parts, each sanitised on its own, so that a part cut
    inside a tag or comment cannot swallow the parts after it."""
    html_parts: list[str] = []
    text_parts: list[str] = []
    for key, heading_key in _SECTIONS:
        part_html, part_text = describe(as_str(item.get(key)))
        if not (part_html or part_text):
            continue
        heading = as_str(item.get(heading_key)) if heading_key else None
        html_parts.append(section(heading, part_html))
        text_parts += [t for t in (heading, part_text) if t]
    return "".join(html_parts), "\n".join(text_parts)


def _place(location: Mapping[str, Any]) -> str | None:
    """City, province and name, each once ("London, United Kingdom")."""
    parts: list[str] = []
    for key in ("city", "province", "name"):
        value = as_str(location.get(key))
        if value and value not in parts:
            parts.append(value)
    return join_parts(*parts)


def _salary(item: Mapping[str, Any]) -> Salary | None:
    if item.get("compensation_visible") is False:
        return None
    return make_salary(
        item.get("compensation_minimum"), item.get("compensation_maximum"),
        item.get("compensation_currency"), salary_period(item.get("compensation_frequency")),
    )
