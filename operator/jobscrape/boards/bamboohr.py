"""BambooHR careers: `GET {company}.bamboohr.com/careers/list`, one detail per posting.

The token is the company's subdomain (a DNS label). The list holds the whole board, no paging:
`result[]` of `{id, jobOpeningName, departmentLabel, employmentStatusLabel, employmentType,
location{city,state}, atsLocation{country,state,province,city}, isRemote, locationType}`;
usually only one of location/atsLocation is filled. Titles and cities may end in spaces. No URL
is given: the job page is `https://{company}.bamboohr.com/careers/{id}`, built from the token,
which is also the company (BambooHR names none).
A board.url override replaces the list endpoint.

Remote only where the meaning is known: isRemote=true comes with locationType "1", so either
says remote; locationType "0" and "2" and isRemote false or null are unknown.

The detail, `GET .../careers/{id}/detail` (relative to the list URL, an override's too), gives
`result.jobOpening.description` (HTML), `compensation` (free text or null) and `datePosted`
(YYYY-MM-DD). The pay is taken only when the text is one amount or one range and nothing else:
a currency sign or code, thousands separators, "k", and a period ("per year", "/hr",
"annually") may come with it; any other word ("DOE", "plus bonus", "up to") leaves it out, as
do "$" (several currencies use it: the amounts are kept, the currency is not) and figures a
reader could take two ways ("80.000"). Title, department and locations stay the list's, so
that a posting reads the same with or without its detail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.normalise import (
    as_dict,
    as_str,
    build_posting,
    describe,
    employment_type,
    endpoint,
    host_label,
    join_parts,
    load_json,
    make_salary,
    map_items,
    parse_datetime,
    require_list,
    require_str,
    unique,
)
from jobscrape.postings import Posting, Remote, Salary, SalaryPeriod, safe_url

TYPE = "bamboohr"
#: 2: the company is the subdomain (see boards.base.parser_version)
PARSER_VERSION = 2
_ID = re.compile(r"[A-Za-z0-9_-]+")  # what a posting id may be to go into a URL path

# --- compensation: one amount or one range, a currency and a period at most
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"  # not "80.000", not "1,5"
#: The currency codes taken (an unknown three letters, "DOE" say, leaves the pay out).
CURRENCY_CODES = frozenset((
    "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "ISK", "PLN", "CZK",
    "HUF", "RON", "BGN", "JPY", "CNY", "HKD", "SGD", "INR", "ZAR", "BRL", "MXN", "ILS", "AED",
    "TRY",
))
_DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN"})
_SYMBOLS = {"€": "EUR", "£": "GBP"}


def _money(n: int) -> str:
    return (rf"(?:(?P<pre{n}>[$€£]|[A-Z]{{3}})\s?)?(?P<amount{n}>{_AMOUNT})(?P<k{n}>[kK])?"
            rf"(?:\s?(?P<post{n}>[A-Z]{{3}}))?")


_PERIODS = {
    "hour": SalaryPeriod.HOUR, "hr": SalaryPeriod.HOUR, "hourly": SalaryPeriod.HOUR,
    "day": SalaryPeriod.DAY, "daily": SalaryPeriod.DAY,
    "week": SalaryPeriod.WEEK, "wk": SalaryPeriod.WEEK, "weekly": SalaryPeriod.WEEK,
    "month": SalaryPeriod.MONTH, "mo": SalaryPeriod.MONTH, "monthly": SalaryPeriod.MONTH,
    "year": SalaryPeriod.YEAR, "yr": SalaryPeriod.YEAR, "annum": SalaryPeriod.YEAR,
    "yearly": SalaryPeriod.YEAR, "annually": SalaryPeriod.YEAR, "annual": SalaryPeriod.YEAR,
}
_PER = (r"(?i:(?:per|a|an)\s+|/\s?)"
        r"(?P<per>(?i:hour|hr|day|week|wk|month|mo|year|yr|annum))")
_ADVERB = r"(?P<adverb>(?i:hourly|daily|weekly|monthly|yearly|annually|annual))"
_COMPENSATION = re.compile(
    rf"{_money(1)}(?:\s*(?:-|\u2013|\u2014|(?i:to))\s*{_money(2)})?(?:\s*(?:{_PER}|{_ADVERB}))?\.?"
)


def first_url(board: BoardRef) -> str:
    """The company's whole board."""
    return endpoint(board, lambda _: f"https://{host_label(board)}.bamboohr.com/careers/list")


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All postings of the board (BambooHR does not page)."""
    result = require_list(load_json(body, TYPE), "result", TYPE)
    return map_items(result, lambda item: _posting(item, board), f"{TYPE}: result")


def _posting(item: Mapping[str, Any], board: BoardRef) -> Posting:
    posting_id = require_str(item, "id")
    place = as_dict(item.get("location"))
    ats = as_dict(item.get("atsLocation"))
    locations = unique([
        join_parts(place.get("city"), place.get("state")),
        join_parts(ats.get("city"), ats.get("state") or ats.get("province"), ats.get("country")),
    ])
    return build_posting(
        board, TYPE, posting_id, require_str(item, "jobOpeningName"),
        url=_job_page(board, posting_id),
        company=board.token or None,
        department=as_str(item.get("departmentLabel")),
        locations=locations,
        remote=_remote(item),
        employment_type=employment_type(item.get("employmentStatusLabel"),
                                        item.get("employmentType")),
    )


def _remote(fields: Mapping[str, Any]) -> Remote:
    """TRUE for isRemote=true or locationType "1"; UNKNOWN otherwise (see above)."""
    if fields.get("isRemote") is True or as_str(fields.get("locationType")) == "1":
        return Remote.TRUE
    return Remote.UNKNOWN


def _job_page(board: BoardRef, posting_id: str) -> str | None:
    """The public job page, from the token; None when the token is not a DNS label."""
    try:
        company = host_label(board)
    except ValueError:
        return None
    return f"https://{company}.bamboohr.com/careers/{quote(posting_id, safe='')}"


def detail_url(posting: Posting, board: BoardRef) -> str | None:
    """`{id}/detail` next to the list URL; None for an id that is not a plain word."""
    if not _ID.fullmatch(posting.source_id):
        return None
    try:
        base = first_url(board)
    except ValueError:
        return None
    url = urljoin(base, f"{posting.source_id}/detail")
    there, here = urlsplit(url), urlsplit(base)
    return url if (there.scheme, there.netloc) == (here.scheme, here.netloc) else None


def parse_detail(body: bytes, posting: Posting, board: BoardRef) -> Posting:
    """The posting with the detail's description, pay and date posted (and remote, when the
    list did not tell); the rest stays the list's."""
    doc = load_json(body, TYPE)
    opening = as_dict(doc).get("result")
    opening = as_dict(opening).get("jobOpening") if isinstance(opening, dict) else None
    if not isinstance(opening, dict):
        raise ParseError(f"{TYPE}: expected an object under 'result.jobOpening'")
    content = opening.get("description")
    body_html, body_text = describe(content if isinstance(content, str) else None)
    return build_posting(
        board, TYPE, posting.source_id, posting.title,
        url=posting.url or safe_url(as_str(opening.get("jobOpeningShareUrl"))),
        apply_url=posting.apply_url,
        company=posting.company,
        department=posting.department,
        locations=posting.locations,
        remote=posting.remote if posting.remote is not Remote.UNKNOWN else _remote(opening),
        employment_type=posting.employment_type,
        salary=compensation(opening.get("compensation")) or posting.salary,
        posted_at=parse_datetime(opening.get("datePosted")) or posting.posted_at,
        updated_at=posting.updated_at,
        description_html=body_html,
        description_text=body_text,
    )


