from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import arbeitnow
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

from boardkit import FUZZ

FULL = "arbeitnow_api_page1_full.json"  # 2024, 100 jobs
TRIMMED = "arbeitnow_api_trimmed_jobscraper.json"  # 2026, 3 real jobs + 1 synthetic broken one
BOARD = BoardRef(name="arbeitnow-de", type="arbeitnow", token="de")
URL = "https://www.arbeitnow.com/api/job-board-api?page=1"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"


def _parse(doc: Any, url: str = URL, board: BoardRef = BOARD) -> Page:
    return arbeitnow.parse(json.dumps(doc).encode(), board, url)


def test_first_url_default_endpoint() -> None:
    assert arbeitnow.first_url(BOARD) == URL


def test_first_url_needs_no_token() -> None:
    assert arbeitnow.first_url(BoardRef(name="b", type="arbeitnow")) == URL


def test_first_url_override_is_used_as_is() -> None:
    board = BoardRef(name="b", type="arbeitnow", url="http://mirror.test/an?page=3&x=1")
    assert arbeitnow.first_url(board) == "http://mirror.test/an?page=3&x=1"


def test_full_page_first_job_field_by_field(fixture_bytes) -> None:
    page = arbeitnow.parse(fixture_bytes(FULL), BOARD, URL)
    assert (len(page.postings), page.skipped) == (100, 0)
    p = page.postings[0]
    slug = "pflichtpraktikum-marketing-digital-health-remote-cologne-228701"
    assert p.id == f"arbeitnow:de:{slug}"
    assert p.source_id == slug
    assert (p.board, p.board_type) == ("arbeitnow-de", "arbeitnow")
    assert p.title == "Pflichtpraktikum Marketing - Digital Health (m/f/x) - remote"
    assert p.url == f"https://www.arbeitnow.com/jobs/companies/dexter-health/{slug}"
    assert p.apply_url == p.url  # the job page is where one applies
    assert p.company == "dexter health"
    assert p.department is None
    assert p.locations == ("Cologne",)
    assert p.remote is Remote.TRUE  # remote: true (and the tag "Remote")
    assert p.employment_type is EmploymentType.UNKNOWN  # job_types: []
    assert p.salary is None
    assert p.posted_at == datetime(2024, 3, 10, 14, 49, 3, tzinfo=UTC)  # 1710082143
    assert p.updated_at is None
    assert p.description_html.startswith(
        "<p><strong>👋 Willkommen bei Dexter Health!</strong></p>\n<p>Wir bei Dexter Health"
    )
    assert p.description_text.startswith("👋 Willkommen bei Dexter Health!\nWir bei Dexter")
    assert p.description_text.endswith("Find Jobs in Germany on Arbeitnow")
    assert p.content_hash == content_hash(p) != ""


def test_full_page_is_followed_by_links_next(fixture_bytes) -> None:
    page = arbeitnow.parse(fixture_bytes(FULL), BOARD, URL)
    assert page.next_url == "https://www.arbeitnow.com/api/job-board-api?page=2"


@pytest.mark.parametrize(("index", "kind"), [
    (1, EmploymentType.UNKNOWN),  # ["professional / experienced"]: seniority only
    (33, EmploymentType.UNKNOWN),  # ["berufserfahren"]
    (8, EmploymentType.INTERNSHIP),  # ["Internship", "no experience required / student"]
    (16, EmploymentType.CONTRACT),  # ["Freelance"]
    (65, EmploymentType.PART_TIME),  # ["Working student", "hilfstätigkeit / student"]
    (82, EmploymentType.INTERNSHIP),  # ["Apprenticeship"]
])
def test_job_types_give_employment_type_not_seniority(
    fixture_bytes, index: int, kind: EmploymentType
) -> None:
    assert arbeitnow.parse(fixture_bytes(FULL), BOARD, URL).postings[index].employment_type \
        is kind


def test_2026_page_field_by_field_and_synthetic_item_skipped(fixture_bytes) -> None:
    page = arbeitnow.parse(fixture_bytes(TRIMMED), BOARD, URL)
    assert [p.source_id for p in page.postings] == [
        "senior-python-engineer-platform-libraries-munchen-363975",
        "devops-engineer-leipzig-sachsen-478361",
        "remote-core-developer-platform-60113",
    ]
    assert page.skipped == 1
    assert page.skip_reasons == ("arbeitnow: data[3]: title is missing or not a non-empty string",)
    p = page.postings[0]
    assert p.title == "Senior Python Engineer, Platform Libraries (m/f/d)"
    assert p.company == "Unitelabs"
    assert p.locations == ("München",)
    assert p.remote is Remote.FALSE
    assert p.employment_type is EmploymentType.FULL_TIME  # ["Experienced", "Permanent", ...]
    assert p.posted_at == datetime(2026, 9, 7, 2, 9, 2, tzinfo=UTC)  # 1788746942
    assert p.description_html.startswith("<br><strong>The role</strong>")
    assert 'style="' not in p.description_html


