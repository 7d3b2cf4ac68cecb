"""Posting descriptions as Markdown, for chat messages and people.

`html_to_markdown(html, limit)` turns a description's sanitised HTML (Posting.description_html)
into Markdown (CommonMark, which Discord reads too); `html_to_mrkdwn(html, limit)` into Slack's
mrkdwn (*bold*, _italic_, ~strike~, <url|text>; & < > as entities). Both convert with
markdownify (on BeautifulSoup and html.parser), through a converter of our own for every
element, and take the HTML as untrusted board data, whoever sanitised it:

- no raw HTML: text is escaped (markdownify's escapes of Markdown's characters, `<` and `&`
  included, and Discord's `-#`; for Slack: & < > as entities and * _ ~ ` as look-alikes, as
  notify.slack escapes), and only known elements are converted; other elements are their text;
  images, media, scripts, styles, templates and frames are dropped, content and all;
- links only to absolute http(s) URLs (postings.safe_url) without a user name, percent-encoded
  so that the link cannot end early, and at most MAX_LINK characters (and a quarter of the
  limit) long; other links are their text, and so is a link inside a link;
- no mentions: @everyone, @here and @channel get a zero-width space after the @, and so does a
  `<` before @ # ! / (Discord's <@id>, <#id>, <!channel>...); Slack text has a word joiner after
  every @ and inside :// (no auto-link) and its `<` are entities;
- code cannot end early: in Markdown no two backticks follow each other inside code (a
  zero-width space goes between them), so neither CommonMark nor Discord finds a closing fence
  or delimiter inside; in Slack code a backtick is its look-alike;
- bounded: the input is cut at INPUT_FACTOR x limit characters (at least INPUT_MIN), an
  element at depth MAX_DEPTH holds the text of its descendants only, lists are indented at most
  MAX_LIST_DEPTH levels (deeper items line up with the last level), quotes nest one level, a
  table is one line per row of at most MAX_CELLS cells of at most CELL_MAX characters, there is
  at most one blank line in a row, and the result is at most `limit` UTF-16 code units long (so
  at most `limit` characters however a service counts them), cut at a line or a word boundary,
  never inside a link or an escape, an open code block closed, with a trailing "…" (also when
  the input was cut);
- control characters (but line feeds and tabs) and bidirectional overrides dropped.

Headings become bold lines (chat services show `#` headings large or not at all); <br> is a
hard line break ("  \\n"; "\\n" in mrkdwn). A description the converter cannot handle (it never
should) becomes its escaped plain text rather than an error: a notification must not fail on a
description. markdownify is imported on first use: a run that notifies nobody never loads it.
"""

from __future__ import annotations

import functools
import html as htmllib
import re
import warnings
from typing import Any
from urllib.parse import quote, urlsplit

from jobscrape.postings import safe_url

ELLIPSIS = "…"
#: A whole description for programs and people (the JSON webhook, `jobscrape postings`).
DOCUMENT_MAX = 20_000
#: How much HTML is converted: INPUT_FACTOR characters per character of the limit, at least
#: INPUT_MIN (Markdown is shorter than its HTML; the rest could not be shown anyway).
INPUT_FACTOR = 8
INPUT_MIN = 16_384
MAX_DEPTH = 48  # an element this deep holds its descendants' text (the converter recurses)
MAX_LIST_DEPTH = 4
MAX_CELLS = 8
CELL_MAX = 200
MAX_LINK = 2000
MIN_LINK = 40  # the longest link a small limit still allows

_ZWSP = "\u200b"
_WORD_JOINER = "\u2060"
_CELL = "\ue000"  # marks the start of a table cell while a row is converted (dropped from input)

# Control characters but \t and \n, bidirectional overrides and isolates, the cell mark.
_DROP = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ue000]")
_BLANK_LINES = re.compile(r"\n(?:[ \t\xa0]*\n){2,}")
_MENTION = re.compile(r"@(?=(?:everyone|here|channel)\b)", re.IGNORECASE)
_ANGLE = re.compile(r"<(?=[@#!/])")
_SUBTEXT = re.compile(r"(^|\s)-(?=#)")  # Discord's "-# small text"
_BACKTICKS = re.compile(r"`(?=`)")
_TAG = re.compile(r"<[^>]*>")
_BLOCK_TAG = re.compile(r"<(?:br|/?(?:p|div|li|h[1-6]|tr|ul|ol|pre|blockquote|table))\b[^>]*>",
                        re.IGNORECASE)