def compensation(value: object) -> Salary | None:
    """A Salary from BambooHR's free-text compensation when it is unambiguous (see the
    module's description), else None."""
    text = as_str(value)
    if text is None or len(text) > 120:
        return None
    m = _COMPENSATION.fullmatch(text)
    if m is None:
        return None
    marks = [m[f"{where}{n}"] for n in (1, 2) for where in ("pre", "post")]
    codes = {c for c in marks if c and c.isalpha()}
    symbols = {c for c in marks if c and not c.isalpha()}
    if len(codes) > 1 or len(symbols) > 1 or not codes <= CURRENCY_CODES:
        return None  # "$10 - €20", "USD 10 - 20 EUR", "50k DOE"
    code = next(iter(codes), None)
    symbol = next(iter(symbols), None)
    if symbol is not None and code is not None and not (
            code in _DOLLARS if symbol == "$" else _SYMBOLS[symbol] == code):
        return None  # "€50,000 USD"
    currency = code or (_SYMBOLS.get(symbol) if symbol else None)
    low = _amount(m["amount1"], m["k1"])
    high = _amount(m["amount2"], m["k2"]) if m["amount2"] else low
    if high < low:
        return None
    period = (m["per"] or m["adverb"] or "").lower()
    return make_salary(low, high, currency, _PERIODS.get(period, SalaryPeriod.UNKNOWN))


def _amount(figure: str, k: str | None) -> float:
    value = float(figure.replace(",", ""))
    return value * 1000 if k else value
