"""From a careers page URL to a `spec.boards` entry: which board type serves it, with which
token (and, where the default endpoint would not reach it, which url override).

Pure: no I/O. `detect_url` reads the URL alone; `find_embeds` reads a fetched page's HTML for
links, script and iframe sources that point at a supported board; `sniff_page` also tells a
page carrying schema.org JobPosting data (JSON-LD or microdata: the `jsonld` type) and an
RSS/Atom body (the `feed` type). `jobscrape detect` (jobscrape.detectcmd) fetches the page.

URL shapes read (a job page on a board gives the board; a locale segment is skipped):

- greenhouse: `boards.greenhouse.io/{t}[/jobs/{id}]`, `job-boards[.eu].greenhouse.io/{t}`,
  `boards.greenhouse.io/embed/job_board[/js]?for={t}`, `boards-api.greenhouse.io/v1/boards/
  {t}/jobs`. EU-hosted boards are served by the same API host: no override.
- lever: `jobs.lever.co/{t}[/{id}]`, `api.lever.co/v0/postings/{t}`; `jobs.eu.lever.co/{t}`
  and `api.eu.lever.co` get the url override `https://api.eu.lever.co/v0/postings/{t}`.
- ashby: `jobs.ashbyhq.com/{t}[/{id}|/embed]`, `api.ashbyhq.com/posting-api/job-board/{t}`.
- workable: `apply.workable.com/{t}[/j/{code}]`, `{t}.workable.com`, the widget API
  `apply.workable.com/api/v1/widget/accounts/{t}` (and `/api/v3/accounts/{t}`,
  `www.workable.com/api/accounts/{t}`). `apply.workable.com/j/{code}` names no account.
- smartrecruiters: `jobs.smartrecruiters.com/{t}[/{id}]`, its apply form
  `jobs.smartrecruiters.com/oneclick-ui/company/{t}/publication/{uuid}`,
  `careers.smartrecruiters.com/{t}`, `api.smartrecruiters.com/v1/companies/{t}/postings`.
- recruitee `{t}.recruitee.com`, breezy `{t}.breezy.hr`, pinpoint `{t}.pinpointhq.com`,
  bamboohr `{t}.bamboohr.com` (`/careers`, `/jobs`, `/js/embed.js`), teamtailor
  `{t}.teamtailor.com` (`{t}.{region}.teamtailor.com` gets the url override
  `https://{t}.{region}.teamtailor.com/jobs.rss`), personio `{t}.jobs.personio.de`
  (`{t}.jobs.personio.com` gets the override `https://{t}.jobs.personio.com/xml?language=en`).
  Service subdomains (www, app, api, help, ...) are not boards.
- workday: `{tenant}.wd{N}.myworkdayjobs.com/[{locale}/]{site}[/job/...]` and
  `/wday/cxs/{tenant}/{site}/jobs` give the token `{tenant}.wd{N}/{site}`; the shared host
  `wd{N}.myworkdaysite.com/[{locale}/]recruiting/{tenant}/{site}` also gets the url override
  `https://wd{N}.myworkdaysite.com/wday/cxs/{tenant}/{site}/jobs`.
- rippling `ats.rippling.com/{t}/jobs[/{id}]` and `api.rippling.com/platform/api/ats/v1/board/
  {t}/jobs`; gem `jobs.gem.com/{t}[/{id}]` and `api.gem.com/job_board/v0/{t}/job_posts`.
- comeet: `www.comeet.com/jobs/{name}/{uid}[/...]` gives the company uid (e.g. `F6.003`) as
  token; its careers API also needs the company's API token, which only the careers API URL
  (`www.comeet.co/careers-api/2.0/company/{uid}/positions?token=...`, kept as the url
  override) or the careers page's `COMPANY_DATA` (read by find_embeds) carries. Without it
  the entry is given with a note saying so.
- aggregators, their token a free label: arbeitnow (`www.arbeitnow.com/...`), themuse
  (`www.themuse.com/jobs...`; an API URL with filters is kept as the url override), hackernews
  (`news.ycombinator.com/item?id=...`: the adapter follows the newest "Who is hiring?" thread;
  an Algolia comment search URL is kept as the url override).
- feed: a URL whose path ends in `.rss`/`.atom` or `/feed`, `/rss`, `/atom`, `feed.xml`,
  `rss.xml` (type feed, url the URL itself).

Every entry is checked as the API checks it (the Board model of jobscrape.api.spec when the
type is one of the API's, else the token alphabet the API will use): a token outside it
(e.g. an Ashby board named "Hippocratic AI") gets a token made from it and the adapter's
default endpoint for the real name as url override. Hostile input is refused (Refused): a
URL longer than the API's 2048 characters, a scheme other than http(s), user info, white
space or control characters. Page scans are bounded (MAX_HTML characters) and use RE2, whose
matching time is linear in the text.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import re2

from jobscrape.api.spec import DNS_LABEL, PATH_SEGMENT, SUBDOMAIN, TOKEN_ALPHABETS, URL_PATTERN
from jobscrape.api.vocabulary import BOARD_TYPES
from jobscrape.netguard import BlockedAddress, check_scheme

MAX_URL = 2048  # the API's maxLength of a board url
MAX_HTML = 4 * 1024 * 1024  # characters of a page looked at
MAX_CANDIDATES = 2000  # board-looking URLs of a page looked at
MAX_FOUND = 20  # boards reported from one page

#: Token alphabets of the types the API does not know yet (the API's own wins once it does).
WORKDAY_TOKEN = r"^[a-z0-9][a-z0-9-]*\.wd[0-9]{1,3}/[A-Za-z0-9_-]+$"
_FALLBACK_ALPHABETS: dict[str, str] = {
    **{t: SUBDOMAIN.pattern for t in ("bamboohr", "teamtailor", "breezy", "pinpoint")},
    **{t: PATH_SEGMENT.pattern for t in ("rippling", "gem", "comeet", "arbeitnow", "themuse",
                                          "hackernews")},
    "workday": WORKDAY_TOKEN,
}

#: Subdomains of an ATS's domain that are the vendor's own sites, not a company's board.
SERVICE_LABELS = frozenset({
    "www", "app", "api", "apply", "jobs", "help", "support", "status", "docs", "developer",
    "developers", "blog", "static", "assets", "cdn", "login", "admin", "marketing", "mail",
    "go", "info", "partners", "marketplace", "community", "academy", "webinars", "careers-api",
})
_LOCALE = re.compile(r"[a-z]{2}-[A-Za-z]{2}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_COMEET_UID = re.compile(r"[0-9A-Fa-f]{2}\.[0-9A-Fa-f]{3}")
_HN_STORY = re.compile(r"story_([0-9]{1,12})")


class Refused(ValueError):
    """The input is not a URL detect will read; the message says why (never the URL's
    secrets)."""


@dataclass(frozen=True)
class Detected:
    """A board entry: its type and token, the url override when one is needed (always for
    jsonld and feed), a name (a DNS label from the token), and a note for the reader when
    the entry needs something the URL does not carry."""

    type: str
    token: str
    url: str | None = None
    name: str = ""
    note: str | None = None

    def entry(self) -> dict[str, str]:
        """The entry as it goes under `spec.boards` (empty fields left out)."""
        out = {"name": self.name or dns_label(self.token or self.type), "type": self.type}
        if self.token:
            out["token"] = self.token
        if self.url:
            out["url"] = self.url
        return out


def dns_label(text: str, fallback: str = "board") -> str:
    """`text` as a DNS label (lower case, other characters as '-', at most 63), e.g.
    "nvidia.wd5/NVIDIAExternalCareerSite" -> "nvidia-wd5-nvidiaexternalcareersite"."""
    label = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].rstrip("-")
    return label or fallback


def host_name(host: str) -> str:
    """A name for a board known by its host: "careers.example.com" -> "careers-example-com"
    (a leading www. dropped)."""
    return dns_label(host.removeprefix("www."), "page")


# ----------------------------------------------------------------------------- URLs


@dataclass(frozen=True)
class _Url:
    url: str  # as given (stripped, scheme added), fragment dropped
    host: str  # lower case, no port, no trailing dot
    segs: list[str]  # path segments, percent-decoded, empty ones dropped
    query: dict[str, str]  # first value of each parameter


def parse_url(text: str) -> _Url:
    """The URL's parts for matching; Refused for input no board URL looks like."""
    if not isinstance(text, str):
        raise Refused("refused: not a string")
    url = text.strip()
    if not url:
        raise Refused("refused: empty URL")
    if len(url) > MAX_URL:
        raise Refused(f"refused: longer than {MAX_URL} characters")
    if _UNSAFE.search(url):
        raise Refused("refused: spaces, control characters or backslashes in the URL")
    if "://" not in url:
        scheme = _SCHEME.match(url)
        if scheme and not url[scheme.end():][:1].isdigit():  # not host:port
            raise Refused(f"refused: scheme {scheme.group()[:-1].lower()[:20]!r} "
                          "(only http and https)")
        url = "https://" + url  # "boards.greenhouse.io/acme" as pasted from a browser
    try:
        check_scheme(url)
        parts = urlsplit(url)
        parts.port  # noqa: B018  (ValueError for a port that is not a number)
    except BlockedAddress as e:
        raise Refused(str(e)) from None
    except ValueError:
        raise Refused("refused: not a valid URL") from None
    if "@" in parts.netloc:
        raise Refused("refused: the URL carries user info (user:password@): leave it out")
    host = (parts.hostname or "").rstrip(".")
    segs = [unquote(s) for s in parts.path.split("/") if s]
    query: dict[str, str] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(k, v)
    return _Url(url.split("#", 1)[0], host, segs, query)


