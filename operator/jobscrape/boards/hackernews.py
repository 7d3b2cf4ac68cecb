"""Hacker News "Ask HN: Who is hiring?" threads, read through the Algolia HN Search API.

An aggregator: the board is the newest monthly thread posted by the `whoishiring` account, one
posting per job comment. The board token is a free label that names the board in posting ids.

Two kinds of request, told apart by the URL's `tags` (a comment search has the tag `comment`):

1. `first_url` is the story search
   `GET hn.algolia.com/api/v1/search_by_date?tags=story,author_whoishiring&query=hiring`.
   Its parse yields no postings; its next URL is the comment search of the newest hit titled
   "Ask HN: Who is hiring?" (newest by `created_at_i`). "Ask HN: Who wants to be hired?" and
   "Ask HN: Freelancer? Seeking freelancer?" are posted by the same account and are never
   taken. A story search without such a story is a ParseError (the board keeps what it had).
2. The comment search `GET .../api/v1/search?tags=comment,story_{id}&hitsPerPage=1000`, on the
   host and path of the story search it came from. Pages are read with `page` while
   page + 1 < `nbPages`. A board.url override that is a comment search starts there directly
   (one fixed thread); an override that is a story search (a mirror) starts at step 1.

A job post is a top-level comment (`parent_id` == `story_id`); replies are left out. Its id is
`objectID`, its url the comment on news.ycombinator.com, its time `created_at`, its description
the whole comment (`comment_text`, HTML). Everything else comes from the thread's convention for
the first line (up to the first paragraph or line break): `Company | Role | Location | ...`,
fields in any order after the company, read by `lead`:

- company: the first field, without its link or a parenthesised domain ("Hive (S14)");
- fields holding pay (a currency sign, "k", or a currency code: "$150k-$200k", "€58-65k",
  "185,000 USD"), an employment type ("Full-time", "Contract"), a work arrangement
  ("REMOTE (US)", "Hybrid NYC", "ONSITE"), visa or equity notes, or only a link are
  recognised as such;
- title: the first other field that names a role ("Senior Engineer", "Multiple roles",
  "Founding ..."); when none does, a short arrangement field that names a job ("Remote
  Sensing Engineer"). A first line without a role ("Company | Berlin | ONSITE") gives no
  posting;
- locations: the arrangement fields that name more than the arrangement ("REMOTE (US)",
  "Boston, MA (Hybrid)"; not a bare "REMOTE"), and the first remaining field that names no role
  when it comes before them or they name no place ("Toronto, ON | HYBRID");
- remote: TRUE when a field other than the title ("Remote Sensing Engineer") says remote or
  anywhere, FALSE when one says no remote, part remote, hybrid, on-site, in office or in
  person, else UNKNOWN;
- salary: only when unambiguous: one amount or range in one field, with at most one currency
  ("$" alone is USD, "$120-$130k CAD" is CAD; none named: currency None), "k" on either bound
  meaning thousands for both; period from "per year"/"/hr"/"monthly"..., else YEAR for amounts
  in k, else UNKNOWN;
- apply_url: the first link of the first line after the company field, else the company's.

Limits, measured by bench/hn_coverage.py on the May 2026 thread (335 top-level comments): 301
follow the convention, 234 give a company and a role and become postings; of those, 214 have a
location, 214 a known remote, 158 an employment type, 61 a salary (56 with a currency) and 99
a link. A hand check of 40 of them at random found the title wrong in 2 and the company in 1,
and 2 with a stray location (a list of terms taken for a place). Comments without a
`|` in their first line (prose posts, "COMPANY:"-labelled posts, meta comments, "SEEKING WORK")
and those whose first line names no role are left out, uncounted: free text is not a malformed
item. The fields' roles are guessed from their words, so a first line that puts the role in the
company field ("Senior Engineer | Acme | Remote") or something else before its place
("Acme | Engineer | Python, Go | Berlin") is misread; remote is read from words, so "ONSITE
(2 days remote OK)" is TRUE. The first line ends at the first paragraph or line break: a post
without one runs on into its text (titles and locations are cut at 200 characters). Algolia
returns at most 1000 hits per query, replies included: in a thread of more than 1000
comments, later comments are not read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.normalise import (
    as_dict,
    as_str,
    build_posting,
    describe,
    employment_type,
    from_epoch_ms,
    load_json,
    map_items,
    parse_datetime,
    query_int,
    remote_from_text,
    require_list,
    require_str,
    set_query,
    unique,
)
from jobscrape.boards.paytext import money_in, one_salary
from jobscrape.postings import EmploymentType, Posting, Remote, Salary, clean_line, safe_url

TYPE = "hackernews"
STORIES_URL = (
    "https://hn.algolia.com/api/v1/search_by_date?tags=story,author_whoishiring&query=hiring"
    "&hitsPerPage=12"
)
COMMENTS_PER_PAGE = 1000  # the API's maximum
ITEM_URL = "https://news.ycombinator.com/item?id="
_HIRING = re.compile(r"\s*Ask HN:\s*Who is hiring\?", re.IGNORECASE)


def first_url(board: BoardRef) -> str:
    """The story search of the whoishiring account; board.url (story or comment search) when
    set, as is."""
    return board.url or STORIES_URL


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """A story search: no postings, the newest hiring thread's comment search as next URL.
    A comment search: the job posts among the page's top-level comments, and the next page."""
    doc = load_json(body, TYPE)
    hits = require_list(doc, "hits", TYPE)
    if not _is_comment_search(url):
        return Page([], _comments_url(hits, url))
    items = [h for h in hits if not isinstance(h, dict) or _is_top_level(h)]
    return map_items(items, lambda hit: _posting(hit, board), f"{TYPE}: top-level comments",
                     next_url=_next_page(doc, url))


