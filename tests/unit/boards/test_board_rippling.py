from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import rippling
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

from boardkit import FUZZ

V1 = "rippling_v1_jobs_rippling_trimmed.json"
V2 = "rippling_v2_jobs_rippling_trimmed.json"
BOARD = BoardRef(name="rippling-jobs", type="rippling", token="rippling")
URL = "https://api.rippling.com/platform/api/ats/v1/board/rippling/jobs"
V2_BASE = "https://ats.rippling.com/api/v2/board/rippling/jobs"
V2_URL = f"{V2_BASE}?page=0&pageSize=2"
V2_BOARD = BoardRef(name="rippling-v2", type="rippling", token="rippling", url=V2_URL)
JOBS = "https://ats.rippling.com/rippling/jobs/"


def _parse(doc: Any, url: str = URL, board: BoardRef = BOARD) -> Page:
    return rippling.parse(json.dumps(doc).encode(), board, url)


def test_first_url_default_endpoint_is_v1() -> None:
    assert rippling.first_url(BOARD) == URL


def test_first_url_quotes_token() -> None:
    assert rippling.first_url(BoardRef(name="b", type="rippling", token="a b/c")) == (
        "https://api.rippling.com/platform/api/ats/v1/board/a%20b%2Fc/jobs"
    )


def test_first_url_override_replaces_endpoint() -> None:
    assert rippling.first_url(V2_BOARD) == V2_URL


def test_first_url_without_token_or_url_names_board() -> None:
    with pytest.raises(ValueError, match=r"'b'.*token is required"):
        rippling.first_url(BoardRef(name="b", type="rippling"))


# ----------------------------------------------------------------------------- v1


def test_v1_first_row_field_by_field(fixture_bytes) -> None:
    page = rippling.parse(fixture_bytes(V1), BOARD, URL)
    assert (page.next_url, page.skipped) == (None, 0)  # v1 is the whole board
    assert len(page.postings) == 2
    p = page.postings[0]
    assert p.id == "rippling:rippling:75ad50c6-778f-42ee-9c63-70d1cd687202"
    assert p.source_id == "75ad50c6-778f-42ee-9c63-70d1cd687202"  # uuid
    assert (p.board, p.board_type) == ("rippling-jobs", "rippling")
    assert p.title == "Account Executive, Broker Channel (Austin & San Antonio)"
    link = JOBS + "75ad50c6-778f-42ee-9c63-70d1cd687202"
    assert (p.url, p.apply_url) == (link, link)
    assert p.company == "rippling"  # no company field: the board token
    assert p.department == "Sales"  # department.label
    assert p.locations == ("Austin, TX",)  # workLocation.label
    assert p.remote is Remote.UNKNOWN
    assert p.employment_type is EmploymentType.UNKNOWN
    assert p.salary is None
    assert (p.posted_at, p.updated_at) == (None, None)
    assert (p.description_html, p.description_text) == ("", "")
    assert p.content_hash == content_hash(p) != ""


def test_v1_second_row(fixture_bytes) -> None:
    p = rippling.parse(fixture_bytes(V1), BOARD, URL).postings[1]
    assert p.source_id == "94486f41-6474-446a-b67a-c164e11354ea"
    assert p.title == "Account Executive, Broker Channel (Pittsburgh or Cleveland)"
    assert p.locations == ("Cleveland, OH",)


def test_v1_rows_of_one_job_are_merged(fixture_json) -> None:
    doc = fixture_json(V1)
    pittsburgh = copy.deepcopy(doc[1])
    pittsburgh["workLocation"] = {"label": "Pittsburgh, PA", "id": "Pittsburgh, PA"}
    remote = copy.deepcopy(doc[1])
    remote["workLocation"] = {"label": "Remote (United States)", "id": "Remote (United States)"}
    doc[1:1] = [pittsburgh]  # before the job's first row: order of first occurrence kept
    doc.append(remote)
    doc.append(copy.deepcopy(doc[0]))  # the same row twice
    page = _parse(doc)
    assert page.skipped == 0
    austin, cleveland = page.postings
    assert austin.locations == ("Austin, TX",)
    assert cleveland.source_id == "94486f41-6474-446a-b67a-c164e11354ea"
    assert cleveland.locations == ("Pittsburgh, PA", "Cleveland, OH", "Remote (United States)")
    assert cleveland.remote is Remote.TRUE  # one location is remote


def test_v1_company_without_token_is_unknown(fixture_bytes) -> None:
    board = BoardRef(name="b", type="rippling", url=URL)
    assert rippling.parse(fixture_bytes(V1), board, URL).postings[0].company is None


def test_v1_title_from_another_row_of_the_job(fixture_json) -> None:
    doc = fixture_json(V1)
    second_row = copy.deepcopy(doc[0])
    doc[0]["name"] = None
    doc.append(second_row)
    page = _parse(doc)
    assert page.skipped == 0
    assert page.postings[0].title == "Account Executive, Broker Channel (Austin & San Antonio)"


