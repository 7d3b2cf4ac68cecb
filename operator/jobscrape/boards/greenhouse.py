"""Greenhouse Job Board API: `GET boards-api.greenhouse.io/v1/boards/{token}/jobs?content=true`.

One page holds every job. `content` is entity-escaped HTML: it is unescaped once, then
sanitised. `pay_input_ranges` (when present) are in cents; the pay period is the one their
`title` and `blurb` name ("Annual base salary", "... per hour"), else unknown. The list has
no remote flag or employment type of its own: both come from the job's custom fields
(`metadata`) whose names say so ("Workplace Type": "Hybrid", "Remote?": "Yes", "Employment
Type": "Full-time"); without such a field remote is guessed from the location names ("Remote",
"Hybrid - London") and the employment type is unknown.
A board.url override replaces the endpoint; `content=true` is added when it is missing.
"""

from __future__ import annotations

import re
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
    load_json,
    make_salary,
    map_items,
    parse_datetime,
    period_in_text,
    remote_from_text,
    remote_from_workplace,
    require_list,
    require_str,
    unescape_once,
    unique,
)
from jobscrape.postings import Posting, Remote, Salary

TYPE = "greenhouse"
#: 2: pay periods from the ranges' labels, workplace and employment type from custom
#: fields (see boards.base.parser_version)
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
    fields = _custom_fields(job.get("metadata"))
    return build_posting(
        board, TYPE, require_str(job, "id"), require_str(job, "title"),
        url=url,
        company=as_str(job.get("company_name")),
        department=next((d for d in departments if d), None),
        locations=locations,
        remote=_remote(fields, locations),
        employment_type=employment_type(*(v for _, v in _named(fields, _EMPLOYMENT_FIELD))),
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


# Custom fields ("metadata") whose name says they hold the workplace or the employment type;
# each company names its own, so names are matched loosely, in any case.
_WORKPLACE_FIELD = re.compile(
    r"remote|workplace|work\s*place|on-?site|location\s*type|work\s*(?:type|arrangement|"
    r"model|location|style|setting)", re.IGNORECASE)
_EMPLOYMENT_FIELD = re.compile(
    r"employment|job\s*type|time\s*type|contract\s*type|commitment|work\s*schedule|"
    r"position\s*type", re.IGNORECASE)
# The same patterns without IGNORECASE, for ASCII names lower-cased (nearly every name): the
# same matches (the patterns are lower case, and an ASCII letter matches in any case only its
# two forms), found about three times as fast. Keyed by identity: a Pattern's hash is
# computed from its whole compiled program at every lookup.
_LOWER_CASE = {id(p): re.compile(p.pattern) for p in (_WORKPLACE_FIELD, _EMPLOYMENT_FIELD)}
_YES, _NO = frozenset({"yes", "true", "y"}), frozenset({"no", "false", "n"})


def _custom_fields(metadata: object) -> list[tuple[str, str]]:
    """(name, value) of every text value of the job's custom fields (a multi-select gives one
    pair per choice); other value types (currency, numbers) are left out."""
    pairs = []
    for field in map(as_dict, as_list(metadata)[:50]):
        name, value = as_str(field.get("name")), field.get("value")
        for v in value[:20] if isinstance(value, list) else [value]:
            text = as_str(v) if not isinstance(v, bool) else ("yes" if v else "no")
            if name and text:
                pairs.append((name, text))
    return pairs


def _named(fields: list[tuple[str, str]], pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """The fields whose name `pattern` (_WORKPLACE_FIELD or _EMPLOYMENT_FIELD) finds."""
    lower = _LOWER_CASE[id(pattern)]
    return [(name, value) for name, value in fields
            if (lower.search(name.lower()) if name.isascii() else pattern.search(name))]


def _remote(fields: list[tuple[str, str]], locations: tuple[str, ...]) -> Remote:
    """Remote from a workplace custom field ("Workplace Type: Hybrid", "Remote?: Yes"), else
    guessed from the location names."""
    for name, value in _named(fields, _WORKPLACE_FIELD):
        known = remote_from_workplace(value)
        if known is None and "remote" in name.lower():
            flag = value.strip().lower()
            known = Remote.TRUE if flag in _YES else Remote.FALSE if flag in _NO else None
        if known is None:
            guess = remote_from_text(value)
            known = None if guess is Remote.UNKNOWN else guess
        if known is not None:
            return known
    return remote_from_text(*locations)
