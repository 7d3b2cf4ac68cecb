"""Ashby Posting API: `GET api.ashbyhq.com/posting-api/job-board/{board}?includeCompensation=true`.

One page holds every job. Jobs with `isListed: false` are not on the public board and are
skipped. `isRemote` and `workplaceType` may disagree; `workplaceType` ("Remote", "Hybrid",
"OnSite") wins when present, since it is the finer field (a hybrid job may carry
isRemote=true). Pay comes from the first `compensation.summaryComponents` entry of type
"Salary"; its interval reads like "1 YEAR". Without one, the pay is read from the summary
texts (`scrapeableCompensationSalarySummary`, `compensationTierSummary`: "$150K - $200K,
Offers Equity") when they state exactly one amount or range. A board.url override replaces
the endpoint; `includeCompensation=true` is added when it is missing. Ashby names no company:
the company is the job board's name (the token).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from jobscrape.boards.base import BoardRef, Page
from jobscrape.boards.normalise import (
    as_dict,
    as_list,
    as_str,
    build_posting,
    describe,
    employment_type,
    endpoint,
    load_json,
    make_salary,
    map_items,
    parse_datetime,
    remote_from_flag,
    remote_from_workplace,
    require_list,
    require_str,
    salary_period,
    unique,
)
from jobscrape.boards.paytext import one_salary
from jobscrape.postings import Posting, Salary

TYPE = "ashby"
#: 2: the company is the board name, pay from the summary texts (see
#: boards.base.parser_version)
PARSER_VERSION = 2


def first_url(board: BoardRef) -> str:
    """The board's job list, with compensation."""
    return endpoint(
        board,
        lambda name: f"https://api.ashbyhq.com/posting-api/job-board/{quote(name, safe='')}"
        "?includeCompensation=true",
        {"includeCompensation": "true"},
    )


def parse(body: bytes, board: BoardRef, url: str) -> Page:
    """All listed postings of the board (Ashby does not page)."""
    jobs = require_list(load_json(body, TYPE), "jobs", TYPE)
    return map_items(jobs, lambda job: _posting(job, board), f"{TYPE}: jobs")


def _posting(job: Mapping[str, Any], board: BoardRef) -> Posting | None:
    if job.get("isListed") is False:
        return None
    secondary = [as_dict(s).get("location") for s in as_list(job.get("secondaryLocations"))]
    remote = remote_from_workplace(job.get("workplaceType")) or remote_from_flag(
        job.get("isRemote")
    )
    body_html, body_text = describe(as_str(job.get("descriptionHtml")))
    return build_posting(
        board, TYPE, require_str(job, "id"), require_str(job, "title"),
        url=as_str(job.get("jobUrl")),
        apply_url=as_str(job.get("applyUrl")),
        company=board.token or None,
        department=as_str(job.get("department")) or as_str(job.get("team")),
        locations=unique([job.get("location"), *secondary]),
        remote=remote,
        employment_type=employment_type(job.get("employmentType")),
        salary=_salary(job.get("compensation")),
        posted_at=parse_datetime(job.get("publishedAt")),
        description_html=body_html,
        description_text=body_text,
    )


def _salary(compensation: object) -> Salary | None:
    """The first "Salary" summary component; else the pay the summary texts state, when they
    state exactly one amount or range (boards.paytext)."""
    comp = as_dict(compensation)
    for part in map(as_dict, as_list(comp.get("summaryComponents"))):
        if part.get("compensationType") == "Salary":
            return make_salary(
                part.get("minValue"), part.get("maxValue"), part.get("currencyCode"),
                salary_period(part.get("interval")),
            )
    texts = [as_str(comp.get(k)) for k in ("scrapeableCompensationSalarySummary",
                                            "compensationTierSummary")]
    return one_salary([t for t in texts if t])
