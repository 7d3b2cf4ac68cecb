"""Board data is data: the rules every posting goes through (postings.py, applied by
build_posting) and the escaping of `jobscrape scrape`'s outputs (scrape.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobscrape.boards import greenhouse
from jobscrape.boards.base import BoardRef
from jobscrape.boards.normalise import build_posting
from jobscrape.output import csv_cell, table_cell
from jobscrape.postings import clean_line, clean_text, safe_url, strip_controls, strip_escapes
from jobscrape.scrape import render

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but \t and \n
BOARD = BoardRef(name="acme", type="greenhouse", token="acme")

# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b[2JTitle", "Title"),  # CSI: clear screen
        ("\x1b[1;31mred\x1b[0m", "red"),
        ("\x1b]8;;http://evil.test/\x07click\x1b]8;;\x07", "click"),  # OSC 8 link, BEL ends
        ("\x1b]0;window title\x1b\\after", "after"),  # OSC, ST ends
        ("\x1b]2;never ended", ""),  # an unterminated string swallows the rest
        ("\x9b31mred", "red"),  # 8-bit CSI
        ("\x9d0;t\x9cafter", "after"),  # 8-bit OSC and ST
        ("a\x1bcb", "ab"),  # ESC c (reset)
        ("a\x1b(Bb", "ab"),  # charset designation
        ("plain [m/w/d] text", "plain [m/w/d] text"),
    ],
)
def test_strip_escapes(text: str, expected: str) -> None:
    assert strip_escapes(text) == expected


def test_strip_controls_drops_c0_del_and_c1() -> None:
    assert strip_controls("a\x00b\x07c\td\ne\rf\x7fg\x85h\x9fi é€") == "abcdefghi é€"


def test_clean_line_one_line_no_controls() -> None:
    assert clean_line("  Senior\n\tEngineer\r\n ") == "Senior Engineer"
    assert clean_line("\x1b[2J\x1b]8;;http://x\x07Click\x1b]8;;\x07 [bold]me\x07") == (
        "Click [bold]me"
    )
    assert clean_line("Werkstudent [m/w/d]") == "Werkstudent [m/w/d]"


def test_clean_text_keeps_line_feeds_and_tabs() -> None:
    assert clean_text("one\n\ttwo\r\n\x1b[31mthree\x00\x9b") == "one\n\ttwo\nthree"


@pytest.mark.parametrize(
    "url",
    ["https://job-boards.greenhouse.io/vercel/jobs/1", "http://h.test:8080/a?b=c#d",
     "HTTPS://H.test/x", "https://[2001:db8::1]/x", "http://user@h.test/"],
)
def test_safe_url_keeps_absolute_http_urls(url: str) -> None:
    assert safe_url(url) == url
    assert safe_url(f"  {url} ") == url


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
     "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "ftp://h.test/x",
     "mailto:jobs@h.test", "/jobs/1", "jobs/1", "//evil.test/x", "https://", "http:///x",
     "http:\\\\evil.test", "https://[::1", "http://h.test:99999/", "https://a b.test/",
     "https://h.test/\x1b[2J", "https://h.test/a\nb", "", None],
)
def test_safe_url_drops_everything_else(url: str | None) -> None:
    assert safe_url(url) is None


def test_build_posting_applies_the_rules() -> None:
    p = build_posting(
        BOARD, "greenhouse", "7\x00", "\x1b[2JCl[/]ose\x07\n", url="javascript:alert(1)",
        apply_url="https://h.test/apply", company="\x9b1mAcme\x7f", department="\x1b[0m",
        locations=("Berlin\x1b[K", "Berlin", "\x07", "Remote\tEU"),
        description_html="<p>a\x1b[31m\x00</p>\n\t<p>b</p>", description_text="a\x0c\n\tb",
    )
    assert (p.id, p.source_id, p.title) == ("greenhouse:acme:7", "7", "Cl[/]ose")
    assert (p.url, p.apply_url) == (None, "https://h.test/apply")
    assert (p.company, p.department, p.locations) == ("Acme", None, ("Berlin", "Remote EU"))
    assert (p.description_html, p.description_text) == ("<p>a</p>\n\t<p>b</p>", "a\n\tb")


def _text_fields(p: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in fields(p):  # type: ignore[arg-type]
        value = getattr(p, f.name)
        if isinstance(value, str):
            out[f.name] = value
        elif isinstance(value, tuple):
            out.update({f"{f.name}[{i}]": v for i, v in enumerate(value)})
    return out


@settings(max_examples=300, deadline=None)
@given(
    source_id=st.text(min_size=1), title=st.text(), url=st.text() | st.none(),
    apply_url=st.text() | st.none(), company=st.text() | st.none(),
    department=st.text() | st.none(), locations=st.lists(st.text(), max_size=4),
    description_html=st.text(), description_text=st.text(),
)
def test_no_posting_field_holds_a_control_character(
    source_id: str, title: str, url: str | None, apply_url: str | None, company: str | None,
    department: str | None, locations: list[str], description_html: str,
    description_text: str,
) -> None:
    p = build_posting(
        BOARD, "greenhouse", source_id, title, url=url, apply_url=apply_url, company=company,
        department=department, locations=tuple(locations), description_html=description_html,
        description_text=description_text,
    )
    for name, value in _text_fields(p).items():
        allowed = TEXT_CONTROL if name.startswith("description_") else CONTROL
        assert not allowed.search(value), (name, value)
    for link in (p.url, p.apply_url):
        assert link is None or link.lower().startswith(("http://", "https://"))


@settings(max_examples=100, deadline=None)
@given(title=st.text(min_size=1).filter(str.strip), url=st.text())
def test_greenhouse_payload_gives_clean_postings(title: str, url: str) -> None:
    body = json.dumps({"jobs": [{"id": 1, "title": title, "absolute_url": url,
                                 "company_name": title, "location": {"name": title},
                                 "content": f"&lt;p&gt;{title}&lt;/p&gt;"}]}).encode()
    for p in greenhouse.parse(body, BOARD, "https://h.test/").postings:
        for name, value in _text_fields(p).items():
            allowed = TEXT_CONTROL if name.startswith("description_") else CONTROL
            assert not allowed.search(value), (name, value)
        assert p.url is None or safe_url(p.url) == p.url


# --------------------------------------------------------------------------- the outputs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(\"http://evil.test\",\"x\")", "'=HYPERLINK(\"http://evil.test\",\"x\")"),
        ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+2", "'\t=1+2"), ("\r=1+2", "'\r=1+2"),
        ("Senior Engineer", "Senior Engineer"), ("a=b", "a=b"), ("", ""),
        (None, None), (True, True), (-5.0, -5.0),  # not text: not a formula a sheet reads
    ],
)
def test_csv_cell_neutralises_formulas(value: object, expected: object) -> None:
    assert csv_cell(value) == expected


@pytest.mark.parametrize("value", ["Closing [/] tag", "Werkstudent [m/w/d]", "[bold]x[/bold]"])
def test_table_cell_is_literal_text(value: str) -> None:
    cell = table_cell(value)
    assert cell.plain == value and not cell.spans


def test_table_cell_drops_escapes_and_controls() -> None:
    assert table_cell("\x1b[2J\x1b]8;;http://evil\x07Hi\x1b]8;;\x07\x9b\n").plain == "Hi"


def _posting_dicts(*titles: str) -> list[dict[str, object]]:
    # straight dicts, as a store written by an older version may hold them (not cleaned)
    return [{"id": f"greenhouse:acme:{i}", "board": "acme", "title": t, "company": "=cmd",
             "locations": ["@here"], "remote": "unknown", "posted_at": None, "url": None,
             "apply_url": None, "salary": None} for i, t in enumerate(titles)]


def test_render_table_prints_markup_literally_and_no_escapes() -> None:
    out = render(_posting_dicts("Closing [/] tag", "Werkstudent [m/w/d]", "[bold]B[/bold]",
                                "\x1b[2JClear\x1b]8;;http://evil\x07"), {"greenhouse:acme:0"},
                 "table")
    for text in ("Closing [/] tag", "Werkstudent [m/w/d]", "[bold]B[/bold]", "Clear"):
        assert text in out
    assert not CONTROL.search(out.replace("\n", ""))


def test_render_csv_neutralises_and_json_stays_json() -> None:
    postings = _posting_dicts("=HYPERLINK(\"http://evil.test\",\"x\")", "Plain")
    rows = list(csv.DictReader(io.StringIO(render(postings, set(), "csv"))))
    assert [r["title"] for r in rows] == ["'=HYPERLINK(\"http://evil.test\",\"x\")", "Plain"]
    assert {r["company"] for r in rows} == {"'=cmd"} and {r["locations"] for r in rows} == {
        "'@here"}
    assert [p["title"] for p in json.loads(render(postings, set(), "json"))] == [
        "=HYPERLINK(\"http://evil.test\",\"x\")", "Plain"]  # only csv is neutralised
