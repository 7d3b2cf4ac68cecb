from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobscrape.boards import lever
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod, content_hash

FIXTURE = "lever_postings.json"
BOARD = BoardRef(name="spotify", type="lever", token="spotify")
URL = "https://api.lever.co/v0/postings/spotify?mode=json&skip=0&limit=100"


def test_first_url_default_endpoint() -> None:
    assert lever.first_url(BOARD) == URL


def test_first_url_eu_override_gets_paging_params() -> None:
    board = BoardRef(
        name="b", type="lever", token="acme", url="https://api.eu.lever.co/v0/postings/acme"
    )
    assert lever.first_url(board) == (
        "https://api.eu.lever.co/v0/postings/acme?mode=json&skip=0&limit=100"
    )


def test_fixture_first_posting_field_by_field(fixture_bytes) -> None:
    page = lever.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert page.next_url is None  # 2 postings < limit 100
    assert len(page.postings) == 2
    p = page.postings[0]
    assert p.id == "lever:spotify:2193db3f-77c5-43b8-b030-8f92c9882bf1"
    assert p.source_id == "2193db3f-77c5-43b8-b030-8f92c9882bf1"
    assert p.board == "spotify"
    assert p.board_type == "lever"
    assert p.title == "Android Engineer - Experience"
    assert p.url == "https://jobs.lever.co/spotify/2193db3f-77c5-43b8-b030-8f92c9882bf1"
    assert p.apply_url == (
        "https://jobs.lever.co/spotify/2193db3f-77c5-43b8-b030-8f92c9882bf1/apply"
    )
    assert p.company == "spotify"  # Lever names none: the site (token)
    assert p.department == "Engineering"
    assert p.locations == ("London", "Stockholm")
    assert p.remote is Remote.FALSE  # workplaceType "hybrid"
    assert p.employment_type is EmploymentType.FULL_TIME  # commitment "Permanent"
    assert p.salary is None
    assert p.posted_at == datetime(2026, 6, 23, 11, 29, 45, 805000, tzinfo=UTC)
    assert p.updated_at is None
    assert p.content_hash == content_hash(p) != ""


def test_fixture_description_joins_description_lists_and_additional(fixture_bytes) -> None:
    p = lever.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[0]
    html = p.description_html
    assert html.startswith("<div>\n<p>We design Spotify\u2019s consumer experience")
    assert "<h3>What You'll Do</h3><ul>" in html
    assert "<h3>Who You Are</h3>" in html
    assert "<h3>Where You'll Be</h3>" in html
    assert html.index("Where You'll Be") < html.index("Spotify is an equal opportunity employer")
    assert "style=" not in html
    assert p.description_text.startswith(
        "We design Spotify\u2019s consumer experience\u2014end to end"
    )
    assert "This role is based in London or Stockholm." in p.description_text


def test_fixture_second_posting(fixture_bytes) -> None:
    p = lever.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[1]
    assert p.title == "Artist & Label Partnerships Contractor, Vietnam"
    assert p.department == "Content"
    assert p.locations == ("Ho Chi Minh",)
    assert p.employment_type is EmploymentType.TEMPORARY  # commitment "Short Term"
    assert p.posted_at == datetime.fromtimestamp(1787802187.805, UTC)


def test_full_page_links_to_next_page(fixture_bytes) -> None:
    url = "https://api.lever.co/v0/postings/spotify?mode=json&skip=4&limit=2"
    page = lever.parse(fixture_bytes(FIXTURE), BOARD, url)
    assert page.next_url == "https://api.lever.co/v0/postings/spotify?mode=json&limit=2&skip=6"


def test_first_full_page_without_skip(fixture_bytes) -> None:
    url = "https://api.lever.co/v0/postings/spotify?mode=json&limit=2"
    assert lever.parse(fixture_bytes(FIXTURE), BOARD, url).next_url == (
        "https://api.lever.co/v0/postings/spotify?mode=json&limit=2&skip=2"
    )


def test_without_limit_there_is_no_paging(fixture_bytes) -> None:
    url = "https://api.lever.co/v0/postings/spotify?mode=json"
    assert lever.parse(fixture_bytes(FIXTURE), BOARD, url).next_url is None


def test_empty_page_ends_paging() -> None:
    url = "https://api.lever.co/v0/postings/spotify?mode=json&skip=100&limit=100"
    page = lever.parse(b"[]", BOARD, url)
    assert (page.postings, page.next_url) == ([], None)


def test_salary_range_and_remote_workplace(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["salaryRange"] = {
        "min": 90000, "max": 120000, "currency": "gbp", "interval": "per-year-salary"
    }
    doc[0]["workplaceType"] = "remote"
    doc[1]["salaryRange"] = {"min": 40, "max": 60, "currency": "EUR", "interval": "per-hour-wage"}
    doc[1]["workplaceType"] = "unspecified"
    first, second = lever.parse(json.dumps(doc).encode(), BOARD, URL).postings
    assert first.salary == Salary(90000.0, 120000.0, "GBP", SalaryPeriod.YEAR)
    assert first.remote is Remote.TRUE
    assert second.salary == Salary(40.0, 60.0, "EUR", SalaryPeriod.HOUR)
    assert second.remote is Remote.UNKNOWN


@pytest.mark.parametrize("cut", [1, 500, 5000, 11000])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="lever: body is not valid JSON"):
        lever.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"ok": false, "error": "Document not found"}', "expected a JSON array"),
        (b'[{"text": "x"}]', r"^lever: postings\[0\]: id is missing"),
        (b'[{"id": "x"}]', r"postings\[0\]: text is missing"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        lever.parse(body, BOARD, URL)


def test_pay_from_the_salary_text_without_a_range(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0].pop("salaryRange", None)
    doc[0]["salaryDescriptionPlain"] = "The base salary for this role is $120,000 - $140,000 USD."
    doc[1].pop("salaryRange", None)
    doc[1]["salaryDescriptionPlain"] = "Competitive pay and a 401k."
    first, second = lever.parse(json.dumps(doc).encode(), BOARD, URL).postings
    assert first.salary == Salary(120000.0, 140000.0, "USD", SalaryPeriod.UNKNOWN)
    assert second.salary is None
