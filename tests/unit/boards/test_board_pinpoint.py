from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import pinpoint
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod, content_hash

from boardkit import FUZZ

# The capture keeps only the `data` array of the response: the test puts it back in its
# envelope, as https://workwithus.pinpointhq.com/postings.json serves it.
FIXTURE = "pinpoint_postings_workwithus_trimmed.json"
BOARD = BoardRef(name="pinpoint-jobs", type="pinpoint", token="workwithus")
URL = "https://workwithus.pinpointhq.com/postings.json"
POSTINGS = "https://workwithus.pinpointhq.com/en/postings/"


def _body(items: list[Any]) -> bytes:
    return json.dumps({"data": items}).encode()


def _parse(items: list[Any], board: BoardRef = BOARD, url: str = URL) -> Page:
    return pinpoint.parse(_body(items), board, url)


def test_first_url_default_endpoint() -> None:
    assert pinpoint.first_url(BOARD) == URL


def test_first_url_rejects_token_that_is_not_a_host_label() -> None:
    with pytest.raises(ValueError, match="must be a DNS label"):
        pinpoint.first_url(BoardRef(name="b", type="pinpoint", token="evil.com/x"))


def test_first_url_override_replaces_endpoint() -> None:
    board = BoardRef(name="b", type="pinpoint", url="https://careers.acme.test/postings.json")
    assert pinpoint.first_url(board) == "https://careers.acme.test/postings.json"


def test_first_url_without_token_or_url_names_board() -> None:
    with pytest.raises(ValueError, match=r"'b'.*token is required"):
        pinpoint.first_url(BoardRef(name="b", type="pinpoint"))


def test_fixture_first_posting_field_by_field(fixture_json) -> None:
    page = _parse(fixture_json(FIXTURE))
    assert (page.next_url, page.skipped) == (None, 0)
    assert [p.source_id for p in page.postings] == ["559663", "567495"]
    p = page.postings[0]
    assert p.id == "pinpoint:workwithus:559663"
    assert (p.board, p.board_type) == ("pinpoint-jobs", "pinpoint")
    assert p.title == "Founding Legal Counsel"
    assert p.url == POSTINGS + "ce6c9e5c-a2d3-42b0-a01e-9edeae315b04"
    assert p.apply_url is None
    assert p.company == "workwithus"  # no company field: the board token
    assert p.department == "Operations"  # job.department.name
    assert p.locations == ("London, Remote",)  # city, province (the same), name
    assert p.remote is Remote.TRUE  # workplace_type "remote"
    assert p.employment_type is EmploymentType.FULL_TIME  # "full_time"
    assert p.salary is None  # compensation_visible false, all null
    assert (p.posted_at, p.updated_at) == (None, None)
    assert p.content_hash == content_hash(p) != ""


def test_fixture_description_sections(fixture_json) -> None:
    p = _parse(fixture_json(FIXTURE)).postings[0]
    html = p.description_html
    assert html.startswith("<div>Hi \U0001f44b I'm Ellis, COO at Pinpoint.<br><br>We're a high")
    assert "<!--block-->" not in html
    # each part sanitised alone: the capture cut them mid-tag ("<li><!--..."), and a cut part
    # must not swallow the next
    parts = ["<h3>What you&#x27;ll do</h3><div><strong>Sales legal (35%)</strong></div>",
             "<h3>What you&#x27;ll bring</h3><ul><li>4+ years as a qualified lawyer",
             "<h3>What we offer</h3><div>We want Pinpoint to be the best place"]
    positions = [html.index(part) for part in parts]
    assert positions == sorted(positions)
    assert p.description_text.startswith("Hi \U0001f44b I'm Ellis, COO at Pinpoint.\nWe're a")
    assert "...\nWhat you'll do\nSales legal (35%)\nOwn commercial" in p.description_text
    assert "authority\nWhat we offer\nWe want Pinpoint" in p.description_text


def test_fixture_second_posting_with_pay(fixture_json) -> None:
    p = _parse(fixture_json(FIXTURE)).postings[1]
    assert p.title == "Enterprise Implementation Manager"
    assert p.url == POSTINGS + "8fa6a0e0-0beb-4233-8ab0-409fe6bfccb1"
    assert p.department == "Implementation"
    assert p.locations == ("London, United Kingdom",)
    assert p.remote is Remote.TRUE
    # compensation_minimum/maximum 70000.0/90000.0, GBP, frequency "year"
    assert p.salary == Salary(70000.0, 90000.0, "GBP", SalaryPeriod.YEAR)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"compensation_visible": False}, None),  # the company hides it
        ({"compensation_visible": None}, Salary(70000.0, 90000.0, "GBP", SalaryPeriod.YEAR)),
        ({"compensation_frequency": "hour", "compensation_minimum": 25,
          "compensation_maximum": 30.5}, Salary(25.0, 30.5, "GBP", SalaryPeriod.HOUR)),
        ({"compensation_frequency": "month"}, Salary(70000.0, 90000.0, "GBP", SalaryPeriod.MONTH)),
        ({"compensation_frequency": None, "compensation_currency": "eur"},
         Salary(70000.0, 90000.0, "EUR", SalaryPeriod.UNKNOWN)),
        ({"compensation_maximum": None}, Salary(70000.0, None, "GBP", SalaryPeriod.YEAR)),
        ({"compensation_minimum": 0, "compensation_maximum": 0}, None),
    ],
)
def test_pay(fixture_json, change: dict[str, Any], expected: Salary | None) -> None:
    items = fixture_json(FIXTURE)
    items[1].update(change)
    assert _parse(items).postings[1].salary == expected


