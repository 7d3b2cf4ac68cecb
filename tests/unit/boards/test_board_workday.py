from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import workday
from jobscrape.boards.base import BoardRef, Page, ParseError, Request
from jobscrape.postings import EmploymentType, Posting, Remote, content_hash

from boardkit import FUZZ

LIST = "workday_list_hitachi.json"
DETAIL = "workday_detail_hitachi.json"
NVIDIA_LIST = "workday_list_nvidia_trimmed.json"
NVIDIA_DETAIL = "workday_detail_nvidia.json"
BOARD = BoardRef(name="hitachi-energy", type="workday", token="hitachi.wd1/hitachi")
NVIDIA = BoardRef(name="nvidia", type="workday", token="nvidia.wd5/NVIDIAExternalCareerSite")
URL = "https://hitachi.wd1.myworkdayjobs.com/wday/cxs/hitachi/hitachi/jobs"
JOB = "https://hitachi.wd1.myworkdayjobs.com/hitachi"  # + externalPath: the job page
FIRST_PATH = "/job/Kocaeli-Kocaeli-Turkey/Maintenance-Worker_R0119001"


def _body(offset: int) -> dict[str, Any]:
    return {"appliedFacets": {}, "limit": 20, "offset": offset, "searchText": ""}


def _page(body: bytes, offset: int = 0, total: int | None = None,
          board: BoardRef = BOARD) -> Page:
    carry = None if total is None else {"total": total}
    return workday.parse_response(body, board, Request(URL, "POST", _body(offset), carry))


def _listed(fixture_bytes, index: int = 0) -> Posting:
    return workday.parse(fixture_bytes(LIST), BOARD, URL).postings[index]


# ----------------------------------------------------------------------------- addressing


def test_token_pattern_is_the_token_alphabet() -> None:
    for good in ("hitachi.wd1/hitachi", "nvidia.wd5/NVIDIAExternalCareerSite",
                 "accenture.wd103/AccentureCareers", "3m.wd1/Search", "a-b.wd12/x_y-z"):
        assert re.fullmatch(workday.TOKEN_PATTERN, good), good
    for bad in ("hitachi", "hitachi.wd1", "hitachi/site", "Hitachi.wd1/x", "-x.wd1/x",
                "x.wd/x", "x.wd1234/x", "x.wd1/a/b", "x.wd1/a b", "x.wd1/", "x.wd1/a?b=1"):
        assert not re.fullmatch(workday.TOKEN_PATTERN, bad), bad


def test_first_url_default_endpoint() -> None:
    assert workday.first_url(BOARD) == URL
    assert workday.first_url(NVIDIA) == (
        "https://nvidia.wd5.myworkdayjobs.com/wday/cxs/nvidia/NVIDIAExternalCareerSite/jobs")


def test_first_request_posts_the_documented_body() -> None:
    assert workday.first_request(BOARD) == Request(URL, "POST", {
        "appliedFacets": {}, "limit": 20, "offset": 0, "searchText": ""})


@pytest.mark.parametrize("token", ["hitachi", "hitachi.wd1", "Hitachi.wd1/x", "x.wd1/a/b",
                                   "evil.com/x", "x.wd1/a?b"])
def test_a_token_that_is_not_tenant_wdn_site_is_refused(token: str) -> None:
    board = BoardRef(name="b", type="workday", token=token)
    with pytest.raises(ValueError, match=r"'b' \(workday\).*TENANT\.wdN/SITE"):
        workday.first_url(board)
    with pytest.raises(ValueError, match=r"TENANT\.wdN/SITE"):
        workday.first_request(board)


def test_neither_token_nor_url_names_the_board() -> None:
    with pytest.raises(ValueError, match=r"'b'.*token is required"):
        workday.first_url(BoardRef(name="b", type="workday"))


def test_url_override_is_posted_to_and_details_are_built_relative_to_it(fixture_bytes) -> None:
    board = BoardRef(name="b", type="workday", token="hitachi.wd1/hitachi",
                     url="http://127.0.0.1:8089/wday/cxs/hitachi/hitachi/jobs")
    request = workday.first_request(board)
    assert (request.url, request.method) == (board.url, "POST")
    posting = workday.parse(fixture_bytes(LIST), board, request.url).postings[0]
    assert workday.detail_url(posting, board) == (
        f"http://127.0.0.1:8089/wday/cxs/hitachi/hitachi{FIRST_PATH}")
    assert posting.url == JOB + FIRST_PATH  # the public job page still comes from the token