def _is_comment_search(url: str) -> bool:
    """Whether the URL is a comment search (its `tags` include `comment`)."""
    for key, value in parse_qsl(urlsplit(url).query):
        if key == "tags" and "comment" in (t.strip() for t in value.split(",")):
            return True
    return False


def _comments_url(hits: Sequence[Any], url: str) -> str:
    """The comment search of the newest "Who is hiring?" story among the hits, on the host and
    path of the story search; ParseError when there is none."""
    newest: tuple[float, str] | None = None
    for hit in map(as_dict, hits):
        story = as_str(hit.get("objectID"))
        if not story or not story.isascii() or not story.isdigit():
            continue
        if not _HIRING.match(as_str(hit.get("title")) or ""):
            continue
        when = _time(hit)
        if newest is None or when > newest[0]:
            newest = (when, story)
    if newest is None:
        raise ParseError(f"{TYPE}: no 'Ask HN: Who is hiring?' story among {len(hits)} hits")
    return urljoin(url, f"search?tags=comment,story_{newest[1]}&hitsPerPage={COMMENTS_PER_PAGE}")


def _time(hit: Mapping[str, Any]) -> float:
    """The hit's creation time in epoch seconds (`created_at_i`, else `created_at`); -inf."""
    seconds = hit.get("created_at_i")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds == seconds:
        return float(min(max(seconds, -1e18), 1e18))
    parsed = parse_datetime(hit.get("created_at"))
    return parsed.timestamp() if parsed else float("-inf")


def _is_top_level(hit: Mapping[str, Any]) -> bool:
    """Whether the hit answers the story itself (a job post), not another comment."""
    parent, story = hit.get("parent_id"), hit.get("story_id")
    return isinstance(parent, int) and not isinstance(parent, bool) and parent == story


def _next_page(doc: Mapping[str, Any], url: str) -> str | None:
    """This URL with `page` moved on by one while page + 1 < nbPages; else None."""
    page = doc.get("page")
    if not isinstance(page, int) or isinstance(page, bool) or page < 0:
        page = query_int(url, "page") or 0
    pages = doc.get("nbPages")
    if not isinstance(pages, int) or isinstance(pages, bool) or page + 1 >= pages:
        return None
    return set_query(url, page=page + 1)


