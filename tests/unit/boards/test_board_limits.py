"""What a board can send that must not cost the run: descriptions the HTML sanitiser would take
minutes over (refused by a linear pre-check, kept as text), one unreadable item (skipped and
counted, not the whole page), one invalid byte (one replaced character, not the whole page)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from jobscrape.boards import get_adapter
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.boards.normalise import (
    DescriptionLimits,
    describe,
    description_limits,
    load_json,
    map_items,
    nesting_depth,
    strip_tags,
)

NESTED = "<div>" * 200_000 + "deep" + "</div>" * 200_000  # took 353 s in nh3


def test_nested_divs_are_kept_as_text_at_once() -> None:
    html, text = describe(NESTED)
    assert (html, text) == ("<p>deep</p>", "deep")


def test_long_descriptions_are_kept_as_text_cut_to_the_limit() -> None:
    body = "<p>" + "word " * 200_000 + "</p><script>alert(1)</script>"
    html, text = describe(body)
    assert len(text) == DescriptionLimits().max_chars and text.startswith("word word")
    assert "<script>" not in html and html.startswith("<p>word word")


def test_ordinary_descriptions_still_go_through_the_sanitiser() -> None:
    html, text = describe('<div><p onclick="x()">Hi <b>there</b><script>x</script></p></div>')
    assert html == "<div><p>Hi <b>there</b></p></div>" and text == "Hi there"


def test_limits_apply_inside_the_block_only() -> None:
    deep = "<div>" * 10 + "x" + "</div>" * 10
    assert describe(deep)[0].startswith("<div><div>")  # 10 deep: fine by default
    with description_limits(DescriptionLimits(max_chars=1000, max_depth=5)):
        assert describe(deep) == ("<p>x</p>", "x")
    assert describe(deep)[0].startswith("<div><div>")


@pytest.mark.parametrize(("fragment", "depth"), [
    ("<div><p>a<p>b<ul><li>c<li>d</ul></div>", 2),  # p and li close themselves
    ("<br><br><img src=x><hr>" * 1000, 0),  # void elements hold nothing
    ("<div></div>" * 1000, 1),
    ("</div></div><div>", 1),  # stray end tags do not go below zero
    ("<DIV><Span>x</SPAN></div>", 2),
    ("a < b and c<d", 1),  # "<d" reads as a tag: counted, harmlessly
    ("<!-- <div> --><?xml?><!DOCTYPE html>", 1),  # what looks like a tag is counted
])
def test_nesting_depth(fragment: str, depth: int) -> None:
    assert nesting_depth(fragment, 256) == depth


def test_nesting_depth_stops_counting_above_the_limit() -> None:
    assert nesting_depth(NESTED, 256) == 257


@pytest.mark.parametrize("fragment", ["<" * 2_000_000, "<a" * 1_000_000, "<a>" * 700_000,
                                      "&" * 2_000_000, "<div " + "a=b " * 500_000])
def test_the_pre_check_and_the_text_are_linear(fragment: str) -> None:
    nesting_depth(fragment, 256)
    strip_tags(fragment)
    describe(fragment)


def test_strip_tags() -> None:
    assert strip_tags("<p>Fish &amp; chips</p><ul><li>one<li>two</ul>x<br>y") == (
        "Fish & chips\none\ntwo\nx\ny")
    assert strip_tags("before <unclosed tag and the rest") == "before"


# ----------------------------------------------------------------------------- items


def _ok(item: dict[str, Any]) -> Any:
    if "id" not in item:
        raise ParseError("id is missing")
    return item["id"]


def test_one_unreadable_item_is_skipped_and_counted() -> None:
    page = map_items([{"id": 1}, {"x": 2}, "text", {"id": 3}], _ok, "t: jobs",
                     next_url="https://next")
    assert page.postings == [1, 3] and page.skipped == 2 and page.next_url == "https://next"
    assert page.skip_reasons == ("t: jobs[1]: id is missing",
                                 "t: jobs[2]: expected an object, got str")


def test_a_page_of_nothing_but_unreadable_items_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"^t: jobs\[0\]: id is missing \(and the 1 other"):
        map_items([{"x": 1}, {"y": 2}], _ok, "t: jobs")
    assert map_items([], _ok, "t: jobs").postings == []  # an empty page is not one


BOARD = {t: BoardRef(name="b", type=t, token="acme",
                     url="https://boards.test/page" if t in ("jsonld", "feed") else None)
         for t in ("greenhouse", "lever", "ashby", "workable", "smartrecruiters", "recruitee")}
# type -> (fixture, where the items are, the item's required key)
JSON_BOARDS = {
    "greenhouse": ("greenhouse_jobs_content.json", "jobs", "id"),
    "lever": ("lever_postings.json", None, "id"),
    "ashby": ("ashby_job_board.json", "jobs", "id"),
    "workable": ("workable_widget_details.json", "jobs", "shortcode"),
    "smartrecruiters": ("smartrecruiters_postings.json", "content", "id"),
    "recruitee": ("recruitee_offers.json", "offers", "id"),
}


@pytest.mark.parametrize("kind", sorted(JSON_BOARDS))
def test_every_json_adapter_skips_one_bad_item(kind: str,
                                               fixture_json: Callable[[str], Any]) -> None:
    name, key, required = JSON_BOARDS[kind]
    doc = fixture_json(name)
    items = doc if key is None else doc[key]
    good = len(get_adapter(kind).parse(json.dumps(doc).encode(), BOARD[kind], "https://x/").postings)
    bad = json.loads(json.dumps(items[0]))
    bad.pop(required)
    items.insert(1, bad)
    items.insert(2, {required: 7, "title": ["not", "a", "title"], "text": {}, "name": None})
    page = get_adapter(kind).parse(json.dumps(doc).encode(), BOARD[kind], "https://x/")
    assert len(page.postings) == good and page.skipped == 2
    assert f"[1]: {required} is missing" in page.skip_reasons[0]


def test_personio_skips_one_bad_position(fixture_bytes: Callable[[str], bytes]) -> None:
    body = fixture_bytes("personio_xml.xml").replace(
        b"<position>", b"<position><name>no id</name></position><position>", 1)
    page = get_adapter("personio").parse(body, BoardRef("b", "personio", "acme"), "https://x/")
    assert len(page.postings) == 1 and page.skipped == 1
    assert page.skip_reasons == ("personio: position[0]: id is missing",)


def test_jsonld_skips_one_posting_without_title() -> None:
    blocks = [{"@type": "JobPosting", "identifier": "1"},
              {"@type": "JobPosting", "identifier": "2", "title": "Engineer"}]
    body = ('<html><script type="application/ld+json">' + json.dumps(blocks)
            + "</script></html>").encode()
    page = get_adapter("jsonld").parse(body, BoardRef("b", "jsonld", url="https://x/p"),
                                       "https://x/p")
    assert [p.title for p in page.postings] == ["Engineer"] and page.skipped == 1


# ----------------------------------------------------------------------------- bytes


def test_an_invalid_byte_spoils_one_character_not_the_page(
        fixture_bytes: Callable[[str], bytes]) -> None:
    body = fixture_bytes("lever_postings.json")
    assert b'"text": "Android Engineer' in body
    body = body.replace(b'"text": "Android', b'"text": "\xffAndroid', 1)
    page = get_adapter("lever").parse(body, BoardRef("b", "lever", "acme"), "https://x/")
    assert len(page.postings) == 2 and page.postings[0].title.startswith("\ufffdAndroid")


@pytest.mark.parametrize(("body", "value"), [
    (b'{"a": "\xe9t\xe9"}', {"a": "\ufffdt\ufffd"}),
    ('{"a": "été"}'.encode("utf-16"), {"a": "été"}),  # JSON's own encodings still detected
    (b'\xef\xbb\xbf{"a": 1}', {"a": 1}),  # a BOM
])
def test_load_json_decodes_leniently(body: bytes, value: Any) -> None:
    assert load_json(body, "t") == value
