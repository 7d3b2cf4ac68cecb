"""The per-posting fast paths give what the plain paths give: describe() on printable HTML
(the text taken in one pass, the descriptions proved free of control characters so that
build_posting does not search them again), the remote guess from joined texts, Greenhouse's
custom field names matched lower-cased, and pay text without a digit."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import greenhouse, paytext
from jobscrape.boards import normalise as n
from jobscrape.boards.base import BoardRef
from jobscrape.postings import Remote, clean_text

from boardkit import FUZZ

BITS = st.sampled_from([
    "<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "<hr>", "<ul><li>", "</li>", "<b>",
    "</b>", "<h2>", "</h2>", "<pre>", "</pre>", "<a href='https://x.test/'>", "</a>",
    "<script>x()</script>", "<!-- c -->", "&amp;", "&nbsp;", "&lt;", "&gt;", "&quot;",
    "&rsquo;", "&#39;", "&#27;", "&#x9b;", "&#133;", "&amp;#27;", "&Tab;", "&NewLine;", "&",
    "<", ">", " ", "  ", "\n", "\t", "\r\n", "\xa0", "\u2028", "\u3000", "\u200b", "\xad",
    "\x0b", "\x1c", "\x85", "\x00", "\x1b[31m", "\x9b2J", "\x7f", "word", "é", "\u2019", "😀",
    "<span title='a\x1bb'>", "<p title=\"x>y\">", "<img alt='\x07' src='https://x.test/i'>",
])
FRAGMENTS = st.lists(BITS, max_size=30).map("".join)


def _plain_describe(fragment: str) -> tuple[str, str]:
    safe = n.sanitise_html(fragment)
    return safe, n.html_to_text(safe)


@given(FRAGMENTS)
@FUZZ
def test_describe_is_the_sanitiser_then_html_to_text(fragment: str) -> None:
    assert n.describe(fragment) == _plain_describe(fragment)


@given(FRAGMENTS)
@FUZZ
def test_descriptions_describe_proves_clean_are_clean(fragment: str) -> None:
    html_, text = n.describe(fragment)
    proved = n._described_clean
    if html_ is proved[0] and text is proved[1]:
        assert clean_text(html_) == html_
        assert clean_text(text) == text


@given(FRAGMENTS, FRAGMENTS)
@FUZZ
def test_build_posting_cleans_every_description_it_was_not_shown_clean(
        first: str, second: str) -> None:
    board = BoardRef(name="b", type="lever", token="acme")
    html_, text = n.describe(first)
    n.describe(second)  # another description in between: the first is no longer the last
    for fields in ({"description_html": html_, "description_text": text},
                   dict(zip(("description_html", "description_text"), n.describe(first),
                            strict=True))):
        p = n.build_posting(board, "lever", "1", "t", **fields)
        assert p.description_html == clean_text(html_)
        assert p.description_text == clean_text(text)


def test_a_control_character_from_an_entity_is_not_taken_as_clean() -> None:
    board = BoardRef(name="b", type="lever", token="acme")
    html_, text = n.describe("<p>&#27;[31mred</p>")
    assert "\x1b" in html_ and "\x1b" in text  # nh3 decodes it; the text keeps it
    p = n.build_posting(board, "lever", "1", "t", description_html=html_,
                        description_text=text)
    assert p.description_html == "<p>red</p>"
    assert p.description_text == "red"


@given(st.text(alphabet=st.sampled_from([*"aA~ \n\t\r\x00\x1b\x7f\x80\x85\x9f\xa0\xad",
                                         "é", "\u2028", "\u200b", "\u2019"]), max_size=12)
       | st.text(max_size=12))
@FUZZ
def test_printable_lines_is_isprintable_but_line_feeds(text: str) -> None:
    assert n._printable_lines(text) == text.replace("\n", " ").isprintable()


WORDS = st.sampled_from([
    "remote", "Remote", "REMOTE", "anywhere", "Anywhere", "hybrid", "Hybrid", "on-site",
    "Onsite", "ON SITE", "in office", "In-Office", "office-based", "remotely", "xremote",
    "on\u017fite", "h\u0131brid", "\u0130n office", "\u212aiel", "London", "-", " ", ",", "\n",
    "é", "_",
])
TEXTS = st.lists(WORDS, max_size=6).map("".join) | st.none() | st.just("")


@given(st.lists(TEXTS, max_size=4))
@FUZZ
def test_remote_from_text_is_the_search_of_each_text(texts: list[str | None]) -> None:
    present = [t for t in texts if t]
    if any(n._REMOTE_TEXT.search(t) for t in present):
        want = Remote.TRUE
    elif any(n._ONSITE_TEXT.search(t) for t in present):
        want = Remote.FALSE
    else:
        want = Remote.UNKNOWN
    assert n.remote_from_text(*texts) is want


NAMES = st.lists(st.sampled_from([
    "Workplace", "WORK PLACE", "work\tstyle", "Remote?", "On-Site", "Location Type",
    "Employment", "Job Type", "time  type", "Commitment", "Position Type", "Work Schedule",
    "Career Site", "\u212a", "\u017f", "\u0130", "\u0131", "ß", " ", "e", "s", "k", "i",
]), max_size=5).map("".join)


@given(NAMES)
@FUZZ
def test_greenhouse_field_names_match_in_any_case(name: str) -> None:
    fields = [(name, "v")]
    for pattern in (greenhouse._WORKPLACE_FIELD, greenhouse._EMPLOYMENT_FIELD):
        want = fields if pattern.search(name) else []
        assert greenhouse._named(fields, pattern) == want


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=60))
@FUZZ
def test_pay_text_without_a_digit_states_no_money(text: str) -> None:
    assert not re.search(r"\d", text)
    assert paytext.money_in(text) == []
    assert paytext.salary_in_text(text) is None