def _seg(u: _Url, i: int) -> str:
    return u.segs[i] if len(u.segs) > i else ""


def _after(segs: list[str], *prefix: str) -> str:
    """The segment after `prefix` when the path starts with it (case-insensitively)."""
    n = len(prefix)
    if len(segs) > n and [s.lower() for s in segs[:n]] == list(prefix):
        return segs[n]
    return ""


def _subdomain(host: str, domain: str) -> str:
    """The one label before `domain` ("acme" of acme.breezy.hr), unless a service label."""
    if not host.endswith("." + domain):
        return ""
    label = host[: -len(domain) - 1]
    if "." in label or label in SERVICE_LABELS or not _LABEL.fullmatch(label):
        return ""
    return label


def _skip_locale(segs: list[str]) -> list[str]:
    return segs[1:] if segs and _LOCALE.fullmatch(segs[0]) else segs


Found = tuple[str, str, str | None] | None  # type, token, url override


def _greenhouse(u: _Url) -> Found:
    if u.host in ("boards.greenhouse.io", "job-boards.greenhouse.io",
                  "boards.eu.greenhouse.io", "job-boards.eu.greenhouse.io"):
        if _seg(u, 0).lower() == "embed":  # embed/job_board[/js]?for=, embed/job_app?for=
            return ("greenhouse", u.query.get("for", ""), None)
        return ("greenhouse", _seg(u, 0) or u.query.get("for", ""), None)
    if u.host in ("boards-api.greenhouse.io", "boards-api.eu.greenhouse.io",
                  "api.greenhouse.io"):
        return ("greenhouse", _after(u.segs, "v1", "boards"), None)
    return None


