"""Pay stated in free text ("$150K - $200K", "185,000 - 200,000 USD", "€60k a year"): read
only when the text states exactly one amount or range in one currency, as Hacker News posts,
Lever's salary description and Ashby's compensation summary do. A helper of the adapters,
not one itself.

Money is an amount with a currency sign, one in thousands ("k"), or one of four digits or more
in a text that names a currency code; "401k" is not pay. "$" is USD unless a dollar code says
otherwise; currencies that disagree make the text ambiguous (no salary). The period is the one
the text names ("per year", "/hr", "annually"); amounts in thousands without one are yearly;
otherwise unknown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from jobscrape.boards.normalise import amount
from jobscrape.postings import Salary, SalaryPeriod

MAX_TEXT = 2000  # characters of a pay text that are read

_SYMBOLS = {"us$": "USD", "ca$": "CAD", "c$": "CAD", "a$": "AUD", "au$": "AUD", "$": "$",
            "€": "EUR", "£": "GBP", "₹": "INR"}
_DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD"})
_CODES = frozenset({"USD", "EUR", "GBP", "CAD", "AUD", "NZD", "SGD", "HKD", "CHF", "SEK", "NOK",
                    "DKK", "PLN", "CZK", "INR", "JPY", "ILS", "BRL", "MXN", "ZAR"})
_AMOUNT = (  # a number is read whole (atomic group) and never from its middle (look-behind)
    r"(?:(?P<{p}sym>US\$|CA\$|AU\$|C\$|A\$|[$€£₹])\s?)?(?<![\d.,])"
    r"(?P<{p}num>(?>(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?))"
    r"(?P<{p}k>\s?[kK](?![a-zA-Z]))?"
)
_PAY = re.compile(
    _AMOUNT.format(p="a") + r"(?:\s*(?:[-\u2013\u2014]|to)\s*" + _AMOUNT.format(p="b") + r")?"
    r"(?P<more>\s*\+)?(?![\d%]|\s?[mM]\b)"
)
_CODE = re.compile(r"\b([A-Z]{3})\b")
_DIGIT = re.compile(r"\d")  # what every amount of _PAY holds
_PERIODS = (
    (re.compile(r"(?:\bper|\ba|\ban|/)\s*(?:year|yr|annum)\b|\bannual(?:ly)?\b|\byearly\b"
                r"|\bp\.?a\b", re.I), SalaryPeriod.YEAR),
    (re.compile(r"(?:\bper|\ban|/)\s*(?:hour|hr|h)\b|\bhourly\b", re.I), SalaryPeriod.HOUR),
    (re.compile(r"(?:\bper|\ba|/)\s*(?:month|mo)\b|\bmonthly\b", re.I), SalaryPeriod.MONTH),
    (re.compile(r"(?:\bper|\ba|/)\s*(?:week|wk)\b|\bweekly\b", re.I), SalaryPeriod.WEEK),
    (re.compile(r"(?:\bper|\ba|/)\s*day\b|\bdaily\b", re.I), SalaryPeriod.DAY),
)


def money_in(text: str) -> list[re.Match[str]]:
    """The amounts in the text that are pay: with a currency sign, in thousands ("k"), or of
    four digits or more in a text naming a currency code ("185,000 - 200,000 USD")."""
    coded = any(code in _CODES for code in _CODE.findall(text))
    return [m for m in _PAY.finditer(text)
            if (m["asym"] or m["bsym"] or m["ak"] or m["bk"]
                or (coded and len(m["anum"].split(".")[0].replace(",", "")) >= 4))
            and m.group(0).strip() != "401k"]


def one_salary(texts: Sequence[str]) -> Salary | None:
    """The one salary the pay fields state; None when there is none or more than one."""
    found = {s for s in map(salary_in_text, texts) if s is not None}
    return found.pop() if len(found) == 1 else None


def salary_in_text(text: str) -> Salary | None:
    """The field's salary when it states exactly one amount or range in one currency (only
    the first MAX_TEXT characters are read: board text is unbounded)."""
    text = text[:MAX_TEXT]
    if not _DIGIT.search(text):  # no amount (the common empty text): a quicker search
        return None
    matches = money_in(text)
    if len(matches) != 1:
        return None
    m = matches[0]
    currency = _currency([m["asym"], m["bsym"]], _CODE.findall(text))
    if currency == "?":
        return None
    lo = amount(m["anum"].replace(",", ""))
    high = amount(m["bnum"].replace(",", "")) if m["bnum"] else None
    if lo is None or (m["bnum"] and high is None):
        return None  # zero, or too large to be a number
    if m["ak"] or m["bk"]:
        lo = lo * 1000 if m["ak"] or lo < 1000 else lo
        if high is not None:
            high = high * 1000 if m["bk"] or high < 1000 else high
    if not math.isfinite(lo) or (high is not None and not math.isfinite(high)):
        return None
    if high is None:
        high = None if m["more"] else lo
    elif lo > high:
        lo, high = high, lo
    periods = {period for pattern, period in _PERIODS if pattern.search(text)}
    if len(periods) == 1:
        period = periods.pop()
    elif not periods and (m["ak"] or m["bk"]):
        period = SalaryPeriod.YEAR
    else:
        period = SalaryPeriod.UNKNOWN
    return Salary(min=lo, max=high, currency=currency, period=period)


def _currency(symbols: Sequence[str | None], words: Sequence[str]) -> str | None:
    """The one currency the signs and codes name ("$" is USD unless a dollar code says
    otherwise); None when none is named, "?" when they disagree."""
    named = {_SYMBOLS[s.lower()] for s in symbols if s}
    codes = {w for w in words if w in _CODES}
    if "$" in named:
        named.discard("$")
        dollar_codes = codes & _DOLLARS
        named |= dollar_codes if dollar_codes else {"USD"}
    named |= codes
    if len(named) > 1:
        return "?"
    return next(iter(named), None)
