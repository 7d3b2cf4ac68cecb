from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import breezy
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod, content_hash

from boardkit import FUZZ

FIXTURE = "breezy_json_gacc.json"
TOKEN = "german-american-chambers-of-commerce"
BOARD = BoardRef(name="gacc", type="breezy", token=TOKEN)
URL = f"https://{TOKEN}.breezy.hr/json"
JOB = f"https://{TOKEN}.breezy.hr/p/"


def _parse(doc: Any, board: BoardRef = BOARD) -> Page:
    return breezy.parse(json.dumps(doc).encode(), board, URL)


def test_first_url_default_endpoint() -> None:
    assert breezy.first_url(BOARD) == URL


def test_first_url_token_is_lower_cased_host_label() -> None:
    assert breezy.first_url(BoardRef(name="b", type="breezy", token="Acme-HR")) == (
        "https://acme-hr.breezy.hr/json"
    )


def test_first_url_rejects_token_that_is_not_a_host_label() -> None:
    with pytest.raises(ValueError, match="must be a DNS label"):
        breezy.first_url(BoardRef(name="b", type="breezy", token="a.b/c"))


def test_first_url_override_replaces_endpoint() -> None:
    board = BoardRef(name="b", type="breezy", url="https://jobs.acme.test/json")
    assert breezy.first_url(board) == "https://jobs.acme.test/json"


def test_first_url_without_token_or_url_names_board() -> None:
    with pytest.raises(ValueError, match=r"'b'.*token is required"):
        breezy.first_url(BoardRef(name="b", type="breezy"))


def test_fixture_first_position_field_by_field(fixture_bytes) -> None:
    page = breezy.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert (page.next_url, page.skipped) == (None, 0)
    assert [p.source_id for p in page.postings] == [
        "dcc694c6b681", "246e9841bf65", "27c8426c9db9", "90e5a5fcf651",
    ]
    p = page.postings[0]
    assert p.id == f"breezy:{TOKEN}:dcc694c6b681"
    assert (p.board, p.board_type) == ("gacc", "breezy")
    assert p.title == "3-Month Internship at Germany Trade & Invest"
    assert p.url == JOB + "dcc694c6b681-3-month-internship-at-germany-trade-invest"
    assert p.apply_url is None
    assert p.company == "German American Chambers of Commerce"
    assert p.department == "Internships"
    assert p.locations == ("New York, NY",)  # `locations` is empty: the primary location
    assert p.remote is Remote.UNKNOWN  # neither is_remote nor remote_details
    assert p.employment_type is EmploymentType.FULL_TIME  # type.id "fullTime"
    assert p.salary is None  # salary ""
    assert p.posted_at == datetime(2024, 4, 10, 15, 31, 8, 785000, tzinfo=UTC)
    assert p.updated_at is None
    assert p.description_html.startswith(
        "<p><strong>Field/Department</strong></p>\n<p>Administrative</p>"
    )
    assert p.description_text.startswith(
        "Field/Department\nAdministrative\nLocation\nNew York City\nThe Company\n"
        "Germany Trade & Invest (GTAI) is the economic development agency"
    )
    assert p.content_hash == content_hash(p) != ""


def test_fixture_other_positions(fixture_bytes) -> None:
    _, second, third, fourth = breezy.parse(fixture_bytes(FIXTURE), BOARD, URL).postings
    assert second.title == "Bookkeeping/Accounting Manager (Fulltime, Overtime-Exempt)"
    assert second.department is None  # department null
    assert second.locations == ("New York, NY",)
    assert second.remote is Remote.FALSE  # is_remote false
    # "$75,000 \u2013 $85,000" (en dash), no period; "$" in the US is USD
    assert second.salary == Salary(75000.0, 85000.0, "USD", SalaryPeriod.UNKNOWN)
    assert second.posted_at == datetime(2026, 8, 26, 14, 28, 22, 981000, tzinfo=UTC)
    assert third.department == "Opportunities at external client companies"
    assert third.locations == ("Schaumburg, IL",)
    assert third.salary == Salary(165000.0, 180000.0, "USD", SalaryPeriod.YEAR)
    assert fourth.locations == ("Charlotte, NC",)
    # is_remote true, but remote_details says hybrid: presence needed, so not remote
    assert fourth.remote is Remote.FALSE
    assert fourth.salary == Salary(110000.0, None, "USD", SalaryPeriod.YEAR)  # "$110,000+ / year"
    assert fourth.description_text.startswith(
        "Remote, United States | Midwest or Eastern U.S. preferred"
    )


