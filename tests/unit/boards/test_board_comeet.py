from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import comeet
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

from boardkit import FUZZ

FIXTURE = "comeet_positions_wiliot_trimmed.json"
UID = "F6.003"
CAREERS_TOKEN = "6F329B2DE6379829B229B2037983E8B3E8B"  # from the capture's position_url
BOARD = BoardRef(name="wiliot", type="comeet", token=f"{UID}:{CAREERS_TOKEN}")
URL = f"https://www.comeet.co/careers-api/2.0/company/{UID}/positions?token={CAREERS_TOKEN}"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"


def _parse(doc: Any, board: BoardRef = BOARD, url: str = URL) -> Page:
    return comeet.parse(json.dumps(doc).encode(), board, url)


def test_first_url_default_endpoint_carries_the_careers_token() -> None:
    assert comeet.first_url(BOARD) == URL


def test_first_url_quotes_the_uid() -> None:
    board = BoardRef(name="b", type="comeet", token="a/b:t k")
    assert comeet.first_url(board) == (
        "https://www.comeet.co/careers-api/2.0/company/a%2Fb/positions?token=t%20k"
    )


@pytest.mark.parametrize("token", ["", UID, f"{UID}:", f":{CAREERS_TOKEN}"])
def test_first_url_needs_uid_and_careers_token_without_url(token: str) -> None:
    with pytest.raises(ValueError, match=r"'b' \(comeet\): token must be"):
        comeet.first_url(BoardRef(name="b", type="comeet", token=token))


def test_first_url_override_keeps_its_token() -> None:
    board = BoardRef(name="b", type="comeet", token=UID, url=URL)
    assert comeet.first_url(board) == URL


def test_first_url_override_gets_the_careers_token_it_lacks() -> None:
    board = BoardRef(name="b", type="comeet", token=f"{UID}:{CAREERS_TOKEN}",
                     url="http://mirror.test/comeet/positions")
    assert comeet.first_url(board) == (
        f"http://mirror.test/comeet/positions?token={CAREERS_TOKEN}"
    )


def test_fixture_rows_of_one_position_are_one_posting_field_by_field(fixture_bytes) -> None:
    page = comeet.parse(fixture_bytes(FIXTURE), BOARD, URL)
    assert (page.next_url, page.skipped) == (None, 0)
    assert len(page.postings) == 1  # 2 rows: position 18.767 in New York and in Plano
    p = page.postings[0]
    assert p.id == "comeet:F6.003:18.767"  # the UID names the board, not the careers token
    assert p.source_id == "18.767"
    assert (p.board, p.board_type) == ("wiliot", "comeet")
    assert p.title == "Forward Deployed Engineer"
    assert p.url == "https://www.wiliot.com/positions/position-18_767"
    assert p.apply_url == (
        "https://www.comeet.com/jobs/wiliot/F6.003/forward-deployed-engineer/18.767"
    )
    assert p.company == "Wiliot"
    assert p.department is None
    assert p.locations == ("New York, NY, US", "Plano, TX, US")
    assert p.remote is Remote.FALSE  # workplace_type "On-site", is_remote false
    assert p.employment_type is EmploymentType.UNKNOWN  # employment_type null
    assert p.salary is None
    assert p.posted_at is None
    assert p.updated_at == datetime(2026, 8, 12, 2, 36, 49, tzinfo=UTC)
    assert p.description_html.startswith(
        "<h3>Description</h3><p>Wiliot was founded by the team that invented one of the "
        "technologies at the heart of 5G.&nbsp;Their next vision"
    )
    assert p.description_html.endswith("<p>Our investors inc</p>")
    # Responsibilities (null) and Requirements ("<p><br></p><p>&nbsp;</p>") have no text
    assert "Responsibilities" not in p.description_html
    assert "Requirements" not in p.description_html
    assert p.description_text.startswith("Description\nWiliot was founded by the team")
    assert p.content_hash == content_hash(p) != ""


def test_the_careers_token_reaches_no_posting(fixture_bytes) -> None:
    p = comeet.parse(fixture_bytes(FIXTURE), BOARD, URL).postings[0]
    assert CAREERS_TOKEN not in json.dumps(p.to_dict())