@pytest.mark.parametrize(
    ("workplace", "text", "expected"),
    [
        ("hybrid", "Hybrid", Remote.FALSE),
        ("onsite", "On-site", Remote.FALSE),
        ("something_new", "Fully remote", Remote.TRUE),  # the label decides
        (None, "Hybrid", Remote.FALSE),
        (None, None, Remote.UNKNOWN),
        ("something_new", "Flexible", Remote.UNKNOWN),
    ],
)
def test_remote(fixture_json, workplace: str | None, text: str | None, expected: Remote) -> None:
    items = fixture_json(FIXTURE)
    items[0].update({"workplace_type": workplace, "workplace_type_text": text})
    assert _parse(items).postings[0].remote is expected


def test_employment_type_from_label(fixture_json) -> None:
    items = fixture_json(FIXTURE)
    items[0].update({"employment_type": None, "employment_type_text": "Part Time"})
    items[1].update({"employment_type": "fixed_term_contract", "employment_type_text": None})
    first, second = _parse(items).postings
    assert first.employment_type is EmploymentType.PART_TIME
    assert second.employment_type is EmploymentType.CONTRACT


def test_url_from_path_and_department_from_division(fixture_json) -> None:
    items = fixture_json(FIXTURE)
    del items[0]["url"]
    items[0]["job"]["department"] = None
    items[0]["job"]["division"] = "Go To Market"
    p = _parse(items, url="https://careers.acme.test/postings.json?x=1").postings[0]
    assert p.url == "https://careers.acme.test/en/postings/ce6c9e5c-a2d3-42b0-a01e-9edeae315b04"
    assert p.department == "Go To Market"


def test_company_without_token_is_unknown(fixture_json) -> None:
    board = BoardRef(name="b", type="pinpoint", url=URL)
    assert _parse(fixture_json(FIXTURE), board).postings[0].company is None


def test_board_data_is_sanitised(fixture_json) -> None:
    items = fixture_json(FIXTURE)
    items[0].update({"description": "<p onclick='x()'>Hi</p><script>evil()</script>",
                     "key_responsibilities": None, "skills_knowledge_expertise": "",
                     "benefits_header": "<b>Perks</b>", "benefits": "<ul><li>Tea</li></ul>",
                     "url": "javascript:alert(1)", "path": None})
    p = _parse(items).postings[0]
    assert p.description_html == (
        "<p>Hi</p><h3>&lt;b&gt;Perks&lt;/b&gt;</h3><ul><li>Tea</li></ul>"
    )
    assert p.description_text == "Hi\n<b>Perks</b>\nTea"
    assert p.url is None


def test_empty_board() -> None:
    assert pinpoint.parse(b'{"data": []}', BOARD, URL).postings == []


def test_unreadable_posting_is_skipped_and_counted(fixture_json) -> None:
    items = fixture_json(FIXTURE)
    del items[0]["id"]
    page = _parse(items)
    assert [p.source_id for p in page.postings] == ["567495"]
    assert (page.skipped, page.skip_reasons) == (
        1, ("pinpoint: data[0]: id is missing or not a non-empty string",),
    )


@pytest.mark.parametrize("cut", [1, 9, 2000, 3600])
def test_truncated_body_is_parse_error(fixture_json, cut: int) -> None:
    with pytest.raises(ParseError, match="pinpoint: body is not valid JSON"):
        pinpoint.parse(_body(fixture_json(FIXTURE))[:cut], BOARD, URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Not Found</html>", "not valid JSON"),
        (b"[]", "expected a JSON object, got list"),  # the bare array is not what it serves
        (b'{"data": {"id": 1}}', "expected an array under 'data'"),
        (b'{"data": [{"title": "x"}]}', r"^pinpoint: data\[0\]: id is missing"),
        (b'{"data": [{"id": "1", "title": {}}]}', r"data\[0\]: title is missing"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        pinpoint.parse(body, BOARD, URL)


# ----------------------------------------------------------------------------- fuzz

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"
REQUIRED = ("id", "title")
SETTINGS = FUZZ
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["remote", "Fully remote", "year", "GBP", "full_time", "<p>x"])
)
KEYS = st.sampled_from(["data", "id", "title", "url", "path", "description", "benefits",
                        "benefits_header", "compensation_minimum", "compensation_maximum",
                        "compensation_currency", "compensation_frequency",
                        "compensation_visible", "workplace_type", "job", "department",
                        "location", "city", "name"]) | st.text(max_size=4)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)


def _page_or_parse_error(body: bytes) -> None:
    try:
        page = pinpoint.parse(body, BOARD, URL)
    except ParseError:
        return
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _page_or_parse_error(body)


@given(doc=JSON_VALUES, items=st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=12),
                                       max_size=3))
@SETTINGS
def test_fuzz_json_of_any_shape(doc: Any, items: list[dict[str, Any]]) -> None:
    _page_or_parse_error(json.dumps(doc).encode())
    _page_or_parse_error(_body(items))


@given(data=st.data())
@SETTINGS
def test_fuzz_damaged_fixture(data: st.DataObject) -> None:
    body = _body(json.loads((FIXTURES / FIXTURE).read_bytes()))
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
    """Odd values anywhere but in a posting's id and title never cost the posting."""
    items = json.loads((FIXTURES / FIXTURE).read_bytes())
    optional = [p for p in _paths(items) if len(p) > 2 or (len(p) == 2 and p[1] not in REQUIRED)]
    for _ in range(data.draw(st.integers(1, 4))):
        *parents, last = data.draw(st.sampled_from(optional))
        try:
            container = items
            for step in parents:
                container = container[step]
            container[last] = data.draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):  # an earlier replacement removed the path
            continue
    assert len(_parse(items).postings) == 2
