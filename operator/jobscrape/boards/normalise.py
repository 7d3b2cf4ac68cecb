"""Helpers shared by the board adapters: reading untrusted payloads, HTML, dates, pay,
employment types, remote flags, locations, URLs and building the final Posting.

Everything here is pure and tolerant: a field of the wrong type or an unreadable value becomes
None (or the enum's UNKNOWN), never an exception. Structural problems are the adapters' to
report, as ParseError; an item that cannot be read is skipped and counted (map_items).

Descriptions are sanitised with nh3, whose time grows with the square of the tag nesting depth
(200,000 nested <div>s: minutes). Before it, a linear scan refuses what is too large or too
deeply nested (DescriptionLimits): such a description is kept as its plain text.

The per-posting path is built for speed, since it runs for every posting of every board: JSON
is decoded by msgspec (C), falling back to the tolerant stdlib path only for the bodies it
refuses; the sanitiser (nh3, Rust) runs once per description; its output is turned into text
by two substitutions and string methods that work in C; and each text field is first checked,
in C, for anything to clean (postings.clean_line and friends), which most are not. The
descriptions are checked once, as HTML: the text is made of its characters, so a description
describe() proves clean is not searched again by build_posting (the one state kept here: the
last pair proved clean, recognised by identity).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
import nh3

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.netguard import scrub_secrets
from jobscrape.postings import (
    EmploymentType,
    Posting,
    Remote,
    Salary,
    SalaryPeriod,
    _sanitise,
    clean_line,
    clean_text,
    posting_id,
    with_hash,
)

# ----------------------------------------------------------------------------- payload access

#: What a buggy or hostile payload can make plain-Python field access raise.
UNEXPECTED = (
    KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RecursionError,
)


_DECODER = msgspec.json.Decoder()


def load_json(body: bytes | bytearray, board_type: str) -> Any:
    """The decoded JSON document; ParseError when the body is not (complete) JSON.

    The text is decoded as JSON's own rules detect it (UTF-8, -16 or -32, BOM or not), with
    each invalid byte read as U+FFFD: one bad byte spoils one string, not the whole page.

    Strict UTF-8 JSON (nearly every body) is decoded by msgspec, to the same document the
    stdlib gives; whatever msgspec refuses (another encoding, a BOM, an invalid byte, a lone
    surrogate escape, NaN, a number out of a double's range, nesting too deep, or JSON that
    is not valid at all) goes through the tolerant stdlib path, which decides.
    """
    try:
        return _DECODER.decode(body)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        pass
    try:
        text = bytes(body).decode(json.detect_encoding(body), errors="replace")
        return json.loads(text)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, too deep
        raise ParseError(f"{board_type}: body is not valid JSON: {_short(e)}") from None


def as_str(value: object) -> str | None:
    """A non-empty stripped string (an integer is written out); None for anything else."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def as_dict(value: object) -> Mapping[str, Any]:
    """The value when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """The value when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def require_str(obj: Mapping[str, Any], key: str) -> str:
    """The non-empty string (or integer, written out) under `key`; ParseError naming it if not."""
    value = as_str(obj.get(key))
    if value is None:
        raise ParseError(f"{key} is missing or not a non-empty string")
    return value


def require_list(doc: object, key: str, board_type: str) -> list[Any]:
    """`doc[key]` when doc is an object holding an array there; ParseError otherwise."""
    if not isinstance(doc, dict):
        raise ParseError(f"{board_type}: expected a JSON object, got {type(doc).__name__}")
    value = doc.get(key)
    if not isinstance(value, list):
        raise ParseError(f"{board_type}: expected an array under {key!r}")
    return value


#: How many skip reasons a Page keeps (the count is exact).
SKIP_REASONS = 3


