from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import bamboohr
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Posting, Remote, Salary, SalaryPeriod, content_hash

from boardkit import FUZZ

LIST = "bamboohr_list_collectivemeasures.json"
DETAIL = "bamboohr_detail_collectivemeasures_trimmed.json"  # the detail of posting 214
BOARD = BoardRef(name="collective", type="bamboohr", token="collectivemeasures")
URL = "https://collectivemeasures.bamboohr.com/careers/list"


def _listed(fixture_bytes, index: int = 0) -> Posting:
    return bamboohr.parse(fixture_bytes(LIST), BOARD, URL).postings[index]


# ----------------------------------------------------------------------------- addressing


def test_first_url_default_endpoint() -> None:
    assert bamboohr.first_url(BOARD) == URL


def test_first_url_override() -> None:
    board = BoardRef(name="b", type="bamboohr", token="acme",
                     url="http://127.0.0.1:8089/bamboohr/acme/careers/list")
    assert bamboohr.first_url(board) == board.url


@pytest.mark.parametrize("token", ["a b", "evil.com/x", "-acme", "acme.bamboohr.com"])
def test_a_token_that_is_not_a_dns_label_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match=r"'b' \(bamboohr\): token .* must be a DNS label"):
        bamboohr.first_url(BoardRef(name="b", type="bamboohr", token=token))


def test_neither_token_nor_url_names_the_board() -> None:
    with pytest.raises(ValueError, match=r"'b'.*token is required"):
        bamboohr.first_url(BoardRef(name="b", type="bamboohr"))


def test_detail_url_default_and_relative_to_an_override(fixture_bytes) -> None:
    p = _listed(fixture_bytes)
    assert bamboohr.detail_url(p, BOARD) == (
        "https://collectivemeasures.bamboohr.com/careers/214/detail")
    board = BoardRef(name="b", type="bamboohr", token="collectivemeasures",
                     url="http://127.0.0.1:8089/bamboohr/collectivemeasures/careers/list?k=v")
    assert bamboohr.detail_url(p, board) == (
        "http://127.0.0.1:8089/bamboohr/collectivemeasures/careers/214/detail")


@pytest.mark.parametrize("posting_id", ["..", ".", "../../admin", "214?x=1", "a/b", "//evil.test",
                                        "214 ", "%2e%2e"])
def test_no_detail_for_an_id_that_is_not_a_plain_word(posting_id: str) -> None:
    p = Posting(id="x", board="b", board_type="bamboohr", source_id=posting_id, title="t")
    assert bamboohr.detail_url(p, BOARD) is None


# ----------------------------------------------------------------------------- the list


def test_fixture_first_posting_field_by_field(fixture_bytes) -> None:
    page = bamboohr.parse(fixture_bytes(LIST), BOARD, URL)
    assert (page.next_url, page.next_request, page.skipped) == (None, None, 0)
    assert [p.source_id for p in page.postings] == ["214", "312", "313", "314"]
    p = page.postings[0]
    assert p.id == "bamboohr:collectivemeasures:214"
    assert p.source_id == "214"
    assert (p.board, p.board_type) == ("collective", "bamboohr")
    assert p.title == "Future Interest Application"
    assert p.url == "https://collectivemeasures.bamboohr.com/careers/214"
    assert p.apply_url is None
    assert p.company == "collectivemeasures"  # the subdomain (token)
    assert p.department is None  # departmentLabel null
    assert p.locations == ("Minneapolis, Minnesota",)
    assert p.remote is Remote.UNKNOWN  # locationType "2": meaning unverified
    assert p.employment_type is EmploymentType.FULL_TIME  # employmentStatusLabel "Full time"
    assert p.salary is None
    assert p.posted_at is None  # only the detail has datePosted
    assert p.updated_at is None
    assert (p.description_html, p.description_text) == ("", "")
    assert p.content_hash == content_hash(p) != ""


def test_fixture_second_posting(fixture_bytes) -> None:
    p = _listed(fixture_bytes, 1)
    assert p.title == "Performance Media Planner - Paid Search + Paid Social"
    assert p.department == "Performance Media"
    assert p.url == "https://collectivemeasures.bamboohr.com/careers/312"


