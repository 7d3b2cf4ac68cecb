"""Descriptions as Markdown (jobscrape.markdown): real board HTML converted faithfully, and
hostile HTML converted into Markdown that cannot carry raw HTML, a non-web link, an image, a
mention, an escape from a code block, or more than its limit. Markdown is checked by parsing
it with a CommonMark parser (markdown-it-py) wherever that can tell."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from jobscrape import markdown
from jobscrape.boards import greenhouse, lever
from jobscrape.boards.base import BoardRef
from jobscrape.markdown import (
    CELL_MAX,
    ELLIPSIS,
    INPUT_FACTOR,
    INPUT_MIN,
    MAX_CELLS,
    MAX_LIST_DEPTH,
    html_to_markdown,
    html_to_mrkdwn,
    shorten,
    units,
)
from jobscrape.notify.slack import escape_mrkdwn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "boards"
COMMONMARK = MarkdownIt("commonmark")  # raw HTML on: html_block / html_inline show it
MENTION = re.compile(r"@(everyone|here|channel)\b|<[@#!/]", re.IGNORECASE)
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _postings(module, fixture: str, kind: str, token: str) -> list:
    board = BoardRef(name="acme", type=kind, token=token)
    return module.parse((FIXTURES / fixture).read_bytes(), board, "https://x.test/").postings


@pytest.fixture(scope="module")
def greenhouse_html() -> list[str]:
    return [p.description_html for p in _postings(
        greenhouse, "greenhouse_jobs_content.json", "greenhouse", "vercel")]


@pytest.fixture(scope="module")
def lever_html() -> list[str]:
    return [p.description_html for p in _postings(
        lever, "lever_postings.json", "lever", "spotify")]


def tokens(md: str) -> list[Token]:
    """Every token of the CommonMark parse, inline children included."""
    out: list[Token] = []
    for t in COMMONMARK.parse(md):
        out.append(t)
        out.extend(t.children or ())
    return out


def assert_safe_markdown(md: str) -> None:
    """No raw HTML, no image, links only to http(s), no mention."""
    kinds = {t.type for t in tokens(md)}
    assert not kinds & {"html_block", "html_inline", "image"}, (md, kinds)
    for t in tokens(md):
        if t.type == "link_open":
            assert re.match(r"https?://", str(t.attrGet("href"))), (md, t.attrGet("href"))
    assert not MENTION.search(md), md


def assert_safe_mrkdwn(text: str) -> None:
    """Slack: `<` only opens our links (<https://...> or <https://...|text>), no mention."""
    for m in re.finditer("<", text):
        assert re.match(r"<https?://[^|>\s]+(\|[^<>]*)?>", text[m.start():]), text
    assert not re.search(r"@(everyone|here|channel)\b|<[@#!]", text, re.IGNORECASE), text


# ----------------------------------------------------------------------------- real descriptions


def test_a_greenhouse_description_converts_faithfully(greenhouse_html: list[str]) -> None:
    md = html_to_markdown(greenhouse_html[0], 20_000)
    assert md == (
        "**About Vercel:**\n\n"
        "Vercel is the agentic infrastructure company, freeing people and agents to ship "
        "what's next. For more than a decade we've helped builders move from idea to "
        "production with speed, security, and exceptional developer experience.\n\n"
        "Now we're scaling our products for both agents and people to ship and run software, "
        "built in the open and trusted by OpenAI, PayPal, Ramp, Supreme, and mill")
    assert_safe_markdown(md)
    assert html_to_mrkdwn(greenhouse_html[0], 20_000) == md.replace("**", "*")


def test_a_lever_description_keeps_headings_and_lists(lever_html: list[str]) -> None:
    md = html_to_markdown(lever_html[0], 20_000)
    lines = md.split("\n")
    assert lines[0].startswith("We design Spotify\u2019s consumer experience\u2014end to end")
    for heading in ("What You'll Do", "Who You Are", "Where You'll Be"):
        assert f"**{heading}**" in lines
    assert "- You have solid experience as a Engingeer I" in lines
    assert "- This role is based in London or Stockholm." in lines
    assert lines[-1] == "\\&n"  # the board's stray "&n", escaped
    kinds = [t.type for t in COMMONMARK.parse(md)]
    assert kinds.count("bullet_list_open") == 3 and kinds.count("list_item_open") == 12
    assert_safe_markdown(md)
    slack = html_to_mrkdwn(lever_html[0], 20_000).split("\n")
    assert "*Who You Are*" in slack and "• This role is based in London or Stockholm." in slack
    assert slack[-1] == "&amp;n"


def test_an_excerpt_ends_at_a_line_or_word_with_an_ellipsis(lever_html: list[str]) -> None:
    full = html_to_markdown(lever_html[1], 20_000)
    for limit in (60, 200, 700, 1500):
        out = html_to_markdown(lever_html[1], limit)
        assert units(out) <= limit and out.endswith(ELLIPSIS), limit
        kept = out.removesuffix(ELLIPSIS)
        assert full.startswith(kept) and full[len(kept)] in " \n", (limit, out)
        assert_safe_markdown(out)
    assert html_to_markdown(lever_html[1], len(full)) == full  # exactly fits: not cut


# ----------------------------------------------------------------------------- hostile input


Z = "\u200b"  # zero-width space
J = "\u2060"  # word joiner


@pytest.mark.parametrize(("html", "md", "slack"), [
    ("<p>@everyone @here @Channel @EVERYONE</p>",
     f"@{Z}everyone @{Z}here @{Z}Channel @{Z}EVERYONE",
     f"@{J}everyone @{J}here @{J}Channel @{J}EVERYONE"),
    ("<p>&lt;@123&gt; &lt;@&amp;5&gt; &lt;#9&gt; &lt;!channel&gt; &lt;/cmd:1&gt;</p>",
     f"\\<{Z}@123\\> \\<{Z}@\\&5\\> \\<{Z}#9\\> \\<{Z}!channel\\> \\<{Z}/cmd:1\\>",
     f"&lt;@{J}123&gt; &lt;@{J}&amp;5&gt; &lt;#9&gt; &lt;!channel&gt; &lt;/cmd:1&gt;"),
    ("<p><b>@everyone</b> <a href='https://x.test/'>@here</a></p>",
     f"**@{Z}everyone** [@{Z}here](https://x.test/)", f"*@{J}everyone* <https://x.test/|@{J}here>"),
    ("<pre>@everyone &lt;@123&gt; &lt;!here&gt;</pre><p><code>@here &lt;@&amp;5&gt;</code></p>",
     f"```\n@{Z}everyone <{Z}@123> <{Z}!here>\n```\n\n`@{Z}here <{Z}@&5>`",
     f"```\n@{J}everyone &lt;@{J}123&gt; &lt;!here&gt;\n```\n\n`@{J}here &lt;@{J}&amp;5&gt;`"),
])
def test_mentions_are_neutralised(html: str, md: str, slack: str) -> None:
    assert html_to_markdown(html, 1000) == md
    assert_safe_markdown(md)
    assert html_to_mrkdwn(html, 1000) == slack
    assert_safe_mrkdwn(slack)


@pytest.mark.parametrize("html", [
    "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    "<p>&lt;img src=x onerror=alert(1)&gt; &lt;!-- c --&gt; &lt;a href='javascript:x'&gt;</p>",
    "<script>alert(1)</script><style>p{}</style><iframe src='https://x.test'>f</iframe>",
    "<p>a &lt;div&gt;<br>&lt;/div&gt; b &amp;lt; &amp;amp;</p>",
    "<p>x</p><template><b>t</b></template><svg><text>s</text></svg>",
])
def test_no_raw_html_comes_through(html: str) -> None:
    md = html_to_markdown(html, 1000)
    assert_safe_markdown(md)
    assert all(md[i - 1] == "\\" for i, c in enumerate(md) if c == "<"), md  # escaped
    assert_safe_mrkdwn(html_to_mrkdwn(html, 1000))


def test_scripts_styles_frames_and_templates_are_dropped_with_their_content() -> None:
    html = ("<p>a</p><script>alert(1)</script><style>p{}</style><iframe>f</iframe>"
            "<template><b>t</b></template><svg><text>s</text></svg><p>b</p>")
    assert html_to_markdown(html, 100) == "a\n\nb" and html_to_mrkdwn(html, 100) == "a\n\nb"


@pytest.mark.parametrize(("href", "linked"), [
    ("https://jobs.example.com/apply?a=1&b=2", "https://jobs.example.com/apply?a=1&b=2"),
    ("http://jobs.example.com/x", "http://jobs.example.com/x"),
    ("https://x.example/a(b)c[d]<e>", "https://x.example/a%28b%29c%5Bd%5D%3Ce%3E"),
    ("https://x.example/münchen", "https://x.example/m%C3%BCnchen"),
    ("javascript:alert(1)", None), ("JAVASCRIPT:alert(1)", None),
    ("data:text/html,<script>x</script>", None), ("mailto:jobs@x.example", None),
    ("/relative", None), ("//evil.example/x", None), ("https://a b.example/", None),
    ("https://bücher.example/", None), ("https://x.example/" + "a" * 3000, None),
    ("ftp://x.example/f", None), ("vbscript:x", None),
    ("https://trusted.example@evil.example/", None), ("http://u:p@x.example/", None),
    ("https://medium.example/@everyone/post", "https://medium.example/%40everyone/post"),
])
def test_links_are_web_links_only(href: str, linked: str | None) -> None:
    html = f'<p>see <a href="{href.replace(chr(34), "&quot;")}">the link</a> now</p>'
    md = html_to_markdown(html, 20_000)
    slack = html_to_mrkdwn(html, 20_000)
    if linked is None:
        assert md == "see the link now" and slack == "see the link now"
    else:
        assert md == f"see [the link]({linked}) now"
        assert slack == f"see <{linked.replace('&', '&amp;')}|the link> now"
        (link,) = [t for t in tokens(md) if t.type == "link_open"]
        assert link.attrGet("href") == linked
    assert_safe_markdown(md)
    assert_safe_mrkdwn(slack)


def test_link_forms_and_bounds() -> None:
    url = "https://x.example/jobs/1"
    assert html_to_markdown(f"<a href='{url}'>{url}</a>", 1000) == f"<{url}>"
    assert html_to_mrkdwn(f"<a href='{url}'>{url}</a>", 1000) == f"<{url}>"
    nested = "<a href='https://a.example/'>x <a href='https://b.example/'>inner</a></a>"
    assert html_to_markdown(nested, 1000).count("](") == 1  # a link inside a link is text
    assert html_to_markdown("<a href='https://x.example/'><img src='x.png'></a>", 100) == ""
    long = "https://x.example/" + "a" * 200  # longer than a quarter of a 700 limit
    assert html_to_markdown(f"<a href='{long}'>job</a>", 700) == "job"
    assert html_to_markdown(f"<a href='{long}'>job</a>", 20_000) == f"[job]({long})"
    spoof = html_to_markdown("<a href='https://evil.example/'>https://good.example/</a>", 200)
    assert spoof == "[https://good.example/](https://evil.example/)"  # spoofing: accepted


def test_images_and_media_are_dropped() -> None:
    html = ("<p>Logo: <img src='https://track.example/p.png' alt='ACME'> "
            "<picture><source srcset='https://x.example/a.webp'></picture>"
            "<video src='https://x.example/v.mp4' poster='https://x.example/p.png'>v</video>"
            "<audio src='https://x.example/a.mp3'>a</audio> done</p>")
    for out in (html_to_markdown(html, 1000), html_to_mrkdwn(html, 1000)):
        assert out == "Logo: done"
        assert "example" not in out and "![" not in out


def test_board_text_formats_nothing() -> None:
    html = ("<p># heading</p><p>-# small</p><p>&gt; quote</p><p>1. list</p><p>- list</p>"
            "<p>+ list</p><p>||spoiler|| ~~strike~~ __u__ *i* _i_ `code` [x](https://e.example)"
            "</p><p>---</p><p>===</p><p>| a | b |</p><p>&amp;lt; &amp;amp; \\*</p>")
    md = html_to_markdown(html, 5000)
    assert_safe_markdown(md)
    kinds = {t.type for t in tokens(md)}
    assert kinds <= {"paragraph_open", "paragraph_close", "inline", "text", "softbreak"}, kinds
    text = "".join(t.content for t in tokens(md) if t.type == "text")
    assert "||spoiler|| ~~strike~~ __u__ *i* _i_ `code` [x](https://e.example)" in text
    assert "\\-# small" in md  # Discord's small-text syntax, which CommonMark does not know
    assert "\\|\\|spoiler\\|\\|" in md  # Discord's spoiler
    slack = html_to_mrkdwn(html, 5000)
    assert not set("*_~`") & set(slack) and "https://" not in slack
    assert_safe_mrkdwn(slack)


def test_markup_is_converted() -> None:
    html = ("<h1>Title</h1><h3><strong>Bold heading</strong></h3><p><b>b</b> <i>i</i> "
            "<s>s</s> <code>c</code> <b><b>twice</b></b></p><blockquote><p>q</p></blockquote>"
            "<ol start='3'><li>three</li><li>four</li></ol><hr><dl><dt>term</dt>"
            "<dd>def</dd></dl><p>line<br>break</p>")
    assert html_to_markdown(html, 1000).split("\n") == [
        "**Title**", "", "**Bold heading**", "", "**b** *i* ~~s~~ `c` **twice**", "", "> q",
        "", "3. three", "4. four", "", "---", "", "term", "def", "", "line  ", "break"]
    assert html_to_mrkdwn(html, 1000).split("\n") == [
        "*Title*", "", "*Bold heading*", "", "*b* _i_ ~s~ `c` *twice*", "", "> q", "",
        "3. three", "4. four", "", "———", "", "term", "def", "", "line", "break"]


@pytest.mark.parametrize("code", ["```", "````", "~~~", "`", "``", "``` \n**x**\n```"])
def test_code_cannot_end_early(code: str) -> None:
    html = (f"<pre>{code}\n@here **in** [x](https://e.example)\n{code}</pre>"
            f"<p>after <code>{code} **x** {code}</code> **y**</p>")
    md = html_to_markdown(html, 5000)
    assert_safe_markdown(md)
    toks = tokens(md)
    fences = [t for t in toks if t.type == "fence"]
    assert len(fences) == 1 and "**in** [x](https://e.example)" in fences[0].content
    codes = [t for t in toks if t.type == "code_inline"]
    assert len(codes) == 1 and "**x**" in codes[0].content
    # nothing of the board's text became formatting or a link
    assert not {t.type for t in toks} & {"strong_open", "em_open", "link_open"}
    assert "```" not in fences[0].content and "``" not in codes[0].content
    slack = html_to_mrkdwn(html, 5000)
    assert slack.count("```") == 2 and slack.count("`") == 8  # our fences and code only
    assert_safe_mrkdwn(slack)


def test_deep_nesting_is_bounded_and_fast() -> None:
    start = time.monotonic()
    divs = "<div>" * 5000 + "deep <b>text</b>" + "</div>" * 5000
    assert html_to_markdown(divs, 20_000) == "deep text"
    lists = "<ul><li>item" * 200 + "</li></ul>" * 200
    md = html_to_markdown(lists, 20_000)
    indents = {len(line) - len(line.lstrip(" ")) for line in md.split("\n")}
    assert max(indents) <= 2 * (MAX_LIST_DEPTH - 1), sorted(indents)
    assert md.count("item") == 200
    quotes = "<blockquote>" * 100 + "q" + "</blockquote>" * 100
    assert html_to_markdown(quotes, 1000) == "> q"
    assert time.monotonic() - start < 20


def test_huge_tables_and_lists_are_bounded() -> None:
    start = time.monotonic()
    row = "<tr>" + "<td colspan='1000'>cell</td>" * 50 + "</tr>"
    md = html_to_markdown("<table>" + row * 2000 + "</table>", 20_000)
    assert units(md) <= 20_000 and md.endswith(ELLIPSIS)
    for line in md.split("\n")[:-1]:
        assert line == " · ".join(["cell"] * MAX_CELLS + [ELLIPSIS])
    wide = html_to_markdown(f"<table><tr><td>{'w' * 5000}</td><td>b</td></tr></table>", 9000)
    first, second = wide.split(" · ")
    assert units(first) <= CELL_MAX and first.endswith(ELLIPSIS) and second == "b"
    many = html_to_markdown("<ol>" + "<li>x</li>" * 20_000 + "</ol>", 20_000)
    assert many.startswith("1. x\n2. x\n") and units(many) <= 20_000
    assert time.monotonic() - start < 30  # numbering is linear (markdownify's is quadratic)


def test_blank_lines_are_collapsed() -> None:
    html = "<p>a</p>" + "<br>" * 100 + "<p></p>" * 50 + "<div>&nbsp;</div>" * 20 + "<p>b</p>"
    for out in (html_to_markdown(html, 1000), html_to_mrkdwn(html, 1000)):
        assert out == "a\n\nb"


def test_controls_and_bidi_overrides_are_dropped() -> None:
    html = "<p>in\u202evoice\u2066x\u2069 \x1b[31mred\x07 \x00nul\ue000</p>"
    assert html_to_markdown(html, 100) == "invoicex \\[31mred nul"
    assert html_to_mrkdwn(html, 100) == "invoicex [31mred nul"


@pytest.mark.parametrize("name", ["soup", "fn_cache", "convert_a", "options", "escape",
                                  "process_tag", "convert_soup", "document"])
def test_elements_named_like_converter_attributes_are_text(name: str) -> None:
    """markdownify calls any `convert_<name>` attribute: an element named after one of its
    other attributes must not reach them."""
    html = f"<p>a <{name}>text</{name}> b</p>"
    assert html_to_markdown(html, 100) == "a text b"
    assert html_to_mrkdwn(html, 100) == "a text b"


def test_a_converter_failure_falls_back_to_escaped_text(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    def broken() -> type:
        raise RecursionError("boom")

    monkeypatch.setattr(markdown, "_converter_class", broken)
    html = "<p>**@everyone** &lt;b&gt;</p><p>[x](javascript:y)</p>"
    md = html_to_markdown(html, 1000)
    assert md == "\\*\\*@\u200beveryone\\*\\* \\<b\\>\n\n\\[x\\]\\(javascript:y\\)"
    assert_safe_markdown(md)
    slack = html_to_mrkdwn(html, 1000)
    assert slack == "\u2217\u2217@\u2060everyone\u2217\u2217 &lt;b&gt;\n\n[x](javascript:y)"


# ----------------------------------------------------------------------------- limits


def test_empty_and_tiny_limits() -> None:
    assert html_to_markdown("", 100) == "" and html_to_markdown("  \n ", 100) == ""
    assert html_to_markdown("<p></p><img src='https://x.example/i.png'>", 100) == ""
    assert html_to_markdown("<p>text</p>", 0) == "" and html_to_mrkdwn("<p>t</p>", -5) == ""
    assert html_to_markdown("<p>some text</p>", 1) == ELLIPSIS
    assert html_to_markdown("<p>some text</p>", 9) == "some text"
    assert html_to_markdown("<p>some text</p>", 8) == "some…"


def test_limits_count_utf16_units() -> None:
    emoji = "<p>" + "\U0001f600" * 100 + "</p>"
    out = html_to_markdown(emoji, 11)
    assert out == "\U0001f600" * 5 + ELLIPSIS and units(out) == 11


def test_a_cut_input_is_marked() -> None:
    n = max(INPUT_MIN, INPUT_FACTOR * 100)
    html = "<p>short</p>" + "<p></p>" * n
    assert html_to_markdown(html, 100) == "short" + ELLIPSIS
    code = html_to_markdown("<pre>code</pre>" + "<p></p>" * n, 100)
    assert code == "```\ncode\n```\n" + ELLIPSIS  # "```…" would not close the block
    (fence,) = [t for t in tokens(code) if t.type == "fence"]
    assert fence.content == "code\n"


def test_a_cut_closes_an_open_code_block() -> None:
    html = "<p>intro</p><pre>" + "line of code\n" * 100 + "</pre>"
    for limit in (30, 100, 300):
        md = html_to_markdown(html, limit)
        assert units(md) <= limit and md.endswith("\n```") and ELLIPSIS in md
        (fence,) = [t for t in tokens(md) if t.type == "fence"]
        assert fence.content.startswith("line of code") and md.count("```") == 2
        slack = html_to_mrkdwn(html, limit)
        assert units(slack) <= limit and slack.count("```") == 2


def test_a_cut_never_leaves_half_a_link_an_escape_or_an_entity() -> None:
    html = "<p>" + " ".join(f"<a href='https://x.example/{i}'>link text {i}</a> a&amp;b"
                            for i in range(100)) + "</p>"
    for limit in range(20, 400, 7):
        md = html_to_markdown(html, limit)
        assert units(md) <= limit
        texts = "".join(t.content for t in tokens(md) if t.type == "text")
        assert "[" not in texts and "](" not in texts and "<" not in texts, md
        assert not md.removesuffix(ELLIPSIS).endswith("\\")
        slack = html_to_mrkdwn(html, limit)
        assert units(slack) <= limit
        assert_safe_mrkdwn(slack)
        assert not re.search(r"&[a-z]*…$", slack), slack
    assert shorten("a\\*b " * 10, 5) in ("a\\*b…", "a…")


# ----------------------------------------------------------------------------- properties

PIECES = st.sampled_from([
    "<p>", "</p>", "<b>", "</b>", "<i>", "</i>", "<ul>", "</ul>", "<ol start='7'>", "</ol>",
    "<li>", "</li>", "<pre>", "</pre>", "<code>", "</code>", "<blockquote>", "</blockquote>",
    "<table>", "<tr>", "<td colspan='9'>", "</td>", "</tr>", "</table>", "<h2>", "</h2>",
    "<br>", "<hr>", "<div>", "</div>", "<a href='https://x.example/a?b=1&c=(2)'>",
    "<a href='javascript:alert(1)'>", "<a href='mailto:x@y'>", "</a>", "<img src='x.png'>",
    "<script>", "</script>", "<dl>", "<dt>", "<dd>", "<soup>", "&lt;b&gt;", "&amp;", "&lt;",
    "@everyone", "@here", "<!channel>", "<@123>", "```", "`", "~~~", "**", "__", "||", "# ",
    "-# ", "> ", "1. ", "- ", "[x](https://e.example)", "![i](https://e.example/i.png)",
    "\\", "\n", "\n\n\n", " ", "\u202e", "\x1b[2J", "\U0001f600", "word", "https://e.example",
    "&#0;", "<!--", "-->", "<![CDATA[x]]>", "<",
])
HOSTILE_HTML = st.lists(PIECES, max_size=60).map("".join) | st.text(max_size=300)
LIMITS = st.integers(min_value=1, max_value=600)


@SETTINGS
@given(HOSTILE_HTML, LIMITS)
def test_any_html_becomes_safe_bounded_markdown(html: str, limit: int) -> None:
    md = html_to_markdown(html, limit)
    assert units(md) <= limit
    assert_safe_markdown(md)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", md)
    if ELLIPSIS not in md:  # not cut: converting again with more room gives the same
        assert html_to_markdown(html, limit + 50) == md


@SETTINGS
@given(HOSTILE_HTML, LIMITS)
def test_any_html_becomes_safe_bounded_mrkdwn(html: str, limit: int) -> None:
    text = html_to_mrkdwn(html, limit)
    assert units(text) <= limit
    assert_safe_mrkdwn(text)


@SETTINGS
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf")), max_size=200))
def test_slack_text_is_escaped_as_notify_slack_escapes(text: str) -> None:
    assert markdown._escape_slack(text) == escape_mrkdwn(text)


@pytest.mark.parametrize("html", ["<b><pre>&lt;b&gt;</pre></b>", "<em><pre>&lt;b&gt;</pre></em>",
                                  "<del><pre>&lt;b&gt;</pre></del>",
                                  "<h1><pre>&lt;b&gt;</pre></h1>",
                                  "<p>see <code>&lt;b&gt; and more text here</code></p>",
                                  "<table><tr><td><pre>&lt;b&gt;</pre></td></tr></table>"])
@pytest.mark.parametrize("limit", [8, 10, 12, 14, 20, 1000])
def test_code_stays_code_around_marks_and_at_any_cut(html: str, limit: int) -> None:
    # found by the property test above: a code block inside <b> glued its fence to the "**"
    # (so it never opened), and a cut inside an inline code span left it open; either way
    # the code's text, "<b>", was read as raw HTML
    md = html_to_markdown(html, limit)
    assert units(md) <= limit
    assert_safe_markdown(md)


def test_a_code_block_inside_bold_is_a_block_without_the_marks() -> None:
    assert html_to_markdown("<b><pre>&lt;b&gt;</pre></b>", 100) == "```\n<b>\n```"
    assert html_to_markdown("<b><code>x</code></b>", 100) == "**`x`**"  # inline code: kept