def _posting(hit: Mapping[str, Any], board: BoardRef) -> Posting | None:
    """The posting of a job comment; None for a deleted comment or one whose first line gives
    no company and role."""
    comment_id = require_str(hit, "objectID")
    text = as_str(hit.get("comment_text"))
    if text is None:
        return None  # deleted or flagged
    fields = lead(text)
    if fields.company is None or fields.title is None:
        return None
    # HN separates paragraphs with a bare <p>: the first one is wrapped too, so that the text
    # has a line break after it
    body_html, body_text = describe(text if text.startswith("<p") else f"<p>{text}")
    created = hit.get("created_at_i")
    return build_posting(
        board, TYPE, comment_id, fields.title,
        url=ITEM_URL + quote(comment_id, safe=""),
        apply_url=fields.link,
        company=fields.company,
        locations=fields.locations,
        remote=fields.remote,
        employment_type=fields.employment_type,
        salary=fields.salary,
        posted_at=parse_datetime(hit.get("created_at")) or (
            from_epoch_ms(created * 1000)
            if isinstance(created, int) and not isinstance(created, bool) else None),
        description_html=body_html,
        description_text=body_text,
    )


# ----------------------------------------------------------------------------- the first line


@dataclass(frozen=True, slots=True)
class Lead:
    """What the first line of a job comment says (None or empty where it does not)."""

    fields: tuple[str, ...] = ()  # the `|`-separated fields, as text
    company: str | None = None
    title: str | None = None
    locations: tuple[str, ...] = ()
    remote: Remote = Remote.UNKNOWN
    employment_type: EmploymentType = EmploymentType.UNKNOWN
    salary: Salary | None = None
    link: str | None = None