def map_items(
    items: Sequence[Any], convert: Callable[[Any], Posting | None], where: str, *,
    next_url: str | None = None, objects_only: bool = True,
) -> Page:
    """The Page of every item converted, Nones dropped. An item that cannot be read (not an
    object when `objects_only`, a required field missing, a value of the wrong type) is skipped
    and counted, its reason naming it as `{where}[{index}]` (e.g. "greenhouse: jobs[3]: id is
    missing or not a non-empty string"). When there were items and not one could be read, the
    body is not what the board type serves: ParseError with the first item's reason.
    """
    out: list[Posting] = []
    reasons: list[str] = []
    skipped = 0
    for i, item in enumerate(items):
        try:
            if objects_only and not isinstance(item, dict):
                raise ParseError(f"expected an object, got {type(item).__name__}")
            posting = convert(item)
        except ParseError as e:
            reason = f"{where}[{i}]: {e}"
        except UNEXPECTED as e:
            reason = f"{where}[{i}]: unreadable posting: {_short(e)}"
        else:
            if posting is not None:
                out.append(posting)
            continue
        skipped += 1
        if len(reasons) < SKIP_REASONS:
            reasons.append(clean_line(reason)[:200])
    if skipped and skipped == len(items):
        more = f" (and the {skipped - 1} other items)" if skipped > 1 else ""
        raise ParseError(reasons[0] + more)
    return Page(out, next_url, skipped, tuple(reasons))


def _short(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# ----------------------------------------------------------------------------- building postings


def build_posting(
    board: BoardRef, board_type: str, source_id: str, title: str, *,
    url: str | None = None, apply_url: str | None = None, company: str | None = None,
    department: str | None = None, locations: tuple[str, ...] = (),
    remote: Remote = Remote.UNKNOWN, employment_type: EmploymentType = EmploymentType.UNKNOWN,
    salary: Salary | None = None, posted_at: datetime | None = None,
    updated_at: datetime | None = None, description_html: str = "", description_text: str = "",
) -> Posting:
    """The Posting with its stable id, trimmed title and content_hash set (the keywords and
    their defaults are Posting's fields).

    The id uses the board's token, or its name when the board has no token (jsonld, feed).
    Board data is data: every text field is cleaned of escape sequences and control characters
    and links other than absolute http(s) URLs are dropped (postings.sanitised). The board
    URL's secrets (userinfo, secret-looking query values) are taken out of the source id, links
    and descriptions: relative links resolved against the page URL would carry them.
    """
    if page := board.url:
        source_id = scrub_secrets(source_id, page)
        url, apply_url, description_html, description_text = (
            scrub_secrets(v, page) if isinstance(v, str) else v
            for v in (url, apply_url, description_html, description_text))
    source_id = clean_line(source_id)
    clean = _described_clean  # descriptions proved clean when they are describe()'s own
    described = description_html is clean[0] and description_text is clean[1]
    posting = Posting(  # by position (Posting's field order): quicker than by keyword
        posting_id(board_type, board.token or board.name, source_id), board.name, board_type,
        source_id, title, url, apply_url, company, department, locations,
        remote, employment_type, salary, posted_at, updated_at, description_html,
        description_text)
    # postings.sanitised, in place: nobody holds it yet
    return with_hash(_sanitise(posting, descriptions_clean=described))


# ----------------------------------------------------------------------------- HTML and text

_CLEANER = nh3.Cleaner()
_TAGS = re.compile(r"<[^>]*>")
# Where a reader sees a line break, in nh3's output (lower-case tags, closing tags bare).
_BREAKS = re.compile(
    r"<(?:/(?:p|div|li|h[1-6]|tr|ul|ol|dl|dt|dd|table|blockquote|pre|section|article|header"
    r"|footer)>|[bh]r\b[^>]*>)"
)
# The entities nh3's serialiser writes in text, and what they stand for in plain text (a
# no-break space is white space there, collapsed like any other); any other entity.
_ENTITY = re.compile(r"&(?:amp|lt|gt|nbsp);")
_ENTITY_TEXT = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": " "}
_OTHER_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|nbsp);)")
# Entities other than the five that HTML escaping (Rails, Python, Go...) produces.
_RARE_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|#39|#x27);)")


