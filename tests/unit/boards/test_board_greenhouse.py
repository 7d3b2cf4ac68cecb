from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobscrape.boards import greenhouse
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod, content_hash

FIXTURE = "greenhouse_jobs_content.json"
BOARD = BoardRef(name="vercel-board", type="greenhouse", token="vercel")
URL = "https://boards-api.greenhouse.io/v1/boards/vercel/jobs?content=true"


def test_first_url_default_endpoint() -> None:
    assert greenhouse.first_url(BOARD) == URL


def test_first_url_quotes_token() -> None:
    board = BoardRef(name="b", type="greenhouse", token="a b/c")
    assert greenhouse.first_url(board) == (
        "https://boards-api.greenhouse.io/v1/boards/a%20b%2Fc/jobs?content=true"
    )


def test_first_url_override_gets_content_param() -> None:
    board = BoardRef(name="b", type="greenhouse", token="t", url="http://mirror.test/gh/jobs")
    assert greenhouse.first_url(board) == "http://mirror.test/gh/jobs?content=true"


def test_first_url_override_keeps_its_own_params() -> None:
    board = BoardRef(name="b", type="greenhouse", url="http://m.test/jobs?content=false&x=1")
    assert greenhouse.first_url(board) == "http://m.test/jobs?content=false&x=1"


def test_first_url_without_token_or_url_names_board() -> None:
    with pytest.raises(ValueError, match=r"'b'.*token is required"):
        greenhouse.first_url(BoardRef(name="b", type="greenhouse"))


def test_fixture_first_job_field_by_field(fixture_bytes) -> None:
    page = greenhouse.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert page.next_url is None
    assert [p.source_id for p in page.postings] == ["6136160004", "5999792004"]
    p = page.postings[0]
    assert p.id == "greenhouse:vercel:6136160004"
    assert p.board == "vercel-board"
    assert p.board_type == "greenhouse"
    assert p.title == "Account Executive, Commercial"
    assert p.url == "https://job-boards.greenhouse.io/vercel/jobs/6136160004"
    assert p.apply_url is None
    assert p.company == "Vercel"
    assert p.department == "Account Executive"
    assert p.locations == ("Hybrid - London", "London, England, United Kingdom")
    assert p.remote is Remote.FALSE  # "Hybrid - London"
    assert p.employment_type is EmploymentType.UNKNOWN
    assert p.salary is None
    assert p.posted_at == datetime(2026, 8, 6, 16, 50, 10, tzinfo=UTC)
    assert p.updated_at == datetime(2026, 9, 24, 17, 34, 54, tzinfo=UTC)
    assert p.content_hash == content_hash(p) != ""


def test_fixture_content_is_unescaped_once_then_sanitised(fixture_bytes) -> None:
    p = greenhouse.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[0]
    assert p.description_html.startswith("<div><h2>About Vercel:</h2>")
    assert "&lt;" not in p.description_html
    assert "data-sheets-root" not in p.description_html  # attributes not on the allow list
    assert p.description_text.startswith(
        "About Vercel:\nVercel is the agentic infrastructure company, freeing people and agents"
        " to ship what's next."
    )
    assert "<" not in p.description_text


def test_second_job_dates(fixture_bytes) -> None:
    p = greenhouse.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[1]
    assert p.title == "Account Executive, Majors"
    assert p.posted_at == datetime(2026, 5, 21, 13, 26, 9, tzinfo=UTC)
    assert p.updated_at == datetime(2026, 9, 24, 21, 12, 5, tzinfo=UTC)


