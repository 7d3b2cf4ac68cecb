"""Slack payloads: Block Kit sections with mrkdwn, inside Slack's limits, and board text that
can neither mention anyone nor format anything."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import greenhouse
from jobscrape.boards.base import BoardRef
from jobscrape.notify import slack
from jobscrape.notify.render import units
from jobscrape.notify.slack import blocks, escape_mrkdwn, messages, section_text
from jobscrape.postings import Change, ChangeKind, Posting, Remote, Salary, SalaryPeriod

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"

HOSTILE = "@everyone **x** <!channel>"
FORMATTING = set("*_~`<>")
LINK = re.compile(r"^\*(New|Updated|Removed):\* <([^|>]+)\|([^>]*)>$")


def _change(seq: int = 1, title: str = "Backend Engineer", kind: ChangeKind = ChangeKind.CREATED,
            **kw: Any) -> Change:
    fields: dict[str, Any] = {
        "url": f"https://boards.example.com/acme/jobs/{seq}", "company": "Acme",
        "locations": ("Berlin", "Remote (EU)"), "remote": Remote.FALSE,
        "salary": Salary(50, None, "USD", SalaryPeriod.HOUR)} | kw
    p = Posting(id=f"lever:acme:{seq}", board="acme", board_type="lever", source_id=str(seq),
                title=title, **fields)
    return Change(seq=seq, target="chat", kind=kind, source="jobs/acme", board="acme",
                  posting=p, idempotency_key=f"k{seq}",
                  created_at=datetime(2025, 1, 2, tzinfo=UTC))


def _values(text: str) -> list[str]:
    """The board-text parts of a section: the link text (or title) and each field value."""
    first, *rest = text.split("\n")
    m = LINK.match(first)
    out = [m.group(3)] if m else [first.split(":* ", 1)[1]]
    return out + [line.split(":* ", 1)[1] for line in rest]


def test_a_section_has_the_linked_title_and_fields() -> None:
    text = section_text(_change())
    assert text.split("\n") == [
        "*New:* <https://boards.example.com/acme/jobs/1|Backend Engineer>",
        "*Company:* Acme", "*Locations:* Berlin, Remote (EU)", "*Remote:* no",
        "*Salary:* from 50 USD / hour", "*Board:* acme"]
    assert section_text(_change(kind=ChangeKind.REMOVED, url=None)).startswith(
        "*Removed:* Backend Engineer\n")


def test_hostile_text_mentions_and_formats_nothing() -> None:
    for title in (HOSTILE, "<@U123> <!here> <#C1|general>", "<https://evil.example|click>",
                  "*bold* _it_ ~st~ `code` ```block```", "a & b > c", "@here @channel",
                  "https://evil.example/x"):
        text = section_text(_change(title=title, company=title, locations=(title,)))
        for value in _values(text):
            assert not FORMATTING & set(value), (title, value)
            assert "@everyone" not in value and "@here" not in value
            assert "@channel" not in value and "://" not in value
    text = section_text(_change(title=HOSTILE))
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    msg = messages([_change(title=HOSTILE)])[0][1]
    assert "<!channel>" not in msg["text"] and "**" not in msg["text"]
    assert msg["unfurl_links"] is False and msg["unfurl_media"] is False


def test_escaping_keeps_the_text_readable() -> None:
    assert escape_mrkdwn("R&D <Team> *Lead*") == "R&amp;D &lt;Team&gt; \u2217Lead\u2217"
    assert escape_mrkdwn("a\u202eb") == "ab"


def test_link_targets_cannot_break_out_of_the_link() -> None:
    text = section_text(_change(url="https://x.example/a?b=1&c=<2>|3"))
    m = LINK.match(text.split("\n")[0])
    assert m and m.group(2) == "https://x.example/a?b=1&amp;c=&lt;2&gt;%7C3"
    assert "https://x.example/jobs/m%C3%BCnchen" in section_text(
        _change(url="https://x.example/jobs/münchen"))
    assert section_text(_change(url="javascript:alert(1)")).startswith(
        "*New:* Backend Engineer\n")


def test_every_section_and_the_fallback_stay_within_limits() -> None:
    huge = "*<&>* " * 3000
    changes = [_change(i, title=huge, company=huge, locations=(huge,) * 20,
                       url="https://x.example/" + "&" * 1900) for i in range(1, 51)]
    (batch, msg), = messages(changes)
    assert len(msg["blocks"]) == slack.MAX_BLOCKS == len(batch)
    for block in msg["blocks"]:
        assert block["type"] == "section" and block["text"]["type"] == "mrkdwn"
        assert units(block["text"]["text"]) <= slack.SECTION_TEXT_MAX
    assert units(msg["text"]) <= slack.TEXT_MAX and msg["text"].endswith("…")


def test_messages_hold_at_most_fifty_blocks_in_order() -> None:
    changes = [_change(i) for i in range(1, 121)]
    out = messages(changes)
    assert [len(m["blocks"]) for _, m in out] == [50, 50, 20]
    assert [c.seq for batch, _ in out for c in batch] == list(range(1, 121))
    assert out[2][1]["text"].startswith("jobscrape: 20 changes: New: Backend Engineer; ")


@given(st.text(max_size=400), st.integers(min_value=1, max_value=300))
def test_any_text_is_escaped_and_bounded(text: str, limit: int) -> None:
    out = slack.fit(text, limit, escape_mrkdwn)
    assert units(out) <= limit
    assert not FORMATTING & set(out)


# ----------------------------------------------------------------------------- description excerpt


@pytest.fixture(scope="module")
def html() -> str:
    body = (FIXTURES / "greenhouse_jobs_content.json").read_bytes()
    board = BoardRef(name="acme", type="greenhouse", token="vercel")
    return greenhouse.parse(body, board, "https://x.test/").postings[0].description_html


def test_a_change_with_a_description_has_an_excerpt_section(html: str) -> None:
    first, excerpt = blocks(_change(description_html=html))
    assert first == slack.section(_change(description_html=html))
    assert excerpt["type"] == "section" and excerpt["text"]["type"] == "mrkdwn"
    assert excerpt["text"]["text"].startswith(
        "*About Vercel:*\n\nVercel is the agentic infrastructure company, freeing people")
    assert "**" not in excerpt["text"]["text"]  # Slack's bold, not Markdown's
    assert len(blocks(_change(kind=ChangeKind.REMOVED, description_html=html))) == 1
    assert len(blocks(_change(description_html=""))) == 1
    assert len(blocks(_change(description_html="<img src='https://x.example/i.png'>"))) == 1


def test_the_excerpt_is_escaped_linked_and_bounded() -> None:
    html = ("<p>@here &lt;!channel&gt; *not bold* <b>bold</b> "
            "<a href='https://ok.example/a?b=1&c=2'>apply</a> "
            "<a href='javascript:alert(1)'>js</a></p><p>" + "word " * 3000 + "</p>")
    text = slack.excerpt_text(_change(description_html=html))
    assert units(text) <= slack.EXCERPT_MAX and text.endswith("word…")
    assert text.startswith("@\u2060here &lt;!channel&gt; \u2217not bold\u2217 *bold* "
                           "<https://ok.example/a?b=1&amp;c=2|apply> js\n\nword word")
    assert "<!channel>" not in text and "javascript" not in text


def test_messages_pack_at_most_fifty_blocks(html: str) -> None:
    changes = [_change(i, description_html=html if i % 3 else "") for i in range(1, 61)]
    out = messages(changes)
    for _, msg in out:
        assert len(msg["blocks"]) <= slack.MAX_BLOCKS
        assert all(units(b["text"]["text"]) <= slack.SECTION_TEXT_MAX for b in msg["blocks"])
    assert [len(m["blocks"]) for _, m in out] == [50, 50]  # 40 changes have two blocks
    assert [c.seq for batch, _ in out for c in batch] == list(range(1, 61))
    assert out[0][1]["text"].startswith(f"jobscrape: {len(out[0][0])} changes: ")
    with pytest.raises(ValueError, match="50 blocks"):
        slack.message([_change(i, description_html=html) for i in range(26)])
