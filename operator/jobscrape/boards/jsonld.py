"""schema.org JobPosting objects in a web page's `<script type="application/ld+json">` blocks.

board.url is the page (required). Blocks are read one at a time with extruct's
JsonLdExtractor, which tolerates what real pages contain (raw newlines in strings, trailing
commas, comments). JobPostings are found anywhere in a block: top level, in lists, in
`@graph`, nested in ItemLists. A page without JobPostings is an empty board; a page whose
JSON-LD cannot be read at all (and so may have hidden its postings) is a ParseError.

Mapping: the id is `identifier` (its `value` when a PropertyValue), else the posting's `url`,
else a hash of title, company and locations. `jobLocationType: TELECOMMUTE` means remote; a
posting with a `jobLocation` and no such marker is on-site; otherwise remote is unknown.
Pay comes from `baseSalary` (a MonetaryAmount); zero amounts are treated as placeholders.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin

import lxml.etree
from extruct.jsonld import JsonLdExtractor
from extruct.utils import parse_html

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.normalise import (
    UNEXPECTED,
    as_dict,
    as_str,
    build_posting,
    describe,
    employment_type,
    join_parts,
    make_salary,
    map_items,
    parse_datetime,
    salary_period,
    unique,
)
from jobscrape.postings import Posting, Remote, Salary

TYPE = "jsonld"
_SCRIPTS = '//script[@type="application/ld+json"]'
_EXTRACTOR = JsonLdExtractor()


def first_url(board: BoardRef) -> str:
    """The page named by board.url; ValueError when it is not set."""
    if not board.url:
        raise ValueError(f"board {board.name!r} ({TYPE}): url is required")
    return board.url


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """Every JobPosting on the page, once each (the first of equal ids wins)."""
    items, broken = _blocks(body)
    jobs = _job_postings(items)
    if not jobs and broken:
        raise ParseError(
            f"{TYPE}: {broken} JSON-LD block(s) could not be read and no JobPosting was found"
        )
    page = map_items(jobs, lambda job: _posting(job, board, url), f"{TYPE}: JobPosting")
    first: dict[str, Posting] = {}
    for posting in page.postings:
        first.setdefault(posting.id, posting)
    return Page(list(first.values()), None, page.skipped, page.skip_reasons)


def _blocks(body: bytes) -> tuple[list[Any], int]:
    """The JSON-LD items of the page, and how many blocks could not be read."""
    try:
        tree = parse_html(body, encoding="UTF-8")
    except (lxml.etree.LxmlError, *UNEXPECTED) as e:
        raise ParseError(f"{TYPE}: body is not an HTML page: {e}") from None
    items: list[Any] = []
    broken = 0
    for script in tree.xpath(_SCRIPTS):
        try:
            items.extend(_EXTRACTOR.extract_items(script))
        except UNEXPECTED:
            broken += 1
    return items, broken


def _job_postings(items: list[Any]) -> list[Mapping[str, Any]]:
    """The JobPosting objects anywhere in the items, in document order."""
    found: list[Mapping[str, Any]] = []
    stack: list[Any] = list(reversed(items))
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if _is_job_posting(node):
                found.append(node)
            else:
                stack.extend(v for v in reversed(node.values()) if isinstance(v, list | dict))
    return found


def _is_job_posting(node: Mapping[str, Any]) -> bool:
    kinds = node.get("@type")
    for kind in kinds if isinstance(kinds, list) else [kinds]:
        if isinstance(kind, str) and kind.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == "JobPosting":
            return True
    return False


def _posting(job: Mapping[str, Any], board: BoardRef, page_url: str) -> Posting:
    title = as_str(job.get("title"))
    if title is None:
        raise ParseError("title is missing or not a non-empty string")
    company = _name(job.get("hiringOrganization"))
    job_url = as_str(job.get("url"))
    job_url = urljoin(page_url, job_url) if job_url else None
    places = _places(job.get("jobLocation"))
    locations = unique(places or _names(job.get("applicantLocationRequirements")))
    source_id = _identifier(job.get("identifier")) or job_url or _digest(title, company, locations)
    body_html, body_text = describe(_description(job.get("description")))
    return build_posting(
        board, TYPE, source_id, title,
        url=job_url or page_url,
        company=company,
        locations=locations,
        remote=_remote(job, bool(places)),
        employment_type=employment_type(job.get("employmentType")),
        salary=_salary(job.get("baseSalary")),
        posted_at=parse_datetime(job.get("datePosted")),
        description_html=body_html,
        description_text=body_text,
    )


def _one(value: object) -> object:
    """The first element of a list, or the value itself."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _name(value: object) -> str | None:
    """A Thing's name, or the text itself when the value is text."""
    value = _one(value)
    return as_str(as_dict(value).get("name")) if isinstance(value, dict) else as_str(value)


def _names(value: object) -> list[str | None]:
    return [_name(v) for v in (value if isinstance(value, list) else [value])]


def _identifier(value: object) -> str | None:
    value = _one(value)
    if isinstance(value, dict):
        return as_str(value.get("value")) or as_str(value.get("@id"))
    return as_str(value)


def _places(value: object) -> list[str | None]:
    """One line per Place: its address (locality, region, country), else its name."""
    out: list[str | None] = []
    for place in value if isinstance(value, list) else [value]:
        if isinstance(place, str):
            out.append(as_str(place))
        elif isinstance(place, dict):
            address = place.get("address")
            if isinstance(address, dict):
                line = join_parts(
                    address.get("addressLocality"),
                    address.get("addressRegion"),
                    _name(address.get("addressCountry")),
                )
            else:
                line = as_str(address)
            out.append(line or _name(place))
    return [p for p in out if p]


def _remote(job: Mapping[str, Any], has_place: bool) -> Remote:
    kinds = job.get("jobLocationType")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if any(isinstance(k, str) and k.strip().upper() == "TELECOMMUTE" for k in kinds):
        return Remote.TRUE
    return Remote.FALSE if has_place else Remote.UNKNOWN


def _salary(value: object) -> Salary | None:
    pay = as_dict(_one(value))
    amount = pay.get("value")
    if isinstance(amount, dict):
        single = amount.get("value")
        low = amount.get("minValue", single)
        high = amount.get("maxValue", single)
        period = salary_period(amount.get("unitText"))
    else:
        low = high = amount
        period = salary_period(None)
    return make_salary(low, high, pay.get("currency"), period)


def _description(value: object) -> str | None:
    """The description; once-escaped HTML ("&lt;p&gt;...") is unescaped first."""
    text = as_str(value)
    if text and "<" not in text and "&lt;" in text:
        return html.unescape(text)
    return text


def _digest(title: str, company: str | None, locations: Iterable[str]) -> str:
    key = "\x1f".join([title, company or "", *locations])
    return "h-" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
