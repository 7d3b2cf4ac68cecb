from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import gem
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

from boardkit import FUZZ

FIXTURE = "gem_job_posts_gem_trimmed.json"
BOARD = BoardRef(name="gem-board", type="gem", token="gem")
URL = "https://api.gem.com/job_board/v0/gem/job_posts"


def _parse(doc: Any, board: BoardRef = BOARD) -> Page:
    return gem.parse(json.dumps(doc).encode(), board, URL)


def test_first_url_default_endpoint() -> None:
    assert gem.first_url(BOARD) == URL


def test_first_url_quotes_token() -> None:
    assert gem.first_url(BoardRef(name="b", type="gem", token="a b/c")) == (
        "https://api.gem.com/job_board/v0/a%20b%2Fc/job_posts"
    )


def test_first_url_override_replaces_endpoint() -> None:
    board = BoardRef(name="b", type="gem", token="gem", url="http://mirror.test/gem/job_posts")
    assert gem.first_url(board) == "http://mirror.test/gem/job_posts"


def test_first_url_without_token_or_url_names_board() -> None:
    with pytest.raises(ValueError, match=r"'b'.*token is required"):
        gem.first_url(BoardRef(name="b", type="gem"))


def test_fixture_first_post_field_by_field(fixture_bytes) -> None:
    page = gem.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert (page.next_url, page.skipped) == (None, 0)
    assert [p.source_id for p in page.postings] == [
        "4965519002", "am9icG9zdDqTzmNGwXTdU65YRLOAU6ZL",
    ]
    p = page.postings[0]
    assert p.id == "gem:gem:4965519002"
    assert (p.board, p.board_type) == ("gem-board", "gem")
    assert p.title == "Software Engineer"
    assert p.url == "https://jobs.gem.com/gem/4965519002"
    assert p.apply_url is None
    assert p.company == "gem"  # no company field: the board token
    assert p.department == "Engineering"
    assert p.locations == ("San Francisco, United States",)  # location and office: the same
    assert p.remote is Remote.FALSE  # location_type "hybrid"
    assert p.employment_type is EmploymentType.FULL_TIME  # "full_time"
    assert p.salary is None
    assert p.posted_at == datetime(2020, 11, 17, 15, 37, 23, tzinfo=UTC)  # first_published_at
    assert p.updated_at == datetime(2026, 3, 10, 21, 20, 54, 77000, tzinfo=UTC)
    assert p.description_html.startswith(
        "<h2>Role Details</h2><ul><li><strong>Location:</strong> This role is based 3 days"
    )
    assert 'class=""' not in p.description_html
    assert p.description_text.startswith(
        "Role Details\nLocation: This role is based 3 days per week out of our San Francisco"
    )
    assert p.content_hash == content_hash(p) != ""


def test_fixture_second_post(fixture_bytes) -> None:
    p = gem.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[1]
    assert p.id == "gem:gem:am9icG9zdDqTzmNGwXTdU65YRLOAU6ZL"
    assert p.title == "Senior Software Engineer - Core ATS"
    assert p.url == "https://jobs.gem.com/gem/am9icG9zdDqTzmNGwXTdU65YRLOAU6ZL"
    assert p.posted_at == datetime(2025, 12, 4, 18, 31, 33, 628000, tzinfo=UTC)
    assert p.description_text.startswith("About Gem\nGem is the only AI-first all-in-one")


@pytest.mark.parametrize(
    ("location_type", "location", "expected"),
    [
        ("remote", "San Francisco, United States", Remote.TRUE),
        ("hybrid", "Remote, US", Remote.FALSE),  # the board's own field wins
        (None, "San Francisco, United States", Remote.UNKNOWN),
        (None, "Remote - US", Remote.TRUE),  # no location_type: guessed from the names
        ("something_new", "New York", Remote.UNKNOWN),
    ],
)
def test_remote_from_location_type(
    fixture_json, location_type: str | None, location: str, expected: Remote
) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["location_type"] = location_type
    doc[0]["location"] = {"name": location}
    doc[0]["offices"] = []
    assert _parse(doc).postings[0].remote is expected