def test_with_an_override_the_token_only_names_the_postings(fixture_bytes) -> None:
    board = BoardRef(name="b", type="workday", token="acme", url="https://boards.test/x")
    assert workday.first_url(board) == "https://boards.test/x"
    p = workday.parse(fixture_bytes(LIST), board, "https://boards.test/x").postings[0]
    assert p.id == f"workday:acme:{FIRST_PATH}"
    assert (p.url, p.apply_url) == (None, None)  # no tenant to build the job page from
    assert workday.detail_url(p, board) == f"https://boards.test{FIRST_PATH}"


def test_detail_url_default() -> None:
    p = Posting(id="x", board="b", board_type="workday", source_id=FIRST_PATH, title="t")
    assert workday.detail_url(p, BOARD) == (
        f"https://hitachi.wd1.myworkdayjobs.com/wday/cxs/hitachi/hitachi{FIRST_PATH}")


@pytest.mark.parametrize("path", [
    "job/no-leading-slash", "/job/../../../admin", "/job/%2e%2e/x", "/job/./x", "/job/a?b=1",
    "/job/a#b", "/job/a b", "/job\\a", "", "https://evil.test/job/x", "@evil.test/x",
])
def test_no_detail_for_a_path_that_is_not_a_plain_one(path: str) -> None:
    p = Posting(id="x", board="b", board_type="workday", source_id=path, title="t")
    assert workday.detail_url(p, BOARD) is None


def test_a_detail_url_never_leaves_the_lists_host() -> None:
    board = BoardRef(name="b", type="workday", token="hitachi.wd1/hitachi",
                     url="http://127.0.0.1:8089/jobs")
    for path in ("//evil.test/x", "/@evil.test/x", "/job/x@evil.test"):
        p = Posting(id="x", board="b", board_type="workday", source_id=path, title="t")
        url = workday.detail_url(p, board)
        assert url is None or url.startswith("http://127.0.0.1:8089/"), url


# ----------------------------------------------------------------------------- the list


def test_fixture_first_posting_field_by_field(fixture_bytes) -> None:
    page = workday.parse(fixture_bytes(LIST), BOARD, URL)
    assert len(page.postings) == 20 and page.skipped == 0
    p = page.postings[0]
    assert p.id == f"workday:hitachi.wd1/hitachi:{FIRST_PATH}"
    assert p.source_id == FIRST_PATH
    assert (p.board, p.board_type) == ("hitachi-energy", "workday")
    assert p.title == "Maintenance Worker"
    assert p.url == JOB + FIRST_PATH
    assert p.apply_url == JOB + FIRST_PATH  # one applies on the job page
    assert p.company is None
    assert p.department is None
    assert p.locations == ("Kocaeli, Kocaeli, Turkey",)
    assert p.remote is Remote.UNKNOWN
    assert p.employment_type is EmploymentType.UNKNOWN
    assert p.salary is None
    assert p.posted_at is None  # "Posted 30+ Days Ago" is not a date
    assert p.updated_at is None
    assert (p.description_html, p.description_text) == ("", "")
    assert p.content_hash == content_hash(p) != ""


def test_several_locations_text_is_not_a_location(fixture_bytes) -> None:
    p = _listed(fixture_bytes, 6)
    assert p.title == "ERP SAP Solution Architect - Issue to Resolution"
    assert p.source_id.endswith("_R0089483-1")  # the path, not the requisition id
    assert p.locations == ()  # "4 Locations"


def test_ids_are_the_paths_and_unique(fixture_bytes) -> None:
    postings = workday.parse(fixture_bytes(LIST), BOARD, URL).postings
    assert len({p.id for p in postings}) == 20
    assert all(p.source_id.startswith("/job/") for p in postings)


