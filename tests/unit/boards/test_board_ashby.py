from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobscrape.boards import ashby
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod, content_hash

FIXTURE = "ashby_job_board.json"
BOARD = BoardRef(name="linear", type="ashby", token="linear")
URL = "https://api.ashbyhq.com/posting-api/job-board/linear?includeCompensation=true"


def test_first_url_default_endpoint() -> None:
    assert ashby.first_url(BOARD) == URL


def test_first_url_override_gets_compensation_param() -> None:
    board = BoardRef(name="b", type="ashby", token="linear", url="http://127.0.0.1:8080/ashby")
    assert ashby.first_url(board) == "http://127.0.0.1:8080/ashby?includeCompensation=true"


def test_fixture_first_job_field_by_field(fixture_bytes) -> None:
    page = ashby.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert page.next_url is None
    assert len(page.postings) == 2
    p = page.postings[0]
    assert p.id == "ashby:linear:d3bc1ced-3ce4-4086-a050-555055dbb1ff"
    assert p.source_id == "d3bc1ced-3ce4-4086-a050-555055dbb1ff"
    assert (p.board, p.board_type) == ("linear", "ashby")
    assert p.title == "Senior / Staff Fullstack Engineer"
    assert p.url == "https://jobs.ashbyhq.com/linear/d3bc1ced-3ce4-4086-a050-555055dbb1ff"
    assert p.apply_url == (
        "https://jobs.ashbyhq.com/linear/d3bc1ced-3ce4-4086-a050-555055dbb1ff/application"
    )
    assert p.company == "linear"  # Ashby names none: the board (token)
    assert p.department == "Product"
    assert p.locations == ("Europe",)
    assert p.remote is Remote.TRUE
    assert p.employment_type is EmploymentType.FULL_TIME
    assert p.salary is None  # summaryComponents is empty
    assert p.posted_at == datetime(2021, 4, 27, 20, 13, 45, 158000, tzinfo=UTC)
    assert p.updated_at is None
    assert p.description_html.startswith(
        "<p>At Linear, we're building the product development system"
    )
    assert "style=" not in p.description_html
    assert p.description_text.startswith(
        "At Linear, we're building the product development system for teams and agents."
    )
    assert "\nFounded in 2019, Linear" in p.description_text
    assert p.content_hash == content_hash(p) != ""


def test_fixture_second_job(fixture_bytes) -> None:
    p = ashby.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[1]
    assert p.source_id == "cd5ae036-0223-427a-b038-ba16ef9dcb32"
    assert p.locations == ("North America",)
    assert p.posted_at == datetime(2021, 8, 18, 20, 48, 26, 891000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("is_remote", "workplace", "expected"),
    [
        (True, "Hybrid", Remote.FALSE),  # workplaceType wins over isRemote
        (False, "Remote", Remote.TRUE),
        (True, None, Remote.TRUE),
        (False, None, Remote.FALSE),
        (None, None, Remote.UNKNOWN),
    ],
)
def test_workplace_type_wins_over_is_remote(
    fixture_json, is_remote: bool | None, workplace: str | None, expected: Remote
) -> None:
    doc = fixture_json(FIXTURE)
    job = doc["jobs"][0]
    job["isRemote"] = is_remote
    job["workplaceType"] = workplace
    assert ashby.parse(json.dumps(doc).encode(), BOARD, URL).postings[0].remote is expected


def test_unlisted_jobs_are_skipped(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["jobs"][0]["isListed"] = False
    ids = [p.source_id for p in ashby.parse(json.dumps(doc).encode(), BOARD, URL).postings]
    assert ids == ["cd5ae036-0223-427a-b038-ba16ef9dcb32"]


def test_salary_from_summary_components(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["jobs"][0]["compensation"]["summaryComponents"] = [
        {"compensationType": "EquityPercentage", "minValue": 0.1, "maxValue": 0.2},
        {
            "compensationType": "Salary", "interval": "1 YEAR", "currencyCode": "USD",
            "minValue": 150000, "maxValue": 190000,
        },
    ]
    doc["jobs"][0]["secondaryLocations"] = [{"location": "London"}, {"location": "Europe"}]
    p = ashby.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert p.salary == Salary(150000.0, 190000.0, "USD", SalaryPeriod.YEAR)
    assert p.locations == ("Europe", "London")


def test_empty_board() -> None:
    assert ashby.parse(b'{"apiVersion": "1", "jobs": []}', BOARD, URL).postings == []


@pytest.mark.parametrize("cut", [1, 1000, 4200])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="ashby: body is not valid JSON"):
        ashby.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


def test_missing_jobs_array_is_parse_error() -> None:
    with pytest.raises(ParseError, match="expected an array under 'jobs'"):
        ashby.parse(b'{"error": "not found"}', BOARD, URL)


@pytest.mark.parametrize(("compensation", "salary"), [
    ({"compensationTierSummary": "$150K \u2013 $200K • Offers Equity"},
     Salary(150000.0, 200000.0, "USD", SalaryPeriod.YEAR)),
    ({"scrapeableCompensationSalarySummary": "€60,000 - €80,000 per year",
      "compensationTierSummary": "€60,000 - €80,000 per year • Equity"},
     Salary(60000.0, 80000.0, "EUR", SalaryPeriod.YEAR)),
    # two ranges in two currencies: no guess
    ({"compensationTierSummary": "$150K \u2013 $200K or £100K \u2013 £130K"}, None),
    ({"compensationTierSummary": "Offers Equity"}, None),
])
def test_pay_from_the_summary_texts_when_no_component_gives_it(fixture_json, compensation,
                                                              salary) -> None:
    doc = fixture_json(FIXTURE)
    doc["jobs"][0]["compensation"] = {"summaryComponents": [], **compensation}
    assert ashby.parse(json.dumps(doc).encode(), BOARD, URL).postings[0].salary == salary
