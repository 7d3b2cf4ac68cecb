"""The fast paths of the shared helpers give what the plain implementations gave: msgspec
decodes to the document the tolerant stdlib path gives (and leaves it every body it refuses),
sanitised HTML becomes the same text without the chain of regular expressions, and the
description limits refuse the same fragments. Then a fuzz of the three adapters rebuilt for
speed (Greenhouse, Lever, Ashby) on mutations of their fixtures."""

from __future__ import annotations

import codecs
import html
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import ashby, greenhouse, lever
from jobscrape.boards import normalise as n
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import clean_line, clean_text, content_hash, safe_url

from boardkit import FUZZ

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"
SETTINGS = FUZZ

# ----------------------------------------------------------------------------- load_json


def _stdlib(body: bytes) -> Any:
    """The tolerant stdlib path (the previous load_json): the document, or the exception."""
    try:
        return json.loads(body.decode(json.detect_encoding(body), errors="replace"))
    except (ValueError, RecursionError) as e:
        return e


def _same_load(body: bytes) -> None:
    want = _stdlib(body)
    if isinstance(want, Exception):
        with pytest.raises(ParseError, match="body is not valid JSON"):
            n.load_json(body, "x")
    else:
        got = n.load_json(body, "x")
        assert repr(got) == repr(want)  # repr: 1 and 1.0, nan, key order all tell apart


SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
           | st.floats() | st.text(max_size=10))
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=5), inner, max_size=4), max_leaves=15)


@given(VALUES, st.booleans())
@SETTINGS
def test_load_json_gives_the_stdlib_document(doc: Any, ascii_only: bool) -> None:
    try:
        text = json.dumps(doc, ensure_ascii=ascii_only)  # NaN, Infinity, big ints included
        body = text.encode()
    except UnicodeEncodeError:  # a lone surrogate: as an escape instead
        body = json.dumps(doc).encode()
    _same_load(body)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                      "utf-32", "utf-32-le", "utf-32-be"])
def test_load_json_other_encodings_go_the_tolerant_way(encoding: str) -> None:
    body = '{"jobs": [{"title": "Ingénieur", "id": 18446744073709551616}]}'.encode(encoding)
    _same_load(body)
    assert n.load_json(body, "x") == {"jobs": [{"title": "Ingénieur",
                                                 "id": 18446744073709551616}]}


@pytest.mark.parametrize("body", [
    b'{"a": 1, "a": 2}', b"[NaN, Infinity, -Infinity]", b"[1e400]", b'["\\ud800"]',
    b"\xef\xbb\xbf[1]", b"[18446744073709551616, -9223372036854775809, 1.0, -0, -0.0]",
    b'["\xff bad byte", "\xed\xa0\x80"]', b"[1]x", b'{"a": "\x01"}', b"[" * 5000 + b"]" * 5000,
    b"[" * 100 + b"]" * 100, b"", b" ", b"nul", b'"\\u0000"', b"\x00[\x001\x00]\x00",
])
def test_load_json_edge_cases(body: bytes) -> None:
    _same_load(body)


@given(st.binary(max_size=200))
@SETTINGS
def test_load_json_on_any_bytes(body: bytes) -> None:
    _same_load(body)


@given(st.data())
@SETTINGS
def test_load_json_on_broken_fixtures(data: st.DataObject) -> None:
    body = bytearray((FIXTURES / "ashby_job_board.json").read_bytes()[:1500])
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(body) - 1))
        body[i] = data.draw(st.integers(0, 255))
    _same_load(bytes(body))


# ----------------------------------------------------------------------------- HTML to text
# The previous implementation: a chain of regular expressions and html.unescape.
_OLD_TAGS = re.compile(r"<[^>]*>")
_OLD_SPACES = re.compile(r"[^\S\n]+")
_OLD_NEWLINES = re.compile(r"\s*\n\s*")
_OLD_BREAKS = re.compile(
    r"</(?:p|div|li|h[1-6]|tr|ul|ol|dl|dt|dd|table|blockquote|pre|section|article|header"
    r"|footer)>|<(?:br|hr)\b[^>]*>"
)


def _old_collapse(text: str) -> str:
    return _OLD_NEWLINES.sub("\n", _OLD_SPACES.sub(" ", text)).strip()