#: How much of a comment's HTML the first line is looked for in (bounds the regex work).
FIRST_LINE_MAX = 2000
_LINE_END = re.compile(r"<p\b[^>]*>|<br\b[^>]*>|</?(?:pre|div|ul|ol|li)\b[^>]*>|\n", re.I)
_ANCHOR = re.compile(r"<a\s[^>]*?\bhref=\"([^\"]*)\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_DASHES = "-\u2013\u2014"  # hyphen, en dash, em dash
_HTTP = re.compile(r"https?://[^\s|()<>\"]+", re.IGNORECASE)
_DOMAIN = re.compile(
    r"(?:https?://)?(?:www\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.([a-z]{2,12})"
    r"(?:/\S*)?",
    re.IGNORECASE,
)
_NOT_TLDS = frozenset({"js", "ts", "py", "rb", "sh"})  # "Node.js" is no web site
# Parentheses holding nothing but domains ("(emergences.ai)", "(www.hive.co)") or nothing.
_PAREN_DOMAINS = re.compile(
    r"\(\s*(?:(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,12}/?[\s,;]*)*\)", re.IGNORECASE
)
_EMPLOYMENT = re.compile(
    r"\s*((?:full|part)[\s-]?time|contract\w*|freelance\w*|intern\w*|temporary|permanent)\b",
    re.IGNORECASE,
)
_ARRANGEMENT = re.compile(
    r"\b(?:remote|on-?site|on site|hybrid|in[- ]person|in[- ]office|office|anywhere|wfh)\b",
    re.IGNORECASE,
)
# What an arrangement field may hold besides the arrangement and still name no place.
_FILLER = re.compile(
    r"\b(?:or|and|only|possible|preferred|ok|okay|friendly|first|fully|also|considered"
    r"|flexible|optional|partially|partial|available|days?|weeks?|wk|per|a|in|the|from|x"
    r"|with|some|required|is|mostly|primarily)\b|[\d%/+&,;:.()\[\]\-\u2013\u2014~]",
    re.IGNORECASE,
)
_NOTES = re.compile(
    r"\b(?:visa|sponsor\w*|equity|h-?1b|relocat\w*|benefits|citizen\w*|clearance)\b", re.I
)
# Words that make a field a role rather than a place ("Senior Engineer", "Multiple roles").
_ROLE = re.compile(
    r"\b(?:\w*engineer\w*|eng|developers?|dev|programmers?|manager|management|designers?|design"
    r"|scientists?|researchers?|research|analysts?|architects?|specialists?|consultants?"
    r"|lead|leads|head|director|vp|cto|sre|devops|pm|fde|gtm|founding|intern\w*|roles?"
    r"|positions?|openings?|jobs?|hiring|staff|principal|senior|sr|junior|jr|editor|writer"
    r"|administrator|admin|support|technician|recruiter|marketer|marketing|sales|operations"
    r"|ops|product|professors?|faculty|associate|representative|executive|officer"
    r"|coordinator|strategist|data|ml|qa|tester|member)\b",
    re.IGNORECASE,
)
# Words that name a job whatever else the field says.
_JOB = re.compile(r"\b(?:\w*engineer\w*|developers?|designers?|scientists?|researchers?"
                  r"|managers?|analysts?|architects?|administrators?)\b", re.IGNORECASE)
_INTERNS = re.compile(r"\bintern\w*", re.IGNORECASE)
_NO_REMOTE = re.compile(r"\b(?:no|not|non)[- ]remote\b", re.IGNORECASE)
_PART_REMOTE = re.compile(r"\bpart(?:ial(?:ly)?|ly)?[- ]remote\b", re.IGNORECASE)  # hybrid
_IN_PERSON = re.compile(r"\bin[- ]person\b|\bon site\b", re.IGNORECASE)
_SEEKING_WORK = re.compile(r"seeking\s+work\b", re.IGNORECASE)  # a candidate, not a job
_SEEKING_LABEL = re.compile(r"seeking\s+freelancers?|hiring", re.IGNORECASE)


def lead(comment_html: str) -> Lead:
    """Company, title, locations, remote, employment type, salary and link from the first line
    of a job comment (`Company | Role | Location | ...`); a Lead without company and title when
    the first line has no `|` (or is a "SEEKING WORK" post in the wrong thread)."""
    line = first_line(comment_html)
    fields = tuple(f for f in map(_clean_field, split_fields(line)) if f)
    if fields and _SEEKING_LABEL.fullmatch(fields[0]):
        fields = fields[1:]  # "SEEKING FREELANCER | Company | ..."
    if len(fields) < 2 or _SEEKING_WORK.match(fields[0]):
        return Lead(fields)
    company_field, rest = fields[0], fields[1:]
    links = [link for f in rest for link in _links(f)] + _links(company_field)
    kinds = [_kind(f) for f in rest]
    title_at = _title_at(rest, kinds)
    others = [company_field, *(f for i, f in enumerate(rest) if i != title_at)]
    return Lead(
        fields=fields,
        company=_company(company_field),
        title=(clean_line(_text(rest[title_at]))[:200] or None) if title_at is not None else None,
        locations=_locations(rest, kinds, title_at),
        remote=_remote([_HTTP.sub(" ", f) for f in others]),
        employment_type=employment_type(*(m.group(1) for m in map(_EMPLOYMENT.match, rest)
                                          if m)),
        salary=one_salary([f for f, k in zip(rest, kinds, strict=True) if k == "pay"]),
        link=next(iter(links), None),
    )


def _title_at(rest: Sequence[str], kinds: Sequence[str]) -> int | None:
    """The first plain field naming a role, else the first short arrangement field naming a
    job ("Remote Sensing Engineer", not "ONSITE & Remote for some roles"); None when no field
    names a role."""
    for i, kind in enumerate(kinds):
        if kind == "plain" and _ROLE.search(rest[i]):
            return i
    for i, kind in enumerate(kinds):
        if kind == "arrangement" and len(rest[i]) <= 100 and _JOB.search(rest[i]):
            return i
    return None


def first_line(comment_html: str) -> str:
    """The comment's first line as text: up to its first paragraph, line break or block, each
    link written as its address (HN shortens long link texts with "..."), white space
    collapsed."""
    head = _LINE_END.split(comment_html[:FIRST_LINE_MAX], maxsplit=1)[0]
    head = _ANCHOR.sub(lambda m: f" {m.group(1)} ", head)
    return " ".join(html.unescape(_TAG.sub(" ", head)).split())


def split_fields(line: str) -> list[str]:
    """The line split at each `|` that is not inside parentheses ("Engineer (Lead | Staff)" is
    one field); without a `|`, one field."""
    fields, depth, start = [], 0, 0
    for i, c in enumerate(line):
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif c == "|" and depth == 0:
            fields.append(line[start:i])
            start = i + 1
    if not fields:  # an unclosed "(" hid every "|": split at all of them
        return line.split("|")
    return [*fields, line[start:]]


def _clean_field(text: str) -> str:
    """A field without surrounding blanks, markdown emphasis, bullets or dashes."""
    return text.strip(" *_#\u2022" + _DASHES)


def _text(field: str) -> str:
    """A field as title or location text: links and the parentheses left empty taken out."""
    text = _PAREN_DOMAINS.sub(" ", _HTTP.sub(" ", field))
    return " ".join(text.split()).strip(" :,;*" + _DASHES)


def _links(text: str) -> list[str]:
    """The web addresses in a field: http(s) links, or the field itself when it is a bare
    domain ("joinforage.com", "www.key.me")."""
    found = [u for u in (safe_url(m.group(0).rstrip(".,;:")) for m in _HTTP.finditer(text))
             if u]
    if not found and (m := _DOMAIN.fullmatch(text)) and m.group(1).lower() not in _NOT_TLDS:
        found = [u for u in [safe_url("https://" + text.removeprefix("http://"))] if u]
    return found


def _kind(text: str) -> str:
    """What a field after the company holds: "link", "pay", "employment", "arrangement",
    "note" or "plain" (a role or a place)."""
    words = _text(text)
    if not words or (_DOMAIN.fullmatch(text) and _links(text)):
        return "link"
    if money_in(words):
        return "pay"
    if m := _EMPLOYMENT.match(words):
        # "Full-time, interns" and a line running on into the text are an employment type,
        # "Full time member of technical staff" is a role
        after = words[m.end():]
        if len(after) > 60 or not _ROLE.search(_INTERNS.sub(" ", after)):
            return "employment"
    if _ARRANGEMENT.search(words):
        return "arrangement"
    if _NOTES.search(words):
        return "note"
    return "plain"


def _company(text: str) -> str | None:
    """The company field without its link ("Clutch https://... - building ..." is "Clutch"),
    parenthesised domains ("Hive (S14) (www.hive.co)" is "Hive (S14)") or markup; None when
    that leaves nothing or more than a name could be."""
    m = _HTTP.search(text)
    if m:
        before = text[: m.start()].rstrip(" (:," + _DASHES)
        text = before or text[m.end():].lstrip(" ):," + _DASHES)
    text = clean_line(_text(text))  # as build_posting cleans it: nothing left, no company
    if text.count("(") > text.count(")"):  # "Strix (strix.ai, https://...)" cut at the link
        text = text[: text.rindex("(")].rstrip(" :," + _DASHES)
    return text if text and len(text) <= 100 else None


def _locations(rest: Sequence[str], kinds: Sequence[str], title_at: int | None) -> tuple[str, ...]:
    """The arrangement fields that name a place, and the first field that is neither a role
    nor anything else recognised when it comes before them (or they name none)."""
    places = [_text(f) for i, (f, k) in enumerate(zip(rest, kinds, strict=True))
              if k == "arrangement" and i != title_at and not _bare_arrangement(f)]
    first_arrangement = next((i for i, k in enumerate(kinds)
                              if k == "arrangement" and i != title_at), len(kinds))
    place_at = next((i for i, k in enumerate(kinds)
                     if k == "plain" and i != title_at and not _ROLE.search(rest[i])), None)
    if place_at is not None and (place_at < first_arrangement or not places):
        places.insert(0, _text(rest[place_at]))
    return unique(p[:200] for p in places)


def _bare_arrangement(text: str) -> bool:
    """Whether an arrangement field names no place ("REMOTE", "ONSITE (hybrid)")."""
    left = _FILLER.sub(" ", _ARRANGEMENT.sub(" ", _HTTP.sub(" ", text)))
    return not any(c.isalpha() for c in left)


def _remote(texts: Sequence[str]) -> Remote:
    """TRUE when a text says remote or anywhere; FALSE when one says no remote, hybrid,
    on-site, in office or in person; else UNKNOWN."""
    if any(_NO_REMOTE.search(t) for t in texts):
        return Remote.FALSE
    found = remote_from_text(*(_PART_REMOTE.sub("hybrid", t) for t in texts))
    if found is Remote.UNKNOWN and any(_IN_PERSON.search(t) for t in texts):
        return Remote.FALSE
    return found


