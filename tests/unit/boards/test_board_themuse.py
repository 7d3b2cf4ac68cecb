from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import themuse
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

from boardkit import FUZZ

FIXTURE = "themuse_jobs_page0_20240317.json"  # page 0 of 15,640, 20 jobs
BOARD = BoardRef(name="muse", type="themuse", token="muse-all")
URL = "https://www.themuse.com/api/public/jobs?page=0"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"


def _parse(doc: Any, url: str = URL, board: BoardRef = BOARD) -> Page:
    return themuse.parse(json.dumps(doc).encode(), board, url)


def test_first_url_default_endpoint() -> None:
    assert themuse.first_url(BOARD) == URL
    assert themuse.first_url(BoardRef(name="b", type="themuse")) == URL  # no token needed


def test_first_url_override_gets_page_zero() -> None:
    board = BoardRef(name="b", type="themuse",
                     url="https://www.themuse.com/api/public/jobs?category=Data+Science")
    assert themuse.first_url(board) == (
        "https://www.themuse.com/api/public/jobs?category=Data+Science&page=0"
    )


def test_first_url_override_keeps_its_page() -> None:
    board = BoardRef(name="b", type="themuse", url="http://mirror.test/jobs?page=3")
    assert themuse.first_url(board) == "http://mirror.test/jobs?page=3"


def test_fixture_first_job_field_by_field(fixture_bytes) -> None:
    page = themuse.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert (len(page.postings), page.skipped) == (20, 0)
    p = page.postings[0]
    assert p.id == "themuse:muse-all:13540382"
    assert p.source_id == "13540382"
    assert (p.board, p.board_type) == ("muse", "themuse")
    assert p.title == "Store Associate"
    assert p.url == "https://www.themuse.com/jobs/cvshealth/store-associate-aa0a17"
    assert p.apply_url is None
    assert p.company == "CVS Health"
    assert p.department == "Retail"
    assert p.locations == ("San Dimas, CA",)
    assert p.remote is Remote.UNKNOWN  # a city does not say the job is not remote
    assert p.employment_type is EmploymentType.UNKNOWN  # levels are seniority
    assert p.salary is None
    assert p.posted_at == datetime(2024, 3, 17, 12, 42, 27, tzinfo=UTC)
    assert p.updated_at is None
    assert p.description_html.startswith(
        "<p>Bring your heart to CVS Health. Every one of us at CVS Health shares a single, clear"
        " purpose"
    )
    assert p.description_text.startswith("Bring your heart to CVS Health.")
    assert p.content_hash == content_hash(p) != ""


def test_other_jobs_of_the_page(fixture_bytes) -> None:
    postings = themuse.parse(fixture_bytes(FIXTURE), BOARD, URL).postings
    siemens = postings[3]
    assert (siemens.source_id, siemens.company, siemens.title) == (
        "10654819", "Siemens", "Senior Software Architect(m/f/d)"
    )
    assert siemens.locations == ("Aveiro, Portugal",)
    assert siemens.department == "Software Engineering"
    assert siemens.posted_at == datetime(2023, 1, 3, 23, 34, 15, tzinfo=UTC)
    assert postings[11].department is None  # category "Unknown"


