"""The posting's fast paths give what the plain implementations gave: content hashes stored by
earlier versions stay valid (an upgrade must not make every stored posting look updated), and
the text cleaners return what the regular expressions alone return."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobscrape.boards import ashby, greenhouse, lever
from jobscrape.boards.base import BoardRef
from jobscrape.postings import (
    EmploymentType,
    Posting,
    Remote,
    Salary,
    SalaryPeriod,
    canonical_bytes,
    clean_line,
    clean_text,
    content_hash,
    safe_url,
    sanitised,
    strip_controls,
    strip_escapes,
    with_hash,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "boards"

# ----------------------------------------------------------------------------- the content hash

# Hashes the previous implementation (json.dumps, then blake2b) gave for the fixtures' postings.
PINNED = {
    (greenhouse, "greenhouse_jobs_content.json"): {
        "6136160004": "69a833144ba4ebfc31e399719395d398",
        "5999792004": "6d8a26681418a913575c227c68eecc92",
    },
    (lever, "lever_postings.json"): {
        "2193db3f-77c5-43b8-b030-8f92c9882bf1": "ad59cd5876b3dd338c28c3adcec32f4a",
        "d87833d0-fb78-4794-b45d-3fe5c8274bc8": "00ffb3c6e97053a030d2c839bc616855",
    },
    (ashby, "ashby_job_board.json"): {
        "d3bc1ced-3ce4-4086-a050-555055dbb1ff": "b4ee59440a997c5a0264fbd7db57db1d",
        "cd5ae036-0223-427a-b038-ba16ef9dcb32": "9d5621da738c9f20a11b642c82f25e07",
    },
}


@pytest.mark.parametrize(("adapter", "fixture"), list(PINNED))
def test_fixture_hashes_are_those_earlier_versions_stored(adapter: object, fixture: str) -> None:
    board = BoardRef(name="acme", type=adapter.TYPE, token="acme")  # type: ignore[attr-defined]
    page = adapter.parse(  # type: ignore[attr-defined]
        (FIXTURES / fixture).read_bytes(), board, adapter.first_url(board))  # type: ignore[attr-defined]
    # parser version 2 of lever and ashby fills the company from the token: without it, the
    # postings hash as version 1 stored them (the hash itself did not change)
    hashes = {p.source_id: (with_hash(replace(p, company=None)).content_hash
                            if adapter in (lever, ashby) else p.content_hash)
              for p in page.postings}
    assert hashes == PINNED[(adapter, fixture)]


def _posting(**kw: object) -> Posting:
    base: dict[str, object] = {"id": "t:x:1", "board": "b", "board_type": "t",
                               "source_id": "1", "title": "T"}
    return Posting(**(base | kw))  # type: ignore[arg-type]


def test_pinned_hashes_of_text_the_encoders_could_write_differently() -> None:
    # non-ASCII, quotes, backslashes, U+2028, DEL and C0 controls in strings; salary bounds
    # that JSON writes as 1e-05 and 1e+16 (msgspec: 0.00001 and 1e16)
    edge = _posting(
        title='Ingénieur "senior" \\ 😀 \u2028', url="https://x.test/a?b=1&c=\u00e9",
        company="Acme\x7f", locations=("Zürich", "Remote\t"), remote=Remote.TRUE,
        employment_type=EmploymentType.CONTRACT,
        salary=Salary(min=1e-05, max=1e16, currency="USD", period=SalaryPeriod.YEAR),
        description_html="<p>a\nb\u00a0</p>\x01",
    )
    assert content_hash(edge) == "cf25c0667d381218539cbc8ffc7ebeda"
    plain = _posting(salary=Salary(min=52000.0, max=75000.5, currency="EUR",
                                   period=SalaryPeriod.MONTH), description_html="<p>x</p>")
    assert content_hash(plain) == "96b7e7848a22122b15ff119aa7b85a79"


def _old_canonical(p: Posting) -> bytes:
    """The previous implementation of the hashed bytes."""
    s = p.salary
    salary = None if s is None else {"min": s.min, "max": s.max, "currency": s.currency,
                                     "period": s.period.value}
    seen = [p.title, p.url, p.apply_url, p.company, p.department, list(p.locations),
            p.remote.value, p.employment_type.value, salary, p.description_html]
    return json.dumps(seen, separators=(",", ":"), ensure_ascii=False).encode()


TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)
AMOUNTS = (st.none() | st.floats(allow_nan=True, allow_infinity=True)
           | st.integers(min_value=-(2**80), max_value=2**80) | st.booleans()
           | st.sampled_from([1e-4, 9.999e-5, 1e16, 9999999999999998.0, 120000.0, 0.5, -0.0]))


@given(title=TEXT, url=st.none() | TEXT, company=st.none() | TEXT,
       locations=st.lists(TEXT, max_size=3), low=AMOUNTS, high=AMOUNTS,
       with_salary=st.booleans(), html=TEXT)
@settings(max_examples=400, deadline=None)
def test_canonical_bytes_are_the_json_dumps_bytes(
    title: str, url: str | None, company: str | None, locations: list[str],
    low: float | None, high: float | None, with_salary: bool, html: str,
) -> None:
    salary = Salary(min=low, max=high, currency="USD") if with_salary else None
    p = _posting(title=title, url=url, company=company, locations=tuple(locations),
                 salary=salary, description_html=html)
    assert canonical_bytes(p) == _old_canonical(p)
    assert content_hash(p) == hashlib.blake2b(_old_canonical(p), digest_size=16).hexdigest()


def test_a_lone_surrogate_raises_as_before() -> None:
    # the item is then skipped and counted (map_items), as it was
    with pytest.raises(UnicodeEncodeError):
        content_hash(_posting(title="a\ud800"))


def test_with_hash_sets_the_hash_once_and_a_change_changes_it() -> None:
    p = with_hash(_posting(description_html="<p>x</p>"))
    assert p.content_hash == content_hash(p)
    assert content_hash(replace(p, description_html="<p>y</p>")) != p.content_hash


# ----------------------------------------------------------------------------- the cleaners
# The previous implementations: the regular expressions, applied always.
_ESCAPES = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85]+")
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _old_clean_line(text: str) -> str:
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", _ESCAPES.sub("", text))).strip()


def _old_clean_text(text: str) -> str:
    return _TEXT_CONTROLS.sub("", _ESCAPES.sub("", text))


def _old_safe_url(value: str | None) -> str | None:
    if not value:
        return None
    url = value.strip()
    if not url or any(c.isspace() or _CONTROLS.match(c) for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


# board text with the characters the cleaners act on mixed in
DIRTY = st.text(alphabet=st.sampled_from(
    [*"ab <>&;:/.-[]\\0123", "\x1b", "\x07", "\x9c", "\x9b", "\x90", "\x9d", "\n", "\t", "\r",
     "\x0b", "\x85", "\x7f", "\x00", "\xa0", "\u2028", "\u200b", "\u3000", "é", "😀", "\ufeff"]),
    max_size=40)
ANY_TEXT = DIRTY | st.text(max_size=40)


@given(ANY_TEXT)
@settings(max_examples=500, deadline=None)
def test_cleaners_equal_the_plain_regular_expressions(text: str) -> None:
    assert clean_line(text) == _old_clean_line(text)
    assert clean_text(text) == _old_clean_text(text)
    assert strip_escapes(text) == _ESCAPES.sub("", text)
    assert strip_controls(text) == _CONTROLS.sub("", text)


URL_PARTS = st.sampled_from(
    ["http://", "https://", "HTTP://", "ftp://", "javascript:", "//", "https://u:p@", "", " "])
HOSTS = st.sampled_from(["a.test", "A-b.test", "x", "[::1]", "[::1", "h.test:80", "h.test:99999",
                         "h.test:x", "h.test:", "ex\u00e4mple.test", "", ".", "h\u2028.test"])
RESTS = st.sampled_from(["", "/", "/p?q=1#f", "?a b", "/\x7f", "#x", "/\u00e9", "\t/x", "/ä\n"])


@given(URL_PARTS, HOSTS, RESTS)
@settings(max_examples=500, deadline=None)
def test_safe_url_equals_the_parsing_check(scheme: str, host: str, rest: str) -> None:
    url = scheme + host + rest
    assert safe_url(url) == _old_safe_url(url)


@given(ANY_TEXT)
@settings(max_examples=300, deadline=None)
def test_safe_url_on_any_text(text: str) -> None:
    assert safe_url(text) == _old_safe_url(text)
    assert safe_url("https://h.test/" + text) == _old_safe_url("https://h.test/" + text)


def test_sanitised_cleans_every_board_field_and_keeps_the_rest() -> None:
    p = _posting(title=" \x1b[31mTitle\n", url="javascript:x()", apply_url="https://a.test/x",
                 company="\x00", department=" Eng\t", locations=("Berlin", " Berlin ", "\x1b[2J"),
                 description_html="<p>\x1b]8;;http://x\x07x</p>", description_text="a\x00\tb",
                 content_hash="kept")
    s = sanitised(p)
    assert s is not p and p.title == " \x1b[31mTitle\n"  # a new posting; the old one unchanged
    assert (s.title, s.url, s.apply_url, s.company, s.department) == (
        "Title", None, "https://a.test/x", None, "Eng")
    assert s.locations == ("Berlin",)
    assert (s.description_html, s.description_text) == ("<p>x</p>", "a\tb")
    assert (s.id, s.source_id, s.content_hash) == (p.id, p.source_id, "kept")


# ----------------------------------------------------------------------------- pickles and JSON


def _full_posting() -> Posting:
    from datetime import UTC, datetime

    return with_hash(_posting(
        url="https://x.test/1", apply_url="https://x.test/1/apply", company="Acme",
        department="Eng", locations=("Berlin", "Remote"), remote=Remote.FALSE,
        employment_type=EmploymentType.PART_TIME,
        salary=Salary(min=1.5, max=None, currency="EUR", period=SalaryPeriod.HOUR),
        posted_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        updated_at=datetime(2026, 2, 3, tzinfo=UTC),
        description_html="<p>Zürich</p>", description_text="Zürich"))


def test_a_pickled_posting_comes_back_whole() -> None:
    import pickle
    from dataclasses import fields

    p = _full_posting()
    assert len(p.__reduce__()[1]) == len(fields(Posting))  # every field, in order
    back = pickle.loads(pickle.dumps([p, p], protocol=pickle.HIGHEST_PROTOCOL))
    assert back == [p, p]
    assert [q.content_hash for q in back] == [p.content_hash] * 2  # not compared by ==
    assert back[0].salary == p.salary and back[0].remote is Remote.FALSE


@given(title=TEXT, html=TEXT, low=AMOUNTS, high=AMOUNTS)
@settings(max_examples=300, deadline=None)
def test_to_json_is_the_json_dumps_text(title: str, html: str, low: float | None,
                                        high: float | None) -> None:
    p = replace(_full_posting(), title=title, description_html=html,
                salary=Salary(min=low, max=high, currency="USD"))
    assert p.to_json() == json.dumps(p.to_dict(), ensure_ascii=False, separators=(",", ":"))
