"""The words the API, the operator and the runner share, each spelled once here: the board
types (the CRD's enum, descriptions and CEL rules, the board registry, the command line), the
filter on remoteness, and the board states and run results a run reports (the CRD's enums,
the runner, the store, metrics and `jobscrape status`)."""

from __future__ import annotations

from typing import Literal, get_args

BoardType = Literal["greenhouse", "lever", "ashby", "workable", "smartrecruiters", "recruitee",
                    "personio", "jsonld", "feed", "workday", "bamboohr", "teamtailor",
                    "breezy", "rippling", "gem", "pinpoint", "comeet", "arbeitnow", "themuse",
                    "hackernews"]
#: Every board type, in the order the API lists them; boards/<type>.py is its adapter.
BOARD_TYPES: tuple[str, ...] = get_args(BoardType)
#: Board types addressed by a URL (a page with schema.org JobPosting data, an RSS/Atom feed).
URL_TYPES: tuple[str, ...] = ("jsonld", "feed")
#: The applicant-tracking systems and aggregators, addressed by a token (for an aggregator
#: the token is a free label, part of its postings' ids).
ATS_TYPES: tuple[str, ...] = tuple(t for t in BOARD_TYPES if t not in URL_TYPES)
#: Job sites that list many companies' postings.
AGGREGATOR_TYPES: tuple[str, ...] = ("arbeitnow", "themuse", "hackernews")
#: What a board type is, where its name does not say it (for the CRD's descriptions).
BOARD_TYPE_NOTES: dict[str, str] = {
    "jsonld": "schema.org JobPosting pages (JSON-LD or microdata)", "feed": "RSS/Atom",
    "workday": "token {tenant}.wd{N}/{site}", "comeet": "token {company uid}:{careers token}",
    "hackernews": "the monthly Who is hiring? thread", "arbeitnow": "aggregator",
    "themuse": "aggregator"}

#: spec.filters.remote: keep every posting, only remote ones, or none of the remote ones.
RemoteFilter = Literal["any", "only", "exclude"]
REMOTE_FILTERS: tuple[str, ...] = get_args(RemoteFilter)

BoardState = Literal["OK", "Empty", "NotFound", "RateLimited", "Failing"]
#: Every state a board can be in after a run: fetched fine, with postings or without; no such
#: board (404); the host answered 429 past the retries or asked to come back later than a run
#: waits (its Retry-After in the message); failed otherwise.
BOARD_STATES: tuple[str, ...] = get_args(BoardState)
#: The states of a board that is up: fetched fine, with postings or without.
OK_STATES: tuple[str, ...] = ("OK", "Empty")

RunResult = Literal["Succeeded", "PartiallyFailed", "Failed"]
#: A run's result: every board up, some, or none.
RUN_RESULTS: tuple[str, ...] = get_args(RunResult)