def _lever(u: _Url) -> Found:
    if u.host == "jobs.lever.co":
        return ("lever", _seg(u, 0), None)
    if u.host == "api.lever.co":
        return ("lever", _after(u.segs, "v0", "postings"), None)
    eu = {"jobs.eu.lever.co": _seg(u, 0), "api.eu.lever.co": _after(u.segs, "v0", "postings")}
    site = eu.get(u.host)
    if site is not None:
        return ("lever", site, f"https://api.eu.lever.co/v0/postings/{quote(site, safe='')}")
    return None


def _ashby(u: _Url) -> Found:
    if u.host == "jobs.ashbyhq.com" and _seg(u, 0).lower() != "api":
        return ("ashby", _seg(u, 0), None)
    if u.host == "api.ashbyhq.com":
        return ("ashby", _after(u.segs, "posting-api", "job-board"), None)
    return None


def _workable(u: _Url) -> Found:
    if u.host == "apply.workable.com":
        first = _seg(u, 0).lower()
        if first == "api":
            return ("workable", _after(u.segs, "api", "v1", "widget", "accounts")
                    or _after(u.segs, "api", "v3", "accounts")
                    or _after(u.segs, "api", "v1", "accounts"), None)
        if first == "j":  # apply.workable.com/j/{code}: a job link without its account
            return None
        return ("workable", _seg(u, 0), None)
    if u.host == "www.workable.com":
        return ("workable", _after(u.segs, "api", "accounts"), None)
    sub = _subdomain(u.host, "workable.com")
    return ("workable", sub, None) if sub else None