def _old_html_to_text(safe: str) -> str:
    return _old_collapse(html.unescape(_OLD_TAGS.sub("", _OLD_BREAKS.sub("\n", safe))))


HTML_BITS = st.sampled_from([
    "<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "<hr>", "<ul><li>", "</li>", "<b>",
    "</b>", "<h2>", "</h2>", "<table><tr><td>", "<pre>", "</pre>", "<a href='https://x.test/'>",
    "</a>", "<script>x()</script>", "<!-- c -->", "&amp;", "&nbsp;", "&lt;", "&gt;", "&quot;",
    "&rsquo;", "&#39;", "&#27;", "&#x9b;", "&", "<", ">", " ", "  ", "\n", "\t", "\r\n", "\xa0",
    "\u2028", "\u3000", "\u200b", "\x0b", "\x1c", "\x85", "word", "é", "😀", "<span title='a'>",
    "<p title=\"x>y\">",
])


@given(st.lists(HTML_BITS, max_size=30))
@SETTINGS
def test_html_to_text_gives_the_old_text(bits: list[str]) -> None:
    safe = n.sanitise_html("".join(bits))
    assert n.html_to_text(safe) == _old_html_to_text(safe)


def test_html_to_text_of_an_attribute_with_brackets() -> None:
    safe = n.sanitise_html('<p title="a>b">text</p><br title="<c>">more &amp; &lt;less&gt;')
    assert safe == '<p title="a&gt;b">text</p><br title="&lt;c&gt;">more &amp; &lt;less&gt;'
    assert n.html_to_text(safe) == "text\nmore & <less>"


@given(st.text(alphabet=st.sampled_from(
    [*"ab \n\t\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0", "\u2028", "\u2029", "\u3000", "\u200b",
     "\u1680", "\x00"]),
    max_size=40) | st.text(max_size=40))
@SETTINGS
def test_collapse_lines_equals_the_substitutions(text: str) -> None:
    assert n.collapse_lines(text) == _old_collapse(text)


@given(st.lists(HTML_BITS, max_size=30))
@SETTINGS
def test_strip_tags_is_unchanged(bits: list[str]) -> None:
    fragment = "".join(bits)
    assert n.strip_tags(fragment) == _old_collapse(html.unescape(_strip_tags_parts(fragment)))


def _strip_tags_parts(fragment: str) -> str:
    """The previous strip_tags, before its white space was collapsed."""
    parts, i = [], 0
    while True:
        j = fragment.find("<", i)
        if j < 0:
            parts.append(fragment[i:])
            break
        parts.append(fragment[i:j])
        k = fragment.find(">", j)
        if k < 0:
            break
        m = re.compile(r"</?([A-Za-z][^\s/>]*)").match(fragment, j, k)
        parts.append("\n" if m is not None and m.group(1).lower() in n._BREAK_NAMES else " ")
        i = k + 1
    return "".join(parts)


def test_fixture_descriptions_give_the_old_text() -> None:
    for job in json.loads((FIXTURES / "greenhouse_jobs_content.json").read_bytes())["jobs"]:
        safe = n.sanitise_html(n.unescape_once(job["content"]))
        assert n.html_to_text(safe) == _old_html_to_text(safe)
    for item in json.loads((FIXTURES / "lever_postings.json").read_bytes()):
        safe = n.sanitise_html(lever._description(item))
        assert n.html_to_text(safe) == _old_html_to_text(safe)
    for job in json.loads((FIXTURES / "ashby_job_board.json").read_bytes())["jobs"]:
        safe = n.sanitise_html(job["descriptionHtml"])
        assert n.html_to_text(safe) == _old_html_to_text(safe)


# ----------------------------------------------------------------------------- description limits


@given(st.lists(st.sampled_from(["<div>", "</div>", "<p>", "<br>", "<b>", "x", "</b>"]),
                max_size=60), st.integers(0, 12))
@SETTINGS
def test_refusal_counts_depth_as_before(bits: list[str], depth: int) -> None:
    fragment = "".join(bits)
    limits = n.DescriptionLimits(max_chars=10_000, max_depth=depth)
    deep = n.nesting_depth(fragment, depth) > depth
    assert (n.refusal(fragment, limits) is not None) == deep