def test_flexible_remote_location_is_remote(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["results"][0]["locations"] = [{"name": "Flexible / Remote"}, {"name": "New York, NY"}]
    p = _parse(doc).postings[0]
    assert (p.locations, p.remote) == (("Flexible / Remote", "New York, NY"), Remote.TRUE)


def test_next_page_while_pages_are_left(fixture_bytes) -> None:
    page = themuse.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert page.next_url == "https://www.themuse.com/api/public/jobs?page=1"


def test_next_page_keeps_the_override_filters(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["page"] = 4
    url = "https://www.themuse.com/api/public/jobs?category=Retail&page=4"
    assert _parse(doc, url).next_url == (
        "https://www.themuse.com/api/public/jobs?category=Retail&page=5"
    )


def test_pages_are_capped(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["page"] = themuse.MAX_PAGES - 2
    last = themuse.MAX_PAGES - 1
    assert _parse(doc).next_url == f"https://www.themuse.com/api/public/jobs?page={last}"
    doc["page"] = themuse.MAX_PAGES - 1
    assert doc["page_count"] > themuse.MAX_PAGES
    assert _parse(doc).next_url is None


def test_last_page_has_no_next(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["page_count"] = 1
    assert _parse(doc).next_url is None


def test_page_from_url_when_body_lacks_it(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    del doc["page"]
    url = "https://www.themuse.com/api/public/jobs?page=6"
    assert _parse(doc, url).next_url == "https://www.themuse.com/api/public/jobs?page=7"


def test_out_of_range_page_is_empty_and_ends_the_board() -> None:
    body = {"page": 20000, "page_count": 15640, "items_per_page": 20, "total": 312784,
            "results": []}
    assert _parse(body) == Page([], None)


def test_api_key_of_the_override_reaches_no_posting(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["results"][0]["refs"]["landing_page"] += "?api_key=S3CRET"
    url = "https://www.themuse.com/api/public/jobs?api_key=S3CRET&page=0"
    board = BoardRef(name="muse", type="themuse", token="muse-all", url=url)
    p = _parse(doc, url, board).postings[0]
    assert p.url == "https://www.themuse.com/jobs/cvshealth/store-associate-aa0a17?api_key=***"


def test_broken_job_is_skipped_and_counted(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["results"][1]["name"] = None
    doc["results"][2] = "job"
    page = _parse(doc)
    assert (len(page.postings), page.skipped) == (18, 2)
    assert page.skip_reasons == (
        "themuse: results[1]: name is missing or not a non-empty string",
        "themuse: results[2]: expected an object, got str",
    )


def test_error_body_is_parse_error() -> None:
    with pytest.raises(ParseError, match="themuse: expected an array under 'results'"):
        _parse({"code": 400, "error": "An error message"})


@pytest.mark.parametrize("cut", [1, 500, 30000])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="themuse: body is not valid JSON"):
        themuse.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


# ----------------------------------------------------------------------------- fuzz

SETTINGS = FUZZ
KEYS = st.sampled_from(["id", "name", "contents", "locations", "categories", "refs",
                        "landing_page", "company", "publication_date", "page",
                        "page_count"]) | st.text(max_size=4)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats() | st.text(max_size=12)
           | st.sampled_from(["Flexible / Remote", "Unknown", "2024-03-17T12:42:27Z", "<p>x"]))
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)


def _small_fixture() -> dict[str, Any]:
    """The capture with its first 3 jobs only: fuzzing parses it hundreds of times."""
    doc = json.loads((FIXTURES / FIXTURE).read_bytes())
    doc["results"] = doc["results"][:3]
    return doc


def _parse_or_parse_error(body: bytes) -> None:
    try:
        page = themuse.parse(body, BOARD, URL)
    except ParseError:
        return
    assert page.next_url is None or page.next_url.startswith(URL[:-1])
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _parse_or_parse_error(body)


@given(items=st.lists(st.dictionaries(KEYS, VALUES, max_size=10), max_size=3),
       extra=st.dictionaries(KEYS, VALUES, max_size=4))
@SETTINGS
def test_fuzz_json_of_the_right_shape(items: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    _parse_or_parse_error(json.dumps({**extra, "results": items}).encode())


@given(data=st.data())
@SETTINGS
def test_fuzz_damaged_fixture(data: st.DataObject) -> None:
    body = json.dumps(_small_fixture()).encode()
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, min(len(body), start + 64)))
    patch = data.draw(st.binary(max_size=16) | st.sampled_from([b'"', b"<", b"]", b"&#0;"]))
    _parse_or_parse_error(body[:start] + patch + body[end:])


@given(data=st.data())
@SETTINGS
def test_fuzz_optional_fields_of_the_wrong_type(data: st.DataObject) -> None:
    """Odd values anywhere but id and name never cost a job."""
    doc = _small_fixture()
    for _ in range(data.draw(st.integers(1, 4))):
        if data.draw(st.booleans()):
            item = doc["results"][data.draw(st.integers(0, 2))]
            key = data.draw(st.sampled_from(sorted(set(item) - {"id", "name"})))
            item[key] = data.draw(VALUES)
        else:
            doc[data.draw(st.sampled_from(sorted(set(doc) - {"results"})))] = data.draw(VALUES)
    page = _parse(doc)
    assert (len(page.postings), page.skipped) == (3, 0)