def _smartrecruiters(u: _Url) -> Found:
    if u.host in ("jobs.smartrecruiters.com", "careers.smartrecruiters.com"):
        if _seg(u, 0).lower() == "oneclick-ui":  # the apply form: /oneclick-ui/company/{t}/...
            return ("smartrecruiters", _after(u.segs, "oneclick-ui", "company"), None)
        return ("smartrecruiters", _seg(u, 0), None)
    if u.host == "api.smartrecruiters.com":
        return ("smartrecruiters", _after(u.segs, "v1", "companies"), None)
    return None


def _by_subdomain(u: _Url) -> Found:
    for kind, domain in (("recruitee", "recruitee.com"), ("breezy", "breezy.hr"),
                         ("pinpoint", "pinpointhq.com"), ("bamboohr", "bamboohr.com")):
        sub = _subdomain(u.host, domain)
        if sub:
            return (kind, sub, None)
    sub = _subdomain(u.host, "jobs.personio.de")
    if sub:
        return ("personio", sub, None)
    sub = _subdomain(u.host, "jobs.personio.com")
    if sub:
        return ("personio", sub, f"https://{sub}.jobs.personio.com/xml?language=en")
    sub = _subdomain(u.host, "teamtailor.com")
    if sub:
        return ("teamtailor", sub, None)
    labels = u.host.split(".")
    if (len(labels) == 4 and labels[2:] == ["teamtailor", "com"]
            and re.fullmatch(r"[a-z]{2}", labels[1])):  # {t}.na.teamtailor.com
        sub = _subdomain(labels[0] + ".teamtailor.com", "teamtailor.com")
        if sub:
            return ("teamtailor", sub, f"https://{u.host}/jobs.rss")
    return None


def _workday(u: _Url) -> Found:
    m = re.fullmatch(r"([a-z0-9][a-z0-9-]*)\.(wd[0-9]{1,3})\.myworkdayjobs\.com", u.host)
    if m:
        tenant, wd = m.groups()
        segs = _skip_locale(u.segs)
        if segs and segs[0].lower() == "wday":  # /wday/cxs/{tenant}/{site}/jobs
            site = segs[3] if len(segs) > 3 and segs[1].lower() == "cxs" else ""
        else:
            site = segs[0] if segs else ""
        return ("workday", f"{tenant}.{wd}/{site}", None) if site else None
    m = re.fullmatch(r"(wd[0-9]{1,3})\.myworkdaysite\.com", u.host)
    if m:
        wd = m.group(1)
        segs = _skip_locale(u.segs)
        if len(segs) >= 3 and segs[0].lower() == "recruiting":
            tenant, site = segs[1], segs[2]
        elif len(segs) >= 4 and [s.lower() for s in segs[:2]] == ["wday", "cxs"]:
            tenant, site = segs[2], segs[3]
        else:
            return None
        return ("workday", f"{tenant.lower()}.{wd}/{site}",
                f"https://{wd}.myworkdaysite.com/wday/cxs/{quote(tenant, safe='')}/"
                f"{quote(site, safe='')}/jobs")
    return None


def _rippling_gem(u: _Url) -> Found:
    if u.host == "ats.rippling.com":
        segs = _skip_locale(u.segs)
        if segs and segs[0].lower() == "api":
            return ("rippling", _after(segs, "api", "v2", "board"), None)
        return ("rippling", segs[0] if segs else "", None)
    if u.host == "api.rippling.com":
        return ("rippling", _after(u.segs, "platform", "api", "ats", "v1", "board"), None)
    if u.host == "jobs.gem.com":
        return ("gem", _seg(u, 0), None)
    if u.host == "api.gem.com":
        return ("gem", _after(u.segs, "job_board", "v0"), None)
    return None


