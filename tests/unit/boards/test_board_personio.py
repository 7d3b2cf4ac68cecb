from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobscrape.boards import personio
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

FIXTURE = "personio_xml.xml"
BOARD = BoardRef(name="personio-de", type="personio", token="personio")
URL = "https://personio.jobs.personio.de/xml?language=en"


def test_first_url_default_endpoint() -> None:
    assert personio.first_url(BOARD) == URL


def test_first_url_rejects_token_that_is_not_a_host_label() -> None:
    with pytest.raises(ValueError, match="must be a DNS label"):
        personio.first_url(BoardRef(name="b", type="personio", token="a.b"))


def test_fixture_position_field_by_field(fixture_bytes) -> None:
    page = personio.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert page.next_url is None
    assert len(page.postings) == 1
    p = page.postings[0]
    assert p.id == "personio:personio:1834171"
    assert p.source_id == "1834171"
    assert (p.board, p.board_type) == ("personio-de", "personio")
    assert p.title == "Staff Software Engineer, Data Platform"
    assert p.url == "https://personio.jobs.personio.de/job/1834171"
    assert p.apply_url == "https://personio.jobs.personio.de/job/1834171"
    assert p.company == "Personio SE & Co. KG"
    assert p.department == "Product and Tech"
    assert p.locations == ("Munich", "Berlin")
    assert p.remote is Remote.UNKNOWN
    assert p.employment_type is EmploymentType.FULL_TIME  # permanent, schedule full-time
    assert p.salary is None
    assert p.posted_at == datetime(2024, 11, 13, 14, 10, 41, tzinfo=UTC)
    assert p.updated_at is None
    assert p.content_hash == content_hash(p) != ""


def test_fixture_description_sections(fixture_bytes) -> None:
    p = personio.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[0]
    html = p.description_html
    assert html.startswith(
        "<h3>The Role: How you'll make an impact at Personio</h3>"
        "<strong>at carries is for original in only why scripts stands in</strong>"
    )
    for heading in (
        "Role Responsibilities: What you'll do",
        "Role Requirements: What you need to succeed",
        "Why Personio",
    ):
        assert f"<h3>{heading}</h3>" in html
    assert p.description_text.startswith(
        "The Role: How you'll make an impact at Personio\n"
        "at carries is for original in only why scripts stands in\n"
    )


def test_job_url_from_override_origin_when_token_is_not_a_label(fixture_bytes) -> None:
    board = BoardRef(name="b", type="personio", url="http://127.0.0.1:9000/xml")
    p = personio.parse(fixture_bytes(FIXTURE), board, "http://127.0.0.1:9000/xml")
    assert p.postings[0].url == "http://127.0.0.1:9000/job/1834171"
    assert p.postings[0].id == "personio:b:1834171"


@pytest.mark.parametrize(
    ("employment", "schedule", "expected"),
    [
        ("permanent", "part-time", EmploymentType.PART_TIME),
        ("intern", "full-time", EmploymentType.INTERNSHIP),
        ("freelance", "", EmploymentType.CONTRACT),
        ("working_student", "part-time", EmploymentType.PART_TIME),
        ("", "", EmploymentType.UNKNOWN),
    ],
)
def test_employment_type_and_schedule(
    fixture_bytes, employment: str, schedule: str, expected: EmploymentType
) -> None:
    body = fixture_bytes(FIXTURE).replace(
        b"<employmentType>permanent</employmentType>",
        f"<employmentType>{employment}</employmentType>".encode(),
    ).replace(b"<schedule>full-time</schedule>", f"<schedule>{schedule}</schedule>".encode())
    assert personio.parse(body, BOARD, URL).postings[0].employment_type is expected


def test_empty_feed() -> None:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n<workzag-jobs>\n</workzag-jobs>'
    assert personio.parse(body, BOARD, URL).postings == []


@pytest.mark.parametrize("cut", [1, 50, 3000, 7400])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="personio: body is not valid XML"):
        personio.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Not found</body></html>", "expected a <workzag-jobs> document"),
        (b'{"jobs": []}', "not valid XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><workzag-jobs>&a;'
            b"</workzag-jobs>",
            "not valid XML",
        ),
        (
            b"<workzag-jobs><position><name>x</name></position></workzag-jobs>",
            r"^personio: position\[0\]: id is missing",
        ),
        (b"<workzag-jobs><position><id>1</id></position></workzag-jobs>", "name is missing"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        personio.parse(body, BOARD, URL)
