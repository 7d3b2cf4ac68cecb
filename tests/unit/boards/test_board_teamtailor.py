from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import teamtailor
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, content_hash

from boardkit import FUZZ

RSS = "teamtailor_rss_ferd.xml"
JSON_FEED = "teamtailor_jobsjson_teamtailor_trimmed.json"
BOARD = BoardRef(name="ferd-jobs", type="teamtailor", token="ferd")
URL = "https://ferd.teamtailor.com/jobs.rss"
JSON_URL = "https://career.teamtailor.com/jobs.json"
JSON_BOARD = BoardRef(name="tt", type="teamtailor", token="career", url=JSON_URL)
STATUS = b"<remoteStatus>none</remoteStatus>"


def _rss(body: bytes, board: BoardRef = BOARD) -> Page:
    return teamtailor.parse(body, board, URL)


def _json(doc: Any, board: BoardRef = JSON_BOARD) -> Page:
    return teamtailor.parse(json.dumps(doc).encode(), board, JSON_URL)


def test_first_url_default_endpoint_is_rss() -> None:
    assert teamtailor.first_url(BOARD) == URL


def test_first_url_rejects_token_that_is_not_a_host_label() -> None:
    with pytest.raises(ValueError, match="must be a DNS label"):
        teamtailor.first_url(BoardRef(name="b", type="teamtailor", token="ferd.no"))


def test_first_url_override_replaces_endpoint() -> None:
    assert teamtailor.first_url(JSON_BOARD) == JSON_URL
    custom = BoardRef(name="b", type="teamtailor", url="https://jobs.acme.test/jobs.rss")
    assert teamtailor.first_url(custom) == "https://jobs.acme.test/jobs.rss"


def test_first_url_without_token_or_url_names_board() -> None:
    with pytest.raises(ValueError, match=r"'b'.*token is required"):
        teamtailor.first_url(BoardRef(name="b", type="teamtailor"))


# ----------------------------------------------------------------------------- RSS


def test_rss_first_item_field_by_field(fixture_bytes) -> None:
    page = _rss(fixture_bytes(RSS))
    assert (page.next_url, page.skipped) == (None, 0)
    assert [p.title for p in page.postings] == [
        "Ferd Digital Internship", "Ferd - Open position", "\u00c5pen s\u00f8knad",
    ]
    p = page.postings[0]
    assert p.id == "teamtailor:ferd:a23bdfdf-e5b7-49d8-8923-e77f96224a6f"
    assert p.source_id == "a23bdfdf-e5b7-49d8-8923-e77f96224a6f"  # the guid
    assert (p.board, p.board_type) == ("ferd-jobs", "teamtailor")
    link = "https://ferd.teamtailor.com/jobs/8344301-ferd-digital-internship"
    assert (p.url, p.apply_url) == (link, link)
    assert p.company == "Ferd"  # the channel's title
    assert p.department == "Digital"  # tt:department
    assert p.locations == ("Oslo, Norway",)  # tt:city, tt:country
    assert p.remote is Remote.FALSE  # remoteStatus none
    assert p.employment_type is EmploymentType.UNKNOWN
    assert p.salary is None
    assert p.posted_at == datetime(2026, 9, 8, 17, 7, tzinfo=UTC)  # 19:07 +0200
    assert p.updated_at is None
    assert p.content_hash == content_hash(p) != ""


def test_rss_description_is_unescaped_once_then_sanitised(fixture_bytes) -> None:
    p = _rss(fixture_bytes(RSS)).postings[0]
    assert p.description_html.startswith(
        "<p><span>Ferd er et familieeid norsk investeringsselskap med en visjon"
    )
    assert "&lt;" not in p.description_html
    assert 'class="paragraph"' not in p.description_html  # attributes not on the allow list
    assert "<li><p><span><strong>Behovskartlegging</strong>" in p.description_html
    assert p.description_text.startswith(
        "Ferd er et familieeid norsk investeringsselskap med en visjon om \u00e5"
    )
    assert "<" not in p.description_text