def test_nvidia_list(fixture_bytes) -> None:
    page = workday.parse(fixture_bytes(NVIDIA_LIST), NVIDIA, workday.first_url(NVIDIA))
    assert page.next_request is None  # total 3
    assert [p.title for p in page.postings] == [
        "Practical Hardware Electronics Test Engineer",
        "Distinguished Software Architect - Deep Learning and HPC Communications",
        "Senior Data Center Performance Engineer - Benchmarking and Optimization",
    ]
    assert [p.locations for p in page.postings] == [
        ("Israel, Yokneam",), ("US, CA, Santa Clara",), ()]


def test_remote_type_when_the_tenant_sends_it(fixture_json) -> None:
    doc = fixture_json(LIST)
    doc["jobPostings"][0]["remoteType"] = "Remote"
    doc["jobPostings"][1]["remoteType"] = "Hybrid"
    doc["jobPostings"][2]["remoteType"] = "On-site"
    doc["jobPostings"][3]["locationsText"] = "Remote - Germany"
    postings = workday.parse(json.dumps(doc).encode(), BOARD, URL).postings
    assert [p.remote for p in postings[:5]] == [
        Remote.TRUE, Remote.FALSE, Remote.FALSE, Remote.TRUE, Remote.UNKNOWN]


def test_without_locations_text_the_second_bullet_is_the_location(fixture_json) -> None:
    doc = fixture_json(LIST)
    item = doc["jobPostings"][0]
    del item["locationsText"]
    item["bulletFields"] = ["R0119001", "Dilovasi"]
    doc["jobPostings"][1].pop("locationsText")  # and only the requisition id
    first, second = workday.parse(json.dumps(doc).encode(), BOARD, URL).postings[:2]
    assert first.locations == ("Dilovasi",)
    assert second.locations == ()


# ----------------------------------------------------------------------------- paging


def test_first_page_asks_for_the_next_and_carries_its_total(fixture_bytes) -> None:
    page = workday.parse(fixture_bytes(LIST), BOARD, URL)
    assert page.next_url is None
    assert page.next_request == Request(URL, "POST", _body(20), {"total": 62})
    assert page.following() == page.next_request


def test_later_pages_page_on_the_first_pages_total(fixture_json) -> None:
    doc = fixture_json(LIST)
    doc["total"] = 0  # what Workday sends after the first page
    body = json.dumps(doc).encode()
    assert _page(body, 20, total=62).next_request == Request(URL, "POST", _body(40),
                                                              {"total": 62})
    assert _page(body, 40, total=62).next_request == Request(URL, "POST", _body(60),
                                                              {"total": 62})
    assert _page(body, 60, total=62).next_request is None  # 60 + 20 >= 62
    assert _page(body, 40, total=60).next_request is None


def test_a_later_pages_own_total_is_not_believed(fixture_json) -> None:
    doc = fixture_json(LIST)
    doc["total"] = 1000
    assert _page(json.dumps(doc).encode(), 20, total=40).next_request is None


def test_an_empty_page_ends_the_board(fixture_json) -> None:
    doc = fixture_json(LIST)
    doc["jobPostings"] = []
    page = _page(json.dumps(doc).encode(), 20, total=62)
    assert (page.postings, page.next_request) == ([], None)


def test_without_a_first_total_a_full_page_asks_for_more(fixture_json) -> None:
    doc = fixture_json(LIST)
    del doc["total"]
    full = json.dumps(doc).encode()
    assert workday.parse(full, BOARD, URL).next_request == Request(URL, "POST", _body(20))
    doc["jobPostings"] = doc["jobPostings"][:19]
    assert workday.parse(json.dumps(doc).encode(), BOARD, URL).next_request is None


@pytest.mark.parametrize("total", [True, -1, "62", 6.2e1, None])
def test_a_total_that_is_not_a_count_is_none(fixture_json, total: object) -> None:
    doc = fixture_json(LIST)
    doc["total"] = total
    doc["jobPostings"] = doc["jobPostings"][:5]  # short: with no total, the last page
    assert workday.parse(json.dumps(doc).encode(), BOARD, URL).next_request is None


def test_empty_board() -> None:
    page = workday.parse(b'{"total": 0, "jobPostings": []}', BOARD, URL)
    assert (page.postings, page.next_request) == ([], None)


# ----------------------------------------------------------------------------- the detail


