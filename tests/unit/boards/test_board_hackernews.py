from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import hackernews
from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.postings import EmploymentType, Remote, Salary, SalaryPeriod, content_hash

from boardkit import FUZZ

STORIES = "hn_algolia_search_stories_whoishiring.json"  # 12 "Who is hiring?" stories
COMMENTS = "hn_algolia_search_comments_story47975571_may2026.json"  # 555 hits, 335 top level
BOARD = BoardRef(name="hn-hiring", type="hackernews", token="hn")
STORIES_URL = hackernews.STORIES_URL
COMMENTS_URL = "https://hn.algolia.com/api/v1/search?tags=comment,story_47975571&hitsPerPage=1000"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"


def _parse(doc: Any, url: str = COMMENTS_URL, board: BoardRef = BOARD) -> Page:
    return hackernews.parse(json.dumps(doc).encode(), board, url)


def _thread(fixture_json, *starts: str) -> dict[str, Any]:
    """The captured comment search with only the top-level comments starting with `starts`."""
    doc = fixture_json(COMMENTS)
    doc["hits"] = [h for h in doc["hits"] if h["parent_id"] == h["story_id"]
                   and (h["comment_text"] or "").startswith(starts)]
    return doc


# ----------------------------------------------------------------------------- the story search


def test_first_url_is_the_story_search_of_whoishiring() -> None:
    assert hackernews.first_url(BOARD) == (
        "https://hn.algolia.com/api/v1/search_by_date?tags=story,author_whoishiring"
        "&query=hiring&hitsPerPage=12"
    )
    assert hackernews.first_url(BoardRef(name="b", type="hackernews")) == STORIES_URL


def test_first_url_override_of_a_comment_search_starts_there() -> None:
    board = BoardRef(name="b", type="hackernews", url=COMMENTS_URL)
    assert hackernews.first_url(board) == COMMENTS_URL


def test_story_search_gives_the_newest_hiring_thread(fixture_bytes) -> None:
    page = hackernews.parse(fixture_bytes(STORIES), BOARD, STORIES_URL)
    assert page == Page([], COMMENTS_URL)  # May 2026, the newest of the 12


def test_newest_by_time_not_by_order(fixture_json) -> None:
    doc = fixture_json(STORIES)
    doc["hits"].reverse()
    assert _parse(doc, STORIES_URL).next_url == COMMENTS_URL


@pytest.mark.parametrize("title", [
    "Ask HN: Who wants to be hired? (June 2026)",
    "Ask HN: Freelancer? Seeking freelancer? (June 2026)",
])
def test_other_threads_of_whoishiring_are_never_taken(fixture_json, title: str) -> None:
    doc = fixture_json(STORIES)
    newer = dict(doc["hits"][0], objectID="48400000", title=title, created_at_i=1780308000,
                 created_at="2026-06-01T15:00:00Z")
    doc["hits"].insert(0, newer)
    assert _parse(doc, STORIES_URL).next_url == COMMENTS_URL


def test_story_search_on_a_mirror_pages_on_the_mirror(fixture_bytes) -> None:
    url = "http://mirror.test/hn/api/v1/search_by_date?tags=story,author_whoishiring"
    page = hackernews.parse(fixture_bytes(STORIES), BOARD, url)
    assert page.next_url == (
        "http://mirror.test/hn/api/v1/search?tags=comment,story_47975571&hitsPerPage=1000"
    )


def test_story_search_without_a_hiring_thread_is_parse_error(fixture_json) -> None:
    doc = fixture_json(STORIES)
    for hit in doc["hits"]:
        hit["title"] = "Ask HN: Who wants to be hired? (May 2026)"
    with pytest.raises(ParseError, match="no 'Ask HN: Who is hiring\\?' story among 12 hits"):
        _parse(doc, STORIES_URL)


def test_story_id_must_be_a_number(fixture_json) -> None:
    doc = fixture_json(STORIES)
    doc["hits"] = [dict(doc["hits"][0], objectID="1&tags=x")]
    with pytest.raises(ParseError, match="no 'Ask HN: Who is hiring"):
        _parse(doc, STORIES_URL)


# ----------------------------------------------------------------------------- the comment search


