"""The `jsonld` board type on microdata and RDFa pages (boards/jsonld.py, boards/microdata.py):
a real SAP SuccessFactors job page, variants of it built here, and fuzzing."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import jsonld, microdata
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod, content_hash

from boardkit import FUZZ

FIXTURE = "microdata_jobposting_successfactors_dte.html"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"
PAGE = "https://careers.dteenergy.com/job/River-Rouge-Control-Engineer-II-MI-48218/1377939300/"
BOARD = BoardRef(name="dte", type="jsonld", url=PAGE)
JOB_ITEM = b' itemscope="itemscope" itemtype="http://schema.org/JobPosting">'
DATE = b'<meta itemprop="datePosted" content="Sun Sep 20 07:00:00 UTC 2026">'
ORG = b'<meta itemprop="hiringOrganization" content="DTE Energy">'
TITLE = b'itemprop="title"'
APPLY = b'href="/talentcommunity/apply/1377939300/?locale=en_US"'
CANONICAL = b'<link rel="canonical" href="' + PAGE.encode() + b'" />'


def _digest(*parts: str) -> str:
    return "h-" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()


DTE_ID = _digest("Control Engineer II", "DTE Energy", "River Rouge, MI, US")


def _variant(body: bytes, *changes: tuple[bytes, bytes]) -> bytes:
    """The fixture with each `old` replaced by `new` (every occurrence; `old` must occur)."""
    for old, new in changes:
        assert old in body, old
        body = body.replace(old, new)
    return body


def _rdfa(body: bytes) -> bytes:
    """The page's microdata rewritten as RDFa: itemscope+itemtype → typeof (schema.org as the
    vocabulary), itemprop → property."""
    body = _variant(body, (JOB_ITEM, b' vocab="http://schema.org/" typeof="JobPosting">'))
    body = re.sub(rb'itemprop="(\w+)" itemscope itemtype="http://schema.org/(\w+)"',
                  rb'property="\1" typeof="\2"', body)
    return body.replace(b"itemprop=", b"property=")


def _json_ld(**fields: object) -> bytes:
    job = {"@context": "https://schema.org", "@type": "JobPosting", **fields}
    return b'<script type="application/ld+json">' + json.dumps(job).encode() + b"</script>"


def _with_json_ld(body: bytes, *blocks: bytes) -> bytes:
    return _variant(body, (b"</head>", b"".join(blocks) + b"</head>"))


def _parse(body: bytes, url: str = PAGE) -> Page:
    return jsonld.parse(body, BOARD, url)


# ----------------------------------------------------------------------------- the real page


def test_first_url_is_the_page_and_is_required() -> None:
    assert jsonld.first_url(BOARD) == PAGE
    other = "https://careers.example.test/job/1/"
    assert jsonld.first_url(BoardRef(name="x", type="jsonld", url=other)) == other
    with pytest.raises(ValueError, match="url is required"):
        jsonld.first_url(BoardRef(name="x", type="jsonld"))


def test_fixture_field_by_field(fixture_bytes) -> None:
    # fetched with a tracking parameter: the canonical link names the posting
    page = _parse(fixture_bytes(FIXTURE), PAGE + "?feedId=42")
    assert (page.next_url, page.skipped, page.skip_reasons) == (None, 0, ())
    assert len(page.postings) == 1
    p = page.postings[0]
    assert p.source_id == DTE_ID  # no identifier, no url: title, company, locations hashed
    assert p.id == f"jsonld:dte:{DTE_ID}"
    assert (p.board, p.board_type) == ("dte", "jsonld")
    assert p.title == "Control Engineer II"  # the span's trailing newline and spaces dropped
    assert p.url == PAGE  # <link rel="canonical">
    assert p.apply_url == (  # a.apply, relative, resolved against the page
        "https://careers.dteenergy.com/talentcommunity/apply/1377939300/?locale=en_US")
    assert p.company == "DTE Energy"  # hiringOrganization as plain text
    assert p.department is None
    assert p.locations == ("River Rouge, MI, US",)  # Place → PostalAddress
    assert p.remote is Remote.FALSE  # a jobLocation and no TELECOMMUTE
    assert p.employment_type is EmploymentType.UNKNOWN  # the page gives none
    assert p.salary is None
    assert p.posted_at == datetime(2026, 9, 20, 7, 0, tzinfo=UTC)  # Java's Date.toString
    assert p.updated_at is None
    # the description is the element's HTML, sanitised (extruct alone gives only its text)
    assert p.description_html.startswith(
        "<span><p><span><span>DTE is one of the nation\u2019s largest diversified energy")
    assert "<h2>Job Summary</h2>" in p.description_html
    assert p.description_html.count("<li>") == 32
    assert "style=" not in p.description_html
    assert p.description_text.startswith("DTE is one of the nation\u2019s largest")
    lines = p.description_text.split("\n")
    assert lines[1:3] == ["Job Summary", "Location: River Rouge, MI"]
    assert lines[-2] == "PRIVACY NOTICE TO CALIFORNIA JOB APPLICANTS"
    assert lines[-1].endswith("protected by applicable federal and/or state laws.")
    assert "Apply now" not in p.description_text
    assert p.content_hash == content_hash(p) != ""


def test_without_canonical_link_the_url_is_the_page(fixture_bytes) -> None:
    body = _variant(fixture_bytes(FIXTURE), (CANONICAL, b""))
    assert _parse(body, PAGE + "?feedId=42").postings[0].url == PAGE + "?feedId=42"


def test_a_canonical_link_that_is_not_http_is_not_used(fixture_bytes) -> None:
    body = _variant(fixture_bytes(FIXTURE),
                    (CANONICAL, b'<link rel="canonical" href="javascript:alert(1)" />'))
    assert _parse(body).postings[0].url == PAGE


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize(("text", "expected"), [
    ("Sun Sep 20 07:00:00 UTC 2026", datetime(2026, 9, 20, 7, tzinfo=UTC)),
    ("Sun Sep 20 07:00:00 GMT 2026", datetime(2026, 9, 20, 7, tzinfo=UTC)),
    ("Sun Sep  20 07:00:00  GMT 2026", datetime(2026, 9, 20, 7, tzinfo=UTC)),  # extra spaces
    ("Sun Sep 20 07:00:00 GMT+02:00 2026", datetime(2026, 9, 20, 5, tzinfo=UTC)),
    ("Sun Sep 20 07:00:00 GMT-05:30 2026", datetime(2026, 9, 20, 12, 30, tzinfo=UTC)),
    # other abbreviations are the JVM's local zone, not always unique: not guessed, read as UTC
    ("Sun Sep 20 07:00:00 CST 2026", datetime(2026, 9, 20, 7, tzinfo=UTC)),
    ("Sun Sep 20 07:00:00 CEST 2026", datetime(2026, 9, 20, 7, tzinfo=UTC)),
    ("Sun, 20 Sep 2026 07:00:00 GMT", datetime(2026, 9, 20, 7, tzinfo=UTC)),  # RFC 822
    ("Sun, 20 Sep 2026 07:00:00 -0400", datetime(2026, 9, 20, 11, tzinfo=UTC)),
    ("20 Sep 2026 07:00 EDT", datetime(2026, 9, 20, 11, tzinfo=UTC)),  # RFC 822's own zones
    ("Sun, 20 Sep 2026 07:00:00 CEST", datetime(2026, 9, 20, 7, tzinfo=UTC)),
    ("2026-09-20", datetime(2026, 9, 20, tzinfo=UTC)),
    ("2026-09-20T07:00:00+02:00", datetime(2026, 9, 20, 5, tzinfo=UTC)),
    ("2026-09-20T07:00:00.000Z", datetime(2026, 9, 20, 7, tzinfo=UTC)),
    ("2026-09-20 07:00:00 UTC", datetime(2026, 9, 20, 7, tzinfo=UTC)),
    ("Mon Feb 30 07:00:00 UTC 2026", None),  # no such day
    ("Sun Sep 20 07:00:00 GMT+25:00 2026", None),
    ("Posted 30+ Days Ago", None),
    ("20 September 2026", None),
    ("", None),
])
def test_date_posted_formats(fixture_bytes, text: str, expected: datetime | None) -> None:
    new = b'<meta itemprop="datePosted" content="' + text.encode() + b'">'
    p = _parse(_variant(fixture_bytes(FIXTURE), (DATE, new))).postings[0]
    assert p.posted_at == expected


def test_java_date_in_json_ld_too() -> None:
    body = b"<html><head>" + _json_ld(title="X", datePosted="Tue Oct 06 09:30:00 UTC 2026")
    p = _parse(body + b"</head></html>").postings[0]
    assert p.posted_at == datetime(2026, 10, 6, 9, 30, tzinfo=UTC)


# ----------------------------------------------------------------------------- nested items, links


RICH = (
    b'<meta itemprop="identifier" content="17137">'
    b'<span itemprop="hiringOrganization" itemscope itemtype="http://schema.org/Organization">'
    b'<span itemprop="name">DTE Energy Services, Inc.</span></span>'
    b'<span itemprop="baseSalary" itemscope itemtype="http://schema.org/MonetaryAmount">'
    b'<meta itemprop="currency" content="USD">'
    b'<span itemprop="value" itemscope itemtype="http://schema.org/QuantitativeValue">'
    b'<data itemprop="minValue" value="85000">85k</data>'
    b'<data itemprop="maxValue" value="110000.00">110k</data>'
    b'<meta itemprop="unitText" content="YEAR"></span></span>'
    b'<meta itemprop="employmentType" content="FULL_TIME">'
    b'<meta itemprop="validThrough" content="2026-12-31">'
    b'<a itemprop="url" href="../1377939300/details?x=1">details</a>'
    b'<meta itemprop="directApply" content="true">'
)


def test_nested_organization_salary_and_links(fixture_bytes) -> None:
    body = _variant(fixture_bytes(FIXTURE), (ORG, RICH))
    p = _parse(body).postings[0]
    assert p.source_id == "17137"  # identifier
    assert p.company == "DTE Energy Services, Inc."  # an Organization's name
    assert p.salary == Salary(85000.0, 110000.0, "USD", SalaryPeriod.YEAR)
    assert p.employment_type is EmploymentType.FULL_TIME
    # <a href> relative to the page; directApply: the url is where one applies
    details = "https://careers.dteenergy.com/job/River-Rouge-Control-Engineer-II-MI-48218/" \
              "1377939300/details?x=1"
    assert (p.url, p.apply_url) == (details, details)


@pytest.mark.parametrize(("url", "expected"), [
    (b"/job/7/", "https://careers.dteenergy.com/job/7/"),  # <meta content>: not resolved by
    (b"//jobs.dteenergy.test/7", "https://jobs.dteenergy.test/7"),  # extruct, by the adapter
    (b"javascript:alert(1)", PAGE),  # not a web link: dropped, the canonical link stands in
    (b"http://[::1", PAGE),  # unreadable: dropped, the posting kept
])
def test_relative_and_bad_posting_urls(fixture_bytes, url: bytes, expected: str) -> None:
    body = _variant(fixture_bytes(FIXTURE), (ORG, ORG + b'<meta itemprop="url" content="'
                                             + url + b'">'))
    p = _parse(body).postings[0]
    assert p.url == expected
    assert p.apply_url.endswith("/talentcommunity/apply/1377939300/?locale=en_US")


def test_an_unreadable_link_in_an_element_costs_only_that_link(fixture_bytes) -> None:
    # extruct resolves <a href> itself, and urljoin's ValueError failed the whole page
    body = _variant(fixture_bytes(FIXTURE), (ORG, ORG + b'<a itemprop="url" href="http://[::1">'
                                             b"x</a>"))
    p = _parse(body).postings[0]
    assert (p.title, p.url) == ("Control Engineer II", PAGE)


def test_control_characters_in_the_text_cost_nothing(fixture_bytes) -> None:
    # lxml refuses to re-set such text when extruct's cleaner removes an element beside it
    body = _variant(fixture_bytes(FIXTURE),
                    (b"Control Engineer II\n", b"Control\x0cEngineer II<meta name=x>\x0b\n"))
    assert _parse(body).postings[0].title == "Control Engineer II"


def test_an_apply_link_that_is_not_http_is_dropped(fixture_bytes) -> None:
    body = _variant(fixture_bytes(FIXTURE), (APPLY, b'href="javascript:apply()"'))
    assert _parse(body).postings[0].apply_url is None


def test_telecommute_and_country(fixture_bytes) -> None:
    body = _variant(fixture_bytes(FIXTURE), (ORG, ORG + b'<meta itemprop="jobLocationType" '
                                             b'content="TELECOMMUTE">'))
    assert _parse(body).postings[0].remote is Remote.TRUE


# ----------------------------------------------------------------------------- RDFa


def test_rdfa_gives_the_same_posting(fixture_bytes) -> None:
    body = _rdfa(fixture_bytes(FIXTURE))
    assert b"itemprop" not in body
    page = _parse(body, PAGE + "?feedId=42")
    assert page.skipped == 0 and len(page.postings) == 1
    p = page.postings[0]
    assert p.id == f"jsonld:dte:{DTE_ID}"  # the same id as from microdata
    assert (p.title, p.company, p.locations) == (
        "Control Engineer II", "DTE Energy", ("River Rouge, MI, US",))
    assert (p.url, p.remote) == (PAGE, Remote.FALSE)
    assert p.posted_at == datetime(2026, 9, 20, 7, 0, tzinfo=UTC)
    assert p.apply_url is None  # the a.apply link is read beside microdata only
    # RDFa's description is the element's text
    assert p.description_text.startswith("DTE is one of the nation\u2019s largest")
    assert p.description_text.split("\n")[1:3] == ["Job Summary", "Location: River Rouge, MI"]


def test_rdfa_links_are_iris_and_cycles_end() -> None:
    body = (
        b'<html><body vocab="http://schema.org/"><div typeof="JobPosting" resource="#job">'
        b'<h1 property="title">Welder</h1><a property="url" href="/jobs/welder">x</a>'
        b'<div property="hiringOrganization" typeof="Organization" resource="#org">'
        b'<span property="name">Acme</span><link property="subOrganization" href="#org">'
        b'<link property="member" href="#job"></div></div></body></html>'
    )
    p = _parse(body, "https://acme.test/careers").postings[0]
    assert (p.title, p.company) == ("Welder", "Acme")
    assert p.url == p.source_id == "https://acme.test/jobs/welder"


def test_rdfa_references_that_multiply_are_refused() -> None:
    nodes = "".join(
        f'<div resource="#n{i}" typeof="Thing">'
        + "".join(f'<link property="p{j}" href="#n{i + 1}">' for j in range(30)) + "</div>"
        for i in range(20))
    body = ('<html><body vocab="http://schema.org/"><div typeof="JobPosting">'
            '<b property="title">T</b><link property="hiringOrganization" href="#n0"></div>'
            + nodes + "</body></html>").encode()
    with pytest.raises(ParseError, match="RDFa not read: more than 5000 nodes"):
        _parse(body)


# ----------------------------------------------------------------------------- both formats


def test_json_ld_and_microdata_of_one_posting_are_one_posting(fixture_bytes) -> None:
    block = _json_ld(title="Control Engineer II", identifier={"value": "17137"},
                     hiringOrganization={"name": "DTE Energy Services, Inc."},
                     employmentType="FULL_TIME",
                     jobLocation={"address": {"addressLocality": "River Rouge",
                                              "addressRegion": "Michigan",
                                              "addressCountry": "United States"}})
    page = _parse(_with_json_ld(fixture_bytes(FIXTURE), block))
    assert len(page.postings) == 1
    p = page.postings[0]
    # JSON-LD's values win...
    assert (p.source_id, p.company) == ("17137", "DTE Energy Services, Inc.")
    assert p.locations == ("River Rouge, Michigan, United States",)
    assert p.employment_type is EmploymentType.FULL_TIME
    # ... microdata fills in what JSON-LD lacks
    assert p.posted_at == datetime(2026, 9, 20, 7, 0, tzinfo=UTC)
    assert p.apply_url.endswith("/talentcommunity/apply/1377939300/?locale=en_US")
    assert "<h2>Job Summary</h2>" in p.description_html


def test_json_ld_microdata_and_rdfa_of_one_posting_are_one_posting(fixture_bytes) -> None:
    body = fixture_bytes(FIXTURE)
    rdfa = _rdfa(body)
    start = rdfa.index(b'<div class="jobDisplayShell"')
    end = rdfa.index(b'<aside id="similar-jobs"')
    both = _variant(body, (b"</body>", rdfa[start:end] + b"</body>"))
    block = _json_ld(title="Control  engineer ii", url=PAGE)
    page = _parse(_with_json_ld(both, block))
    assert [(p.title, p.url) for p in page.postings] == [("Control  engineer ii", PAGE)]


def test_same_title_but_other_locations_on_a_listing_are_two(fixture_bytes) -> None:
    blocks = [_json_ld(title="Control Engineer II", jobLocation={"address": {
        "addressLocality": city, "addressRegion": "MI", "addressCountry": "US"}})
        for city in ("Monroe", "Detroit")]
    page = _parse(_with_json_ld(fixture_bytes(FIXTURE), *blocks))
    assert [p.locations for p in page.postings] == [
        ("Monroe, MI, US",), ("Detroit, MI, US",), ("River Rouge, MI, US",)]


def test_same_title_other_identifiers_are_two(fixture_bytes) -> None:
    body = _variant(fixture_bytes(FIXTURE),
                    (ORG, ORG + b'<meta itemprop="identifier" content="17137">'))
    page = _parse(_with_json_ld(body, _json_ld(title="Control Engineer II", identifier="9")))
    assert [p.source_id for p in page.postings] == ["9", "17137"]


def test_same_title_and_place_is_one_posting(fixture_bytes) -> None:
    blocks = [_json_ld(title="Control Engineer II", jobLocation={"address": {
        "addressLocality": city, "addressRegion": "MI", "addressCountry": "US"}})
        for city in ("Monroe", "River Rouge")]
    page = _parse(_with_json_ld(fixture_bytes(FIXTURE), *blocks))
    assert [p.locations for p in page.postings] == [("Monroe, MI, US",), ("River Rouge, MI, US",)]
    assert page.postings[1].apply_url is not None  # merged with the microdata


def test_other_titles_are_other_postings(fixture_bytes) -> None:
    page = _parse(_with_json_ld(fixture_bytes(FIXTURE), _json_ld(title="Electrician")))
    assert [p.title for p in page.postings] == ["Electrician", "Control Engineer II"]
    assert [p.url for p in page.postings] == [PAGE, PAGE]  # two postings: no canonical


# ----------------------------------------------------------------------------- bad input


def test_not_html_is_parse_error() -> None:
    with pytest.raises(ParseError, match="not an HTML page"):
        _parse(b"")


def test_microdata_posting_without_title_is_parse_error(fixture_bytes) -> None:
    body = _variant(fixture_bytes(FIXTURE), (TITLE, b'itemprop="name"'))
    with pytest.raises(ParseError, match=r"^jsonld: JobPosting\[0\]: title is missing"):
        _parse(body)


def test_a_broken_posting_beside_a_good_one_is_skipped_and_counted(fixture_bytes) -> None:
    broken = (b'<div itemscope itemtype="https://schema.org/JobPosting">'
              b'<span itemprop="name">No title</span></div>')
    body = _variant(fixture_bytes(FIXTURE), (b'<aside id="similar-jobs"',
                                             broken + b'<aside id="similar-jobs"'))
    page = _parse(body)
    assert [p.title for p in page.postings] == ["Control Engineer II"]
    assert page.skipped == 1
    assert page.skip_reasons == ("jsonld: JobPosting[1]: title is missing or not a non-empty "
                                 "string",)


def test_other_items_only_is_an_empty_board() -> None:
    body = b'<html><body><div itemscope itemtype="http://schema.org/Product">' \
           b'<span itemprop="name">Widget</span></div></body></html>'
    assert _parse(body).postings == []


def _nested_items(depth: int) -> str:
    return ('<div itemscope itemtype="http://schema.org/JobPosting">'
            '<b itemprop="title">Deep</b>'
            + '<div itemprop="a" itemscope>' * depth + "</div>" * depth + "</div>")


HOSTILE = {
    "items nested more than 16 deep": _nested_items(250),  # overflowed extruct's recursion
    "properties nested more than 3 deep": (
        '<div itemscope itemtype="http://schema.org/JobPosting">'
        + '<span itemprop="title">' * 100 + "<p>word</p>" * 1000 + "</span>" * 100 + "</div>"),
    "more than 16 itemref references": (  # 50 s in extruct with 1,000 of each
        '<div itemscope itemtype="http://schema.org/JobPosting" itemref="big"></div>' * 1000
        + '<div id="big">' + '<i itemprop="title">y</i>' * 1000 + "</div>"),
    "itemref brings in more than 5000 elements": (
        '<div itemscope itemtype="http://schema.org/JobPosting" itemref="big"></div>' * 2
        + '<div id="big">' + '<i itemprop="title">y</i>' * 3000 + "</div>"),
    "more than 20000 items and properties": (
        '<div itemscope itemtype="http://schema.org/JobPosting">'
        + '<i itemprop="title">y</i>' * 20_001 + "</div>"),
    "page larger than 2097152 bytes": (
        '<div itemscope itemtype="http://schema.org/JobPosting"><b itemprop="title">T</b>'
        + "<!-- padding -->" * 140_000 + "</div>"),
}


@pytest.mark.parametrize("reason", HOSTILE)
def test_microdata_over_a_bound_is_not_read(reason: str) -> None:
    body = ("<html><body>" + HOSTILE[reason] + "</body></html>").encode()
    with pytest.raises(ParseError, match=f"^jsonld: microdata not read: {reason} and no "
                                         "JobPosting was found$"):
        _parse(body)
    # JSON-LD beside it is still read
    page = _parse(body.replace(b"<body>", b"<body>" + _json_ld(title="Kept")))
    assert [p.title for p in page.postings] == ["Kept"]


def test_items_nested_within_the_bound_are_read() -> None:
    body = ("<html><body>" + _nested_items(15) + "</body></html>").encode()
    assert [p.title for p in _parse(body).postings] == ["Deep"]


def test_rdfa_over_the_size_bound_is_not_read() -> None:
    body = ('<html><body vocab="http://schema.org/"><div typeof="JobPosting">'
            '<b property="title">T</b>' + "<!-- padding -->" * 140_000 + "</div></body></html>")
    with pytest.raises(ParseError, match="RDFa not read: page larger than"):
        _parse(body.encode())


def test_helper_module_is_no_board_type() -> None:
    assert not hasattr(microdata, "parse") and not hasattr(microdata, "first_url")


# ----------------------------------------------------------------------------- fuzzing

SETTINGS = FUZZ
FUZZ_BOARD = BoardRef(name="fuzz", type="jsonld", token="acme", url="https://boards.test/page")


def _parse_or_parse_error(body: bytes) -> None:
    try:
        page = jsonld.parse(body, FUZZ_BOARD, "https://boards.test/page")
    except ParseError:
        return
    assert isinstance(page, Page)
    ids = [p.id for p in page.postings]
    assert len(ids) == len(set(ids))
    for p in page.postings:
        assert p.content_hash
        assert p.title == p.title.strip() != ""
        assert p.posted_at is None or p.posted_at.tzinfo is not None
        for link in (p.url, p.apply_url):
            assert link is None or link.startswith(("http://", "https://"))


NAMES = st.sampled_from([
    "title", "description", "datePosted", "validThrough", "hiringOrganization", "name",
    "jobLocation", "address", "addressLocality", "addressRegion", "addressCountry",
    "baseSalary", "currency", "value", "minValue", "maxValue", "unitText", "employmentType",
    "jobLocationType", "applicantLocationRequirements", "url", "directApply", "identifier",
    "http://schema.org/title", "title name",
]) | st.text(max_size=6)
TYPES = st.sampled_from([
    "http://schema.org/JobPosting", "https://schema.org/JobPosting", "JobPosting",
    "http://schema.org/Place", "http://schema.org/PostalAddress",
    "http://schema.org/Organization", "http://schema.org/MonetaryAmount",
    "http://schema.org/QuantitativeValue", "http://schema.org/PropertyValue", "",
]) | st.text(max_size=8)
VALUES = st.sampled_from([
    "Sun Sep 20 07:00:00 UTC 2026", "Sun, 20 Sep 2026 07:00:00 EDT", "2026-09-20", "true",
    "/jobs/1", "javascript:alert(1)", "http://[::1", "//x", "50000", "0", "USD", "YEAR",
    "FULL_TIME", "TELECOMMUTE", "&lt;p&gt;x", "<p>x</p>", "Sun Feb 31 25:61:61 UTC 99999",
]) | st.text(max_size=16)
TAGS = st.sampled_from(["span", "div", "meta", "a", "time", "data", "img", "p", "link", "b"])


@dataclass
class _El:
    tag: str
    prop: str | None
    item: bool
    kind: str | None
    value: str
    children: list[_El] = field(default_factory=list)

    def render(self, rdfa: bool) -> str:
        attrs = []
        if self.prop is not None:
            attrs.append(f'{"property" if rdfa else "itemprop"}="{html.escape(self.prop)}"')
        if self.item:
            kind = html.escape(self.kind or "")
            attrs.append(f'typeof="{kind}"' if rdfa else f'itemscope itemtype="{kind}"')
        value = html.escape(self.value)
        attrs.append({"meta": f'content="{value}"', "a": f'href="{value}"',
                      "link": f'href="{value}"', "img": f'src="{value}"',
                      "time": f'datetime="{value}"', "data": f'value="{value}"'}.get(
            self.tag, f'class="{value}"'))
        inner = "".join(c.render(rdfa) for c in self.children) + value
        return f"<{self.tag} {' '.join(attrs)}>{inner}</{self.tag}>"


ELEMENTS = st.recursive(
    st.builds(_El, TAGS, st.none() | NAMES, st.booleans(), st.none() | TYPES, VALUES),
    lambda children: st.builds(_El, TAGS, st.none() | NAMES, st.booleans(),
                               st.none() | TYPES, VALUES, st.lists(children, max_size=4)),
    max_leaves=24,
)
# A JobPosting item with a title and random properties, so that most pages give postings.
JOBS = st.builds(
    lambda title, kids: _El("div", None, True, "http://schema.org/JobPosting", "", [title, *kids]),
    st.builds(_El, st.sampled_from(["span", "meta", "h1"]), st.just("title"), st.just(False),
              st.none(), VALUES),
    st.lists(ELEMENTS, max_size=6),
)


@given(roots=st.lists(JOBS | ELEMENTS, max_size=3), rdfa=st.booleans(),
       extra=st.sampled_from([b"", _json_ld(title="Also JSON-LD"), b'<link rel="canonical" '
                              b'href="/canonical">']))
@SETTINGS
def test_generated_microdata_and_rdfa(roots: list[_El], rdfa: bool, extra: bytes) -> None:
    vocab = ' vocab="http://schema.org/"' if rdfa else ""
    body = (f"<html><head>{extra.decode()}</head><body{vocab}>"
            + "".join(r.render(rdfa) for r in roots) + "</body></html>")
    _parse_or_parse_error(body.encode())


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_arbitrary_bytes(body: bytes) -> None:
    _parse_or_parse_error(body)


def _damaged(body: bytes, data: st.DataObject) -> bytes:
    # the microdata is in bytes 25,500 to 40,000 of the page: damage it as often as the rest
    start = data.draw(st.integers(0, len(body)) | st.integers(25_500, 40_000))
    end = data.draw(st.integers(start, min(len(body), start + 64)))
    patch = data.draw(st.binary(max_size=16) | st.sampled_from(
        [b'"', b"<", b">", b"itemscope ", b' itemprop="title"', b"</div>", b"&#0;", b"\xff"]))
    return body[:start] + patch + body[end:]


FIXTURE_BODY = (FIXTURES / FIXTURE).read_bytes()
MUTATED: dict[str, Callable[[bytes], bytes]] = {"microdata": lambda b: b, "rdfa": _rdfa}


@pytest.mark.parametrize("kind", MUTATED)
@given(data=st.data())
@FUZZ
def test_damaged_fixture(kind: str, data: st.DataObject) -> None:
    body = MUTATED[kind](FIXTURE_BODY)
    for _ in range(data.draw(st.integers(1, 3))):
        body = _damaged(body, data)
    _parse_or_parse_error(body)