# An unfinished Markdown link or autolink, or Slack link, or entity, at the end of a cut text.
_OPEN_LINK = re.compile(r"(?<!\\)(?:\[(?:[^\]\\\n]|\\.){0,2000}(?:\]\([^)\s]*)?"
                        r"|<https?://[^>\s]*)\Z")
_OPEN_SLACK = re.compile(r"(?:<[^>\n]{0,4000}|&[a-z]{0,4})\Z")
_TAIL = 4096  # how far back from a cut those are looked for
_FALLBACK_ESCAPE = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&=])")

# Slack: & < > as entities (& first), then the formatting characters as look-alikes, a word
# joiner after @ and inside :// (the same rules as notify.slack.escape_mrkdwn).
_SLACK_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_SLACK_LOOKALIKES = (("*", "\u2217"), ("_", "\u02cd"), ("~", "\u223c"), ("`", "\u02cb"),
                     ("@", "@" + _WORD_JOINER), ("://", ":" + _WORD_JOINER + "//"))
_SLACK_CODE = (("`", "\u02cb"), ("@", "@" + _WORD_JOINER), ("://", ":" + _WORD_JOINER + "//"))

# What a link target may hold as it is: printable ASCII but what could end a Markdown link
# destination, a Slack link or an autolink early (white space, quotes, brackets, | \ ^ `).
_URL_SAFE = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in "\"'()<>[]\\^`{|}")

_HEADINGS = frozenset(f"h{n}" for n in range(1, 7))
_BLOCKS = frozenset(("div", "article", "section", "header", "footer", "main", "nav", "aside",
                     "address", "figure", "figcaption", "details", "summary", "center",
                     "hgroup", "fieldset", "form", "dl"))
_DROPPED = frozenset(("img", "picture", "svg", "math", "video", "audio", "source", "track",
                      "canvas", "iframe", "frame", "frameset", "object", "embed", "script",
                      "style", "template", "head", "title", "noscript", "map", "area"))
_CONVERT = {"[document]": "convert__document_", "a": "convert_a", "b": "convert_strong",
            "strong": "convert_strong", "em": "convert_em", "i": "convert_em",
            "del": "convert_del", "s": "convert_del", "strike": "convert_del",
            "code": "convert_code", "kbd": "convert_code", "samp": "convert_code",
            "pre": "convert_pre", "blockquote": "convert_blockquote", "br": "convert_br",
            "hr": "convert_hr", "p": "convert_p", "ul": "convert_list", "ol": "convert_list",
            "li": "convert_li", "table": "convert_table", "tr": "convert_tr",
            "td": "convert_td", "th": "convert_td", "caption": "convert_caption",
            "dt": "convert_dt", "dd": "convert_dd", "q": "convert_q"}


def html_to_markdown(html: str, limit: int) -> str:
    """The description HTML as Markdown (CommonMark, Discord's too): escaped, mention-free,
    http(s) links only, no images, at most `limit` UTF-16 units (see the module docstring);
    "" for an empty description or a limit below 1."""
    return _convert(html, limit, slack=False)


def html_to_mrkdwn(html: str, limit: int) -> str:
    """The description HTML as Slack mrkdwn, under the same rules as html_to_markdown."""
    return _convert(html, limit, slack=True)