def test_remote_location_beats_a_false_flag(fixture_bytes) -> None:
    p = arbeitnow.parse(fixture_bytes(TRIMMED), BOARD, URL).postings[2]
    assert (p.company, p.locations) == ("Parity", ("Remote",))
    assert p.remote is Remote.TRUE  # "remote": false, "location": "Remote"
    assert p.url == (
        "https://www.arbeitnow.fr/jobs/companies/parity/remote-core-developer-platform-60113"
    )


@pytest.mark.parametrize(("flag", "location", "tags", "remote"), [
    (True, "Berlin", [], Remote.TRUE),
    (False, "Berlin", ["Remote"], Remote.TRUE),
    (False, "Berlin", ["Remote Sensing"], Remote.FALSE),
    (None, "Berlin", [], Remote.UNKNOWN),
    (None, "Hybrid Berlin", [], Remote.FALSE),
])
def test_remote_from_every_signal(
    fixture_json, flag: object, location: str, tags: list[str], remote: Remote
) -> None:
    doc = fixture_json(TRIMMED)
    doc["data"][0].update(remote=flag, location=location, tags=tags)
    assert _parse(doc).postings[0].remote is remote


def test_entity_escaped_description_is_unescaped_once(fixture_json) -> None:
    doc = fixture_json(TRIMMED)
    doc["data"][0]["description"] = "&lt;p&gt;Tom &amp;amp; Jerry&lt;/p&gt;&lt;script&gt;x()"
    p = _parse(doc).postings[0]
    assert (p.description_html, p.description_text) == ("<p>Tom &amp; Jerry</p>", "Tom & Jerry")


def test_next_link_to_another_host_keeps_the_board_on_its_host(fixture_bytes) -> None:
    page = arbeitnow.parse(fixture_bytes(FULL), BOARD, "http://mirror.test/an?x=1&page=1")
    assert page.next_url == "http://mirror.test/an?x=1&page=2"


@pytest.mark.parametrize("link", [
    None, "javascript:alert(1)", "https://www.arbeitnow.com/api/job-board-api?page=1",
    "https://elsewhere.test/no-page", 42,
])
def test_no_next_page(fixture_json, link: object) -> None:
    doc = fixture_json(TRIMMED)
    doc["links"]["next"] = link
    assert _parse(doc).next_url is None


def test_empty_page_ends_the_board_whatever_links_next_says(fixture_json) -> None:
    doc = fixture_json(TRIMMED)
    doc["data"] = []
    assert _parse(doc) == Page([], None)


def test_missing_data_is_parse_error() -> None:
    with pytest.raises(ParseError, match="arbeitnow: expected an array under 'data'"):
        _parse({"links": {}, "meta": {}})


def test_only_broken_items_is_parse_error(fixture_json) -> None:
    doc = fixture_json(TRIMMED)
    doc["data"] = doc["data"][3:]  # the synthetic item alone
    with pytest.raises(ParseError, match=r"arbeitnow: data\[0\]: title is missing"):
        _parse(doc)


@pytest.mark.parametrize("cut", [1, 1000, 20000])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="arbeitnow: body is not valid JSON"):
        arbeitnow.parse(fixture_bytes(FULL)[:cut], BOARD, URL)


# ----------------------------------------------------------------------------- fuzz

SETTINGS = FUZZ
KEYS = st.sampled_from(["slug", "title", "company_name", "description", "remote", "url", "tags",
                        "job_types", "location", "created_at", "links", "next"]) | st.text(
    max_size=4)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats() | st.text(max_size=12)
           | st.sampled_from(["Remote", "Full time", "&lt;p&gt;", "https://x.test/?page=2"]))
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)


def _parse_or_parse_error(body: bytes) -> None:
    try:
        page = arbeitnow.parse(body, BOARD, URL)
    except ParseError:
        return
    assert page.next_url is None or page.next_url.startswith("http")
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()
        assert p.posted_at is None or p.posted_at.tzinfo is not None


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _parse_or_parse_error(body)


@given(items=st.lists(st.dictionaries(KEYS, VALUES, max_size=10), max_size=3),
       links=VALUES)
@SETTINGS
def test_fuzz_json_of_the_right_shape(items: list[dict[str, Any]], links: Any) -> None:
    _parse_or_parse_error(json.dumps({"data": items, "links": links}).encode())


@given(data=st.data())
@SETTINGS
def test_fuzz_damaged_fixture(data: st.DataObject) -> None:
    body = (FIXTURES / TRIMMED).read_bytes()
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, min(len(body), start + 64)))
    patch = data.draw(st.binary(max_size=16) | st.sampled_from([b'"', b"<", b"]", b"&#0;"]))
    _parse_or_parse_error(body[:start] + patch + body[end:])


@given(data=st.data())
@SETTINGS
def test_fuzz_optional_fields_of_the_wrong_type(data: st.DataObject) -> None:
    """Odd values anywhere but slug and title never cost a job."""
    doc = json.loads((FIXTURES / TRIMMED).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.sampled_from(["item", "links", "meta"]))
        if where == "item":
            item = doc["data"][data.draw(st.integers(0, 2))]
            key = data.draw(st.sampled_from(sorted(set(item) - {"slug", "title"})))
            item[key] = data.draw(VALUES)
        else:
            doc[where] = data.draw(VALUES)
    page = _parse(doc)
    assert (len(page.postings), page.skipped) == (3, 1)