def test_rss_other_items(fixture_bytes) -> None:
    _, second, third = _rss(fixture_bytes(RSS)).postings
    assert second.source_id == "f3716c4f-19b9-4bbe-93f4-c8e55942ce35"
    assert second.department == "\u00c5pen s\u00f8knad"
    assert second.posted_at == datetime(2026, 8, 31, 16, 2, 18, tzinfo=UTC)
    assert second.description_text.startswith("Ferd is a Norwegian, family-owned investment")
    assert third.url == "https://ferd.teamtailor.com/jobs/5513797-apen-soknad"
    assert third.posted_at == datetime(2025, 2, 4, 11, 35, 9, tzinfo=UTC)  # +0100
    assert third.locations == ("Oslo, Norway",)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (b"<remoteStatus>hybrid</remoteStatus>", Remote.FALSE),
        (b"<remoteStatus>fully</remoteStatus>", Remote.TRUE),
        (b"<remoteStatus>Fully</remoteStatus>", Remote.TRUE),
        (b"<remoteStatus>temporary</remoteStatus>", Remote.UNKNOWN),  # not a documented value
        (b"<remoteStatus/>", Remote.UNKNOWN),
        (b"", Remote.UNKNOWN),
    ],
)
def test_rss_remote_status(fixture_bytes, status: bytes, expected: Remote) -> None:
    body = fixture_bytes(RSS).replace(STATUS, status, 1)
    assert _rss(body).postings[0].remote is expected


def test_rss_without_remote_status_guesses_from_location_names(fixture_bytes) -> None:
    body = fixture_bytes(RSS).replace(STATUS, b"", 1).replace(
        b"<tt:city>Oslo</tt:city>", b"", 1
    ).replace(b"<tt:country>Norway</tt:country>", b"", 1).replace(
        b"<tt:name>Oslo</tt:name>", b"<tt:name>Remote</tt:name>", 1
    )
    p = _rss(body).postings[0]
    assert (p.locations, p.remote) == (("Remote",), Remote.TRUE)  # tt:name when no city


def test_rss_several_locations(fixture_bytes) -> None:
    second = (b"<tt:location><tt:name>Bergen</tt:name><tt:city>Bergen</tt:city>"
              b"<tt:country>Norway</tt:country></tt:location></tt:locations>")
    body = fixture_bytes(RSS).replace(b"</tt:locations>", second, 1)
    assert _rss(body).postings[0].locations == ("Oslo, Norway", "Bergen, Norway")


def test_rss_company_falls_back_to_token(fixture_bytes) -> None:
    body = fixture_bytes(RSS).replace(b"<title>Ferd</title>", b"<title> </title>", 1)
    assert _rss(body).postings[0].company == "ferd"


def test_rss_without_guid_is_identified_by_link(fixture_bytes) -> None:
    body = fixture_bytes(RSS).replace(
        b"<guid>a23bdfdf-e5b7-49d8-8923-e77f96224a6f</guid>", b"", 1
    )
    p = _rss(body).postings[0]
    assert p.source_id == "https://ferd.teamtailor.com/jobs/8344301-ferd-digital-internship"


def test_rss_unreadable_item_is_skipped_and_counted(fixture_bytes) -> None:
    body = fixture_bytes(RSS).replace(b"<title>Ferd - Open position</title>", b"", 1)
    page = _rss(body)
    assert [p.title for p in page.postings] == ["Ferd Digital Internship", "\u00c5pen s\u00f8knad"]
    assert (page.skipped, page.skip_reasons) == (1, ("teamtailor: item[1]: title is missing",))


def test_rss_empty_channel() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>X</title></channel></rss>'
    assert _rss(body).postings == []


@pytest.mark.parametrize("cut", [1, 40, 3000, 11000])
def test_rss_truncated_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="teamtailor: body is neither JSON nor valid XML"):
        _rss(fixture_bytes(RSS)[:cut])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Not found</body></html>", "expected an RSS document"),
        (b"<html><body>Not found", "neither JSON nor valid XML"),
        (b'<rss version="2.0"></rss>', "expected an RSS document with a channel"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><rss><channel>&a;'
            b"</channel></rss>",
            "neither JSON nor valid XML",
        ),
        (b"<rss><channel><item><title>x</title></item></channel></rss>",
         r"^teamtailor: item\[0\]: guid and link are missing"),
        (b"", "neither JSON nor valid XML"),
    ],
)
def test_rss_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        _rss(body)


