from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobscrape.boards import normalise as n
from jobscrape.boards.base import BoardRef
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-09-24T13:34:54-04:00", datetime(2026, 9, 24, 17, 34, 54, tzinfo=UTC)),
        ("2026-09-25T18:18:52.891Z", datetime(2026, 9, 25, 18, 18, 52, 891000, tzinfo=UTC)),
        ("2026-09-18 12:55:59 UTC", datetime(2026, 9, 18, 12, 55, 59, tzinfo=UTC)),
        ("2026-07-28", datetime(2026, 7, 28, tzinfo=UTC)),
        ("2017-03-18T00:00", datetime(2017, 3, 18, tzinfo=UTC)),  # naive means UTC
        ("yesterday", None),
        ("", None),
        ("UTC", None),
        (1782214185805, None),
        (None, None),
    ],
)
def test_parse_datetime(value: object, expected: datetime | None) -> None:
    assert n.parse_datetime(value) == expected


def test_parse_datetime_out_of_range_offset_is_none() -> None:
    assert n.parse_datetime("0001-01-01T00:00:00+05:00") is None


def test_from_epoch_ms() -> None:
    assert n.from_epoch_ms(1782214185805) == datetime(2026, 6, 23, 11, 29, 45, 805000, tzinfo=UTC)
    assert n.from_epoch_ms(True) is None
    assert n.from_epoch_ms("1782214185805") is None
    assert n.from_epoch_ms(10**20) is None


def test_from_struct_time() -> None:
    assert n.from_struct_time((2026, 3, 27, 20, 20, 27, 4, 86, 0)) == datetime(
        2026, 3, 27, 20, 20, 27, tzinfo=UTC
    )
    assert n.from_struct_time(None) is None
    assert n.from_struct_time((2026, 13, 1, 0, 0, 0)) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("year", SalaryPeriod.YEAR), ("YEAR", SalaryPeriod.YEAR), ("1 YEAR", SalaryPeriod.YEAR),
        ("per-year-salary", SalaryPeriod.YEAR), ("annual", SalaryPeriod.YEAR),
        ("month", SalaryPeriod.MONTH), ("per-month-salary", SalaryPeriod.MONTH),
        ("per-week-salary", SalaryPeriod.WEEK), ("per-day-wage", SalaryPeriod.DAY),
        ("per-hour-wage", SalaryPeriod.HOUR), ("HOUR", SalaryPeriod.HOUR),
        ("hourly", SalaryPeriod.HOUR),
        ("semi-month-salary", SalaryPeriod.UNKNOWN), ("bi-week-salary", SalaryPeriod.UNKNOWN),
        ("one-time", SalaryPeriod.UNKNOWN), ("", SalaryPeriod.UNKNOWN),
        (None, SalaryPeriod.UNKNOWN),
    ],
)
def test_salary_period(value: object, expected: SalaryPeriod) -> None:
    assert n.salary_period(value) is expected


def test_make_salary() -> None:
    assert n.make_salary("3750", "5250", "eur", SalaryPeriod.MONTH) == Salary(
        3750.0, 5250.0, "EUR", SalaryPeriod.MONTH
    )
    assert n.make_salary(18000000, 14000000, "USD", SalaryPeriod.YEAR, scale=100) == Salary(
        140000.0, 180000.0, "USD", SalaryPeriod.YEAR
    )
    assert n.make_salary(0, 0.0, "CAD", SalaryPeriod.HOUR) is None  # placeholders
    assert n.make_salary(None, 90000, "dollars", SalaryPeriod.YEAR) == Salary(
        None, 90000.0, None, SalaryPeriod.YEAR
    )
    assert n.make_salary("85,000", True, "USD", SalaryPeriod.YEAR) is None
    assert n.make_salary(float("nan"), float("inf"), "USD", SalaryPeriod.YEAR) is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("FullTime",), EmploymentType.FULL_TIME),
        (("Full-time",), EmploymentType.FULL_TIME),
        (("FULL_TIME",), EmploymentType.FULL_TIME),
        (("fulltime_permanent",), EmploymentType.FULL_TIME),
        (("Permanent",), EmploymentType.FULL_TIME),
        (("PartTime",), EmploymentType.PART_TIME),
        (("parttime_fixed_term",), EmploymentType.PART_TIME),
        (("CONTRACTOR",), EmploymentType.CONTRACT),
        (("freelance",), EmploymentType.CONTRACT),
        (("Short Term",), EmploymentType.TEMPORARY),
        (("TEMPORARY",), EmploymentType.TEMPORARY),
        (("Intern",), EmploymentType.INTERNSHIP),
        (("INTERN",), EmploymentType.INTERNSHIP),
        (("VOLUNTEER",), EmploymentType.VOLUNTEER),
        (("PER_DIEM",), EmploymentType.OTHER),
        (("Full-time (12 month contract)",), EmploymentType.CONTRACT),
        (("Sabbatical",), EmploymentType.OTHER),
        ((["", "FULL_TIME", "CONTRACTOR"],), EmploymentType.FULL_TIME),
        ((None, "intern"), EmploymentType.INTERNSHIP),
        ((None, 3, ""), EmploymentType.UNKNOWN),
    ],
)
def test_employment_type(values: tuple[object, ...], expected: EmploymentType) -> None:
    assert n.employment_type(*values) is expected


