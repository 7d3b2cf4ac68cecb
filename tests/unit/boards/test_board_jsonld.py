from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobscrape.boards import jsonld
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod, content_hash

FIXTURE = "jsonld_jobposting_google_example.html"
PAGE = "https://careers.magsrus.example/jobs/data-entry-clerk"
BOARD = BoardRef(name="magsrus", type="jsonld", url=PAGE)


def _page(*blocks: object | str) -> bytes:
    scripts = "".join(
        '<script type="application/ld+json">'
        + (b if isinstance(b, str) else json.dumps(b))
        + "</script>"
        for b in blocks
    )
    return f"<html><head>{scripts}</head><body>jobs</body></html>".encode()


def _job(**fields: object) -> dict[str, object]:
    return {"@context": "https://schema.org", "@type": "JobPosting", **fields}


def test_first_url_is_board_url() -> None:
    assert jsonld.first_url(BOARD) == PAGE


def test_first_url_requires_url() -> None:
    with pytest.raises(ValueError, match="'x' \\(jsonld\\): url is required"):
        jsonld.first_url(BoardRef(name="x", type="jsonld"))


def test_fixture_field_by_field(fixture_bytes) -> None:
    page = jsonld.parse(fixture_bytes(FIXTURE), BOARD, PAGE)
    assert page.next_url is None
    assert len(page.postings) == 1
    p = page.postings[0]
    assert p.id == "jsonld:magsrus:1234567"  # no token: the board name
    assert p.source_id == "1234567"  # identifier.value
    assert (p.board, p.board_type) == ("magsrus", "jsonld")
    assert p.title == "Data Entry Clerk"
    assert p.url == PAGE  # the posting has no url of its own
    assert p.apply_url is None
    assert p.company == "MagsRUs Wheel Company"
    assert p.department is None
    assert p.locations == ("Detroit, MI, US",)
    assert p.remote is Remote.FALSE  # a jobLocation and no TELECOMMUTE
    assert p.employment_type is EmploymentType.FULL_TIME  # ["FULL_TIME", "CONTRACTOR"]
    assert p.salary is None  # every amount is 0.00: a placeholder
    assert p.posted_at == datetime(2017, 1, 18, tzinfo=UTC)
    assert p.updated_at is None
    assert p.description_html.startswith(
        "<p>Widget assembly role for pressing wheel assemblies.</p>"
    )
    assert p.description_text == (
        "Widget assembly role for pressing wheel assemblies.\n"
        "Educational Requirements: Completed level 2 ISTA\n"
        "Machinist Apprenticeship.\n"
        "Required Experience: At\n"
        "least 3 years in a machinist role."
    )
    assert p.content_hash == content_hash(p) != ""


def test_graph_lists_and_item_lists_are_searched() -> None:
    body = _page(
        {"@context": "https://schema.org", "@graph": [
            {"@type": "Organization", "name": "Acme"},
            _job(title="One", identifier="j-1"),
        ]},
        [_job(title="Two", url="/jobs/2"), {"@type": "BreadcrumbList"}],
        {"@type": "ItemList", "itemListElement": [
            {"@type": "ListItem", "item": _job(title="Three", identifier={"value": 3})},
        ]},
    )
    postings = jsonld.parse(body, BOARD, PAGE).postings
    assert [(p.title, p.source_id) for p in postings] == [
        ("One", "j-1"),
        ("Two", "https://careers.magsrus.example/jobs/2"),
        ("Three", "3"),
    ]
    assert postings[1].url == "https://careers.magsrus.example/jobs/2"


def test_remote_salary_and_hash_id() -> None:
    body = _page(_job(
        title="Remote Engineer",
        hiringOrganization="Acme",
        jobLocationType="TELECOMMUTE",
        applicantLocationRequirements=[{"@type": "Country", "name": "Germany"}],
        employmentType="PART_TIME",
        baseSalary={"@type": "MonetaryAmount", "currency": "eur", "value": {
            "@type": "QuantitativeValue", "minValue": 50000, "maxValue": 70000, "unitText": "YEAR",
        }},
        description="&lt;p&gt;Escaped once&lt;/p&gt;",
    ))
    p = jsonld.parse(body, BOARD, PAGE).postings[0]
    assert p.remote is Remote.TRUE
    assert p.locations == ("Germany",)
    assert p.company == "Acme"
    assert p.employment_type is EmploymentType.PART_TIME
    assert p.salary == Salary(50000.0, 70000.0, "EUR", SalaryPeriod.YEAR)
    assert p.description_html == "<p>Escaped once</p>"
    assert p.source_id.startswith("h-")
    again = jsonld.parse(body, BOARD, PAGE).postings[0]
    assert again.id == p.id  # the hash id is stable


def test_duplicate_postings_are_kept_once() -> None:
    body = _page(_job(title="A", identifier="1"), _job(title="A again", identifier="1"))
    assert [p.title for p in jsonld.parse(body, BOARD, PAGE).postings] == ["A"]


def test_broken_block_beside_a_good_one_is_ignored() -> None:
    body = _page('{"@type": "Organization", "name": ', _job(title="Kept", identifier="k"))
    assert [p.title for p in jsonld.parse(body, BOARD, PAGE).postings] == ["Kept"]


def test_page_without_json_ld_is_an_empty_board() -> None:
    assert jsonld.parse(b"<html><body>No jobs today</body></html>", BOARD, PAGE).postings == []


def test_only_broken_blocks_is_parse_error() -> None:
    with pytest.raises(ParseError, match="1 JSON-LD block"):
        jsonld.parse(_page('{"@type": "JobPosting", "title": "cut'), BOARD, PAGE)


@pytest.mark.parametrize("cut", [250, 600, 1200, 1630])
def test_truncated_inside_the_block_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="could not be read"):
        jsonld.parse(fixture_bytes(FIXTURE)[:cut], BOARD, PAGE)


def test_deeply_nested_block_is_parse_error() -> None:
    with pytest.raises(ParseError, match="could not be read"):
        jsonld.parse(_page("[" * 100_000), BOARD, PAGE)


def test_empty_body_is_parse_error() -> None:
    with pytest.raises(ParseError, match="not an HTML page"):
        jsonld.parse(b"", BOARD, PAGE)


def test_posting_without_title_is_parse_error() -> None:
    with pytest.raises(ParseError, match=r"^jsonld: JobPosting\[0\]: title is missing"):
        jsonld.parse(_page(_job(identifier="1")), BOARD, PAGE)