def test_ats_location_and_trailing_spaces(fixture_json) -> None:
    doc = fixture_json(LIST)
    item = doc["result"][0]
    item["jobOpeningName"] = "Account Manager  "
    item["location"] = {"city": None, "state": None}
    item["atsLocation"] = {"country": "Canada", "state": None, "province": "Ontario",
                           "city": "Toronto "}
    p = bamboohr.parse(json.dumps(doc).encode(), BOARD, URL).postings[0]
    assert p.title == "Account Manager"
    assert p.locations == ("Toronto, Ontario, Canada",)


@pytest.mark.parametrize(("is_remote", "location_type", "remote"), [
    (True, "1", Remote.TRUE),
    (True, None, Remote.TRUE),
    (None, "1", Remote.TRUE),
    (None, 1, Remote.TRUE),
    (False, "0", Remote.UNKNOWN),  # meanings not verified: no guess
    (None, "2", Remote.UNKNOWN),
    ("yes", "x", Remote.UNKNOWN),
])
def test_remote_only_where_the_meaning_is_known(fixture_json, is_remote: object,
                                                location_type: object, remote: Remote) -> None:
    doc = fixture_json(LIST)
    doc["result"][0].update(isRemote=is_remote, locationType=location_type)
    assert bamboohr.parse(json.dumps(doc).encode(), BOARD, URL).postings[0].remote is remote


def test_with_an_override_and_an_odd_token_there_is_no_job_page(fixture_bytes) -> None:
    board = BoardRef(name="b", type="bamboohr", token="not a label",
                     url="https://boards.test/careers/list")
    p = bamboohr.parse(fixture_bytes(LIST), board, board.url or "").postings[0]
    assert p.id == "bamboohr:not a label:214" and p.url is None
    assert bamboohr.detail_url(p, board) == "https://boards.test/careers/214/detail"


def test_empty_board() -> None:
    assert bamboohr.parse(b'{"meta": {"totalCount": 0}, "result": []}', BOARD, URL).postings == []


# ----------------------------------------------------------------------------- the detail


def test_detail_field_by_field(fixture_bytes) -> None:
    listed = _listed(fixture_bytes)
    p = bamboohr.parse_detail(fixture_bytes(DETAIL), listed, BOARD)
    assert p.id == listed.id == "bamboohr:collectivemeasures:214"
    assert p.source_id == "214"
    assert (p.board, p.board_type) == ("collective", "bamboohr")
    assert p.title == "Future Interest Application"
    assert p.url == "https://collectivemeasures.bamboohr.com/careers/214"
    assert p.apply_url is None
    assert p.company == "collectivemeasures"  # the subdomain (token)
    assert p.department is None
    assert p.locations == ("Minneapolis, Minnesota",)  # the list's: reads the same either way
    assert p.remote is Remote.UNKNOWN
    assert p.employment_type is EmploymentType.FULL_TIME
    assert p.salary is None  # compensation null
    assert p.posted_at == datetime(2023, 7, 25, tzinfo=UTC)
    assert p.updated_at is None
    assert p.description_html.startswith(
        "<p><span>If you are interested in joining our team but don't see the right job posted")
    assert p.description_html.endswith("We hire p</span></p>")  # cut there, closed by nh3
    assert p.description_text.startswith("If you are interested in joining our team")
    assert "_ ABOUT COLLECTIVE MEASURES" in p.description_text
    assert p.content_hash == content_hash(p) != listed.content_hash


def test_detail_share_url_when_the_list_gave_none(fixture_bytes) -> None:
    board = BoardRef(name="b", type="bamboohr", token="", url="https://boards.test/careers/list")
    listed = bamboohr.parse(fixture_bytes(LIST), board, URL).postings[0]
    assert listed.url is None
    p = bamboohr.parse_detail(fixture_bytes(DETAIL), listed, board)
    assert p.url == "https://collectivemeasures.bamboohr.com/careers/214"


def test_detail_pay_date_and_remote(fixture_bytes, fixture_json) -> None:
    doc = fixture_json(DETAIL)
    opening = doc["result"]["jobOpening"]
    opening["compensation"] = "$60,000 - $75,000 per year"
    opening["locationType"] = "1"
    opening["datePosted"] = "not a date"
    opening["description"] = '<p onclick="x()">Hi</p><script>evil()</script>'
    p = bamboohr.parse_detail(json.dumps(doc).encode(), _listed(fixture_bytes), BOARD)
    assert p.salary == Salary(60000.0, 75000.0, None, SalaryPeriod.YEAR)
    assert p.remote is Remote.TRUE
    assert p.posted_at is None
    assert (p.description_html, p.description_text) == ("<p>Hi</p>", "Hi")