def units(text: str) -> int:
    """The length of `text` in UTF-16 code units (never less than in code points)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def shorten(text: str, limit: int, *, slack: bool = False, more: bool = False) -> str:
    """Converted text within `limit` UTF-16 units: the text itself when it fits (and `more`,
    that something was left out already, is false); otherwise its longest prefix that ends at
    a line break, else at a space, in the prefix's second half (a hard cut when it has
    neither), without an unfinished link, escape or entity at its end, followed by "…" (on a
    line of its own after a code fence) and, when the prefix leaves a code block open, a
    closing fence. "" for a limit below 1."""
    if limit < 1:
        return ""
    if not more and units(text) <= limit:
        return text
    if more and units(text) + units(_ellipsis(text)) <= limit:
        return text + _ellipsis(text) if text else text
    budget = limit - 1
    while budget > 0:
        kept = _cut(text, budget, slack)
        closing = _closing_fence(kept)
        if closing and kept.rpartition("\n")[2].strip() == "```":  # an empty block: left out
            kept = kept.rpartition("\n")[0].rstrip()
            closing = _closing_fence(kept)
        ellipsis = _ellipsis(kept)
        over = units(kept) + units(ellipsis) + units(closing) - limit
        if over <= 0:
            return kept + ellipsis + closing
        budget -= over
    return ELLIPSIS


def _ellipsis(text: str) -> str:
    """What marks a cut after `text`: "…", on a line of its own after a code fence (a fence
    line with more on it would not close its block)."""
    return "\n" + ELLIPSIS if text.rpartition("\n")[2].lstrip().startswith("```") else ELLIPSIS


# ----------------------------------------------------------------------------- conversion


def _convert(html: str, limit: int, slack: bool) -> str:
    """html_to_markdown / html_to_mrkdwn: bounded input, converted (or, should the converter
    fail, its escaped text), finished and cut to the limit."""
    if limit < 1 or not html or html.isspace():
        return ""
    fragment, more = _bounded_input(html.replace(_CELL, ""), max(INPUT_MIN, INPUT_FACTOR * limit))
    link_max = min(MAX_LINK, max(MIN_LINK, limit // 4))
    try:
        converter = _converter_class()(slack=slack, link_max=link_max)
        text = converter.convert_soup(_soup(fragment))
    except Exception:  # a description must never fail a notification: its text instead
        text = _plain(fragment, slack)
    return shorten(_finish(text, slack), limit, slack=slack, more=more)


def _bounded_input(html: str, n: int) -> tuple[str, bool]:
    """The first `n` characters of the HTML, less a tag cut in two; and whether it was cut."""
    if len(html) <= n:
        return html, False
    at = html.rfind("<", n // 2, n)
    return html[: at if at > 0 else n], True


def _soup(fragment: str) -> Any:
    """The parsed fragment: dropped elements removed, content and all; an element at depth
    MAX_DEPTH holding elements holds their text instead (in one pass: unwrapping each deeper
    element would take quadratic time); adjacent texts merged (so that their white space
    collapses where an element was removed)."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():  # a description that looks like a URL or XML still is one
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(fragment, "html.parser")
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    depth = {id(soup): 0}
    deep = []
    for node in soup.descendants:  # iterative, in document order: parents come first
        if isinstance(node, Tag):
            d = depth[id(node.parent)] + 1
            depth[id(node)] = d
            if d == MAX_DEPTH and node.find(True) is not None:
                deep.append(node)
    for tag in deep:
        tag.string = tag.get_text(" ")
    soup.smooth()  # recursive: after the flattening, MAX_DEPTH levels at most
    return soup


def _plain(fragment: str, slack: bool) -> str:
    """The fragment's text, escaped for the dialect, one paragraph per block (the fallback)."""
    text = htmllib.unescape(_TAG.sub(" ", _BLOCK_TAG.sub("\n", fragment)))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    text = "\n\n".join(line for line in lines if line)
    return _escape_slack(text) if slack else _FALLBACK_ESCAPE.sub(r"\\\1", text)