def test_refusal_still_scans_a_fragment_with_many_tags() -> None:
    limits = n.DescriptionLimits(max_chars=10_000, max_depth=3)
    assert n.refusal("<br>" * 100, limits) is None  # many tags, none nesting
    assert n.refusal("<div>" * 4, limits) == "nested more than 3 elements deep"
    assert n.refusal("<div>" * 3, limits) is None  # three "<": not even scanned


# ----------------------------------------------------------------------------- fuzz

WEIRD = ["\x1b[2J", "\x00", "\u2028", "\xa0", "&nbsp;", "<script>x</script>", "<b>", "</p>",
         "\ud800", "  ", "\t", "\r\n", "&amp;amp;", "<div><p>a</div>", "<br/>", "\x85",
         "\x9b31m", "javascript:alert(1)", "http://a b", "https://ok.test/x", "<!-- c -->",
         "&#0;", "&#x110000;", "<pre>  a\n  b</pre>", "é", "😀", "\ufeff", "1e400",
         '<p title="a>b">x</p>', "<table>t<tr><td>c</td></tr></table>"]
ADAPTERS = {"greenhouse": (greenhouse, "greenhouse_jobs_content.json"),
            "lever": (lever, "lever_postings.json"),
            "ashby": (ashby, "ashby_job_board.json")}


def _mutate(doc: Any, rnd: random.Random) -> Any:
    if isinstance(doc, dict):
        return {k: _mutate(v, rnd) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_mutate(v, rnd) for v in doc]
    if isinstance(doc, str) and rnd.random() < 0.5:
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randint(0, len(doc))
            doc = doc[:i] + rnd.choice(WEIRD) + doc[i:]
    elif rnd.random() < 0.05:
        return rnd.choice([None, 1, 2**70, 1.5, True, [], {}, "x"])
    return doc


def _check_page(kind: str, body: bytes) -> None:
    adapter, _ = ADAPTERS[kind]
    board = BoardRef(name="fuzz", type=kind, token="fuzz")
    try:
        page = adapter.parse(body, board, adapter.first_url(board))
    except ParseError:
        return
    assert isinstance(page, Page)
    for p in page.postings:
        assert p.content_hash == content_hash(p)
        assert p.title == clean_line(p.title) and p.title
        assert p.url == safe_url(p.url) and p.apply_url == safe_url(p.apply_url)
        assert clean_text(p.description_html) == p.description_html
        assert clean_text(p.description_text) == p.description_text
        assert "<script" not in p.description_html


@pytest.mark.parametrize("kind", list(ADAPTERS))
@given(seed=st.integers(0, 2**32), ascii_only=st.booleans(), cut=st.integers(0, 40))
@SETTINGS
def test_mutated_fixtures_parse_or_raise_parse_error(
    kind: str, seed: int, ascii_only: bool, cut: int
) -> None:
    _, fixture = ADAPTERS[kind]
    doc = _mutate(json.loads((FIXTURES / fixture).read_bytes()), random.Random(seed))
    body = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    _check_page(kind, body)
    if cut:  # truncated, or with a broken byte: the tolerant path decides
        _check_page(kind, body[: len(body) * cut // 41])
        broken = bytearray(body)
        broken[len(body) * cut // 41] = 0xFF
        _check_page(kind, bytes(broken))


@pytest.mark.parametrize("kind", list(ADAPTERS))
@given(body=st.binary(max_size=512))
@SETTINGS
def test_arbitrary_bytes_parse_or_raise_parse_error(kind: str, body: bytes) -> None:
    _check_page(kind, body)


@pytest.mark.parametrize("kind", list(ADAPTERS))
def test_a_utf16_body_parses_like_its_utf8(kind: str) -> None:
    adapter, fixture = ADAPTERS[kind]
    board = BoardRef(name="acme", type=kind, token="acme")
    raw = (FIXTURES / fixture).read_bytes()
    utf16 = codecs.BOM_UTF16_LE + raw.decode().encode("utf-16-le")
    want = adapter.parse(raw, board, adapter.first_url(board)).postings
    assert adapter.parse(utf16, board, adapter.first_url(board)).postings == want
