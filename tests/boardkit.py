"""The board types' captured payloads for tests that go over every type (fuzzing, the parse
pool): one fixture per type and a token each type's alphabet accepts (a module of its own,
imported as `boardkit`: tests/ is on the path, as for `waiting`)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

from jobscrape.boards.base import BoardRef

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "boards"

#: One captured payload per board type (its first page, for the paged ones).
FIXTURE_FILES = {
    "greenhouse": "greenhouse_jobs_content.json",
    "lever": "lever_postings.json",
    "ashby": "ashby_job_board.json",
    "workable": "workable_widget_details.json",
    "smartrecruiters": "smartrecruiters_postings.json",
    "recruitee": "recruitee_offers.json",
    "personio": "personio_xml.xml",
    "jsonld": "jsonld_jobposting_google_example.html",
    "feed": "rss_jobs.xml",
    "workday": "workday_list_hitachi.json",
    "bamboohr": "bamboohr_list_collectivemeasures.json",
    "teamtailor": "teamtailor_rss_ferd.xml",
    "breezy": "breezy_json_gacc.json",
    "rippling": "rippling_v1_jobs_rippling_trimmed.json",
    "gem": "gem_job_posts_gem_trimmed.json",
    "pinpoint": "pinpoint_postings_workwithus_trimmed.json",
    "comeet": "comeet_positions_wiliot_trimmed.json",
    "arbeitnow": "arbeitnow_api_page1_full.json",
    "themuse": "themuse_jobs_page0_20240317.json",
    "hackernews": "hn_algolia_search_comments_story47975571_may2026.json",
}
#: Tokens where a type's alphabet is not a plain name.
TOKENS = {"workday": "acme.wd5/External", "comeet": "F6.003:0a1b2c3d"}
#: URLs of the boards whose fixture is not what their default first URL serves (Hacker News
#: starts with a story search; its fixture is the thread's comment search).
URLS = {"jsonld": "https://boards.test/page", "feed": "https://boards.test/page",
        "hackernews": "https://hn.algolia.com/api/v1/search?tags=comment,story_47975571"
                      "&hitsPerPage=1000"}


def board_of(kind: str, name: str = "b") -> BoardRef:
    """A board of `kind` with a valid token, and a URL where its fixture needs one."""
    return BoardRef(name=name, type=kind, token=TOKENS.get(kind, "acme"), url=URLS.get(kind))


def payload(kind: str) -> bytes:
    """The captured payload of `kind` as a board serves it. Pinpoint's capture kept only the
    `data` array of its response: it is put back in its envelope."""
    body = (FIXTURES / FIXTURE_FILES[kind]).read_bytes()
    return b'{"data": ' + body + b"}" if kind == "pinpoint" else body


#: postings each type's capture holds, as its adapter reads them (see the parser tests)
EXPECTED = {
    "greenhouse": 2, "lever": 2, "ashby": 2, "workable": 2, "smartrecruiters": 2,
    "recruitee": 2, "personio": 1, "jsonld": 1, "feed": 3, "workday": 20, "bamboohr": 4,
    "teamtailor": 3, "breezy": 4, "rippling": 2, "gem": 2, "pinpoint": 2, "comeet": 1,
    "arbeitnow": 100, "themuse": 20, "hackernews": 234,
}


#: Hypothesis settings of the parsers' fuzz tests: JOBSCRAPE_FUZZ_EXAMPLES examples per test
#: (60 by default, for a suite that stays fast; raise it to fuzz deeper)
FUZZ = settings(max_examples=int(os.environ.get("JOBSCRAPE_FUZZ_EXAMPLES", "60")),
                deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.function_scoped_fixture])