def test_remote_helpers() -> None:
    assert n.remote_from_workplace("OnSite") is Remote.FALSE
    assert n.remote_from_workplace("on-site") is Remote.FALSE
    assert n.remote_from_workplace("Hybrid") is Remote.FALSE
    assert n.remote_from_workplace("remote") is Remote.TRUE
    assert n.remote_from_workplace("unspecified") is None
    assert n.remote_from_flag(True) is Remote.TRUE
    assert n.remote_from_flag("true") is Remote.UNKNOWN
    assert n.remote_from_text("Berlin", "Remote - EU") is Remote.TRUE
    assert n.remote_from_text("Hybrid - London") is Remote.FALSE
    assert n.remote_from_text("Remoteville", None) is Remote.UNKNOWN


def test_locations() -> None:
    assert n.join_parts("Detroit", " ", None, "MI", 5) == "Detroit, MI, 5"
    assert n.join_parts(None, "") is None
    assert n.unique([" London", "London", None, "", "Paris", 3]) == ("London", "Paris")


def test_html_to_text_blocks_entities_and_spaces() -> None:
    safe = n.sanitise_html(
        "<h2>Role</h2><p>Build&nbsp;things &amp; ship</p><ul><li>one</li><li>two</li></ul>"
        "text<br>more <script>x()</script>"
    )
    assert n.html_to_text(safe) == "Role\nBuild things & ship\none\ntwo\ntext\nmore"


def test_describe_sanitises() -> None:
    safe, text = n.describe('<a href="javascript:alert(1)" onclick="x">hi</a><img src=x onerror=y>')
    assert "javascript" not in safe and "onclick" not in safe and "onerror" not in safe
    assert text == "hi"
    assert n.describe(None) == ("", "")


@given(st.text(alphabet=st.sampled_from(list("&;#x27ampltgquo39 <>a\n")), max_size=60))
@settings(max_examples=200, deadline=None)
def test_unescape_once_equals_html_unescape(text: str) -> None:
    assert n.unescape_once(text) == html.unescape(text)


def test_unescape_once_decodes_one_level() -> None:
    assert n.unescape_once("&lt;p&gt;A &amp;amp; B&lt;/p&gt;") == "<p>A &amp; B</p>"
    assert n.unescape_once("&lt;p&gt;&rsquo;&lt;/p&gt;") == "<p>\u2019</p>"


def test_query_helpers() -> None:
    url = "https://h.test/p?skip=0&limit=100&mode=json"
    assert n.set_query(url, skip=100) == "https://h.test/p?limit=100&mode=json&skip=100"
    assert n.merge_query("https://h.test/p?limit=5", {"limit": "100", "mode": "json"}) == (
        "https://h.test/p?limit=5&mode=json"
    )
    assert n.query_int(url, "limit") == 100
    assert n.query_int(url, "mode") is None
    assert n.query_int(url, "absent") is None


def test_build_posting_uses_name_without_token() -> None:
    board = BoardRef(name="careers", type="jsonld", url="https://x.test/")
    p = n.build_posting(board, "jsonld", "7", "  Title  ", locations=("A",))
    assert (p.id, p.title, p.board) == ("jsonld:careers:7", "Title", "careers")
    assert p.board_type == "jsonld"
    assert len(p.content_hash) == 32


def test_timezone_conversion_keeps_instant() -> None:
    plus2 = timezone(timedelta(hours=2))
    parsed = n.parse_datetime("2026-01-01T02:00:00+02:00")
    assert parsed == datetime(2026, 1, 1, 2, tzinfo=plus2)
    assert parsed is not None and parsed.tzinfo is UTC