# ----------------------------------------------------------------------------- JSON Feed


def test_json_first_item_field_by_field(fixture_bytes) -> None:
    page = teamtailor.parse(fixture_bytes(JSON_FEED), JSON_BOARD, JSON_URL)
    assert (page.next_url, page.skipped) == (None, 0)
    assert len(page.postings) == 2
    p = page.postings[0]
    assert p.id == "teamtailor:career:20fafb7d-f013-4061-b6de-2894b3e0838b"
    assert p.source_id == "20fafb7d-f013-4061-b6de-2894b3e0838b"  # the same uuid as the guid
    assert (p.board, p.board_type) == ("tt", "teamtailor")
    assert p.title == "Account Executive - Italy (Madrid based)"
    link = "https://career.teamtailor.com/jobs/7167985-account-executive-italy-madrid-based"
    assert (p.url, p.apply_url) == (link, link)
    assert p.company == "Teamtailor"  # the feed's title (hiringOrganization was trimmed)
    assert p.department is None
    assert p.locations == ("Madrid, ES",)  # addressRegion "Europe" is left out
    assert p.remote is Remote.UNKNOWN
    assert p.employment_type is EmploymentType.UNKNOWN
    assert p.salary is None
    assert p.posted_at == datetime(2026, 2, 4, 8, 26, 20, tzinfo=UTC)
    assert p.updated_at is None
    assert (p.description_html, p.description_text) == ("", "")  # content_html was trimmed
    assert p.content_hash == content_hash(p) != ""


def test_json_second_item_has_every_location(fixture_bytes) -> None:
    p = teamtailor.parse(fixture_bytes(JSON_FEED), JSON_BOARD, JSON_URL).postings[1]
    assert p.title == "Mid-Market Account Executive - Copenhagen"
    assert p.locations == ("Stockholm, SE", "K\u00f8benhavn, DK")
    assert p.posted_at == datetime(2026, 1, 18, 18, 35, 57, tzinfo=UTC)


def test_json_content_and_hiring_organisation(fixture_json) -> None:
    doc = fixture_json(JSON_FEED)
    doc["items"][0]["content_html"] = "<p onclick='x()'>Sell <b>it</b></p><script>evil()</script>"
    doc["items"][0]["_jobposting"]["hiringOrganization"] = {
        "@type": "Organization", "name": "Teamtailor AB",
    }
    doc["items"][1]["_jobposting"]["hiringOrganization"] = "Teamtailor Sverige"
    first, second = _json(doc).postings
    assert (first.description_html, first.description_text) == ("<p>Sell <b>it</b></p>",
                                                                 "Sell it")
    assert (first.company, second.company) == ("Teamtailor AB", "Teamtailor Sverige")


def test_json_dates_and_company_fallbacks(fixture_json) -> None:
    doc = fixture_json(JSON_FEED)
    del doc["title"]
    del doc["items"][0]["date_published"]
    p = _json(doc).postings[0]
    assert p.posted_at == datetime(2026, 2, 4, 8, 26, 20, tzinfo=UTC)  # _jobposting.datePosted
    assert p.company == "career"


def test_json_remote_guessed_from_locations(fixture_json) -> None:
    doc = fixture_json(JSON_FEED)
    doc["items"][0]["_jobposting"]["jobLocation"] = [
        {"@type": "Place", "address": {"addressLocality": "Remote", "addressCountry": "ES"}}
    ]
    p = _json(doc).postings[0]
    assert (p.locations, p.remote) == (("Remote, ES",), Remote.TRUE)


def test_json_is_told_apart_by_content_not_url(fixture_bytes) -> None:
    body = codecs.BOM_UTF8 + b"\n  " + fixture_bytes(JSON_FEED)
    page = teamtailor.parse(body, JSON_BOARD, URL)  # fetched from a .rss URL
    assert len(page.postings) == 2
    rss = teamtailor.parse(fixture_bytes(RSS), BOARD, JSON_URL)  # from a .json URL
    assert len(rss.postings) == 3