def unescape_once(text: str) -> str:
    """Entity-escaped HTML ("&lt;p&gt;") back to HTML, decoding one level of escaping.

    Same result as html.unescape, with a fast path for text escaped the usual way.
    """
    if "&" not in text:
        return text
    if _RARE_ENTITY.search(text):
        return html.unescape(text)
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        .replace("&#39;", "'").replace("&#x27;", "'").replace("&amp;", "&")
    )


@dataclass(frozen=True, slots=True)
class DescriptionLimits:
    """What a description may be to go through the HTML sanitiser: at most `max_chars`
    characters and `max_depth` elements nested (counted by a linear scan of its tags)."""

    max_chars: int = 512 * 1024
    max_depth: int = 256


DEFAULT_LIMITS = DescriptionLimits()
_LIMITS: ContextVar[DescriptionLimits | None] = ContextVar("description_limits", default=None)


@contextmanager
def description_limits(limits: DescriptionLimits) -> Iterator[None]:
    """Apply `limits` to the descriptions built inside the block (this thread or task only)."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


# Elements that never hold others, and those whose end tag may be left out (the next sibling
# closes them): neither nests deeper in the parser's tree.
_VOID = frozenset(("area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link",
                   "meta", "param", "source", "track", "wbr"))
_OPTIONAL_END = frozenset(("p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
                           "thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp",
                           "rtc"))
_TAG_NAME = re.compile(r"</?([A-Za-z][^\s/>]*)")
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")  # a start or end tag's name: linear to scan
_BREAK_NAMES = frozenset(("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "ul",
                          "ol", "dl", "dt", "dd", "table", "blockquote", "pre", "section",
                          "article", "header", "footer", "br", "hr"))


def nesting_depth(fragment: str, stop: int) -> int:
    """How deeply elements nest in the fragment, counted in one pass over its tags (void
    elements and those with optional end tags do not nest); counting stops above `stop`."""
    depth = deepest = 0
    for m in _TAG.finditer(fragment):
        name = m.group(2).lower()
        if name in _VOID or name in _OPTIONAL_END:
            continue
        if m.group(1):
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > stop:
                break
    return deepest


def strip_tags(fragment: str) -> str:
    """Plain text of any HTML, in one linear pass: tags dropped (block tags become line
    breaks), entities decoded, white space collapsed, one line per block. An unclosed tag at
    the end drops what follows it. For HTML refused by the sanitiser, never for display as
    HTML."""
    parts: list[str] = []
    i = 0
    while True:
        j = fragment.find("<", i)
        if j < 0:
            parts.append(fragment[i:])
            break
        parts.append(fragment[i:j])
        k = fragment.find(">", j)
        if k < 0:
            break
        m = _TAG_NAME.match(fragment, j, k)
        parts.append("\n" if m is not None and m.group(1).lower() in _BREAK_NAMES else " ")
        i = k + 1
    return collapse_lines(html.unescape("".join(parts)))


def refusal(fragment: str, limits: DescriptionLimits) -> str | None:
    """Why the sanitiser must not see this fragment (too long, nested too deeply), or None."""
    if len(fragment) > limits.max_chars:
        return f"longer than {limits.max_chars} characters"
    # no more elements than "<"s: a fragment with few cannot nest deeper (counted in C)
    if fragment.count("<") <= limits.max_depth:
        return None
    if nesting_depth(fragment, limits.max_depth) > limits.max_depth:
        return f"nested more than {limits.max_depth} elements deep"
    return None


def sanitise_html(fragment: str | None) -> str:
    """The fragment with scripts, styles, event handlers and unsafe URLs removed (nh3).
    Callers check the fragment against the description limits first (describe does)."""
    if not fragment:
        return ""
    return _CLEANER.clean(fragment).strip()


def html_to_text(sanitised: str) -> str:
    """Plain text of sanitised HTML (sanitise_html's output): tags dropped, entities decoded,
    one line per block, runs of white space collapsed, blank lines dropped.
    """
    if not sanitised:
        return ""
    # sanitised HTML is well formed (quotes and brackets in text and attributes are
    # escaped), so dropping tags is a plain substitution: no second sanitiser pass
    text = _tagless(sanitised)
    if "&" in text:
        text = _unescape_sanitised(text)
    return collapse_lines(text)


def _tagless(sanitised: str) -> str:
    """Sanitised HTML without its tags, a line break where a block ends (or a <br>)."""
    return _TAGS.sub("", _BREAKS.sub("\n", sanitised))


def _unescape_sanitised(text: str) -> str:
    """html.unescape, with a fast path for the four entities nh3's serialiser writes (a
    no-break space becomes a space: the text's white space is collapsed next)."""
    if _OTHER_ENTITY.search(text):
        return html.unescape(text)
    return _ENTITY.sub(_entity_text, text)


def _entity_text(m: re.Match[str]) -> str:
    return _ENTITY_TEXT[m.group()]


def collapse_lines(text: str) -> str:
    """The text one line per line break, each line's runs of white space (any but the line
    break) as one space, blank lines dropped, ends stripped: what substituting
    `[^\\S\\n]+` by " ", then `\\s*\\n\\s*` by a line break, then stripping gives."""
    if "\xa0" in text:  # a no-break space, the one other white space that is common
        text = text.replace("\xa0", " ")
    lines = text.split("\n")
    # no run of spaces, and printable lines (isprintable is False for every white space but
    # " "): stripping each line is all there is to do (map and filter run in C)
    if "  " not in text and all(map(str.isprintable, lines)):
        return "\n".join(filter(None, map(str.strip, lines)))
    return "\n".join(filter(None, (" ".join(line.split()) for line in lines)))


def describe(fragment: str | None) -> tuple[str, str]:
    """(sanitised HTML, plain text) of a description fragment. A fragment over the
    description limits (too long, nested too deeply) never reaches the sanitiser: it is kept
    as its plain text, cut to the length limit, and as that text in escaped paragraphs."""
    if fragment:
        limits = _LIMITS.get() or DEFAULT_LIMITS
        if refusal(fragment, limits) is not None:
            text = strip_tags(fragment)[: limits.max_chars]
            return "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n")
                           if line), text
    safe = sanitise_html(fragment)
    text = _tagless(safe)  # then what html_to_text does, knowing more of the text
    if "&" in text:
        if _OTHER_ENTITY.search(text):  # any character at all may come out of html.unescape
            return safe, collapse_lines(html.unescape(text))
        text = _ENTITY.sub(_entity_text, text)  # "&", "<", ">" and " " (_unescape_sanitised)
    # the text's characters are the HTML's, line breaks, spaces and those four
    if _printable_lines(safe):  # nearly every description: the one white space is " "
        if "  " in text:
            text = _SPACES.sub(" ", text)
        text = "\n".join(filter(None, map(str.strip, text.split("\n"))))  # collapse_lines
    else:
        text = collapse_lines(text)
        if clean_text(safe) is not safe:  # a control character: let build_posting drop it
            return safe, text
    global _described_clean  # see build_posting
    _described_clean = (safe, text)
    return safe, text


