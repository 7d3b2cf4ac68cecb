"""schema.org JobPosting objects on a web page: in `<script type="application/ld+json">`
blocks (JSON-LD), in microdata (itemscope/itemprop) and in RDFa (typeof/property).

board.url is the page (required). JSON-LD blocks are read one at a time with extruct's
JsonLdExtractor, which tolerates what real pages contain (raw newlines in strings, trailing
commas, comments). JobPostings are found anywhere in a block: top level, in lists, in
`@graph`, nested in ItemLists. Microdata and RDFa are read by boards/microdata.py (extruct's
extractors, within bounds) into JSON-LD's shape, so one mapping serves all three. A page
without JobPostings is an empty board; a page whose JSON-LD, microdata or RDFa cannot be read
at all (and so may have hidden its postings) is a ParseError unless JobPostings were found in
the rest of it.

One posting in two formats is one posting. The formats are taken in turn (JSON-LD, microdata,
RDFa) and a later format's JobPosting is the same as an earlier one's when both have an
`identifier` and it is equal, else when both have a `url` and it is equal, else when neither
says otherwise and the titles are equal (case and spaces aside) and either the locations share
a line (or one side has none) or each side holds that one posting only. The two are then one
posting: the earlier format's value of each property wins, the later fills the ones it lacks
(microdata's apply link, say). Within a format, equal ids are kept once (the first wins).

Mapping: the id is `identifier` (its `value` when a PropertyValue), else the posting's `url`,
else a hash of title, company and locations. Links are resolved against the page URL and only
http(s) ones are kept (`<base href>` is not followed). The URL is the posting's `url`, else
the page's `<link rel="canonical">` when the page holds one posting only, else the page URL.
The apply link is the `url` when `directApply` is true, else the apply link SuccessFactors
puts beside its microdata (`a.apply[href]`, relative). `hiringOrganization` is an
Organization's name or plain text. `jobLocationType: TELECOMMUTE` means remote; a posting with
a `jobLocation` and no such marker is on-site; otherwise remote is unknown. Pay comes from
`baseSalary` (a MonetaryAmount); zero amounts are treated as placeholders.

`datePosted` may be ISO 8601 (a bare date is its midnight UTC), RFC 822 ("Sun, 20 Sep 2026
07:00:00 GMT"; its US zone names are RFC 822's own) or Java's Date.toString ("Sun Sep 20
07:00:00 UTC 2026", SuccessFactors). In Java's form only UTC, GMT, UT, Z and GMT+hh:mm are
zones; any other abbreviation (the JVM's local zone: CST is US or China, IST three places) is
not guessed at and the time is read as UTC, as a time without a zone is: at most 14 hours off,
rather than no date at all. `validThrough` has no Posting field and is not read.
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import lxml.etree
import lxml.html
from extruct.jsonld import JsonLdExtractor
from extruct.utils import parse_html

from jobscrape.boards import microdata
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.microdata import Found, is_job_posting, web_link
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
from jobscrape.postings import Posting, Remote, Salary, clean_line

TYPE = "jsonld"
_SCRIPTS = '//script[@type="application/ld+json"]'
_CANONICAL = lxml.etree.XPath('//link[@href][@rel="canonical"][1]/@href')
_EXTRACTOR = JsonLdExtractor()


def first_url(board: BoardRef) -> str:
    """The page named by board.url; ValueError when it is not set."""
    if not board.url:
        raise ValueError(f"board {board.name!r} ({TYPE}): url is required")
    return board.url


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """Every JobPosting on the page, once each, from JSON-LD, microdata and RDFa alike (the
    same posting in two formats once, the first of equal ids once)."""
    tree = _tree(body)
    items, broken = _blocks(tree)
    formats = [[Found(dict(job)) for job in _job_postings(items)]]
    problems = [f"{broken} JSON-LD block(s) could not be read"] if broken else []
    for read in (lambda: microdata.microdata_jobs(tree, len(body), url),
                 lambda: microdata.rdfa_jobs(tree, body, url)):
        try:
            formats.append(read())
        except ParseError as e:
            problems.append(str(e))
    jobs = _merge(formats, url)
    if not jobs and problems:
        raise ParseError(f"{TYPE}: {'; '.join(problems)} and no JobPosting was found")
    links = _CANONICAL(tree) if len(jobs) == 1 else []
    fallback = web_link(url, str(links[0])) if links else None
    page = map_items(jobs, lambda job: _posting(job, board, url, fallback),
                     f"{TYPE}: JobPosting", objects_only=False)
    first: dict[str, Posting] = {}
    for posting in page.postings:
        first.setdefault(posting.id, posting)
    return replace(page, postings=list(first.values()))


def _tree(body: bytes) -> lxml.html.HtmlElement:
    """The page's element tree; ParseError when the body is not an HTML page."""
    try:
        return parse_html(body, encoding="UTF-8")
    except (lxml.etree.LxmlError, *UNEXPECTED) as e:
        raise ParseError(f"{TYPE}: body is not an HTML page: {e}") from None


def _blocks(tree: lxml.html.HtmlElement) -> tuple[list[Any], int]:
    """The JSON-LD items of the page, and how many blocks could not be read."""
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
            if is_job_posting(node):
                found.append(node)
            else:
                stack.extend(v for v in reversed(node.values()) if isinstance(v, list | dict))
    return found


# ----------------------------------------------------------------------------- one posting, once