def test_json_unreadable_item_is_skipped_and_counted(fixture_json) -> None:
    doc = fixture_json(JSON_FEED)
    del doc["items"][0]["id"]
    page = _json(doc)
    assert [p.source_id for p in page.postings] == ["a52c9a45-1132-44c9-9696-76974817ae6e"]
    assert page.skipped == 1
    assert page.skip_reasons == (
        "teamtailor: items[0]: id is missing or not a non-empty string",
    )


@pytest.mark.parametrize("cut", [1, 500, 2000])
def test_json_truncated_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="teamtailor: body is not valid JSON"):
        teamtailor.parse(fixture_bytes(JSON_FEED)[:cut], JSON_BOARD, JSON_URL)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "expected a JSON object"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "expected an array under 'items'"),
        (b'{"items": [{"title": "x"}]}', r"^teamtailor: items\[0\]: id is missing"),
        (b'{"items": ["x", 1]}', r"items\[0\]: expected an object"),
    ],
)
def test_json_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        teamtailor.parse(body, JSON_BOARD, JSON_URL)


# ----------------------------------------------------------------------------- fuzz

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"
SETTINGS = FUZZ
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2026-02-04T09:26:20+01:00", "Remote", "ES", "<p>x", "Organization"])
)
KEYS = st.sampled_from(["items", "id", "title", "url", "date_published", "content_html",
                        "_jobposting", "hiringOrganization", "name", "datePosted",
                        "jobLocation", "address", "addressLocality", "addressCountry"]) | st.text(
    max_size=4
)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)
XML_PATCHES = st.binary(max_size=16) | st.sampled_from(
    [b"<", b"</item>", b"<item>", b"]]>", b"&#0;", b"&amp;", b"<tt:location>", b"<![CDATA[",
     b"<remoteStatus>fully</remoteStatus>", b"<pubDate>Mon, 99 Foo 2026</pubDate>"]
)


def _page_or_parse_error(body: bytes) -> None:
    try:
        page = teamtailor.parse(body, BOARD, URL)
    except ParseError:
        return
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()
        assert p.posted_at is None or p.posted_at.tzinfo is not None


@given(body=st.binary(max_size=2048))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _page_or_parse_error(body)


@given(doc=JSON_VALUES, items=st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=8),
                                       max_size=3))
@SETTINGS
def test_fuzz_json_of_any_shape(doc: Any, items: list[dict[str, Any]]) -> None:
    _page_or_parse_error(json.dumps(doc).encode())
    _page_or_parse_error(json.dumps({"title": doc, "items": items}).encode())


@pytest.mark.parametrize("name", [RSS, JSON_FEED])
@given(data=st.data())
@SETTINGS
def test_fuzz_damaged_fixture(name: str, data: st.DataObject) -> None:
    body = (FIXTURES / name).read_bytes()
    for _ in range(data.draw(st.integers(1, 3))):
        start = data.draw(st.integers(0, len(body)))
        end = data.draw(st.integers(start, min(len(body), start + 64)))
        body = body[:start] + data.draw(XML_PATCHES) + body[end:]
    _page_or_parse_error(body)


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
def test_fuzz_json_optional_fields_of_the_wrong_type(data: st.DataObject) -> None:
    """Odd values anywhere but in an item's id and title never cost the item."""
    doc = json.loads((FIXTURES / JSON_FEED).read_bytes())
    optional = [p for p in _paths(doc) if p and (p[0] != "items" or len(p) > 3 or (
        len(p) == 3 and p[2] not in ("id", "title")))]
    for _ in range(data.draw(st.integers(1, 4))):
        *parents, last = data.draw(st.sampled_from(optional))
        try:
            container = doc
            for step in parents:
                container = container[step]
            container[last] = data.draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):  # an earlier replacement removed the path
            continue
    assert len(_json(doc).postings) == 2