def test_thread_gives_one_posting_per_job_comment(fixture_bytes, fixture_json) -> None:
    page = hackernews.parse(fixture_bytes(COMMENTS), BOARD, COMMENTS_URL)
    assert (page.next_url, page.skipped) == (None, 0)  # nbPages 1
    # 335 top-level comments: 301 follow `Company | ... |`, 234 of those name a role
    assert len(page.postings) == 234
    hits = fixture_json(COMMENTS)["hits"]
    top_level = {h["objectID"] for h in hits if h["parent_id"] == h["story_id"]}
    assert {p.source_id for p in page.postings} <= top_level  # no reply is a posting


def test_first_job_comment_field_by_field(fixture_bytes) -> None:
    p = hackernews.parse(fixture_bytes(COMMENTS), BOARD, COMMENTS_URL).postings[0]
    assert p.id == "hackernews:hn:48147597"
    assert p.source_id == "48147597"
    assert (p.board, p.board_type) == ("hn-hiring", "hackernews")
    assert p.title == "Backend Engineer (Mid-level & Senior)"
    assert p.url == "https://news.ycombinator.com/item?id=48147597"
    assert p.apply_url == "https://www.woosmap.com/"
    assert p.company == "Woosmap"
    assert p.department is None
    assert p.locations == ("HYBRID (London, Paris, Montpellier) or REMOTE (UTC-1 to UTC+2)",)
    assert p.remote is Remote.TRUE  # remote is one of the options
    assert p.employment_type is EmploymentType.FULL_TIME
    assert p.salary is None
    assert p.posted_at == datetime(2026, 5, 15, 12, 6, 57, tzinfo=UTC)
    assert p.updated_at is None
    assert p.description_html.startswith(
        '<p>Woosmap | <a href="https://www.woosmap.com/" rel="noopener noreferrer">'
        "https://www.woosmap.com/</a> | Backend Engineer (Mid-level &amp; Senior) | HYBRID"
    )
    assert p.description_text.startswith(
        "Woosmap | https://www.woosmap.com/ | Backend Engineer (Mid-level & Senior) | HYBRID "
        "(London, Paris, Montpellier) or REMOTE (UTC-1 to UTC+2) | Full-time\n"
        "We run location APIs."
    )
    assert p.content_hash == content_hash(p) != ""


def _by_id(fixture_bytes) -> dict[str, Any]:
    page = hackernews.parse(fixture_bytes(COMMENTS), BOARD, COMMENTS_URL)
    return {p.source_id: p for p in page.postings}


def test_salary_per_year_in_dollars_and_a_bare_domain(fixture_bytes) -> None:
    # Forage | Senior Mobile Engineer (React Native) | Hybrid NYC (2-3 days in office) |
    # Full-time | $185,000 - $200,000 per year base | joinforage.com
    p = _by_id(fixture_bytes)["48113023"]
    assert (p.company, p.title) == ("Forage", "Senior Mobile Engineer (React Native)")
    assert p.locations == ("Hybrid NYC (2-3 days in office)",)
    assert p.remote is Remote.FALSE
    assert p.salary == Salary(185000.0, 200000.0, "USD", SalaryPeriod.YEAR)
    assert p.apply_url == "https://joinforage.com"


def test_salary_in_euros_and_company_before_its_link(fixture_bytes) -> None:
    # Clutch <a>https://www.clutchapp.io</a> - building future of padel with AI cameras |
    # Full-time | Head of AI (Computer Vision / MLOps) | Remote (worldwide) | €70-100k + equity
    p = _by_id(fixture_bytes)["48133591"]
    assert (p.company, p.title) == ("Clutch", "Head of AI (Computer Vision / MLOps)")
    assert (p.locations, p.remote) == (("Remote (worldwide)",), Remote.TRUE)
    assert p.employment_type is EmploymentType.FULL_TIME
    assert p.salary == Salary(70000.0, 100000.0, "EUR", SalaryPeriod.YEAR)
    assert p.apply_url == "https://www.clutchapp.io"


def test_salary_in_canadian_dollars(fixture_bytes) -> None:
    # Post Up | Full time | Senior Backend Engineer | Onsite | Vancouver, BC (Hybrid) |
    # Salary: $120-$130k CAD | https://www.postup.pro
    p = _by_id(fixture_bytes)["48040028"]
    assert (p.company, p.title) == ("Post Up", "Senior Backend Engineer")
    assert (p.locations, p.remote) == (("Vancouver, BC (Hybrid)",), Remote.FALSE)
    assert p.salary == Salary(120000.0, 130000.0, "CAD", SalaryPeriod.YEAR)
    assert p.apply_url == "https://www.postup.pro"