def _printable_lines(text: str) -> bool:
    """Whether every character of the text but its line feeds is printable (str.isprintable:
    no control character, no white space but " ")."""
    if text.isascii():  # " " to "~" are the printable ASCII characters: delete the others (C)
        return len(text.encode().translate(None, _ASCII_UNPRINTABLE)) == len(text)
    return text.replace("\n", " ").isprintable()


_ASCII_UNPRINTABLE = bytes([*range(0x0A), *range(0x0B, 0x20), 0x7F])  # but the line feed
#: The last (HTML, text) that describe() proved free of control characters: build_posting
#: need not search a posting's descriptions that are these very objects (immutable) again.
_described_clean: tuple[str, str] = ("", "")
_SPACES = re.compile("  +")  # (" {2,}" finds the same, five times slower)


def section(heading: str | None, body: str | None) -> str:
    """An HTML section: the heading (escaped) as <h3>, then the body fragment as is."""
    head = f"<h3>{html.escape(heading)}</h3>" if heading else ""
    return head + (body or "")


# ----------------------------------------------------------------------------- dates


def parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 date or date-time as aware UTC; None when absent or unreadable.

    Accepts a trailing "Z" or " UTC"; a value without an offset is taken as UTC;
    a bare date means its midnight UTC.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("UTC"):
        text = text[:-3].rstrip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def from_epoch_ms(value: object) -> datetime | None:
    """Epoch milliseconds as aware UTC; None when absent or out of range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def from_struct_time(value: object) -> datetime | None:
    """A UTC time.struct_time (as feedparser gives) as aware UTC; None when absent or invalid."""
    try:
        return datetime(*value[:6], tzinfo=UTC)  # type: ignore[index]
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


# ----------------------------------------------------------------------------- pay

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_PERIOD_WORDS = {
    "hour": SalaryPeriod.HOUR, "hourly": SalaryPeriod.HOUR,
    "day": SalaryPeriod.DAY, "daily": SalaryPeriod.DAY,
    "week": SalaryPeriod.WEEK, "weekly": SalaryPeriod.WEEK,
    "month": SalaryPeriod.MONTH, "monthly": SalaryPeriod.MONTH,
    "year": SalaryPeriod.YEAR, "yearly": SalaryPeriod.YEAR, "annual": SalaryPeriod.YEAR,
    "annually": SalaryPeriod.YEAR, "annum": SalaryPeriod.YEAR,
}
_NOT_LETTERS = re.compile(r"[^a-z]+")  # (one or more: the same substitution by "")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Words that carry no period: "per-year-salary" (Lever), "1 YEAR" (Ashby), "per hour".
_PERIOD_NOISE = frozenset({"per", "1", "a", "salary", "wage", "pay"})


def amount(value: object) -> float | None:
    """A positive finite amount from a number or a plain numeric string ("5250", "12.5")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER.fullmatch(text):
            return None
        value = float(text)
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        return float(value)
    return None


