"""Discord payloads: one embed per change, inside every documented limit, and board text that
can neither ping nor format anything."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import greenhouse
from jobscrape.boards.base import BoardRef
from jobscrape.markdown import html_to_markdown
from jobscrape.notify import discord
from jobscrape.notify.discord import embed, embed_chars, escape_markdown, messages
from jobscrape.postings import (
    Change,
    ChangeKind,
    EmploymentType,
    Posting,
    Remote,
    Salary,
    SalaryPeriod,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"

SPECIALS = set("\\*_~`|>#-[]()<:+")
ESCAPABLE = SPECIALS | {"."}  # "1." at the start of a line is escaped too (ordered list)
HOSTILE = "@everyone **x** <!channel>"


def _change(seq: int = 1, title: str = "Backend Engineer", kind: ChangeKind = ChangeKind.CREATED,
            **kw: Any) -> Change:
    fields: dict[str, Any] = {
        "url": f"https://boards.example.com/acme/jobs/{seq}", "company": "Acme",
        "locations": ("Berlin", "Remote (EU)"), "remote": Remote.TRUE,
        "salary": Salary(60000, 80000, "EUR", SalaryPeriod.YEAR)} | kw
    p = Posting(id=f"greenhouse:acme:{seq}", board="acme", board_type="greenhouse",
                source_id=str(seq), title=title, **fields)
    return Change(seq=seq, target="chat", kind=kind, source="jobs/acme", board="acme",
                  posting=p, idempotency_key=f"k{seq}",
                  created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))


def unescaped(text: str) -> list[str]:
    """Markdown characters Discord would interpret (not preceded by a backslash), and `@` not
    followed by a zero-width space."""
    bad, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in ESCAPABLE:
                bad.append("lone backslash")
            i += 2
            continue
        if c in SPECIALS:
            bad.append(c)
        if c == "@" and text[i + 1:i + 2] != "\u200b":
            bad.append("@")
        i += 1
    return bad


def _board_text(e: dict[str, Any]) -> list[str]:
    """Every string of an embed that carries board text (the title without its prefix)."""
    return [e["title"].split(": ", 1)[1], e.get("description", "")] + [
        f["value"] for f in e["fields"]]


def test_an_embed_has_the_linked_title_fields_and_kind() -> None:
    c = _change()
    e = embed(c)
    assert e["title"] == "New: Backend Engineer"
    assert e["url"] == "https://boards.example.com/acme/jobs/1"
    assert e["color"] == discord.COLORS[ChangeKind.CREATED]
    fields = {f["name"]: f["value"] for f in e["fields"]}
    assert fields == {"Company": "Acme", "Locations": "Berlin, Remote \\(EU\\)",
                      "Remote": "yes", "Salary": "60,000\u201380,000 EUR / year",
                      "Board": "acme"}
    assert e["timestamp"] == "2025-01-02T03:04:05+00:00"
    assert e["footer"]["text"] == f"jobscrape · jobs/acme · chat · {c.idempotency_key}"
    removed = embed(_change(kind=ChangeKind.REMOVED, department="Platform"))
    assert removed["title"].startswith("Removed: ")
    assert removed["description"] == "Platform · No longer listed on the board."
    assert removed["color"] != e["color"]


def test_missing_values_leave_their_fields_out_and_the_title_is_never_empty() -> None:
    e = embed(_change(title="  ", company=None, locations=(), salary=None, url=None))
    assert e["title"] == "New: \\(untitled\\)"
    assert "url" not in e
    assert [f["name"] for f in e["fields"]] == ["Remote", "Board"]
    assert all(f["value"] for f in e["fields"])


def test_hostile_titles_ping_and_format_nothing() -> None:
    for title in (HOSTILE, "<@123> <#1> <@&1> @here", "[click](https://evil.example)",
                  "# heading", "> quote", "- list", "1. list", "||spoiler||", "`code`",
                  "~~strike~~ __u__ *i*", "<t:1700000000:R> <:emoji:1>", "-# small",
                  "https://evil.example/phish", "\\*escaped\\*"):
        e = embed(_change(title=title, company=title, locations=(title,)))
        for text in _board_text(e):
            assert unescaped(text) == [], (title, text)
        assert "@everyone" not in str(e) and "@here" not in str(e)
    msg = messages([_change(title=HOSTILE)])[0][1]
    assert msg["allowed_mentions"] == {"parse": []}
    assert "content" not in msg


def test_bidi_overrides_are_dropped() -> None:
    assert escape_markdown("invoice\u202egpj.exe\u2066x\u2069") == "invoicegpj.exex"


def test_links_are_web_links_only() -> None:
    assert "url" not in embed(_change(url="javascript:alert(1)"))
    assert embed(_change(url=None, apply_url="https://apply.example.com/1"))["url"] == (
        "https://apply.example.com/1")
    assert embed(_change(url="https://x.example/jobs/münchen"))["url"] == (
        "https://x.example/jobs/m%C3%BCnchen")
    assert "url" not in embed(_change(url="https://bücher.example/jobs/1"))
    assert "url" not in embed(_change(url="https://x.example/" + "a" * 3000))


def test_every_part_stays_within_its_limit() -> None:
    huge = "**@everyone** " * 2000 + "\U0001f600" * 500
    e = embed(_change(title=huge, company=huge, locations=(huge,) * 50, department=huge,
                      salary=Salary(1e300, 2e300, huge, SalaryPeriod.YEAR)))
    assert discord.units(e["title"]) <= discord.TITLE_MAX and e["title"].endswith("…")
    assert discord.units(e["description"]) <= discord.DESCRIPTION_MAX
    assert len(e["fields"]) <= discord.MAX_FIELDS
    for f in e["fields"]:
        assert 0 < discord.units(f["value"]) <= discord.FIELD_VALUE_MAX
        assert discord.units(f["name"]) <= discord.FIELD_NAME_MAX
    assert discord.units(e["footer"]["text"]) <= discord.FOOTER_MAX
    assert embed_chars(e) <= discord.MAX_TOTAL // 3  # three worst-case embeds fit a message
    for text in _board_text(e):
        assert unescaped(text.removesuffix("…")) == []


def test_truncation_never_leaves_half_an_escape() -> None:
    for n in range(1, 40):
        out = discord.fit("*" * 100, n, escape_markdown)
        assert len(out) <= n and out.endswith("…")
        assert unescaped(out[:-1]) == []


def test_messages_hold_at_most_ten_embeds_in_order() -> None:
    changes = [_change(i) for i in range(1, 26)]
    out = messages(changes)
    assert [len(m["embeds"]) for _, m in out] == [10, 10, 5]
    assert [c.seq for batch, _ in out for c in batch] == list(range(1, 26))
    assert all(len(b) == len(m["embeds"]) for b, m in out)


def test_messages_stay_under_6000_characters() -> None:
    big = "x" * 5000
    changes = [_change(i, title=big, company=big, locations=(big,), department=big)
               for i in range(1, 12)]
    out = messages(changes)
    assert len(out) > 2
    for _, m in out:
        assert sum(embed_chars(e) for e in m["embeds"]) <= discord.MAX_TOTAL
        assert 1 <= len(m["embeds"]) <= discord.MAX_EMBEDS
    assert [c.seq for batch, _ in out for c in batch] == list(range(1, 12))


@given(st.text(max_size=400), st.integers(min_value=1, max_value=300))
def test_any_text_is_escaped_and_bounded(text: str, limit: int) -> None:
    out = discord.fit(text, limit, escape_markdown)
    assert discord.units(out) <= limit
    assert unescaped(out.removesuffix("…")) == []


# ----------------------------------------------------------------------------- description excerpt


def _greenhouse_html() -> str:
    body = (FIXTURES / "greenhouse_jobs_content.json").read_bytes()
    board = BoardRef(name="acme", type="greenhouse", token="vercel")
    return greenhouse.parse(body, board, "https://x.test/").postings[0].description_html


def test_an_embed_carries_the_description_as_markdown() -> None:
    html = _greenhouse_html()
    e = embed(_change(description_html=html, department="Sales",
                      employment_type=EmploymentType.FULL_TIME))
    head, excerpt = e["description"].split("\n\n", 1)
    assert head == "Sales · full time"
    assert excerpt == html_to_markdown(html, discord.EXCERPT_MAX)
    assert excerpt.startswith("**About Vercel:**\n\nVercel is the agentic infrastructure "
                              "company, freeing people and agents to ship what's next.")
    assert embed(_change(description_html=html))["description"] == excerpt  # no head line
    assert embed_chars(e) <= discord.EMBED_MAX


def test_a_removed_posting_has_no_excerpt_and_an_empty_description_none() -> None:
    html = _greenhouse_html()
    removed = embed(_change(kind=ChangeKind.REMOVED, description_html=html))
    assert removed["description"] == "No longer listed on the board."
    assert "description" not in embed(_change(description_html=""))
    assert "description" not in embed(_change(description_html="<p> </p><img src='x.png'>"))


def test_a_long_description_is_cut_to_the_excerpt_limit() -> None:
    html = "<p>" + "word " * 5000 + "</p>"
    e = embed(_change(description_html=html))
    assert discord.units(e["description"]) <= discord.EXCERPT_MAX
    assert e["description"].endswith("word…")


def test_the_excerpt_takes_only_what_the_embed_leaves() -> None:
    huge = "**@everyone** " * 2000 + "\U0001f600" * 500
    html = "<p>" + "word " * 5000 + "</p>"
    kw: dict[str, Any] = {"title": huge, "company": huge, "locations": (huge,) * 50,
                          "department": huge,
                          "salary": Salary(1e300, 2e300, huge, SalaryPeriod.YEAR)}
    bare = embed(_change(**kw))
    full = embed(_change(**kw, description_html=html))
    head, excerpt = full["description"].split("\n\n", 1)
    assert head == bare["description"]
    room = discord.EMBED_MAX - embed_chars(bare) - 2
    assert discord.EXCERPT_MIN <= room < discord.EXCERPT_MAX
    assert discord.units(excerpt) <= room and excerpt.endswith("word…")
    assert embed_chars(full) <= discord.EMBED_MAX
    crowded: dict[str, Any] = {"title": "x" * (discord.EMBED_MAX - discord.EXCERPT_MIN + 1)}
    discord._add_excerpt(crowded, html)
    assert "description" not in crowded  # too little room left: no excerpt at all


def test_a_hostile_description_pings_links_and_shows_nothing_it_should_not() -> None:
    html = ("<p>@everyone <b>@here</b> &lt;@123&gt; &lt;!channel&gt;</p>"
            "<p><a href='javascript:alert(1)'>click</a> <img src='https://t.example/p.png'>"
            "<a href='https://ok.example/apply'>apply</a></p><pre>```\n@everyone\n```</pre>")
    e = embed(_change(description_html=html))
    text = e["description"]
    assert "@everyone" not in text and "@here" not in text and "<@" not in text
    assert "<!channel" not in text and "javascript" not in text and "t.example" not in text
    assert "[apply](https://ok.example/apply)" in text
    assert text.count("```") == 2  # the board's backticks cannot close the block
    assert messages([_change(description_html=html)])[0][1]["allowed_mentions"] == {"parse": []}


def test_messages_with_excerpts_stay_within_discords_limits() -> None:
    html = "<h2>About</h2><ul>" + "<li>a reasonably long line of text</li>" * 100 + "</ul>"
    big = "x" * 400
    changes = [_change(i, title=big, company=big, description_html=html) for i in range(1, 31)]
    out = messages(changes)
    for _, m in out:
        assert sum(embed_chars(e) for e in m["embeds"]) <= discord.MAX_TOTAL
        assert all(discord.units(e["description"]) <= discord.DESCRIPTION_MAX
                   for e in m["embeds"])
    assert all(len(m["embeds"]) >= 3 for _, m in out[:-1])
    assert [c.seq for batch, _ in out for c in batch] == list(range(1, 31))
