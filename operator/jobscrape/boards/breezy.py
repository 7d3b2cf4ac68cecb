"""Breezy HR public board: `GET {company}.breezy.hr/json`.

The body is a bare JSON array holding the whole board (Breezy does not page). The id is `id`,
the title `name`, the job page `url` (the list has no separate apply URL), the date
`published_date`. Locations come from `locations` (every location of the job; often empty),
else from the primary `location`: each is its `name` ("New York, NY"), else its city, state
and country names. Remote: a location's `remote_details.value` ("hybrid") wins over its
`is_remote` flag, since a hybrid job carries `is_remote: true`; the primary location is asked
first; a job whose locations say neither is unknown. `type.id` (fullTime, contract,
temporary, other) is the employment type, `company.name` the company (else the board token).

`salary` is free text ("$75,000 - $85,000" with an en dash, "$165,000 - $180,000 / year",
"$110,000+ / year", ""). It becomes a pay range only when the whole text reads as one amount
or one range with an optional currency and period; anything more ("DOE", "+ bonus",
"75.000 €") or a bare number is left out rather than guessed at. "$" is the dollar of the
primary location's country (US, CA, AU, NZ), else the currency stays unknown.
A board.url override replaces the endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jobscrape.boards.base import BoardRef, Page, ParseError
from jobscrape.boards.normalise import (
    as_dict,
    as_list,
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
    remote_from_flag,
    remote_from_workplace,
    require_str,
    salary_period,
    unique,
)
from jobscrape.postings import Posting, Remote, Salary, SalaryPeriod

TYPE = "breezy"


def first_url(board: BoardRef) -> str:
    """The company's whole board."""
    return endpoint(board, lambda _: f"https://{host_label(board)}.breezy.hr/json")


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All postings of the board (Breezy does not page)."""
    doc = load_json(body, TYPE)
    if not isinstance(doc, list):
        raise ParseError(f"{TYPE}: expected a JSON array of positions, got {type(doc).__name__}")
    return map_items(doc, lambda item: _posting(item, board), f"{TYPE}: positions")


def _posting(item: Mapping[str, Any], board: BoardRef) -> Posting:
    primary = as_dict(item.get("location"))
    others = [as_dict(loc) for loc in as_list(item.get("locations"))]
    places = [_place(loc) for loc in others]
    if not any(places):
        places = [_place(primary)]
    kind = as_dict(item.get("type"))
    country = as_str(as_dict(primary.get("country")).get("id"))
    body_html, body_text = describe(as_str(item.get("description")))
    return build_posting(
        board, TYPE, require_str(item, "id"), require_str(item, "name"),
        url=as_str(item.get("url")),
        company=as_str(as_dict(item.get("company")).get("name")) or board.token or None,
        department=as_str(item.get("department")),
        locations=unique(places),
        remote=next((r for r in map(_remote, [primary, *others]) if r is not Remote.UNKNOWN),
                    Remote.UNKNOWN),
        employment_type=employment_type(kind.get("id"), kind.get("name")),
        salary=_pay_from_text(item.get("salary"), country),
        posted_at=parse_datetime(item.get("published_date")),
        description_html=body_html,
        description_text=body_text,
    )


def _place(location: Mapping[str, Any]) -> str | None:
    return as_str(location.get("name")) or join_parts(
        location.get("city"),
        as_dict(location.get("state")).get("name"),
        as_dict(location.get("country")).get("name"),
    )


def _remote(location: Mapping[str, Any]) -> Remote:
    """A location's remote signal: its remote_details value, else its is_remote flag."""
    details = as_dict(location.get("remote_details"))
    return remote_from_workplace(details.get("value")) or remote_from_flag(
        location.get("is_remote")
    )


# ----------------------------------------------------------------------------- free-text pay
# One amount or one range, each with an optional currency before or after it, an optional
# "+" (open upper bound) or leading "up to", and an optional period ("/ year", "per hour",
# "an hour", "yearly"). Nothing else may be in the text.

_CODES = ("USD|EUR|GBP|CAD|AUD|NZD|CHF|SEK|NOK|DKK|PLN|CZK|HUF|RON|INR|JPY|SGD|HKD|ZAR|BRL|MXN"
          "|ILS|AED")
