from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobscrape.boards import recruitee
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod, content_hash

FIXTURE = "recruitee_offers.json"
BOARD = BoardRef(name="channable", type="recruitee", token="channable")
URL = "https://channable.recruitee.com/api/offers/"


def test_first_url_default_endpoint() -> None:
    assert recruitee.first_url(BOARD) == URL


def test_first_url_rejects_token_that_is_not_a_host_label() -> None:
    with pytest.raises(ValueError, match=r"token 'evil.com/x' must be a DNS label"):
        recruitee.first_url(BoardRef(name="b", type="recruitee", token="evil.com/x"))


def test_first_url_override_is_used_as_is() -> None:
    board = BoardRef(name="b", type="recruitee", token="x", url="https://jobs.example/api/offers/")
    assert recruitee.first_url(board) == "https://jobs.example/api/offers/"


def test_fixture_first_offer_field_by_field(fixture_bytes) -> None:
    page = recruitee.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert page.next_url is None
    assert len(page.postings) == 2
    p = page.postings[0]
    assert p.id == "recruitee:channable:2751915"
    assert p.source_id == "2751915"
    assert (p.board, p.board_type) == ("channable", "recruitee")
    assert p.title == "Customer Success Manager Benelux - Dutch speaking"
    assert p.url == "https://jobs.channable.com/o/customer-success-manager-benelux-dutch-speaking-3"
    assert p.apply_url == (
        "https://jobs.channable.com/o/customer-success-manager-benelux-dutch-speaking-3/c/new"
    )
    assert p.company == "Channable"
    assert p.department == "Customer Success"
    assert p.locations == ("Utrecht, Utrecht, Netherlands",)
    assert p.remote is Remote.FALSE
    assert p.employment_type is EmploymentType.FULL_TIME  # fulltime_permanent
    assert p.salary == Salary(3750.0, 5250.0, "EUR", SalaryPeriod.MONTH)  # strings in the body
    assert p.posted_at == datetime(2026, 9, 18, 13, 27, 28, tzinfo=UTC)
    assert p.updated_at == datetime(2026, 9, 19, 19, 2, 48, tzinfo=UTC)
    assert p.content_hash == content_hash(p) != ""


def test_fixture_description_is_description_then_requirements(fixture_bytes) -> None:
    p = recruitee.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[0]
    assert p.description_html.startswith("<p><span>Channable is a fast-growing B2B SaaS")
    assert p.description_html.index("Channable is a fast-growing") < p.description_html.index(
        "Your role"
    )
    assert "color:#000000" not in p.description_html
    assert p.description_text.startswith("Channable is a fast-growing B2B SaaS platform")
    assert "Portfolio & client management" in p.description_text


def test_fixture_second_offer_yearly_salary(fixture_bytes) -> None:
    p = recruitee.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[1]
    assert p.title == "Head of People & Culture"
    assert p.department == "Operations"
    assert p.salary == Salary(115000.0, 130000.0, "EUR", SalaryPeriod.YEAR)
    assert p.posted_at == datetime(2026, 9, 11, 15, 16, 33, tzinfo=UTC)


def test_remote_offer_and_location_text_fallback(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    offer = doc["offers"][0]
    offer["remote"] = True
    offer["locations"] = []
    offer["salary"] = {"min": None, "max": None, "period": None, "currency": None}
    offer["employment_type_code"] = "parttime_fixed_term"
    p = recruitee.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert p.remote is Remote.TRUE
    assert p.locations == ("Utrecht, Utrecht, Netherlands",)
    assert p.salary is None
    assert p.employment_type is EmploymentType.PART_TIME


@pytest.mark.parametrize("cut", [1, 9000, 18900])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="recruitee: body is not valid JSON"):
        recruitee.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


def test_missing_offers_is_parse_error() -> None:
    with pytest.raises(ParseError, match="expected an array under 'offers'"):
        recruitee.parse(b'{"error": "Not found"}', BOARD, URL)