def test_apply_link_after_the_company_and_onsite(fixture_bytes) -> None:
    # Elucid | Principal Platform Engineer | Boston, MA | ONSITE (hybrid) | $170k-$205k | <a>
    p = _by_id(fixture_bytes)["48052996"]
    assert p.locations == ("Boston, MA",)
    assert p.remote is Remote.FALSE
    assert p.salary == Salary(170000.0, 205000.0, "USD", SalaryPeriod.YEAR)
    assert p.apply_url == (  # the link's address, not its text shortened with "..."
        "https://elucid.applytojob.com/apply/BHpChxSggM/Principal-Platform-Engineer"
    )


def test_contract_and_two_places(fixture_bytes) -> None:
    # Doubling | Design Engineer | Chicago or Bay Area preferred | REMOTE (US) also considered |
    # CONTRACT (1099), 10-20 hrs/week
    p = _by_id(fixture_bytes)["48089084"]
    assert p.locations == ("Chicago or Bay Area preferred", "REMOTE (US) also considered")
    assert p.remote is Remote.TRUE
    assert p.employment_type is EmploymentType.CONTRACT
    assert p.salary is None


def test_comments_outside_the_convention_give_no_posting(fixture_json) -> None:
    doc = _thread(fixture_json, "Great thread", "Oxidian", "COMPANY: Wildkind")
    assert len(doc["hits"]) == 3
    # no `|`; `|` but no role ("Oxidian | https://www.oxidian.com | Remote (EU only)")
    assert _parse(doc) == Page([], None)


@pytest.mark.parametrize("first_line", ["\x1b | Senior Engineer", "Acme | \x1b[2J",
                                        "\x07\x00 | Senior Engineer | Remote"])
def test_a_company_or_role_of_control_characters_only_gives_no_posting(
        fixture_json, first_line: str) -> None:
    # cleaned as build_posting cleans them, nothing is left: no company or no role
    doc = _thread(fixture_json, "Woosmap")
    doc["hits"][0]["comment_text"] = first_line
    assert _parse(doc) == Page([], None)


def test_deleted_comment_gives_no_posting(fixture_json) -> None:
    doc = _thread(fixture_json, "Woosmap")
    doc["hits"][0]["comment_text"] = None
    assert _parse(doc) == Page([], None)


def test_replies_are_left_out(fixture_json) -> None:
    doc = _thread(fixture_json, "Woosmap")
    reply = dict(doc["hits"][0], objectID="1", parent_id=48147597)
    doc["hits"].append(reply)
    assert [p.source_id for p in _parse(doc).postings] == ["48147597"]


def test_unreadable_comments_are_skipped_and_counted(fixture_json) -> None:
    doc = _thread(fixture_json, "Woosmap", "Forage")
    no_id = dict(doc["hits"][0])
    del no_id["objectID"]
    doc["hits"] += [no_id, "comment"]
    page = _parse(doc)
    assert [p.company for p in page.postings] == ["Woosmap", "Forage"]
    assert page.skipped == 2
    assert page.skip_reasons == (
        "hackernews: top-level comments[2]: objectID is missing or not a non-empty string",
        "hackernews: top-level comments[3]: expected an object, got str",
    )


def test_comment_search_pages_while_pages_are_left(fixture_json) -> None:
    doc = _thread(fixture_json, "Woosmap")
    doc.update(page=0, nbPages=3)
    url = COMMENTS_URL.replace("1000", "100")
    assert _parse(doc, url).next_url == (
        "https://hn.algolia.com/api/v1/search?tags=comment%2Cstory_47975571&hitsPerPage=100"
        "&page=1"
    )
    doc["page"] = 2
    assert _parse(doc, f"{url}&page=2").next_url is None


def test_override_of_a_comment_search_with_page_in_url_only(fixture_json) -> None:
    doc = _thread(fixture_json, "Woosmap")
    del doc["page"]
    doc["nbPages"] = 2
    board = BoardRef(name="b", type="hackernews", token="hn", url=COMMENTS_URL)
    assert _parse(doc, COMMENTS_URL, board).next_url == (
        "https://hn.algolia.com/api/v1/search?tags=comment%2Cstory_47975571&hitsPerPage=1000"
        "&page=1"
    )


def test_missing_hits_is_parse_error() -> None:
    with pytest.raises(ParseError, match="hackernews: expected an array under 'hits'"):
        _parse({"message": "you can only fetch the 1000 hits for this query"})