def test_detail_field_by_field(fixture_bytes) -> None:
    listed = _listed(fixture_bytes)
    p = workday.parse_detail(fixture_bytes(DETAIL), listed, BOARD)
    assert p.id == listed.id and p.source_id == FIRST_PATH
    assert (p.board, p.board_type) == ("hitachi-energy", "workday")
    assert p.title == "Maintenance Worker"
    assert p.url == JOB + FIRST_PATH  # externalUrl
    assert p.apply_url == JOB + FIRST_PATH  # canApply: true
    assert p.company == "HITACHI ENERGY TURKEY ELEKTRIK SANAYI ANONIM SIRKETI"
    assert p.department is None
    assert p.locations == ("Kocaeli, Kocaeli, Turkey",)
    assert p.remote is Remote.UNKNOWN  # no remoteType ("Remote: No" is only description text)
    assert p.employment_type is EmploymentType.FULL_TIME  # timeType "Full time"
    assert p.salary is None
    assert p.posted_at == datetime(2026, 1, 30, tzinfo=UTC)  # startDate
    assert p.updated_at is None
    assert p.description_html.startswith("<p><b>Location:</b></p>Kocaeli, Kocaeli, Turkey<p>")
    assert 'style="' not in p.description_html
    assert p.description_text.startswith("Location:\nKocaeli, Kocaeli, Turkey\nJob ID:\nR0119001")
    assert "Mekanik Bak\u0131mc\u0131" in p.description_text  # dotless i: Turkish text kept
    assert p.content_hash == content_hash(p) != listed.content_hash


def test_nvidia_detail(fixture_bytes) -> None:
    listed = workday.parse(fixture_bytes(NVIDIA_LIST), NVIDIA, workday.first_url(NVIDIA)
                           ).postings[0]
    p = workday.parse_detail(fixture_bytes(NVIDIA_DETAIL), listed, NVIDIA)
    assert p.id == listed.id
    assert p.url == p.apply_url == (
        "https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite/job/Israel-Yokneam/"
        "Practical-Hardware-Electronics-Test-Engineer_JR2021705") == listed.url
    assert p.company == "IL00 Mellanox Technologies, Ltd."
    assert p.locations == ("Israel, Yokneam",)
    assert p.employment_type is EmploymentType.FULL_TIME
    assert p.posted_at == datetime(2026, 8, 2, tzinfo=UTC)
    assert p.description_text.startswith("Our Lab team in Israel Yokneam seeks")
    assert "What you'll be doing:" in p.description_text


def test_detail_locations_remote_and_apply(fixture_bytes, fixture_json) -> None:
    doc = fixture_json(DETAIL)
    info = doc["jobPostingInfo"]
    info["additionalLocations"] = ["Istanbul, Marmara, Turkey", "Kocaeli, Kocaeli, Turkey", 7]
    info["remoteType"] = "Hybrid"
    info["timeType"] = "Part time"
    info["canApply"] = False
    p = workday.parse_detail(json.dumps(doc).encode(), _listed(fixture_bytes), BOARD)
    assert p.locations == ("Kocaeli, Kocaeli, Turkey", "Istanbul, Marmara, Turkey")
    assert p.remote is Remote.FALSE
    assert p.employment_type is EmploymentType.PART_TIME
    assert p.url == JOB + FIRST_PATH and p.apply_url is None


def test_detail_without_location_falls_back_to_the_list_then_the_country(
        fixture_bytes, fixture_json) -> None:
    doc = fixture_json(DETAIL)
    del doc["jobPostingInfo"]["location"]
    listed = _listed(fixture_bytes)
    assert workday.parse_detail(json.dumps(doc).encode(), listed, BOARD).locations == (
        "Kocaeli, Kocaeli, Turkey",)
    several = _listed(fixture_bytes, 6)  # "4 Locations": none from the list
    assert workday.parse_detail(json.dumps(doc).encode(), several, BOARD).locations == (
        "Türkiye",)


def test_detail_keeps_list_data_it_does_not_have(fixture_bytes, fixture_json) -> None:
    doc = fixture_json(DETAIL)
    info = doc["jobPostingInfo"]
    for key in ("title", "timeType", "startDate", "jobDescription"):
        del info[key]
    info["externalUrl"] = "javascript:alert(1)"
    del doc["hiringOrganization"]
    listed = _listed(fixture_bytes)
    p = workday.parse_detail(json.dumps(doc).encode(), listed, BOARD)
    assert p.title == "Maintenance Worker"
    assert p.url == p.apply_url == listed.url  # an unsafe externalUrl is not taken
    assert (p.company, p.employment_type, p.posted_at) == (None, EmploymentType.UNKNOWN, None)
    assert p.description_html == ""