_CURRENCY = rf"(?:US\$|CA\$|C\$|AU\$|A\$|NZ\$|\$|€|£|₹|(?:{_CODES})(?![A-Za-z]))"
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?(?![\d.,]\d)"


def _amount(name: str) -> str:
    return (rf"(?:(?P<{name}_pre>{_CURRENCY})\s?)?(?P<{name}>{_NUMBER})(?P<{name}_k>[kK])?"
            rf"(?:\s?(?P<{name}_post>{_CURRENCY}))?")


_PAY_TEXT = re.compile(
    rf"(?P<upto>(?i:up\s+to)\s+)?{_amount('lo')}"
    rf"(?:\s*(?:-|\u2013|\u2014|(?i:to))\s*{_amount('hi')})?"  # hyphen, en or em dash, "to"
    r"\s*(?P<plus>\+)?"
    r"(?:\s*(?:/|(?i:per|an?)\s)\s*(?P<per>[A-Za-z]+)"
    r"|\s+(?P<ly>(?i:hourly|daily|weekly|monthly|yearly|annually)))?"
)
_SYMBOLS = {"US$": "USD", "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD", "NZ$": "NZD",
            "€": "EUR", "£": "GBP", "₹": "INR"}
_DOLLAR_OF_COUNTRY = {"US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD"}
_DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"})
_PERIOD_ABBREVIATIONS = {"yr": "year", "hr": "hour", "mo": "month", "wk": "week"}


def _pay_from_text(value: object, country: str | None = None) -> Salary | None:
    """The pay range a free-text salary states unambiguously ("$75,000 - $85,000",
    "€50k / year", "$110,000+ / year", "up to £30 per hour"); None for anything else,
    including a bare number (no currency, no period). A bare "$" is the dollar of `country`
    (an ISO 3166 alpha-2 code) when it has one, else the currency is None; currencies that
    disagree make the text ambiguous."""
    text = as_str(value)
    if text is None or len(text) > 100:
        return None
    m = _PAY_TEXT.fullmatch(text)
    if m is None or (m["hi"] and (m["upto"] or m["plus"])):
        return None
    marks = [m[g] for g in ("lo_pre", "lo_post", "hi_pre", "hi_post") if m[g]]
    if not marks and not (m["per"] or m["ly"]):
        return None  # a bare number says neither money nor pay
    agreed, currency = _currency(marks, country)
    period = _period(m["per"] or m["ly"])
    if not agreed or period is None:
        return None
    first = _number(m["lo"], m["lo_k"])
    second = _number(m["hi"], m["hi_k"]) if m["hi"] else None
    if second is not None and m["hi_k"] and not m["lo_k"] and first < 1000:
        first *= 1000  # "$50-60k"
    low: float | None = first
    high: float | None = second
    if m["upto"]:
        low, high = None, first
    elif m["plus"]:
        high = None
    elif second is None:
        high = first
    return make_salary(low, high, currency, period)


def _number(digits: str, thousands: str | None) -> float:
    """The amount the digits ("75,000", "12.5") and an optional "k" suffix say."""
    return float(digits.replace(",", "")) * (1000 if thousands else 1)


def _currency(marks: list[str], country: str | None) -> tuple[bool, str | None]:
    """(whether the currency marks agree, the ISO code they name or None when unknown)."""
    codes = {_SYMBOLS.get(mark, mark) for mark in marks if mark != "$"}
    if len(codes) > 1 or ("$" in marks and not codes <= _DOLLARS):
        return False, None
    if codes:
        return True, codes.pop()
    if "$" in marks:
        return True, _DOLLAR_OF_COUNTRY.get((country or "").upper())
    return True, None


def _period(word: str | None) -> SalaryPeriod | None:
    """The period a word names; UNKNOWN without one; None (ambiguous) for another word."""
    if word is None:
        return SalaryPeriod.UNKNOWN
    word = word.lower()
    period = salary_period(_PERIOD_ABBREVIATIONS.get(word, word))
    return None if period is SalaryPeriod.UNKNOWN else period