@dataclass(frozen=True, slots=True)
class _Keys:
    """What tells two JobPostings apart: identifier, own URL, title (folded), locations."""

    ident: str | None
    url: str | None
    title: str | None
    locations: frozenset[str]

    @classmethod
    def of(cls, job: Found, page_url: str) -> _Keys:
        fields = job.fields
        title = as_str(_one(fields.get("title")))
        return cls(
            _identifier(fields.get("identifier")),
            web_link(page_url, as_str(_one(fields.get("url")))),
            " ".join(title.casefold().split()) if title else None,
            frozenset(p for p in _places(fields.get("jobLocation")) if p),
        )

    def conflicts(self, other: _Keys) -> bool:
        """Whether an identifier or URL both have says they are different postings."""
        return bool(self.ident and other.ident and self.ident != other.ident) or bool(
            self.url and other.url and self.url != other.url)

    def names_the_same(self, other: _Keys) -> bool:
        """Whether both have the same identifier, or else both the same URL."""
        if self.ident and other.ident:
            return self.ident == other.ident
        return bool(self.url and other.url and self.url == other.url)


def _merge(formats: Sequence[list[Found]], page_url: str) -> list[Found]:
    """The JobPostings of all formats, a later format's posting merged into the earlier
    format's posting it is the same as (see the module's docstring) instead of added."""
    kept: list[Found] = []
    keys: list[_Keys] = []
    for jobs in formats:
        earlier = len(kept)
        merged: set[int] = set()
        for job in jobs:
            key = _Keys.of(job, page_url)
            i = _same(key, keys[:earlier], merged, single=earlier == 1 and len(jobs) == 1)
            if i is None:
                kept.append(job)
                keys.append(key)
            else:
                merged.add(i)
                kept[i] = _fill(kept[i], job)
    return kept


def _same(key: _Keys, earlier: list[_Keys], taken: set[int], *, single: bool) -> int | None:
    """The index of the earlier posting `key` is the same as, or None."""
    free = [(i, k) for i, k in enumerate(earlier) if i not in taken]
    for i, k in free:
        if key.names_the_same(k):
            return i
    for i, k in free:
        if key.title and key.title == k.title and not key.conflicts(k) and (
            single or not key.locations or not k.locations or key.locations & k.locations
        ):
            return i
    return None


def _fill(first: Found, later: Found) -> Found:
    """`first` with the properties it lacks taken from `later`."""
    fields = dict(first.fields)
    for name, value in later.fields.items():
        if fields.get(name) in (None, "", [], {}):
            fields[name] = value
    return Found(fields, first.apply_url or later.apply_url)


# ----------------------------------------------------------------------------- mapping


def _posting(job: Found, board: BoardRef, page_url: str, fallback_url: str | None) -> Posting:
    fields = job.fields
    title = as_str(_one(fields.get("title")))
    if title is None or not clean_line(title):  # control characters only: nothing to show
        raise ParseError("title is missing or not a non-empty string")
    company = _name(fields.get("hiringOrganization"))
    job_url = web_link(page_url, as_str(_one(fields.get("url"))))
    places = _places(fields.get("jobLocation"))
    locations = unique(places or _names(fields.get("applicantLocationRequirements")))
    source_id = (_identifier(fields.get("identifier")) or job_url
                 or _digest(title, company, locations))
    body_html, body_text = describe(_description(_one(fields.get("description"))))
    return build_posting(
        board, TYPE, source_id, title,
        url=job_url or fallback_url or page_url,
        apply_url=job_url if _true(fields.get("directApply")) else job.apply_url,
        company=company,
        locations=locations,
        remote=_remote(fields, bool(places)),
        employment_type=employment_type(fields.get("employmentType")),
        salary=_salary(fields.get("baseSalary")),
        posted_at=_date(_one(fields.get("datePosted"))),
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


def _true(value: object) -> bool:
    """Whether a schema.org Boolean is true: JSON true, or the text "true" (microdata)."""
    value = _one(value)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "https://schema.org/true", "http://schema.org/true")
    return value is True


# Java's Date.toString: "EEE MMM dd HH:mm:ss zzz yyyy", English names.
_JAVA_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([A-Za-z]{1,6}|GMT[+-]\d{1,2}:?\d{2}) (\d{4})"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_OFFSET = re.compile(r"GMT([+-])(\d{1,2}):?(\d{2})")


def _date(value: object) -> datetime | None:
    """A date as aware UTC: ISO 8601 (a bare date is its midnight), Java's Date.toString
    ("Sun Sep 20 07:00:00 UTC 2026") or RFC 822 ("Sun, 20 Sep 2026 07:00:00 GMT"); None when
    absent or none of these. A zone abbreviation that is not certain (in Java's form anything
    but UTC/GMT/UT/Z and GMT+hh:mm; in RFC 822's anything but its own) is not guessed at: the
    time is read as UTC, as one without a zone is. The day of the week is not checked.

    normalise.parse_datetime reads ISO 8601 only; the other forms are read here (private to
    this adapter while normalise.py is being changed elsewhere).
    """
    if not isinstance(value, str):
        return None
    text = " ".join(value[:128].split())
    parsed = parse_datetime(text)
    if parsed is not None:
        return parsed
    java = _JAVA_DATE.fullmatch(text)
    if java is not None:
        return _java_date(java)
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _java_date(m: re.Match[str]) -> datetime | None:
    month, day, hour, minute, second, zone, year = m.groups()
    offset = _OFFSET.fullmatch(zone)
    tz = UTC
    if offset is not None:
        sign = -1 if offset.group(1) == "-" else 1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        if delta >= timedelta(hours=24):
            return None
        tz = timezone(sign * delta)
    try:
        when = datetime(int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute),
                        int(second), tzinfo=tz)
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