def test_locations_from_location_and_offices(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["offices"].append({"id": "1", "location": {"name": "New York, United States"},
                              "name": "New York"})
    doc[0]["offices"].append({"id": "2", "location": None, "name": "London"})
    assert _parse(doc).postings[0].locations == (
        "San Francisco, United States", "New York, United States", "London",
    )


def test_dates_and_department_fallbacks(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["first_published_at"] = None
    doc[0]["departments"] = [{"id": "1", "name": None}, {"id": "2", "name": "Platform"}]
    doc[1]["departments"] = []
    first, second = _parse(doc).postings
    assert first.posted_at == datetime(2020, 11, 17, 15, 37, 20, tzinfo=UTC)  # created_at
    assert first.department == "Platform"
    assert second.department is None


def test_company_without_token_is_unknown(fixture_bytes) -> None:
    board = BoardRef(name="b", type="gem", url=URL)
    page = gem.parse(fixture_bytes(FIXTURE), board, URL)
    assert page.postings[0].company is None
    assert page.postings[0].id == "gem:b:4965519002"


def test_board_data_is_sanitised(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["content"] = '<p onclick="x()">Hi</p><script>evil()</script>'
    doc[0]["absolute_url"] = "data:text/html,hi"
    p = _parse(doc).postings[0]
    assert (p.description_html, p.description_text, p.url) == ("<p>Hi</p>", "Hi", None)


def test_empty_board() -> None:
    assert gem.parse(b"[]", BOARD, URL).postings == []


def test_unreadable_post_is_skipped_and_counted(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["title"] = ["Software Engineer"]
    page = _parse(doc)
    assert [p.source_id for p in page.postings] == ["am9icG9zdDqTzmNGwXTdU65YRLOAU6ZL"]
    assert (page.skipped, page.skip_reasons) == (
        1, ("gem: job_posts[0]: title is missing or not a non-empty string",),
    )


@pytest.mark.parametrize("cut", [1, 700, 2500])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="gem: body is not valid JSON"):
        gem.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Not Found</html>", "not valid JSON"),
        (b'{"error": "not found"}', "expected a JSON array of job posts, got dict"),
        (b'[{"title": "x"}]', r"^gem: job_posts\[0\]: id is missing"),
        (b'[{"id": 5, "title": null}]', r"job_posts\[0\]: title is missing"),
        (b'["x"]', r"job_posts\[0\]: expected an object, got str"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        gem.parse(body, BOARD, URL)


# ----------------------------------------------------------------------------- fuzz

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"
REQUIRED = ("id", "title")
SETTINGS = FUZZ
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["remote", "hybrid", "full_time", "2026-03-10T21:20:54.077Z", "<p>x"])
)
KEYS = st.sampled_from(["id", "title", "absolute_url", "content", "location", "name",
                        "location_type", "departments", "offices", "employment_type",
                        "first_published_at", "created_at", "updated_at"]) | st.text(max_size=4)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)


def _page_or_parse_error(body: bytes) -> None:
    try:
        page = gem.parse(body, BOARD, URL)
    except ParseError:
        return
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()
        assert p.posted_at is None or p.posted_at.tzinfo is not None


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _page_or_parse_error(body)


@given(doc=JSON_VALUES, items=st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=12),
                                       max_size=3))
@SETTINGS
def test_fuzz_json_of_any_shape(doc: Any, items: list[dict[str, Any]]) -> None:
    _page_or_parse_error(json.dumps(doc).encode())
    _page_or_parse_error(json.dumps(items).encode())


@given(data=st.data())
@SETTINGS
def test_fuzz_damaged_fixture(data: st.DataObject) -> None:
    body = (FIXTURES / FIXTURE).read_bytes()
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, min(len(body), start + 64)))
    patch = data.draw(st.binary(max_size=16) | st.sampled_from([b'"', b"{", b"]", b"\\u0000"]))
    _page_or_parse_error(body[:start] + patch + body[end:])


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _paths(value, (*prefix, i))
    return out


@given(data=st.data())
@SETTINGS
def test_fuzz_optional_fields_of_the_wrong_type(data: st.DataObject) -> None:
    """Odd values anywhere but in a post's id and title never cost the post."""
    doc = json.loads((FIXTURES / FIXTURE).read_bytes())
    optional = [p for p in _paths(doc) if len(p) > 2 or (len(p) == 2 and p[1] not in REQUIRED)]
    for _ in range(data.draw(st.integers(1, 4))):
        *parents, last = data.draw(st.sampled_from(optional))
        try:
            container = doc
            for step in parents:
                container = container[step]
            container[last] = data.draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):  # an earlier replacement removed the path
            continue
    assert len(_parse(doc).postings) == 2