def test_v1_unreadable_rows_are_skipped_and_counted(fixture_json) -> None:
    doc = fixture_json(V1)
    del doc[0]["uuid"]
    doc.insert(1, "not a row")
    page = _parse(doc)
    assert [p.source_id for p in page.postings] == ["94486f41-6474-446a-b67a-c164e11354ea"]
    assert page.skipped == 2
    assert page.skip_reasons == (
        "rippling: jobs[0]: uuid is missing or not a non-empty string",
        "rippling: jobs[1]: expected an object, got str",
    )


def test_v1_job_without_any_title_is_skipped(fixture_json) -> None:
    doc = fixture_json(V1)
    doc[1]["name"] = ""
    page = _parse(doc)
    assert (len(page.postings), page.skipped) == (1, 1)
    assert page.skip_reasons == ("rippling: jobs[1]: name is missing or not a non-empty string",)


# ----------------------------------------------------------------------------- v2


def test_v2_rows_of_one_job_are_merged_field_by_field(fixture_bytes) -> None:
    page = rippling.parse(fixture_bytes(V2), V2_BOARD, V2_URL)
    assert page.skipped == 0
    assert len(page.postings) == 1  # two rows, one job
    p = page.postings[0]
    assert p.id == "rippling:rippling:84d388b6-7656-434c-8862-0312eb6b97ac"
    assert p.source_id == "84d388b6-7656-434c-8862-0312eb6b97ac"  # id
    assert (p.board, p.board_type) == ("rippling-v2", "rippling")
    assert p.title == "Business Operations Manager"
    link = JOBS + "84d388b6-7656-434c-8862-0312eb6b97ac"
    assert (p.url, p.apply_url) == (link, link)
    assert p.company == "rippling"
    assert p.department == "Bizops"  # department.name
    assert p.locations == ("San Francisco, CA", "New York, NY")
    assert p.remote is Remote.FALSE  # workplaceType ON_SITE everywhere
    assert p.employment_type is EmploymentType.UNKNOWN
    assert p.salary is None
    assert p.posted_at is None
    assert (p.description_html, p.description_text) == ("", "")
    assert p.content_hash == content_hash(p) != ""


def test_v2_pages_on(fixture_bytes) -> None:
    page = rippling.parse(fixture_bytes(V2), V2_BOARD, V2_URL)
    assert page.next_url == f"{V2_BASE}?pageSize=2&page=1"  # page 0 of 315


def test_v2_last_page_has_no_next(fixture_json) -> None:
    doc = fixture_json(V2)
    doc["page"] = 314
    assert _parse(doc, f"{V2_BASE}?page=314&pageSize=2", V2_BOARD).next_url is None


def test_v2_page_from_url_when_body_lacks_it(fixture_json) -> None:
    doc = fixture_json(V2)
    del doc["page"]
    page = _parse(doc, f"{V2_BASE}?page=7&pageSize=2", V2_BOARD)
    assert page.next_url == f"{V2_BASE}?pageSize=2&page=8"


@pytest.mark.parametrize(
    "change",
    [
        {"totalPages": None},
        {"totalPages": "315"},
        {"items": []},
    ],
)
def test_v2_no_next_page_without_total_or_items(fixture_json, change: dict[str, Any]) -> None:
    doc = fixture_json(V2)
    doc.update(change)
    assert _parse(doc, V2_URL, V2_BOARD).next_url is None


@pytest.mark.parametrize(
    ("workplaces", "expected"),
    [
        (["ON_SITE", "REMOTE"], Remote.TRUE),
        (["HYBRID", "ON_SITE"], Remote.FALSE),
        (["HYBRID", None], Remote.FALSE),
        ([None, "SOMETHING_NEW"], Remote.UNKNOWN),
    ],
)
def test_v2_remote_from_every_location(
    fixture_json, workplaces: list[str | None], expected: Remote
) -> None:
    doc = fixture_json(V2)
    for item, workplace in zip(doc["items"], workplaces, strict=True):
        item["locations"][0]["workplaceType"] = workplace
    assert _parse(doc, V2_URL, V2_BOARD).postings[0].remote is expected


def test_v2_remote_guessed_from_names_and_name_fallback(fixture_json) -> None:
    doc = fixture_json(V2)
    for item in doc["items"]:
        item["locations"][0]["workplaceType"] = None
    doc["items"][1]["locations"][0]["name"] = "Remote (US)"
    del doc["items"][0]["locations"][0]["name"]
    p = _parse(doc, V2_URL, V2_BOARD).postings[0]
    assert p.locations == ("San Francisco, California, United States", "Remote (US)")
    assert p.remote is Remote.TRUE