def _comeet(u: _Url) -> Found:
    if u.host not in ("comeet.com", "www.comeet.com", "comeet.co", "www.comeet.co"):
        return None
    if _seg(u, 0).lower() == "jobs" and _COMEET_UID.fullmatch(_seg(u, 2)):
        return ("comeet", _seg(u, 2).upper(), None)
    uid = _after(u.segs, "careers-api", "2.0", "company")
    if _COMEET_UID.fullmatch(uid):
        api_token = u.query.get("token", "")
        return ("comeet", uid.upper(), comeet_api_url(uid.upper(), api_token)
                if re.fullmatch(r"[0-9A-Za-z]{8,128}", api_token) else None)
    return None


def comeet_api_url(uid: str, api_token: str) -> str:
    """The careers API URL of a Comeet company (its positions, with details)."""
    return (f"https://www.comeet.co/careers-api/2.0/company/{quote(uid, safe='.')}/positions"
            f"?token={quote(api_token, safe='')}&details=true")


def _aggregators(u: _Url) -> Found:
    if u.host in ("arbeitnow.com", "www.arbeitnow.com"):
        return ("arbeitnow", "arbeitnow", None)
    if u.host in ("themuse.com", "www.themuse.com"):
        first = _seg(u, 0).lower()
        if first == "api" and _after(u.segs, "api", "public") == "jobs":
            filtered = any(k != "page" for k in u.query)  # category=, location=, ...
            return ("themuse", "themuse", u.url if filtered else None)
        return ("themuse", "themuse", None) if first in ("", "jobs", "search") else None
    if u.host == "news.ycombinator.com":
        if _seg(u, 0) == "item" and u.query.get("id", "").isdigit():
            return ("hackernews", "hackernews", None)
        if _seg(u, 0) == "submitted" and u.query.get("id", "").lower() == "whoishiring":
            return ("hackernews", "hackernews", None)
        return None
    if u.host == "hn.algolia.com" and _seg(u, 0) == "api":
        tags = u.query.get("tags", "")
        if _HN_STORY.search(tags) and "comment" in tags:
            return ("hackernews", "hackernews", u.url)  # one thread's comments
        if "whoishiring" in tags or "items" in u.segs:
            return ("hackernews", "hackernews", None)
    return None


def _feed(u: _Url) -> Found:
    last = (u.segs[-1] if u.segs else "").lower()
    if last.endswith((".rss", ".atom")) or last in ("feed", "rss", "atom", "feed.xml",
                                                    "rss.xml", "atom.xml"):
        return ("feed", "", u.url)
    return None


_MATCHERS = (_greenhouse, _lever, _ashby, _workable, _smartrecruiters, _by_subdomain,
             _workday, _rippling_gem, _comeet, _aggregators, _feed)


def detect_url(url: str) -> Detected | None:
    """The board a URL belongs to (a job page gives its board), or None when the URL is of
    no supported shape (a custom domain: fetch the page and use find_embeds). Refused for
    input that is not a usable http(s) URL, or whose board the API could not accept."""
    u = parse_url(url)
    for matcher in _MATCHERS:
        found = matcher(u)
        if found is not None:
            kind, token, override = found
            if not token and kind not in ("feed", "jsonld"):
                continue  # e.g. boards.greenhouse.io/ alone: no board named
            slug = _seg(u, 1) if kind == "comeet" and _seg(u, 0).lower() == "jobs" else ""
            return checked(_make(kind, token, override, u.host, slug))
    return None


def _make(kind: str, token: str, url: str | None, host: str, name: str = "") -> Detected:
    """The entry of a board found; `name` (when given) names it instead of the token."""
    note = None
    if kind == "comeet" and not url:
        note = ("comeet: the careers API also needs the company's API token, which this URL "
                "does not carry: run detect --fetch on the careers page, or set url to "
                f"{comeet_api_url(token, 'TOKEN')}")
    name = host_name(host) if kind in ("feed", "jsonld") else dns_label(name or token, kind)
    return Detected(kind, token, url, name, note)


# ----------------------------------------------------------------------------- validity