def currency_code(value: object) -> str | None:
    """An upper-case three-letter ISO 4217 code, or None."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if _CURRENCY.fullmatch(code) else None


def salary_period(value: object) -> SalaryPeriod:
    """The pay period a board names: "year", "YEAR", "1 YEAR", "per-hour-wage", "monthly"...

    Anything else ("semi-month-salary", "one-time") is UNKNOWN rather than a guess.
    """
    if not isinstance(value, str):
        return SalaryPeriod.UNKNOWN
    words = [w for w in _NOT_ALNUM.split(value.lower()) if w and w not in _PERIOD_NOISE]
    if len(words) != 1:
        return SalaryPeriod.UNKNOWN
    return _PERIOD_WORDS.get(words[0], SalaryPeriod.UNKNOWN)


def period_in_text(*texts: object) -> SalaryPeriod:
    """The one pay period that labels and text name anywhere ("US Base Salary (Annual)",
    "Hourly pay range", "<p>... per hour</p>"); UNKNOWN when they name none or several."""
    found = {_PERIOD_WORDS[w] for t in texts if isinstance(t, str)
             for w in _NOT_LETTERS.split(t.lower()[:2000]) if w in _PERIOD_WORDS}
    return found.pop() if len(found) == 1 else SalaryPeriod.UNKNOWN


def make_salary(
    low: object, high: object, currency: object, period: SalaryPeriod, *, scale: float = 1.0
) -> Salary | None:
    """A Salary from raw bounds (divided by `scale`, e.g. 100 for cents); None without a bound.

    Non-positive bounds are dropped as placeholders; swapped bounds are put in order.
    """
    lo, hi = amount(low), amount(high)
    if lo is None and hi is None:
        return None
    if scale != 1.0:
        lo = None if lo is None else lo / scale
        hi = None if hi is None else hi / scale
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return Salary(min=lo, max=hi, currency=currency_code(currency), period=period)


# ----------------------------------------------------------------------------- employment type

_ET = EmploymentType
_EMPLOYMENT_KEYS: dict[str, EmploymentType] = {
    # Hours first: a fixed-term full-time post is still full-time.
    "fulltime": _ET.FULL_TIME, "fulltimepermanent": _ET.FULL_TIME,
    "fulltimefixedterm": _ET.FULL_TIME, "fulltimeemployee": _ET.FULL_TIME,
    "fullorparttime": _ET.FULL_TIME, "permanent": _ET.FULL_TIME, "regular": _ET.FULL_TIME,
    "parttime": _ET.PART_TIME, "parttimepermanent": _ET.PART_TIME,
    "parttimefixedterm": _ET.PART_TIME, "workingstudent": _ET.PART_TIME,
    "contract": _ET.CONTRACT, "contractor": _ET.CONTRACT, "freelance": _ET.CONTRACT,
    "freelancer": _ET.CONTRACT, "selfemployed": _ET.CONTRACT,
    "temporary": _ET.TEMPORARY, "temp": _ET.TEMPORARY, "shortterm": _ET.TEMPORARY,
    "seasonal": _ET.TEMPORARY, "fixedterm": _ET.TEMPORARY,
    "intern": _ET.INTERNSHIP, "internship": _ET.INTERNSHIP, "trainee": _ET.INTERNSHIP,
    "traineeship": _ET.INTERNSHIP, "apprentice": _ET.INTERNSHIP,
    "apprenticeship": _ET.INTERNSHIP,
    "volunteer": _ET.VOLUNTEER, "volunteering": _ET.VOLUNTEER,
    "other": _ET.OTHER, "perdiem": _ET.OTHER,
}
# Free text ("Full-time (12 month contract)"): the first matching rule wins.
_EMPLOYMENT_WORDS: tuple[tuple[re.Pattern[str], EmploymentType], ...] = (
    (re.compile(r"intern|trainee|apprentic"), _ET.INTERNSHIP),
    (re.compile(r"volunteer"), _ET.VOLUNTEER),
    (re.compile(r"contract|freelanc"), _ET.CONTRACT),
    (re.compile(r"\btemp|short.?term|seasonal|fixed.?term"), _ET.TEMPORARY),
    (re.compile(r"part.?time"), _ET.PART_TIME),
    (re.compile(r"full.?time|permanent"), _ET.FULL_TIME),
)


def employment_type(*values: object) -> EmploymentType:
    """The first of the values that names an employment type, in any board's vocabulary.

    Lists are searched in order (schema.org allows several). A given but unrecognised value is
    OTHER; no value at all is UNKNOWN. "permanent" (Lever, Personio, SmartRecruiters) means
    regular employment and maps to FULL_TIME.
    """
    seen_text = False
    for value in values:
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str) or not text.strip():
                continue
            seen_text = True
            lowered = text.lower()
            key = _NOT_LETTERS.sub("", lowered)
            if key in _EMPLOYMENT_KEYS:
                return _EMPLOYMENT_KEYS[key]
            for pattern, kind in _EMPLOYMENT_WORDS:
                if pattern.search(lowered):
                    return kind
    return _ET.OTHER if seen_text else _ET.UNKNOWN


# ----------------------------------------------------------------------------- remote

_WORKPLACE: dict[str, Remote] = {
    "remote": Remote.TRUE,
    # Hybrid work needs presence at an office, so it is not remote.
    "hybrid": Remote.FALSE, "onsite": Remote.FALSE, "office": Remote.FALSE,
    "inoffice": Remote.FALSE, "officebased": Remote.FALSE,
}
_REMOTE_TEXT = re.compile(r"\b(?:remote|anywhere)\b", re.IGNORECASE)
_ONSITE_TEXT = re.compile(r"\b(?:hybrid|on-?site|in[- ]office|office-based)\b", re.IGNORECASE)


def remote_from_workplace(value: object) -> Remote | None:
    """Remote from a workplace type ("remote", "hybrid", "on-site", "OnSite"); None if unknown."""
    if not isinstance(value, str):
        return None
    return _WORKPLACE.get(_NOT_LETTERS.sub("", value.lower()))


def remote_from_flag(value: object) -> Remote:
    """Remote from a boolean flag; UNKNOWN when it is not a boolean."""
    if isinstance(value, bool):
        return Remote.TRUE if value else Remote.FALSE
    return Remote.UNKNOWN


def remote_from_text(*texts: str | None) -> Remote:
    """A guess from free text such as location names, for boards without a remote field:
    TRUE when one says "remote" or "anywhere", FALSE when one says hybrid/on-site, else UNKNOWN.
    """
    # one search of the texts joined: no match spans a line break, and one is a word boundary
    text = "\n".join(filter(None, texts))
    # ASCII text (nearly all) has no match without one of its words in lower case, found by
    # a substring search (in C): the regular expressions try every position
    lowered = text.lower() if text.isascii() else None
    if (lowered is None or "remote" in lowered or "anywhere" in lowered) and _REMOTE_TEXT.search(
            text):
        return Remote.TRUE
    if (lowered is None or "hybrid" in lowered or "site" in lowered or "office" in lowered) and (
            _ONSITE_TEXT.search(text)):
        return Remote.FALSE
    return Remote.UNKNOWN


# ----------------------------------------------------------------------------- locations


def join_parts(*parts: object) -> str | None:
    """The non-empty string parts joined with ", " ("Detroit, MI, US"), or None."""
    kept = [s for s in (as_str(p) for p in parts) if s]
    return ", ".join(kept) or None


def unique(values: Iterable[object]) -> tuple[str, ...]:
    """The non-empty strings among values, stripped, first occurrence kept, in order."""
    out: dict[str, None] = {}
    for value in values:
        text = value.strip() if isinstance(value, str) else None
        if text:
            out.setdefault(text)
    return tuple(out)


# ----------------------------------------------------------------------------- URLs


def merge_query(url: str, required: Mapping[str, str]) -> str:
    """The URL with each required query parameter added unless it is already present."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in pairs}
    pairs += [(k, v) for k, v in required.items() if k not in present]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def set_query(url: str, **params: object) -> str:
    """The URL with the given query parameters set (replaced or appended), others kept."""
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    pairs += [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def query_int(url: str, name: str) -> int | None:
    """The non-negative integer value of a query parameter, or None."""
    for key, value in parse_qsl(urlsplit(url).query):
        if key == name and value.isdigit() and value.isascii():
            return int(value)
    return None


_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)


def endpoint(
    board: BoardRef, default: Callable[[str], str], required: Mapping[str, str] | None = None
) -> str:
    """The first URL of an ATS board: board.url (with required query parameters merged in)
    when set, else `default(token)`. ValueError when neither url nor token is given.
    """
    if board.url:
        return merge_query(board.url, required or {})
    if not board.token:
        raise ValueError(
            f"board {board.name!r} ({board.type}): token is required when url is not set"
        )
    return default(board.token)


def host_label(board: BoardRef) -> str:
    """The board token as a DNS label (for boards addressed by subdomain); ValueError if not."""
    if not _DNS_LABEL.fullmatch(board.token):
        raise ValueError(
            f"board {board.name!r} ({board.type}): token {board.token!r} must be a DNS label "
            "(letters, digits and hyphens)"
        )
    return board.token.lower()