@pytest.mark.parametrize(("text", "salary"), [
    ("$60,000 - $75,000 per year", Salary(60000.0, 75000.0, None, SalaryPeriod.YEAR)),
    ("$60,000 - $80,000 USD", Salary(60000.0, 80000.0, "USD", SalaryPeriod.UNKNOWN)),
    ("USD 25.50 - 30.00/hour", Salary(25.5, 30.0, "USD", SalaryPeriod.HOUR)),
    ("£45k-£55k annually", Salary(45000.0, 55000.0, "GBP", SalaryPeriod.YEAR)),
    ("EUR 40000 \u2013 50000 yearly", Salary(40000.0, 50000.0, "EUR", SalaryPeriod.YEAR)),
    ("$100,000 to $120,000 a year", Salary(100000.0, 120000.0, None, SalaryPeriod.YEAR)),
    ("$90,000-$100,000/yr.", Salary(90000.0, 100000.0, None, SalaryPeriod.YEAR)),
    ("$22/hr", Salary(22.0, 22.0, None, SalaryPeriod.HOUR)),
    ("80000 CAD", Salary(80000.0, 80000.0, "CAD", SalaryPeriod.UNKNOWN)),
    # ambiguous or more than pay: left out
    ("Competitive", None),
    ("DOE", None),
    ("$50,000 - $60,000 DOE", None),
    ("50k DOE", None),
    ("$20 - $25 per hour plus tips", None),
    ("Up to $100k", None),
    ("$50,000 + commission", None),
    ("80.000", None),  # eighty, or eighty thousand?
    ("1,5", None),
    ("€50,000 USD", None),
    ("$10 - €20", None),
    ("USD 10 - 20 EUR", None),
    ("70000 - 60000", None),
    ("$0", None),
    ("", None),
    (None, None),
    (60000, Salary(60000.0, 60000.0, None, SalaryPeriod.UNKNOWN)),  # a bare number
    ("$1 - $2 " + "x" * 200, None),
])
def test_compensation_only_when_unambiguous(text: object, salary: Salary | None) -> None:
    assert bamboohr.compensation(text) == salary


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("fraction", [0.001, 0.3, 0.7, 0.99])
def test_truncated_body_is_parse_error(fixture_bytes, fraction: float) -> None:
    for name in (LIST, DETAIL):
        body = fixture_bytes(name)
        with pytest.raises(ParseError, match="bamboohr: body is not valid JSON"):
            if name == LIST:
                bamboohr.parse(body[:max(1, int(len(body) * fraction))], BOARD, URL)
            else:
                bamboohr.parse_detail(body[:max(1, int(len(body) * fraction))],
                                      _listed(fixture_bytes), BOARD)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Not Found</html>", "not valid JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"result": {}}', "expected an array under 'result'"),
        (b'{"result": [1]}', r"result\[0\]: expected an object"),
        (b'{"result": [{"jobOpeningName": "x"}]}', r"^bamboohr: result\[0\]: id is missing"),
        (b'{"result": [{"id": "1"}]}', r"result\[0\]: jobOpeningName is missing"),
    ],
)
def test_malformed_lists(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        bamboohr.parse(body, BOARD, URL)


@pytest.mark.parametrize("body", [b"[]", b'{"result": []}', b'{"result": {"jobOpening": 3}}',
                                  b'{"meta": {}}', b'"x"'])
def test_malformed_details(fixture_bytes, body: bytes) -> None:
    with pytest.raises(ParseError, match=r"bamboohr: expected an object under "
                                         r"'result\.jobOpening'"):
        bamboohr.parse_detail(body, _listed(fixture_bytes), BOARD)


def test_a_broken_item_is_skipped_and_counted(fixture_json) -> None:
    doc = fixture_json(LIST)
    doc["result"][1]["id"] = None
    page = bamboohr.parse(json.dumps(doc).encode(), BOARD, URL)
    assert [p.source_id for p in page.postings] == ["214", "313", "314"]
    assert page.skipped == 1
    assert page.skip_reasons == (
        "bamboohr: result[1]: id is missing or not a non-empty string",)


# ----------------------------------------------------------------------------- fuzz

SETTINGS = FUZZ
KEYS = st.sampled_from([
    "meta", "totalCount", "result", "id", "jobOpeningName", "departmentLabel",
    "employmentStatusLabel", "employmentType", "location", "atsLocation", "city", "state",
    "province", "country", "isRemote", "locationType", "jobOpening", "jobOpeningShareUrl",
    "description", "compensation", "datePosted",
]) | st.text(max_size=4)
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats()
           | st.text(max_size=12)
           | st.sampled_from(["1", "2", "Full time", "2023-07-25", "$60,000 - $75,000 per year",
                              "<p>x", "https://x.test/", "javascript:x"]))
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20)
LISTED = Posting(id="bamboohr:collectivemeasures:214", board="collective",
                 board_type="bamboohr", source_id="214", title="Future Interest Application")