def problem(d: Detected) -> str | None:
    """Why the API would refuse the entry, or None. The Board model of jobscrape.api.spec
    judges types it knows; others are checked against the alphabet the API will use."""
    entry = d.entry()
    if d.type in BOARD_TYPES:
        from pydantic import ValidationError

        from jobscrape.api.spec import Board

        try:
            Board.model_validate(entry)
        except ValidationError as e:
            return "; ".join(str(err.get("msg", "")).removeprefix("Value error, ")
                             for err in e.errors())
        return None
    if not re.fullmatch(DNS_LABEL, entry["name"]):
        return f"name {entry['name']!r} is not a DNS label"
    alphabet = TOKEN_ALPHABETS.get(d.type)
    pattern = alphabet.pattern if alphabet else _FALLBACK_ALPHABETS.get(d.type)
    if d.token and pattern and not re.fullmatch(pattern, d.token):
        return (alphabet.message(d.type) if alphabet
                else f"token for {d.type} boards must match {pattern}")
    if d.url and not re.fullmatch(URL_PATTERN, d.url):
        return "url must be an absolute http(s) URL"
    return None


def checked(d: Detected) -> Detected:
    """The entry as the API will take it: unchanged when valid; a token outside its type's
    alphabet (a board named with a space) replaced by one made from it, with the adapter's
    default endpoint for the real name as url override; Refused when neither works."""
    why = problem(d)
    if why is None:
        return d
    if d.token and not d.url and "/" not in d.token and re.search(r"[A-Za-z0-9]", d.token):
        default = _default_url(d.type, d.token)
        if default:
            safe = Detected(d.type, dns_label(d.token, d.type), default, d.name, d.note)
            if problem(safe) is None:
                return safe
    raise Refused(f"a {d.type} board, but the API would refuse it: {why}")


def _default_url(kind: str, token: str) -> str | None:
    """The adapter's first URL for `token` (None when the adapter is not there)."""
    from jobscrape.boards.base import BoardRef

    try:
        adapter: Any = import_module(f"jobscrape.boards.{kind}")
        url = adapter.first_url(BoardRef(name=kind, type=kind, token=token))
    except (ImportError, AttributeError, ValueError):
        return None
    return url if isinstance(url, str) else None


# ----------------------------------------------------------------------------- pages

_HOSTS = (r"greenhouse\.io|lever\.co|ashbyhq\.com|workable\.com|smartrecruiters\.com|"
          r"recruitee\.com|personio\.de|personio\.com|bamboohr\.com|teamtailor\.com|breezy\.hr|"
          r"rippling\.com|gem\.com|pinpointhq\.com|comeet\.com|comeet\.co|myworkdayjobs\.com|"
          r"myworkdaysite\.com")
#: A board-looking URL anywhere in a page (attribute, script, text), with or without scheme:
#: its host, then its path and query.
_BOARD_URL = re2.compile(
    r"(?i)((?:[a-z0-9-]+\.)+(?:" + _HOSTS + r"))((?:[/?][^\s\"'<>\\`()\[\]{}]*)?)")
_JSONLD_BLOCK = re2.compile(r"(?i)<script[^>]{0,400}application/ld\+json")
_JOBPOSTING_TYPE = re2.compile(
    r"(?i)\"@type\"\s*:\s*(?:\[[^\]]{0,400})?\"(?:https?://schema\.org/)?JobPosting\"")
_MICRODATA = re2.compile(r"(?i)itemtype\s*=\s*[\"']?https?://schema\.org/JobPosting")
_FEED_ROOT = re2.compile(r"(?i)^\s*(?:<\?xml[^>]{0,200}>\s*)?(?:<!--[^>]*-->\s*)*"
                         r"<(?:rss|feed)\b")
_COMEET_UID_FIELD = re2.compile(r"\"company_uid\"\s*:\s*\"([0-9A-Fa-f]{2}\.[0-9A-Fa-f]{3})\"")
_COMEET_TOKEN_FIELD = re2.compile(r"\"token\"\s*:\s*\"([0-9A-Za-z]{8,128})\"")
_COMEET_NAME_FIELD = re2.compile(r"^COMPANY_DATA\s*=\s*\{\s*\"name\"\s*:\s*\"([^\"\\\\]{1,100})\"")
COMEET_DATA_CHARS = 20_000  # of a page after `COMPANY_DATA` looked at


def page_text(body: bytes | str) -> str:
    """At most MAX_HTML characters of a page, decoded leniently, JSON-escaped slashes
    ("https:\\/\\/...") read as slashes."""
    if isinstance(body, bytes):
        body = body[: MAX_HTML * 4].decode("utf-8", errors="replace")
    return body[:MAX_HTML].replace("\\/", "/")


