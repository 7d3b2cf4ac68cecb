from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobscrape.boards import smartrecruiters
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

FIXTURE = "smartrecruiters_postings.json"
BOARD = BoardRef(name="ubisoft", type="smartrecruiters", token="Ubisoft2")
BASE = "https://api.smartrecruiters.com/v1/companies/Ubisoft2/postings"


def test_first_url_default_endpoint() -> None:
    assert smartrecruiters.first_url(BOARD) == f"{BASE}?offset=0&limit=100"


def test_first_url_override_gets_paging_params() -> None:
    board = BoardRef(name="b", type="smartrecruiters", url="http://mirror.test/sr?limit=50")
    assert smartrecruiters.first_url(board) == "http://mirror.test/sr?limit=50&offset=0"


def test_fixture_first_posting_field_by_field(fixture_bytes) -> None:
    page = smartrecruiters.parse(fixture_bytes(FIXTURE), BOARD, f"{BASE}?offset=0&limit=2")
    assert len(page.postings) == 2
    p = page.postings[0]
    assert p.id == "smartrecruiters:Ubisoft2:744000151912444"
    assert p.source_id == "744000151912444"
    assert (p.board, p.board_type) == ("ubisoft", "smartrecruiters")
    assert p.title == "Spécialiste Fiabilité outils et infrastructures - TGQF"
    assert p.url == "https://jobs.smartrecruiters.com/Ubisoft2/744000151912444"
    assert p.apply_url is None
    assert p.company == "Ubisoft"
    assert p.department == "Ubisoft"
    assert p.locations == ("Montreal, QC, Canada",)
    assert p.remote is Remote.FALSE
    assert p.employment_type is EmploymentType.FULL_TIME  # label "Full-time"
    assert p.salary is None
    assert p.posted_at == datetime(2026, 9, 25, 18, 18, 52, 891000, tzinfo=UTC)
    assert p.updated_at is None
    assert (p.description_html, p.description_text) == ("", "")
    assert p.content_hash == content_hash(p) != ""


def test_fixture_second_posting(fixture_bytes) -> None:
    p = smartrecruiters.parse(fixture_bytes(FIXTURE), BOARD, f"{BASE}?offset=0&limit=2").postings[1]
    assert p.title == "CRM Webmarketing Assistant"
    assert p.locations == ("Paris, IDF, France",)
    assert p.employment_type is EmploymentType.INTERNSHIP  # label "Intern"
    assert p.posted_at == datetime(2026, 9, 25, 14, 49, 0, 552000, tzinfo=UTC)


def test_next_page_moves_offset_by_count(fixture_bytes) -> None:
    page = smartrecruiters.parse(fixture_bytes(FIXTURE), BOARD, f"{BASE}?offset=0&limit=2")
    assert page.next_url == f"{BASE}?limit=2&offset=2"


def test_last_page_has_no_next(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["offset"] = 308
    page = smartrecruiters.parse(json.dumps(doc).encode(), BOARD, f"{BASE}?offset=308&limit=2")
    assert page.next_url is None


def test_offset_from_url_when_body_lacks_it(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    del doc["offset"]
    page = smartrecruiters.parse(json.dumps(doc).encode(), BOARD, f"{BASE}?offset=10&limit=2")
    assert page.next_url == f"{BASE}?limit=2&offset=12"


def test_unknown_company_is_empty_board() -> None:
    body = b'{"offset": 0, "limit": 100, "totalFound": 0, "content": []}'
    page = smartrecruiters.parse(body, BOARD, f"{BASE}?offset=0&limit=100")
    assert (page.postings, page.next_url) == ([], None)


def test_location_fallback_and_remote_flag(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    location = doc["content"][0]["location"]
    del location["fullLocation"]
    location["remote"] = True
    p = smartrecruiters.parse(json.dumps(doc).encode(), BOARD, BASE).postings[0]
    assert p.locations == ("Montreal, QC, ca",)
    assert p.remote is Remote.TRUE


@pytest.mark.parametrize("cut", [1, 3000, 6400])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="smartrecruiters: body is not valid JSON"):
        smartrecruiters.parse(fixture_bytes(FIXTURE)[:cut], BOARD, BASE)


def test_missing_content_is_parse_error() -> None:
    with pytest.raises(ParseError, match="expected an array under 'content'"):
        smartrecruiters.parse(b'{"totalFound": 3}', BOARD, BASE)