@pytest.mark.parametrize("cut", [1, 5000, 600000])
def test_truncated_body_is_parse_error(fixture_bytes, cut: int) -> None:
    with pytest.raises(ParseError, match="hackernews: body is not valid JSON"):
        hackernews.parse(fixture_bytes(COMMENTS)[:cut], BOARD, COMMENTS_URL)


# ----------------------------------------------------------------------------- the first line


def _lead(line: str) -> hackernews.Lead:
    return hackernews.lead(f"{line}<p>We build things.")


@pytest.mark.parametrize(("field", "salary"), [
    ("$150k-$200k", Salary(150000.0, 200000.0, "USD", SalaryPeriod.YEAR)),
    ("€80-100k", Salary(80000.0, 100000.0, "EUR", SalaryPeriod.YEAR)),
    ("£54,000 to £65,000", Salary(54000.0, 65000.0, "GBP", SalaryPeriod.UNKNOWN)),
    ("185,000 - 200,000 USD", Salary(185000.0, 200000.0, "USD", SalaryPeriod.UNKNOWN)),
    ("$40/hr", Salary(40.0, 40.0, "USD", SalaryPeriod.HOUR)),
    ("$8k per month", Salary(8000.0, 8000.0, "USD", SalaryPeriod.MONTH)),
    ("$150k+", Salary(150000.0, None, "USD", SalaryPeriod.YEAR)),
    ("130-160k + equity", Salary(130000.0, 160000.0, None, SalaryPeriod.YEAR)),
    ("$120k-$150k (US), €80k (EU)", None),  # two figures
    ("$100k USD or EUR", None),  # two currencies
    ("$1.5M", None),
    ("0.5-2.5% equity", None),
])
def test_free_text_salary_only_when_unambiguous(field: str, salary: Salary | None) -> None:
    assert _lead(f"Acme | Backend Engineer | Remote | {field}").salary == salary


@pytest.mark.parametrize(("fields", "remote"), [
    ("REMOTE", Remote.TRUE),
    ("Remote (US)", Remote.TRUE),
    ("ONSITE", Remote.FALSE),
    ("NYC (in-person)", Remote.FALSE),
    ("Berlin | Hybrid", Remote.FALSE),
    ("London | ONSITE (part remote)", Remote.FALSE),
    ("No remote | Paris", Remote.FALSE),
    ("Toronto, ON", Remote.UNKNOWN),
])
def test_remote_tokens(fields: str, remote: Remote) -> None:
    assert _lead(f"Acme | Backend Engineer | {fields} | Full-time").remote is remote


def test_remote_in_the_title_is_not_a_work_arrangement() -> None:
    lead = _lead("Acme | Remote Sensing Engineer | Denver, CO")
    assert (lead.title, lead.locations, lead.remote) == (
        "Remote Sensing Engineer", ("Denver, CO",), Remote.UNKNOWN
    )


def test_fields_in_any_order() -> None:
    lead = _lead("Acme ( https://acme.test ) | Berlin, Germany | ONSITE | Full-time | "
                 "Senior Rust Engineer | €90k")
    assert lead.company == "Acme"
    assert lead.title == "Senior Rust Engineer"
    assert lead.locations == ("Berlin, Germany",)
    assert lead.remote is Remote.FALSE
    assert lead.employment_type is EmploymentType.FULL_TIME
    assert lead.salary == Salary(90000.0, 90000.0, "EUR", SalaryPeriod.YEAR)
    assert lead.link == "https://acme.test"


def test_a_bar_inside_parentheses_does_not_split() -> None:
    lead = _lead("Triumph | Engineer (Lead | Staff) | REMOTE (USA only)")
    assert (lead.title, lead.locations) == ("Engineer (Lead | Staff)", ("REMOTE (USA only)",))


@pytest.mark.parametrize("line", [
    "We are hiring engineers in Berlin.",  # no `|`
    "SEEKING WORK | Full-Stack Developer (Django, Vue)",  # a candidate in the wrong thread
    "Acme | Berlin | ONSITE | Full-time",  # no role
])
def test_no_company_and_title(line: str) -> None:
    lead = _lead(line)
    assert lead.company is None or lead.title is None


def test_the_first_line_ends_at_the_first_paragraph_or_break() -> None:
    assert hackernews.first_line(
        'Acme | <a href="https:&#x2F;&#x2F;acme.test&#x2F;jobs" rel="nofollow">https:&#x2F;&#x2F;'
        "acme.test&#x2F;j...</a> | SRE &amp; Ops\nSecond line<p>Body"
    ) == "Acme | https://acme.test/jobs | SRE & Ops"