def test_detail_scripts_are_removed(fixture_bytes, fixture_json) -> None:
    doc = fixture_json(DETAIL)
    doc["jobPostingInfo"]["jobDescription"] = '<p onclick="x()">Hi</p><script>evil()</script>'
    p = workday.parse_detail(json.dumps(doc).encode(), _listed(fixture_bytes), BOARD)
    assert (p.description_html, p.description_text) == ("<p>Hi</p>", "Hi")


# ----------------------------------------------------------------------------- bad input

OUTAGE_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Workday is currently unavailable</title>"
               b"</head><body><h1>Maintenance</h1></body></html>")


@pytest.mark.parametrize("body", [OUTAGE_PAGE, b"  \r\n<html><body>down</body></html>",
                                  b"\xef\xbb\xbf<!doctype html><p>x"])
def test_an_html_page_is_an_outage(fixture_bytes, body: bytes) -> None:
    message = r"^workday: the tenant answered an HTML page instead of JSON \(outage or maint"
    with pytest.raises(ParseError, match=message):
        workday.parse(body, BOARD, URL)
    with pytest.raises(ParseError, match=message):
        _page(body, 40, total=62)
    with pytest.raises(ParseError, match=message):
        workday.parse_detail(body, _listed(fixture_bytes), BOARD)


@pytest.mark.parametrize("fraction", [0.0001, 0.1, 0.5, 0.99])
def test_truncated_body_is_parse_error(fixture_bytes, fraction: float) -> None:
    body = fixture_bytes(LIST)
    with pytest.raises(ParseError, match="workday: body is not valid JSON"):
        workday.parse(body[:max(1, int(len(body) * fraction))], BOARD, URL)
    body = fixture_bytes(DETAIL)
    with pytest.raises(ParseError, match="workday: body is not valid JSON"):
        workday.parse_detail(body[:max(1, int(len(body) * fraction))], _listed(fixture_bytes),
                             BOARD)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "expected a JSON object"),
        (b'{"total": 3}', "expected an array under 'jobPostings'"),
        (b'{"jobPostings": {}}', "expected an array under 'jobPostings'"),
        (b'{"jobPostings": [1]}', r"jobPostings\[0\]: expected an object"),
        (b'{"jobPostings": [{"title": "x"}]}',
         r"^workday: jobPostings\[0\]: externalPath is missing"),
        (b'{"jobPostings": [{"externalPath": "/job/x"}]}', r"jobPostings\[0\]: title is missing"),
    ],
)
def test_malformed_lists(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        workday.parse(body, BOARD, URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "workday: expected a JSON object, got list"),
        (b'{"similarJobs": []}', "workday: expected an object under 'jobPostingInfo'"),
        (b'{"jobPostingInfo": "x"}', "expected an object under 'jobPostingInfo'"),
    ],
)
def test_malformed_details(fixture_bytes, body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        workday.parse_detail(body, _listed(fixture_bytes), BOARD)


def test_a_broken_item_is_skipped_and_counted(fixture_json) -> None:
    doc = fixture_json(LIST)
    del doc["jobPostings"][3]["externalPath"]
    doc["jobPostings"][5]["title"] = ["not", "a", "title"]
    page = workday.parse(json.dumps(doc).encode(), BOARD, URL)
    assert len(page.postings) == 18 and page.skipped == 2
    assert page.skip_reasons == (
        "workday: jobPostings[3]: externalPath is missing or not a non-empty string",
        "workday: jobPostings[5]: title is missing or not a non-empty string",
    )
    assert page.next_request is not None  # paging goes on: the page was read


# ----------------------------------------------------------------------------- fuzz

SETTINGS = FUZZ
KEYS = st.sampled_from([
    "total", "jobPostings", "title", "externalPath", "locationsText", "postedOn",
    "bulletFields", "remoteType", "jobPostingInfo", "jobDescription", "location",
    "additionalLocations", "country", "descriptor", "timeType", "startDate", "externalUrl",
    "canApply", "hiringOrganization", "name", "offset", "limit",
]) | st.text(max_size=4)
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats()
           | st.text(max_size=12)
           | st.sampled_from(["/job/x", "Remote", "Full time", "2026-01-30", "3 Locations",
                              "<p>x", "https://x.test/", "javascript:x"]))
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20)
REQUESTS = st.builds(
    lambda offset, carry: Request(URL, "POST", {"offset": offset}, carry),
    JSON_VALUES, st.none() | st.dictionaries(st.just("total"), JSON_VALUES))