def _bounded(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a whole host name: not part of a longer name, nor the
    domain of an e-mail address, nor followed by more labels (acme.recruitee.com.evil.io)."""
    before = text[start - 1] if start > 0 else " "
    after, then = text[end:end + 1], text[end + 1:end + 2]
    if before.isalnum() or before in ".-_@":
        return False
    return not (after.isalnum() or after in ("-", "_") or (after == "." and then.isalnum()))


def find_embeds(body: bytes | str) -> list[Detected]:
    """The boards a page points at, in page order, once each: script and iframe sources,
    links and URLs in scripts on the known ATS hosts (`boards.greenhouse.io/embed/job_board/
    js?for=acme`, `jobs.ashbyhq.com/acme/embed`, `acme.bamboohr.com/js/embed.js`, ...), and a
    Comeet page's COMPANY_DATA. At most MAX_FOUND boards from MAX_CANDIDATES URLs."""
    text = page_text(body)
    found: dict[tuple[str, str], Detected] = {}
    comeet = _comeet_data(text)
    if comeet is not None:
        found[(comeet.type, comeet.token)] = comeet  # with its API token: the better entry
    for i, m in enumerate(_BOARD_URL.finditer(text)):
        if i >= MAX_CANDIDATES or len(found) >= MAX_FOUND:
            break
        if not _bounded(text, *m.span(1)):
            continue
        candidate = "https://" + m.group(1) + htmllib.unescape(m.group(2)[:MAX_URL])
        try:
            d = detect_url(candidate[:MAX_URL])
        except Refused:
            continue
        if d is not None and d.type not in ("feed", "jsonld"):
            found.setdefault((d.type, d.token), d)
    return list(found.values())


def _comeet_data(text: str) -> Detected | None:
    """The Comeet board of a page carrying `COMPANY_DATA = {..., "company_uid": "E2.00D",
    "token": "..."}` (a Comeet careers page, or a site embedding Comeet's widget)."""
    at = text.find("COMPANY_DATA")
    if at < 0:
        return None
    chunk = text[at:at + COMEET_DATA_CHARS]
    uid, api_token = _COMEET_UID_FIELD.search(chunk), _COMEET_TOKEN_FIELD.search(chunk)
    if not uid or not api_token:
        return None
    company = uid.group(1).upper()
    name = _COMEET_NAME_FIELD.search(chunk)
    try:
        return checked(_make("comeet", company, comeet_api_url(company, api_token.group(1)),
                             "comeet", name.group(1) if name else ""))
    except Refused:
        return None


def has_job_postings(body: bytes | str) -> bool:
    """Whether a page carries schema.org JobPosting data: a JSON-LD block with a JobPosting
    @type, or JobPosting microdata (what the `jsonld` type reads)."""
    text = page_text(body)
    if _MICRODATA.search(text):
        return True
    return bool(_JSONLD_BLOCK.search(text) and _JOBPOSTING_TYPE.search(text))


def is_feed(body: bytes | str) -> bool:
    """Whether a body is an RSS or Atom document (its root element, after an XML
    declaration and comments)."""
    return bool(_FEED_ROOT.search(page_text(body[:4096])))


def sniff_page(url: str, body: bytes | str) -> list[Detected]:
    """What a fetched page (at `url`, after redirects) can be read as: the board its URL
    names, else the boards it embeds, else a feed, else a jsonld page; [] when none.
    Refused when `url` is not a usable URL."""
    d = detect_url(url)
    if d is not None and d.note is None and d.type not in ("feed", "jsonld"):
        return [d]
    embeds = find_embeds(body)
    if embeds:
        return embeds
    if d is not None and d.type not in ("feed", "jsonld"):
        return [d]  # e.g. a Comeet careers page without COMPANY_DATA: with its note
    u = parse_url(url)
    if is_feed(body):
        return [checked(Detected("feed", "", u.url, host_name(u.host)))]
    if has_job_postings(body):
        return [checked(Detected("jsonld", "", u.url, host_name(u.host)))]
    return []


def jsonld_hint(url: str) -> dict[str, str]:
    """The jsonld entry to suggest for a page nothing was found on (Refused for a URL that
    is not usable)."""
    u = parse_url(url)
    return {"name": host_name(u.host), "type": "jsonld", "url": u.url}