def test_v2_rows_merge_by_the_id_the_posting_gets(fixture_json) -> None:
    doc = fixture_json(V2)
    doc["items"][1]["id"] = "84d388b6-7656-434c-8862\x00-0312eb6b97ac\n"  # cleaned: the same id
    page = _parse(doc, V2_URL, V2_BOARD)
    assert [p.locations for p in page.postings] == [("San Francisco, CA", "New York, NY")]


def test_v2_unreadable_row_is_skipped_and_counted(fixture_json) -> None:
    doc = fixture_json(V2)
    doc["items"][1]["id"] = "another-job"
    doc["items"][1]["name"] = {"text": "not a string"}
    page = _parse(doc, V2_URL, V2_BOARD)
    assert [p.locations for p in page.postings] == [("San Francisco, CA",)]
    assert page.skipped == 1
    assert page.skip_reasons == ("rippling: jobs[1]: name is missing or not a non-empty string",)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("name", "cut"), [(V1, 1), (V1, 400), (V2, 600), (V2, 1070)])
def test_truncated_body_is_parse_error(fixture_bytes, name: str, cut: int) -> None:
    with pytest.raises(ParseError, match="rippling: body is not valid JSON"):
        rippling.parse(fixture_bytes(name)[:cut], BOARD, URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Not Found</html>", "not valid JSON"),
        (b'{"jobs": []}', r"expected a JSON array of jobs \(v1\) or an object with an 'items'"),
        (b'{"items": {}}', "or an object with an 'items' array"),
        (b'"x"', "got str"),
        (b'[{"name": "x"}]', r"^rippling: jobs\[0\]: uuid is missing"),
        (b'{"items": [{"uuid": "x", "name": "y"}]}', r"^rippling: jobs\[0\]: id is missing"),
        (b'[{"uuid": "x"}, {"uuid": "x"}]', r"jobs\[0\]: name is missing"),
        (b"[null]", r"jobs\[0\]: expected an object, got NoneType"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        rippling.parse(body, BOARD, URL)


def test_empty_boards() -> None:
    assert rippling.parse(b"[]", BOARD, URL) == Page([])
    empty_v2 = b'{"items": [], "page": 0, "pageSize": 20, "totalItems": 0, "totalPages": 0}'
    assert rippling.parse(empty_v2, V2_BOARD, V2_URL) == Page([])


# ----------------------------------------------------------------------------- fuzz

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"
SETTINGS = FUZZ
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["x", "ON_SITE", "REMOTE", "HYBRID", "Remote (United States)"])
)
KEYS = st.sampled_from(["uuid", "id", "name", "url", "department", "label", "workLocation",
                        "items", "locations", "workplaceType", "city", "page",
                        "totalPages"]) | st.text(max_size=4)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)
ROWS = st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=8), max_size=4)


def _page_or_parse_error(body: bytes, url: str = V2_URL) -> None:
    try:
        page = rippling.parse(body, V2_BOARD, url)
    except ParseError:
        return
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()
    assert len({p.id for p in page.postings}) == len(page.postings)  # one posting per job
    assert page.next_url is None or page.next_url.startswith(V2_BASE)


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _page_or_parse_error(body)


@given(doc=JSON_VALUES, rows=ROWS, extra=st.dictionaries(KEYS, JSON_VALUES, max_size=4))
@SETTINGS
def test_fuzz_json_of_any_shape(
    doc: Any, rows: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    _page_or_parse_error(json.dumps(doc).encode())
    _page_or_parse_error(json.dumps(rows).encode())
    _page_or_parse_error(json.dumps({**extra, "items": rows}).encode())


@pytest.mark.parametrize("name", [V1, V2])
@given(data=st.data())
@SETTINGS
def test_fuzz_damaged_fixture(name: str, data: st.DataObject) -> None:
    body = (FIXTURES / name).read_bytes()
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


@pytest.mark.parametrize(("name", "rows", "required", "jobs"),
                         [(V1, (), ("uuid", "name"), 2), (V2, ("items",), ("id", "name"), 1)])
@given(data=st.data())
@SETTINGS
def test_fuzz_optional_fields_of_the_wrong_type(
    name: str, rows: tuple[str, ...], required: tuple[str, ...], jobs: int, data: st.DataObject
) -> None:
    """Odd values anywhere but in a row's id and name never cost a job."""
    doc = json.loads((FIXTURES / name).read_bytes())
    depth = len(rows)

    def optional(path: tuple[Any, ...]) -> bool:
        if path[:depth] != rows:
            return bool(path)  # the v2 envelope's other fields
        rest = path[depth:]
        return len(rest) > 2 or (len(rest) == 2 and rest[1] not in required)

    paths = [p for p in _paths(doc) if optional(p)]
    for _ in range(data.draw(st.integers(1, 4))):
        *parents, last = data.draw(st.sampled_from(paths))
        try:
            container = doc
            for step in parents:
                container = container[step]
            container[last] = data.draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):  # an earlier replacement removed the path
            continue
    assert len(_parse(doc, V2_URL).postings) == jobs
