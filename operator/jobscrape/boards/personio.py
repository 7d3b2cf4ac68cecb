"""Personio XML feed: `GET {company}.jobs.personio.de/xml?language=en`.

One page holds every position, as `<workzag-jobs><position>...` XML (parsed with defusedxml,
so entity tricks are refused). The feed has no job URL: both url and apply_url are
`https://{company}.jobs.personio.de/job/{id}` (the job page carries the application form),
built from the token even when board.url overrides the endpoint (from the fetched URL's
origin when the token is not a DNS label). The description is each
`jobDescription` as a heading (its name) and its HTML value. `employmentType` gives the kind
of contract; for permanent posts the `schedule` (full-time, part-time) decides.
The feed carries no pay and no remote flag (remote is guessed from the office names).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.normalise import (
    UNEXPECTED,
    build_posting,
    describe,
    employment_type,
    endpoint,
    host_label,
    map_items,
    parse_datetime,
    remote_from_text,
    section,
    unique,
)
from jobscrape.postings import EmploymentType, Posting

TYPE = "personio"
ROOT = "workzag-jobs"


def first_url(board: BoardRef) -> str:
    """The company's positions in English."""
    return endpoint(board, lambda _: f"https://{host_label(board)}.jobs.personio.de/xml?language=en")


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All positions of the company (Personio does not page)."""
    try:
        root = fromstring(body)
    except (XmlParseError, DefusedXmlException, *UNEXPECTED, LookupError) as e:
        raise ParseError(f"{TYPE}: body is not valid XML: {e}") from None
    if root.tag != ROOT:
        raise ParseError(f"{TYPE}: expected a <{ROOT}> document, got <{root.tag}>")
    job_base = _job_base(board, url)
    return map_items(list(root.iter("position")),
                     lambda position: _posting(position, board, job_base),
                     f"{TYPE}: position", objects_only=False)


def _job_base(board: BoardRef, url: str) -> str:
    try:
        return f"https://{host_label(board)}.jobs.personio.de/job/"
    except ValueError:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}/job/"


def _text(element: Element, path: str) -> str | None:
    found = element.find(path)
    text = found.text.strip() if found is not None and found.text else ""
    return text or None


def _posting(position: Element, board: BoardRef, job_base: str) -> Posting:
    source_id = _text(position, "id")
    title = _text(position, "name")
    if source_id is None:
        raise ParseError("id is missing")
    if title is None:
        raise ParseError("name is missing")
    offices = [_text(position, "office")]
    offices += [(o.text or "").strip() for o in position.findall("additionalOffices/office")]
    locations = unique(offices)
    job_url = job_base + quote(source_id, safe="")
    body_html, body_text = describe(_description(position))
    return build_posting(
        board, TYPE, source_id, title,
        url=job_url,
        apply_url=job_url,
        company=_text(position, "subcompany"),
        department=_text(position, "department"),
        locations=locations,
        remote=remote_from_text(*locations),
        employment_type=_employment(position),
        posted_at=parse_datetime(_text(position, "createdAt")),
        description_html=body_html,
        description_text=body_text,
    )


def _description(position: Element) -> str:
    return "".join(
        section(_text(part, "name"), _text(part, "value"))
        for part in position.findall("jobDescriptions/jobDescription")
    )


def _employment(position: Element) -> EmploymentType:
    contract = employment_type(_text(position, "employmentType"))
    if contract in (EmploymentType.FULL_TIME, EmploymentType.UNKNOWN):
        schedule = employment_type(_text(position, "schedule"))
        if schedule in (EmploymentType.FULL_TIME, EmploymentType.PART_TIME):
            return schedule
    return contract