def test_remote_flag_without_details_is_remote(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    for loc in (doc[3]["location"], doc[3]["locations"][0]):
        del loc["remote_details"]
    assert _parse(doc).postings[3].remote is Remote.TRUE


def test_unknown_remote_details_fall_back_to_flag(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[3]["location"]["remote_details"] = {"value": "something-new", "label": "?"}
    doc[3]["locations"][0]["remote_details"] = {"value": "something-new", "label": "?"}
    assert _parse(doc).postings[3].remote is Remote.TRUE


def test_remote_signal_of_another_location(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["locations"] = [{"name": "Boston, MA", "is_remote": True}]
    p = _parse(doc).postings[0]
    assert (p.locations, p.remote) == (("Boston, MA",), Remote.TRUE)


def test_all_locations_and_name_fallback(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    second = {"city": "Chicago", "state": {"id": "IL", "name": "Illinois"},
              "country": {"id": "US", "name": "United States"}}
    doc[1]["locations"].append(second)
    assert _parse(doc).postings[1].locations == (
        "New York, NY", "Chicago, Illinois, United States",
    )


def test_company_falls_back_to_token(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    del doc[0]["company"]
    doc[1]["company"] = {"name": ""}
    first, second = _parse(doc).postings[:2]
    assert first.company == second.company == TOKEN
    board = BoardRef(name="b", type="breezy", url="https://jobs.acme.test/json")
    assert _parse(doc, board).postings[0].company is None


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("$75,000 \u2013 $85,000", "US", Salary(75000.0, 85000.0, "USD", SalaryPeriod.UNKNOWN)),
        ("$75,000 \u2014 $85,000", "CA", Salary(75000.0, 85000.0, "CAD", SalaryPeriod.UNKNOWN)),
        ("$75,000 - $85,000", "DE", Salary(75000.0, 85000.0, None, SalaryPeriod.UNKNOWN)),
        ("€50k / year", "DE", Salary(50000.0, 50000.0, "EUR", SalaryPeriod.YEAR)),
        ("$50-60k", "US", Salary(50000.0, 60000.0, "USD", SalaryPeriod.UNKNOWN)),
        ("up to £30 per hour", "GB", Salary(None, 30.0, "GBP", SalaryPeriod.HOUR)),
        ("$20/hr", "US", Salary(20.0, 20.0, "USD", SalaryPeriod.HOUR)),
        ("USD 100,000 to 120,000 annually", "US",
         Salary(100000.0, 120000.0, "USD", SalaryPeriod.YEAR)),
        ("3,500.50 EUR a month", "DE", Salary(3500.5, 3500.5, "EUR", SalaryPeriod.MONTH)),
        ("CA$90,000 - CA$80,000", "US", Salary(80000.0, 90000.0, "CAD", SalaryPeriod.UNKNOWN)),
        # not unambiguous: left out
        ("Competitive", "US", None),
        ("$80,000 DOE", "US", None),
        ("$80,000 + bonus", "US", None),
        ("75.000 €", "DE", None),  # 75 or 75,000?
        ("1,00 €", "DE", None),
        ("$80,000 EUR", "US", None),  # two currencies
        ("€50,000 - £60,000", "GB", None),
        ("$80,000 / project", "US", None),  # not a period
        ("$50,000+ - $60,000", "US", None),
        ("45000", "US", None),  # a bare number
        ("$0", "US", None),  # a placeholder
    ],
)
def test_free_text_salary(fixture_json, text: str, country: str, expected: Salary | None) -> None:
    doc = fixture_json(FIXTURE)
    doc[1]["salary"] = text
    doc[1]["location"]["country"]["id"] = country
    assert _parse(doc).postings[1].salary == expected


def test_employment_type_from_type(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["type"] = {"id": "contract", "name": "Contract"}
    doc[1]["type"] = {"id": "other", "name": "Other"}
    del doc[2]["type"]
    first, second, third = _parse(doc).postings[:3]
    assert first.employment_type is EmploymentType.CONTRACT
    assert second.employment_type is EmploymentType.OTHER
    assert third.employment_type is EmploymentType.UNKNOWN


def test_board_data_is_sanitised(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["description"] = '<p onclick="x()">Hi</p><script>evil()</script>'
    doc[0]["url"] = "javascript:alert(1)"
    doc[0]["name"] = "Intern\x1b[2J \n"
    p = _parse(doc).postings[0]
    assert (p.description_html, p.description_text) == ("<p>Hi</p>", "Hi")
    assert (p.url, p.title) == (None, "Intern")


def test_empty_board() -> None:
    assert breezy.parse(b"[]", BOARD, URL).postings == []


def test_unreadable_position_is_skipped_and_counted(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[1]["name"] = None
    doc.append("not a position")
    page = _parse(doc)
    assert [p.source_id for p in page.postings] == ["dcc694c6b681", "27c8426c9db9",
                                                    "90e5a5fcf651"]
    assert page.skipped == 2
    assert page.skip_reasons == (
        "breezy: positions[1]: name is missing or not a non-empty string",
        "breezy: positions[4]: expected an object, got str",
    )


@pytest.mark.parametrize("cut", [1, 500, 9000, 19000])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="breezy: body is not valid JSON"):
        breezy.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Not Found</html>", "not valid JSON"),
        (b'{"positions": []}', "expected a JSON array of positions, got dict"),
        (b'[{"name": "x"}]', r"^breezy: positions\[0\]: id is missing"),
        (b'[{"id": "x", "name": ["y"]}]', r"positions\[0\]: name is missing"),
        (b"[1, 2]", r"positions\[0\]: expected an object, got int \(and the 1 other items\)"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        breezy.parse(body, BOARD, URL)


# ----------------------------------------------------------------------------- fuzz

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"
REQUIRED = ("id", "name")
SETTINGS = FUZZ
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["hybrid", "fullTime", "$1,000 - $2,000 / year", "€5k+", "US", "<p>x"])
)
KEYS = st.sampled_from(["id", "name", "url", "published_date", "type", "location", "locations",
                        "department", "salary", "company", "description", "is_remote",
                        "remote_details", "value", "country", "state", "city"]) | st.text(
    max_size=4
)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)


def _page_or_parse_error(body: bytes) -> None:
    try:
        page = breezy.parse(body, BOARD, URL)
    except ParseError:
        return
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()
        assert p.posted_at is None or p.posted_at.tzinfo is not None


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _page_or_parse_error(body)


@given(doc=JSON_VALUES)
@SETTINGS
def test_fuzz_arbitrary_json(doc: Any) -> None:
    _page_or_parse_error(json.dumps(doc).encode())


@given(items=st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=12), max_size=3))
@SETTINGS
def test_fuzz_positions_with_wrong_values(items: list[dict[str, Any]]) -> None:
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
    """Odd values anywhere but in a position's id and name never cost the position."""
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
    assert len(_parse(doc).postings) == 4