def test_pay_ranges_in_cents(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["jobs"][0]["pay_input_ranges"] = [
        {"min_cents": 14000000, "max_cents": 18000000, "currency_type": "USD"},
        {"min_cents": 12000000, "max_cents": 19000000, "currency_type": "USD"},
        {"min_cents": 1000000, "max_cents": 99000000, "currency_type": "CAD"},
    ]
    p = greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert p.salary == Salary(min=120000.0, max=190000.0, currency="USD")


def test_script_and_handlers_are_removed(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["jobs"][0]["content"] = (
        "&lt;p onclick=&quot;x()&quot;&gt;Hi &amp;amp; bye&lt;/p&gt;&lt;script&gt;evil()"
        "&lt;/script&gt;"
    )
    p = greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert p.description_html == "<p>Hi &amp; bye</p>"
    assert p.description_text == "Hi & bye"


def test_title_is_trimmed(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["jobs"][0]["title"] = "  Staff Engineer \n"
    assert greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0].title == (
        "Staff Engineer"
    )


def test_remote_location_is_remote(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["jobs"][0]["location"] = {"name": "Remote - EMEA"}
    doc["jobs"][0]["offices"] = []
    p = greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert (p.locations, p.remote) == (("Remote - EMEA",), Remote.TRUE)


def test_content_change_changes_hash(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    before = greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    doc["jobs"][0]["content"] += " more"
    after = greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert before.content_hash != after.content_hash
    assert before.id == after.id


def test_empty_board() -> None:
    assert greenhouse.parse(b'{"jobs": []}', BOARD, URL).postings == []


@pytest.mark.parametrize("cut", [1, 100, 1000, 2500, 3900])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="greenhouse: body is not valid JSON"):
        greenhouse.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Not Found</html>", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),  # nested too deep for the decoder
        (b"[]", "expected a JSON object"),
        (b'{"jobs": {}}', "expected an array under 'jobs'"),
        (b'{"jobs": [1]}', r"jobs\[0\]: expected an object"),
        (b'{"jobs": [{"title": "x"}]}', r"^greenhouse: jobs\[0\]: id is missing"),
        (b'{"jobs": [{"id": 1, "title": 7.5}]}', r"jobs\[0\]: title is missing"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        greenhouse.parse(body, BOARD, URL)


@pytest.mark.parametrize(("labels", "period"), [
    ({"title": "Annual Base Salary"}, SalaryPeriod.YEAR),
    ({"title": "US Pay Range", "blurb": "<p>The hourly pay for this role is</p>"},
     SalaryPeriod.HOUR),
    ({"title": "Salary Range (Monthly)"}, SalaryPeriod.MONTH),
    ({"title": "California Pay Range"}, SalaryPeriod.UNKNOWN),  # no period named
    ({"title": "Hourly or annual, by location"}, SalaryPeriod.UNKNOWN),  # two: not a guess
])
def test_pay_period_from_the_range_labels(fixture_json, labels, period) -> None:
    doc = fixture_json(FIXTURE)
    doc["jobs"][0]["pay_input_ranges"] = [
        {"min_cents": 4000, "max_cents": 6000, "currency_type": "USD", **labels}]
    p = greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert p.salary == Salary(min=40.0, max=60.0, currency="USD", period=period)


def test_ranges_of_another_period_do_not_widen_the_first(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc["jobs"][0]["pay_input_ranges"] = [
        {"min_cents": 14000000, "max_cents": 18000000, "currency_type": "USD",
         "title": "Annual salary, New York"},
        {"min_cents": 12000000, "max_cents": 19000000, "currency_type": "USD",
         "title": "Annual salary, elsewhere"},
        {"min_cents": 5000, "max_cents": 9000, "currency_type": "USD",
         "title": "Hourly (contract)"},
    ]
    p = greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert p.salary == Salary(min=120000.0, max=190000.0, currency="USD", period=SalaryPeriod.YEAR)


@pytest.mark.parametrize(("metadata", "remote", "employment"), [
    ([{"name": "Workplace Type", "value": "Hybrid", "value_type": "single_select"}],
     Remote.FALSE, EmploymentType.UNKNOWN),
    ([{"name": "Remote?", "value": "Yes", "value_type": "single_select"},
      {"name": "Employment Type", "value": "Full-time", "value_type": "single_select"}],
     Remote.TRUE, EmploymentType.FULL_TIME),
    ([{"name": "Is this role remote", "value": False, "value_type": "yes_no"},
      {"name": "Job Type", "value": ["Contract"], "value_type": "multi_select"}],
     Remote.FALSE, EmploymentType.CONTRACT),
    ([{"name": "Work Arrangement", "value": "Fully remote (US)", "value_type": "short_text"}],
     Remote.TRUE, EmploymentType.UNKNOWN),
    # fields that name neither: the location names decide, the employment type stays unknown
    ([{"name": "Career Site Categories", "value": "Sales", "value_type": "single_select"},
      {"name": "Salary", "value": {"unit": "USD", "amount": "100.0"}, "value_type": "currency"}],
     None, EmploymentType.UNKNOWN),
])
def test_workplace_and_employment_from_custom_fields(fixture_json, metadata, remote,
                                                     employment) -> None:
    doc = fixture_json(FIXTURE)
    plain = greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    doc["jobs"][0]["metadata"] = metadata
    p = greenhouse.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert (p.remote, p.employment_type) == (remote or plain.remote, employment)