def test_links_are_scrubbed_of_the_careers_token(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["url_active_page"] = f"https://www.wiliot.com/positions/18_767?token={CAREERS_TOKEN}"
    doc[0]["url_comeet_hosted_page"] = f"https://www.comeet.com/jobs/x?a=1&token={CAREERS_TOKEN}"
    p = _parse(doc).postings[0]
    assert p.url == "https://www.wiliot.com/positions/18_767?token=***"
    assert p.apply_url == "https://www.comeet.com/jobs/x?a=1&token=***"


def test_override_board_without_careers_token_in_its_token(fixture_bytes) -> None:
    board = BoardRef(name="w", type="comeet", token=UID, url=URL)
    p = comeet.parse(fixture_bytes(FIXTURE), board, comeet.first_url(board)).postings[0]
    assert p.id == "comeet:F6.003:18.767"


def test_override_board_without_token_is_named_by_its_name(fixture_bytes) -> None:
    board = BoardRef(name="w", type="comeet", url=URL)
    assert comeet.parse(fixture_bytes(FIXTURE), board, URL).postings[0].id == "comeet:w:18.767"


def test_remote_when_any_location_is_remote(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[1]["location"]["is_remote"] = True
    assert _parse(doc).postings[0].remote is Remote.TRUE


@pytest.mark.parametrize(("workplace", "flag", "remote"), [
    ("Remote", False, Remote.TRUE),
    ("Hybrid", False, Remote.FALSE),
    (None, False, Remote.FALSE),
    (None, None, Remote.UNKNOWN),
])
def test_remote_from_workplace_type_then_flags(
    fixture_json, workplace: str | None, flag: bool | None, remote: Remote
) -> None:
    doc = fixture_json(FIXTURE)
    for row in doc:
        row["workplace_type"] = workplace
        row["location"]["is_remote"] = flag
    assert _parse(doc).postings[0].remote is remote


def test_department_and_employment_type(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["department"] = "R&D"
    doc[0]["employment_type"] = "Full-time"
    p = _parse(doc).postings[0]
    assert (p.department, p.employment_type) == ("R&D", EmploymentType.FULL_TIME)


def test_details_in_their_order(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[0]["details"] = [
        {"name": "Requirements", "value": "<p>Python</p>", "order": 3},
        {"name": "Description", "value": "<p>About</p>", "order": 1},
        {"name": "Extra", "value": "<p>No order</p>"},
    ]
    p = _parse(doc).postings[0]
    assert p.description_html == (
        "<h3>Description</h3><p>About</p><h3>Requirements</h3><p>Python</p>"
        "<h3>Extra</h3><p>No order</p>"
    )


def test_location_name_when_city_is_missing(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    for key in ("city", "state", "country"):
        doc[1]["location"][key] = None
    assert _parse(doc).postings[0].locations == ("New York, NY, US", "Dallas")


def test_two_positions_stay_two_postings(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc[1]["uid"] = "18.999"
    doc[1]["name"] = "Solutions Engineer"
    page = _parse(doc)
    assert [(p.source_id, p.title, p.locations) for p in page.postings] == [
        ("18.767", "Forward Deployed Engineer", ("New York, NY, US",)),
        ("18.999", "Solutions Engineer", ("Plano, TX, US",)),
    ]


def test_unreadable_row_is_skipped_and_counted(fixture_json) -> None:
    doc = fixture_json(FIXTURE)
    doc.insert(1, "not a position")
    broken = dict(doc[0], uid="19.1", name=None)
    doc.append(broken)
    page = _parse(doc)
    assert [p.source_id for p in page.postings] == ["18.767"]
    assert page.skipped == 2
    assert page.skip_reasons == (
        "comeet: positions[1]: expected an object, got str",
        "comeet: positions[2]: name is missing or not a non-empty string",
    )


def test_empty_list_is_an_empty_board() -> None:
    assert _parse([]) == Page([])


def test_object_body_is_parse_error() -> None:
    with pytest.raises(ParseError, match="comeet: expected a JSON array of positions, got dict"):
        _parse({"error": "invalid token"})


def test_only_broken_rows_is_parse_error() -> None:
    with pytest.raises(ParseError, match=r"comeet: positions\[0\]: expected an object"):
        _parse([1, 2])


@pytest.mark.parametrize("cut", [1, 500, 3000])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="comeet: body is not valid JSON"):
        comeet.parse(fixture_bytes(FIXTURE)[:cut], BOARD, URL)


# ----------------------------------------------------------------------------- fuzz

SETTINGS = FUZZ
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats() | st.text(max_size=12)
           | st.sampled_from(["Remote", "Hybrid", "18.767", "C5.402", "<p>x", "Full-time"]))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["uid", "name", "location", "location_uid", "is_remote", "details",
                         "value", "order", "workplace_type", "url_active_page"])
        | st.text(max_size=4), inner, max_size=6),
    max_leaves=20,
)


def _parse_or_parse_error(body: bytes) -> None:
    try:
        page = comeet.parse(body, BOARD, URL)
    except ParseError:
        return
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()
        assert CAREERS_TOKEN not in p.id


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _parse_or_parse_error(body)


@given(rows=st.lists(VALUES, max_size=4))
@SETTINGS
def test_fuzz_arrays_of_anything(rows: list[Any]) -> None:
    _parse_or_parse_error(json.dumps(rows).encode())


@given(data=st.data())
@SETTINGS
def test_fuzz_damaged_fixture(data: st.DataObject) -> None:
    body = (FIXTURES / FIXTURE).read_bytes()
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, min(len(body), start + 64)))
    patch = data.draw(st.binary(max_size=16) | st.sampled_from([b'"', b"<", b"]", b"&#0;"]))
    _parse_or_parse_error(body[:start] + patch + body[end:])


@given(data=st.data())
@SETTINGS
def test_fuzz_optional_fields_of_the_wrong_type(data: st.DataObject) -> None:
    """Odd values anywhere but uid and name never cost the position (the location uid may
    split its rows into two postings)."""
    doc = json.loads((FIXTURES / FIXTURE).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        row = doc[data.draw(st.integers(0, 1))]
        key = data.draw(st.sampled_from(sorted(set(row) - {"uid", "name"})))
        row[key] = data.draw(VALUES)
    page = _parse(doc)
    assert page.skipped == 0
    assert 1 <= len(page.postings) <= 2