def _list_or_parse_error(body: bytes) -> None:
    try:
        page = bamboohr.parse(body, BOARD, URL)
    except ParseError:
        return
    assert isinstance(page, Page)
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()
        bamboohr.detail_url(p, BOARD)  # never raises


def _detail_or_parse_error(body: bytes) -> None:
    try:
        p = bamboohr.parse_detail(body, LISTED, BOARD)
    except ParseError:
        return
    assert p.id == LISTED.id and p.content_hash
    assert p.posted_at is None or p.posted_at.tzinfo is not None


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _list_or_parse_error(body)
    _detail_or_parse_error(body)


@given(doc=JSON_VALUES, items=st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=10),
                                       max_size=3))
@SETTINGS
def test_fuzz_json_of_the_right_shape_with_wrong_values(doc: Any,
                                                        items: list[dict[str, Any]]) -> None:
    _list_or_parse_error(json.dumps(doc).encode())
    _list_or_parse_error(json.dumps({"meta": doc, "result": items}).encode())
    _detail_or_parse_error(json.dumps({"result": doc}).encode())
    for item in items:
        _detail_or_parse_error(json.dumps({"result": {"jobOpening": item}}).encode())


@given(text=st.text(alphabet="$€£USDEURkK0123456789,.-/ toperayhurmonthly", max_size=40))
@SETTINGS
def test_fuzz_compensation_is_a_salary_in_order_or_none(text: str) -> None:
    salary = bamboohr.compensation(text)
    if salary is not None:
        assert salary.min is not None and salary.max is not None
        assert 0 < salary.min <= salary.max


@pytest.mark.parametrize("name", [LIST, DETAIL])
@given(data=st.data())
@SETTINGS
def test_fuzz_damaged_fixture(fixture_bytes, name: str, data: st.DataObject) -> None:
    body = fixture_bytes(name)
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, min(len(body), start + 64)))
    patch = data.draw(st.binary(max_size=16) | st.sampled_from([b'"', b"<", b"{", b"]"]))
    damaged = body[:start] + patch + body[end:]
    _list_or_parse_error(damaged)
    _detail_or_parse_error(damaged)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _paths(value, (*prefix, i))
    return out


def _mutated(doc: Any, data: st.DataObject, allowed: list[tuple[Any, ...]]) -> Any:
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(allowed))
        try:
            container = doc
            for step in path[:-1]:
                container = container[step]
            container[path[-1]] = data.draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):  # an earlier replacement removed the path
            continue
    return doc


@given(data=st.data())
@SETTINGS
def test_fuzz_fields_of_the_wrong_type_cost_nothing(fixture_json, data: st.DataObject) -> None:
    doc = fixture_json(LIST)
    optional = [p for p in _paths(doc) if (len(p) >= 3 and p[0] == "result"
                                           and p[2] not in ("id", "jobOpeningName"))
                or (p and p[0] == "meta")]
    assert len(bamboohr.parse(json.dumps(_mutated(doc, data, optional)).encode(), BOARD,
                              URL).postings) == 4
    detail = fixture_json(DETAIL)
    optional = [p for p in _paths(detail) if len(p) >= 3 or (p and p[0] == "meta")]
    p = bamboohr.parse_detail(json.dumps(_mutated(detail, data, optional)).encode(), LISTED,
                              BOARD)
    assert p.id == LISTED.id
