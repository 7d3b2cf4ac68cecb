from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobscrape.boards import workable
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

FIXTURE = "workable_widget_details.json"
BOARD = BoardRef(name="heads", type="workable", token="1000heads")
URL = "https://apply.workable.com/api/v1/widget/accounts/1000heads?details=true"


def test_first_url_default_endpoint() -> None:
    assert workable.first_url(BOARD) == URL


def test_first_url_override_gets_details_param() -> None:
    board = BoardRef(name="b", type="workable", url="http://mirror.test/w?x=1")
    assert workable.first_url(board) == "http://mirror.test/w?x=1&details=true"


def test_fixture_first_job_field_by_field(fixture_bytes) -> None:
    page = workable.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert page.next_url is None
    assert len(page.postings) == 2
    p = page.postings[0]
    assert p.id == "workable:1000heads:E4335D00D8"
    assert p.source_id == "E4335D00D8"
    assert (p.board, p.board_type) == ("heads", "workable")
    assert p.title == "Account Director"
    assert p.url == "https://apply.workable.com/j/E4335D00D8"
    assert p.apply_url == "https://apply.workable.com/j/E4335D00D8/apply"
    assert p.company == "1000heads"
    assert p.department == "Account Management"
    assert p.locations == ("New York, New York, United States",)
    assert p.remote is Remote.FALSE  # telecommuting: false
    assert p.employment_type is EmploymentType.FULL_TIME
    assert p.salary is None
    assert p.posted_at == datetime(2026, 7, 28, tzinfo=UTC)  # published_on
    assert p.updated_at is None
    assert p.description_html.startswith(
        "<p>The Account Director will be responsible for leading retainer clients"
    )
    assert p.description_text.startswith(
        "The Account Director will be responsible for leading retainer clients"
    )
    assert "&nbsp;" not in p.description_text
    assert p.content_hash == content_hash(p) != ""


def test_fixture_second_job(fixture_bytes) -> None:
    p = workable.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[1]
    assert p.source_id == "8EDD45BE29"
    assert p.title == "Account Manager"
    assert p.department == "Client Services"
    assert p.locations == ("Soho, England, United Kingdom",)
    assert p.posted_at == datetime(2026, 8, 4, tzinfo=UTC)


def test_telecommuting_and_location_fallbacks(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    first, second = doc["jobs"]
    first["telecommuting"] = True
    first["locations"] = [
        {"country": "Greece", "city": "Athens", "region": "Attica", "hidden": True},
        {"country": "Germany", "city": "Berlin", "region": "", "hidden": False},
    ]
    second["locations"] = []
    second["published_on"] = None
    p1, p2 = workable.parse(json.dumps(doc).encode(), BOARD, URL).postings
    assert p1.remote is Remote.TRUE
    assert p1.locations == ("Berlin, Germany",)
    assert p2.locations == ("Soho, England, United Kingdom",)  # the job's own city/state/country
    assert p2.posted_at == datetime(2026, 8, 4, tzinfo=UTC)  # created_at


@pytest.mark.parametrize("cut", [1, 2000, 4300])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="workable: body is not valid JSON"):
        workable.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


def test_job_without_shortcode_is_parse_error() -> None:
    with pytest.raises(ParseError, match=r"jobs\[0\]: shortcode is missing"):
        workable.parse(b'{"name": "x", "jobs": [{"title": "t"}]}', BOARD, URL)


def test_empty_account() -> None:
    assert workable.parse(b'{"name": "x", "jobs": []}', BOARD, URL).postings == []