def _finish(text: str, slack: bool) -> str:
    """Controls and overrides dropped, mentions neutralised (Markdown; Slack's text is
    escaped already), at most one blank line in a row, ends stripped."""
    text = _DROP.sub("", text)
    if not slack:
        text = _ANGLE.sub("<" + _ZWSP, _MENTION.sub("@" + _ZWSP, text))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _replace(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """Each pair's replacement in turn (str.replace: linear even on huge text)."""
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def _escape_slack(text: str) -> str:
    """Text that Slack shows as text (notify.slack.escape_mrkdwn's rules)."""
    return _replace(_replace(text, _SLACK_ENTITIES), _SLACK_LOOKALIKES)


def _escape_slack_code(text: str) -> str:
    """Code for Slack: & < > as entities, backticks as look-alikes, no mention or auto-link."""
    return _replace(_replace(text, _SLACK_ENTITIES), _SLACK_CODE)


def _break_backticks(text: str) -> str:
    """Code for Markdown: a zero-width space between backticks, so no run of two or more."""
    return _BACKTICKS.sub("`" + _ZWSP, text) if "``" in text else text


def _link(href: object, slack: bool, link_max: int) -> str | None:
    """A link target: an absolute http(s) URL with an ASCII host and no user name (the
    "https://trusted.example@evil.example" trick), percent-encoded where it could end the link
    early, @ included (so no mention rule touches it; & as an entity for Slack), at most
    link_max long; or None."""
    url = safe_url(href) if isinstance(href, str) else None
    if url is None:
        return None
    netloc = urlsplit(url).netloc
    if not netloc.isascii() or "@" in netloc:
        return None
    url = quote(url, safe=_URL_SAFE + "%").replace("@", "%40")
    if len(url) > link_max:
        return None
    return url.replace("&", "&amp;") if slack else url


# ----------------------------------------------------------------------------- cutting


def _prefix(text: str, budget: int) -> str:
    """The longest prefix of `text` at most `budget` UTF-16 units long (no half pair)."""
    head = text[:budget]
    if head.isascii() or units(head) == len(head):
        return head
    out = head.encode("utf-16-le", "surrogatepass")[: 2 * budget].decode(
        "utf-16-le", "surrogatepass")
    n = len(out)
    if n and out[-1] != text[n - 1]:  # the first half of a surrogate pair
        n -= 1
    return text[:n]


def _cut(text: str, budget: int, slack: bool) -> str:
    """A prefix of `text` within `budget` units, at a line or word boundary when there is one
    in its second half, without an unfinished link, escape or entity at its end."""
    head = _prefix(text, budget)
    if len(head) < len(text) and not text[len(head)].isspace():
        floor = len(head) // 2
        at = head.rfind("\n", floor)
        if at < 0:
            at = head.rfind(" ", floor)
        if at >= 0:
            head = head[:at]
    head = head.rstrip()
    tail_start = max(0, len(head) - _TAIL)
    m = (_OPEN_SLACK if slack else _OPEN_LINK).search(head, tail_start)
    if m is not None:
        head = head[: m.start()].rstrip()
    if not slack:
        stripped = head.rstrip("\\")
        if (len(head) - len(stripped)) % 2:  # a backslash that escaped what was cut away
            head = head[:-1]
        opened = _open_code_span(head)
        if opened is not None:  # its closing backticks were cut away: its text would be read
            head = head[:opened].rstrip()  # as Markdown (raw HTML included)
    return head


_BACKTICKS = re.compile(r"\\`|`+")
# a line that opens or closes a code block: ``` after indentation, quote and list markers
_FENCE_LINE = re.compile(r"(?:[ >]|[-*+] |\d{1,9}[.)] )*```")


def _open_code_span(text: str) -> int | None:
    """Where an inline code span that the last line of `text` leaves open starts, or None.
    (Code spans of this converter never span lines; a fence line opens a block, which
    `_closing_fence` closes.)"""
    start = text.rfind("\n") + 1
    line = text[start:]
    if _FENCE_LINE.match(line):
        return None  # a fence, not a code span
    opened: tuple[int, int] | None = None  # (position, length of its backtick run)
    for m in _BACKTICKS.finditer(line):
        run = m.group()
        if run == "\\`":
            continue  # an escaped backtick outside code; inside code it cannot occur here
        if opened is None:
            opened = (m.start(), len(run))
        elif len(run) == opened[1]:
            opened = None
    return None if opened is None else start + opened[0]


def _closing_fence(text: str) -> str:
    """The fence that closes a code block left open at the end of `text`, or ""."""
    if "```" not in text:
        return ""
    indent: str | None = None
    for line in text.split("\n"):
        body = line.lstrip(" ")
        if body.startswith("```"):
            indent = None if indent is not None else line[: len(line) - len(body)]
    return "" if indent is None else "\n" + indent + "```"


# ----------------------------------------------------------------------------- the converter


@functools.cache
def _converter_class() -> type[Any]:
    """The markdownify converter of both dialects (made on first use: imports bs4)."""
    from markdownify import MarkdownConverter, chomp

    class Converter(MarkdownConverter):  # type: ignore[misc]
        """One conversion's converter (it counts ordered list items as it goes)."""

        def __init__(self, slack: bool, link_max: int) -> None:
            super().__init__(escape_misc=True, escape_asterisks=True, escape_underscores=True,
                             strip_document="strip", wrap=False)
            self.slack = slack
            self.link_max = link_max
            self.numbers: dict[int, int] = {}

        def get_conv_fn(self, tag_name: str) -> Any:
            # only known elements: markdownify looks up any `convert_<name>` attribute, and
            # an element named after another attribute (<soup>, <fn_cache>) would call it
            name = tag_name.lower()
            if name in _DROPPED:
                return self.convert_dropped
            if name in _BLOCKS:
                return self.convert_div
            if name in _HEADINGS:
                return functools.partial(self.convert_hN, int(name[1]))
            method = _CONVERT.get(name)
            return getattr(self, method) if method else None

        def escape(self, text: str, parent_tags: set[str]) -> str:
            text = _DROP.sub("", text)  # here already: a block of only these is empty
            if not text:
                return ""
            if self.slack:
                return _escape_slack(text)
            return _SUBTEXT.sub(r"\1\\-", super().escape(text, parent_tags))

        def convert_dropped(self, el: Any, text: str, parent_tags: set[str]) -> str:
            return ""

        def _inline(self, text: str, parent_tags: set[str], mark: str,
                    names: frozenset[str]) -> str:
            if "_noformat" in parent_tags or parent_tags & names or parent_tags & _HEADINGS:
                return text  # inside code, the same markup, or a heading (bold already)
            if any(_FENCE_LINE.match(line) for line in text.split("\n")):
                return text  # a code block inside (<b><pre>): marks around it would glue
                # its fence to them, and the block would not open
            prefix, suffix, text = chomp(text)
            return f"{prefix}{mark}{text}{mark}{suffix}" if text else ""

        def convert_strong(self, el: Any, text: str, parent_tags: set[str]) -> str:
            return self._inline(text, parent_tags, "*" if self.slack else "**",
                                frozenset(("b", "strong")))

        def convert_em(self, el: Any, text: str, parent_tags: set[str]) -> str:
            return self._inline(text, parent_tags, "_" if self.slack else "*",
                                frozenset(("em", "i")))

        def convert_del(self, el: Any, text: str, parent_tags: set[str]) -> str:
            return self._inline(text, parent_tags, "~" if self.slack else "~~",
                                frozenset(("del", "s", "strike")))

        def convert_a(self, el: Any, text: str, parent_tags: set[str]) -> str:
            prefix, suffix, text = chomp(text)
            text = " ".join(text.split())  # one line: a link does not span lines
            if not text:
                return ""
            href = el.get("href")
            url = None if "_noformat" in parent_tags or "a" in parent_tags else _link(
                href, self.slack, self.link_max)
            if url is None:
                return f"{prefix}{text}{suffix}"
            if isinstance(href, str) and el.get_text().strip() == href.strip():
                link = f"<{url}>"
            else:
                link = f"<{url}|{text}>" if self.slack else f"[{text}]({url})"
            return f"{prefix}{link}{suffix}"

        def convert_code(self, el: Any, text: str, parent_tags: set[str]) -> str:
            if "_noformat" in parent_tags:
                return text  # inside <pre> or other code: that one escapes
            prefix, suffix, text = chomp(" ".join(text.split("\n")))
            if not text:
                return ""
            if self.slack:
                return f"{prefix}`{_escape_slack_code(text)}`{suffix}"
            text = _break_backticks(text)
            if "`" in text:
                return f"{prefix}`` {text} ``{suffix}"
            return f"{prefix}`{text}`{suffix}"

        def convert_pre(self, el: Any, text: str, parent_tags: set[str]) -> str:
            text = text.strip("\n")
            if not text.strip():
                return ""
            text = _escape_slack_code(text) if self.slack else _break_backticks(text)
            return f"\n\n```\n{text}\n```\n\n"

        def convert_blockquote(self, el: Any, text: str, parent_tags: set[str]) -> str:
            text = text.strip()
            if not text:
                return ""
            if "_inline" in parent_tags:
                return f" {text} "
            if "blockquote" in parent_tags:
                return f"\n\n{text}\n\n"  # one level: the outer quote marks these lines
            quoted = "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))
            return f"\n\n{quoted}\n\n"

        def convert_br(self, el: Any, text: str, parent_tags: set[str]) -> str:
            if "_inline" in parent_tags:
                return " "
            return "\n" if self.slack else "  \n"

        def convert_hr(self, el: Any, text: str, parent_tags: set[str]) -> str:
            if "_inline" in parent_tags:
                return " "
            return "\n\n———\n\n" if self.slack else "\n\n---\n\n"

        def convert_hN(self, n: int, el: Any, text: str, parent_tags: set[str]) -> str:
            text = " ".join(text.split())
            if not text or "_inline" in parent_tags:
                return f" {text} " if text else ""
            mark = "*" if self.slack else "**"
            return f"\n\n{mark}{text}{mark}\n\n"

        def convert_list(self, el: Any, text: str, parent_tags: set[str]) -> str:
            if "li" in parent_tags:
                return "\n" + text.rstrip()
            text = text.strip("\n")
            return f"\n\n{text}\n\n" if text else ""

        def convert_li(self, el: Any, text: str, parent_tags: set[str]) -> str:
            text = (text or "").strip()
            if not text:
                return "\n"
            parent = el.parent
            if parent is not None and parent.name == "ol":
                n = self.numbers.get(id(parent))
                if n is None:
                    start = parent.get("start")
                    n = int(start) if isinstance(start, str) and start.isascii() and (
                        start.isdigit() and len(start) <= 6) else 1
                self.numbers[id(parent)] = n + 1
                bullet = f"{n}. "
            else:
                bullet = "• " if self.slack else "- "
            depth = sum(1 for p in el.parents if p.name in ("ul", "ol"))
            if depth < MAX_LIST_DEPTH and "\n" in text:  # deeper: nested items keep this level
                first, rest = text.split("\n", 1)
                pad = " " * len(bullet)
                text = first + "\n" + "\n".join(pad + line if line else ""
                                                for line in rest.split("\n"))
            return f"{bullet}{text}\n"

        def convert_table(self, el: Any, text: str, parent_tags: set[str]) -> str:
            rows = [row for row in text.split("\n") if row.strip()]
            if "_inline" in parent_tags:
                return " " + " ".join(rows) + " " if rows else ""
            return "\n\n" + "\n".join(rows) + "\n\n" if rows else ""

        def convert_tr(self, el: Any, text: str, parent_tags: set[str]) -> str:
            cells = [c for c in (" ".join(part.split()) for part in text.split(_CELL)) if c]
            if len(cells) > MAX_CELLS:
                cells = [*cells[:MAX_CELLS], ELLIPSIS]
            return "\n" + " · ".join(cells) + "\n" if cells else ""

        def convert_td(self, el: Any, text: str, parent_tags: set[str]) -> str:
            return _CELL + shorten(" ".join(text.split()), CELL_MAX, slack=self.slack)

        def convert_caption(self, el: Any, text: str, parent_tags: set[str]) -> str:
            text = " ".join(text.split())
            return f"\n{text}\n" if text else ""

        def convert_dt(self, el: Any, text: str, parent_tags: set[str]) -> str:
            text = " ".join(text.split())
            if "_inline" in parent_tags:
                return f" {text} "
            return f"\n\n{text}\n" if text else ""

        def convert_dd(self, el: Any, text: str, parent_tags: set[str]) -> str:
            text = text.strip()
            if "_inline" in parent_tags:
                return f" {text} "
            return f"\n{text}\n" if text else ""

    return Converter