def _checked(page: Page) -> None:
    assert isinstance(page, Page)
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()
    nxt = page.next_request
    assert nxt is None or (nxt.method == "POST" and nxt.json_body is not None
                           and nxt.json_body["limit"] == 20)


def _list_or_parse_error(body: bytes, request: Request | None = None) -> None:
    try:
        page = workday.parse_response(body, BOARD, request or workday.first_request(BOARD))
    except ParseError:
        return
    _checked(page)


def _detail_or_parse_error(body: bytes, listed: Posting) -> None:
    try:
        p = workday.parse_detail(body, listed, BOARD)
    except ParseError:
        return
    assert p.id == listed.id and p.content_hash
    assert p.posted_at is None or p.posted_at.tzinfo is not None


LISTED = Posting(id=f"workday:hitachi.wd1/hitachi:{FIRST_PATH}", board="hitachi-energy",
                 board_type="workday", source_id=FIRST_PATH, title="Maintenance Worker")


@given(body=st.binary(max_size=2048), request=REQUESTS)
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes, request: Request) -> None:
    _list_or_parse_error(body, request)
    _detail_or_parse_error(body, LISTED)


@given(doc=JSON_VALUES, items=st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=8),
                                       max_size=3), request=REQUESTS)
@SETTINGS
def test_fuzz_json_of_the_right_shape_with_wrong_values(
        doc: Any, items: list[dict[str, Any]], request: Request) -> None:
    _list_or_parse_error(json.dumps(doc).encode(), request)
    _list_or_parse_error(json.dumps({"total": doc, "jobPostings": items}).encode(), request)
    _detail_or_parse_error(json.dumps({"jobPostingInfo": doc}).encode(), LISTED)
    for item in items:
        _detail_or_parse_error(json.dumps({"jobPostingInfo": item,
                                           "hiringOrganization": doc}).encode(), LISTED)


@pytest.mark.parametrize("name", [LIST, DETAIL, NVIDIA_LIST, NVIDIA_DETAIL])
@given(data=st.data())
@SETTINGS
def test_fuzz_damaged_fixture(fixture_bytes, name: str, data: st.DataObject) -> None:
    body = fixture_bytes(name)
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, min(len(body), start + 64)))
    patch = data.draw(st.binary(max_size=16) | st.sampled_from([b'"', b"<", b"{", b"]"]))
    damaged = body[:start] + patch + body[end:]
    _list_or_parse_error(damaged)
    _detail_or_parse_error(damaged, LISTED)


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
def test_fuzz_list_fields_of_the_wrong_type_cost_no_posting(fixture_json,
                                                            data: st.DataObject) -> None:
    doc = fixture_json(LIST)
    optional = [p for p in _paths(doc) if len(p) >= 3 and p[0] == "jobPostings"
                and p[2] not in ("externalPath", "title")] + [("total",), ("facets",)]
    page = workday.parse(json.dumps(_mutated(doc, data, optional)).encode(), BOARD, URL)
    assert len(page.postings) == 20
    _checked(page)


@pytest.mark.parametrize("name", [DETAIL, NVIDIA_DETAIL])
@given(data=st.data())
@SETTINGS
def test_fuzz_detail_fields_of_the_wrong_type_keep_the_posting(fixture_json, name: str,
                                                               data: st.DataObject) -> None:
    doc = fixture_json(name)
    optional = [p for p in _paths(doc) if len(p) >= 2]  # all but jobPostingInfo itself
    p = workday.parse_detail(json.dumps(_mutated(doc, data, optional)).encode(), LISTED, BOARD)
    assert p.id == LISTED.id and p.title