# ----------------------------------------------------------------------------- fuzz

SETTINGS = FUZZ
LINE_PARTS = st.sampled_from([
    "Acme", " | ", "|", "Senior Engineer", "REMOTE (US)", "ONSITE", "Full-time", "$150k-$200k",
    "€80-100k", "(", ")", "<p>", "<a href=\"https://x.test/\">x</a>", "&amp;", "k", "1,000",
    "-", "$", "+", "%", "\n", "https://", "www.acme.io", " ",
])
KEYS = st.sampled_from(["objectID", "comment_text", "parent_id", "story_id", "created_at",
                        "created_at_i", "title", "page", "nbPages", "hits"]) | st.text(max_size=4)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats() | st.text(max_size=12)
           | st.sampled_from(["Ask HN: Who is hiring? (May 2026)", "47975571", "Acme | Eng"]))
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)


def _small_thread() -> dict[str, Any]:
    """The captured thread with its first 12 hits only: fuzzing parses it hundreds of times."""
    doc = json.loads((FIXTURES / COMMENTS).read_bytes())
    doc["hits"] = doc["hits"][:12]
    return doc


def _parse_or_parse_error(body: bytes, url: str) -> None:
    try:
        page = hackernews.parse(body, BOARD, url)
    except ParseError:
        return
    for p in page.postings:
        assert p.content_hash and p.title == p.title.strip()
        assert p.company
        assert p.salary is None or all(
            v is None or 0 < v < float("inf") for v in (p.salary.min, p.salary.max))


@given(body=st.binary(max_size=2048), url=st.sampled_from([STORIES_URL, COMMENTS_URL]))
@SETTINGS
def test_fuzz_arbitrary_bytes(body: bytes, url: str) -> None:
    _parse_or_parse_error(body, url)


@given(hits=st.lists(st.dictionaries(KEYS, VALUES, max_size=10), max_size=4),
       extra=st.dictionaries(KEYS, VALUES, max_size=4),
       url=st.sampled_from([STORIES_URL, COMMENTS_URL]))
@SETTINGS
def test_fuzz_json_of_the_right_shape(
    hits: list[dict[str, Any]], extra: dict[str, Any], url: str
) -> None:
    _parse_or_parse_error(json.dumps({**extra, "hits": hits}).encode(), url)


@given(parts=st.lists(LINE_PARTS | st.text(max_size=8), max_size=40))
@SETTINGS
def test_fuzz_first_lines(parts: list[str]) -> None:
    """Whatever a comment says, the first line is read without an exception."""
    hit = {"objectID": "1", "parent_id": 2, "story_id": 2, "comment_text": "".join(parts),
           "created_at": "2026-05-01T15:00:00Z"}
    _parse_or_parse_error(json.dumps({"hits": [hit], "page": 0, "nbPages": 1}).encode(),
                          COMMENTS_URL)


@given(data=st.data(), which=st.sampled_from(["stories", "comments"]))
@SETTINGS
def test_fuzz_damaged_fixture(data: st.DataObject, which: str) -> None:
    if which == "stories":
        body, url = (FIXTURES / STORIES).read_bytes(), STORIES_URL
    else:
        body, url = json.dumps(_small_thread()).encode(), COMMENTS_URL
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, min(len(body), start + 64)))
    patch = data.draw(st.binary(max_size=16) | st.sampled_from([b'"', b"<", b"|", b"&#0;"]))
    _parse_or_parse_error(body[:start] + patch + body[end:], url)


@given(data=st.data())
@SETTINGS
def test_fuzz_optional_fields_of_the_wrong_type(data: st.DataObject) -> None:
    """Odd values in fields other than objectID, comment_text, parent_id and story_id never
    cost a job comment."""
    doc = _small_thread()
    expected = [p.source_id for p in _parse(doc).postings]
    for _ in range(data.draw(st.integers(1, 4))):
        if data.draw(st.booleans()):
            hit = doc["hits"][data.draw(st.integers(0, len(doc["hits"]) - 1))]
            key = data.draw(st.sampled_from(sorted(
                set(hit) - {"objectID", "comment_text", "parent_id", "story_id"})))
            hit[key] = data.draw(VALUES)
        else:
            doc[data.draw(st.sampled_from(sorted(set(doc) - {"hits"})))] = data.draw(VALUES)
    page = _parse(doc)
    assert [p.source_id for p in page.postings] == expected
    assert page.skipped == 0
