"""Boards with a detail per posting, fetched through the local board server: Workday's POSTed,
offset-paged list and its details, BambooHR's list and details; the detail cap, the host's
rate limit, the parse limits and the conditional-request shortcut covering details; a failed
detail keeping its posting's list data; an outage page failing only its board.

Until the lead registers `workday` and `bamboohr` (api/vocabulary.py), the fetcher is handed
their modules (`adapter_for`), so pages are parsed in threads; once they are registered, the
same tests run through the worker processes, and so does the one skipped until then.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from jobscrape.boards import BOARD_TYPES, bamboohr, get_adapter, workday
from jobscrape.boards.base import Adapter, BoardRef
from jobscrape.httpcache import Validators
from jobscrape.postings import EmploymentType
from jobscrape.runner import fetch as fetch_mod
from jobscrape.runner.fetch import FetchOptions, fetch_boards
from jobscrape.runner.parsepool import Body, Parsed, ParseRequest, ParseTimeout, ThreadParser
from jobscrape.runner.ratelimit import HostRateLimiter

FAST = dict(allow_private_networks=True, backoff_base=0.01, backoff_max=0.05,
            requests_per_second_per_host=1000)
REGISTERED = {"workday", "bamboohr"} <= set(BOARD_TYPES)
HITACHI = "/job/Kocaeli-Kocaeli-Turkey/Maintenance-Worker_R0119001"
COMPANY = "HITACHI ENERGY TURKEY ELEKTRIK SANAYI ANONIM SIRKETI"


def _lookup(kind: str) -> Adapter:
    own: dict[str, Any] = {"workday": workday, "bamboohr": bamboohr}
    return own[kind] if kind in own else get_adapter(kind)


ADAPTERS = None if REGISTERED else _lookup


def wd(server, tenant: str = "hitachi", site: str = "hitachi", n: int = 1,
       name: str | None = None) -> BoardRef:
    return BoardRef(name=name or tenant, type="workday", token=f"{tenant}.wd{n}/{site}",
                    url=f"{server.url}/wday/cxs/{tenant}/{site}/jobs")


def bhr(server, company: str = "collectivemeasures") -> BoardRef:
    return BoardRef(name=company, type="bamboohr", token=company,
                    url=f"{server.url}/bamboohr/{company}/careers/list")


def gh(server, token: str) -> BoardRef:
    return BoardRef(name=token, type="greenhouse", token=token,
                    url=f"{server.url}/v1/boards/{token}/jobs")


async def _fetch(boards, validators=None, parser=None, **kw):
    return await fetch_boards(boards, FetchOptions(**{**FAST, **kw}), validators=validators,
                              adapter_for=ADAPTERS, parser=parser)


def _details(server, tenant: str = "hitachi") -> int:
    return sum(n for path, n in server.requests.items()
               if path.startswith(f"/wday/cxs/{tenant}/") and "/job/" in path)


# ----------------------------------------------------------------------------- workday


async def test_workday_pages_through_its_list_and_fetches_every_detail(boards):
    boards.set_fault("hitachi", scale=45)
    (res,) = await _fetch([wd(boards)])
    assert res.state == "OK" and res.ok
    assert res.message == "45 postings, details: 45 read"
    assert res.pages == 3  # offsets 0, 20, 40: 40 + 20 >= 45, the first page's total
    assert boards.requests["/wday/cxs/hitachi/hitachi/jobs"] == 3
    assert (res.details, res.detail_failures, _details(boards)) == (45, 0, 45)
    postings = res.postings
    assert len({p.id for p in postings}) == 45
    assert [p.title for p in postings[:2]] == ["Maintenance Worker #0",
                                               "Office Support Specialist #1"]
    first = postings[0]
    assert first.id == f"workday:hitachi.wd1/hitachi:{HITACHI}-0"
    assert first.company == COMPANY  # from the detail
    assert first.employment_type is EmploymentType.FULL_TIME
    assert first.posted_at is not None and first.description_text.startswith("Location:")
    assert first.url == first.apply_url == (
        f"https://hitachi.wd1.myworkdayjobs.com/hitachi{HITACHI}-0")
    assert all(p.company == COMPANY and p.description_html for p in postings)
    assert res.validators is not None and res.validators.digest is None  # several pages


async def test_the_fixtures_postings_as_captured(boards):
    (res,) = await _fetch([wd(boards, "nvidia", "NVIDIAExternalCareerSite", 5)])
    assert res.state == "OK" and res.pages == 1 and res.details == 3
    first = res.postings[0]
    page = workday.parse((boards.fixtures / "workday_list_nvidia_trimmed.json").read_bytes(),
                         res.board, res.board.url or "")
    listed = page.postings[0]
    assert first == workday.parse_detail(
        (boards.fixtures / "workday_detail_nvidia.json").read_bytes(), listed, res.board)
    assert first.company == "IL00 Mellanox Technologies, Ltd."


async def test_the_detail_cap_keeps_the_same_postings_detailed_every_run(boards):
    boards.set_fault("hitachi", scale=45)
    (first,) = await _fetch([wd(boards)], max_detail_requests=10)
    assert first.state == "OK" and len(first.postings) == 45
    assert (first.details, _details(boards)) == (10, 10)
    assert first.message == "45 postings, details: 10 read, 35 past the cap of 10"
    detailed = [p.id for p in first.postings if p.company]
    assert detailed == [p.id for p in first.postings[:10]]  # in list order
    assert all(p.company is None and not p.description_html for p in first.postings[10:])
    (second,) = await _fetch([wd(boards)], max_detail_requests=10)
    assert [p.id for p in second.postings if p.company] == detailed
    assert [p.content_hash for p in second.postings] == [p.content_hash
                                                          for p in first.postings]
    (none,) = await _fetch([wd(boards)], max_detail_requests=0)
    assert none.details == 0 and _details(boards) == 20


async def test_details_count_against_the_hosts_rate(boards, monkeypatch):
    acquired: list[str] = []

    class Recording(HostRateLimiter):
        async def acquire(self, host: str) -> float:
            acquired.append(host)
            return await super().acquire(host)

    monkeypatch.setattr(fetch_mod, "HostRateLimiter", Recording)
    boards.set_fault("hitachi", scale=25)
    t0 = time.monotonic()
    (res,) = await _fetch([wd(boards)], requests_per_second_per_host=20,
                          max_detail_requests=8)
    elapsed = time.monotonic() - t0
    assert res.state == "OK" and (res.pages, res.details) == (2, 8)
    assert acquired == ["127.0.0.1"] * 10  # every page and every detail took a slot
    assert elapsed >= 9 / 20  # ten requests, 1/20 s apart


async def test_a_workday_outage_page_fails_only_its_board(boards):
    boards.set_fault("down", outage=True)
    res = await _fetch([wd(boards, "down", "site"), wd(boards), gh(boards, "fine"),
                        bhr(boards)])
    assert [r.state for r in res] == ["Failing", "OK", "OK", "OK"]
    assert res[0].message == ("unreadable response: workday: the tenant answered an HTML page "
                              "instead of JSON (outage or maintenance?)")
    assert res[0].postings == [] and res[0].http_status == 200 and res[0].details == 0
    assert [len(r.postings) for r in res[1:]] == [20, 2, 4]


async def test_a_tenant_whose_every_detail_fails_is_failing(boards):
    boards.set_fault("flaky", detail_status=503)
    res = await _fetch([wd(boards, "flaky"), wd(boards)], retries=1)
    assert [r.state for r in res] == ["Failing", "OK"]
    assert res[0].message.startswith("no detail could be read: HTTP 503 from 127.0.0.1 after "
                                     "1 retries")
    assert res[0].postings == [] and res[0].validators is None  # the store keeps its postings
    assert _details(boards, "flaky") == 40  # 20 details, each retried once


async def test_a_failed_detail_keeps_its_postings_list_data(boards):
    boards.set_fault("hitachi", detail_status=404, detail_times=2)
    (res,) = await _fetch([wd(boards)])
    assert res.state == "OK" and len(res.postings) == 20
    assert (res.details, res.detail_failures) == (20, 2)
    assert res.message == ("20 postings, details: 18 read, 2 failed (first: HTTP 404 from "
                           "127.0.0.1)")
    gone, kept = res.postings[:2], res.postings[2:]
    listed = workday.parse((boards.fixtures / "workday_list_hitachi.json").read_bytes(),
                           res.board, res.board.url or "").postings
    assert gone == listed[:2]  # exactly the list's data
    assert all(p.company == COMPANY for p in kept)
    assert res.validators == Validators()  # nothing to skip the next run's details with


async def test_a_detail_5xx_is_retried(boards):
    boards.set_fault("hitachi", detail_status=500, detail_times=1)
    (res,) = await _fetch([wd(boards)], retries=2)
    assert res.state == "OK" and (res.details, res.detail_failures) == (20, 0)
    assert _details(boards) == 21


async def test_a_detail_rate_limited_past_the_retries_ends_the_board_rate_limited(boards):
    boards.set_fault("hitachi", detail_status=429)
    (res,) = await _fetch([wd(boards)], retries=1)
    assert res.state == "RateLimited" and res.postings == [] and res.http_status == 429


async def test_details_count_in_the_boards_byte_budget(boards):
    budget = 32 * 1024  # the list (8.5 KB) and a few 5 KB details
    (res,) = await _fetch([wd(boards)], max_board_bytes=budget)
    assert res.state == "Failing" and res.postings == []
    assert res.message == "more than 0.03125 MiB across its pages"
    assert 3 <= _details(boards) <= 8  # the details that fitted, and the one past the budget


async def test_a_detail_over_the_response_limit_fails_that_detail_only(boards):
    board = wd(boards, "nvidia", "NVIDIAExternalCareerSite", 5)
    listed = workday.parse((boards.fixtures / "workday_list_nvidia_trimmed.json").read_bytes(),
                           board, board.url or "").postings
    async with httpx.AsyncClient() as client:
        sizes = [len((await client.get(workday.detail_url(p, board) or "")).content)
                 for p in listed]
    assert len(set(sizes)) > 1, sizes  # the captured detail and two made from it
    (res,) = await _fetch([board], max_bytes=max(sizes) - 1)
    over = [i for i, size in enumerate(sizes) if size == max(sizes)]
    assert res.state == "OK" and (res.details, res.detail_failures) == (3, len(over))
    assert "failed (first: body larger than 0.00" in res.message
    assert [p.company is None for p in res.postings] == [i in over for i in range(3)]
    (res,) = await _fetch([board], max_bytes=min(sizes) - 1)  # the list (1 KB) fits
    assert res.state == "Failing" and res.postings == []
    assert res.message.startswith("no detail could be read: body larger than 0.00")


# ----------------------------------------------------------------------------- limits


class _Recording:
    """A thread parser that records each request and can time a detail out."""

    def __init__(self, time_out_details: bool = False) -> None:
        self.inner = ThreadParser(_lookup)
        self.seen: list[tuple[ParseRequest, float]] = []
        self.time_out_details = time_out_details

    async def parse(self, request: ParseRequest, body: Body, timeout: float
                    ) -> tuple[Parsed, float]:
        self.seen.append((request, timeout))
        if request.posting is not None and self.time_out_details:
            raise ParseTimeout()
        parsed, seconds = await self.inner.parse(request, body, timeout)
        return parsed, seconds + 0.5  # each parse "takes" half a second of the budget

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_details_are_parsed_within_the_boards_parse_time(boards):
    parser = _Recording()
    try:
        (res,) = await _fetch([bhr(boards)], parser=parser, parse_timeout=30)
    finally:
        await parser.aclose()
    assert res.state == "OK" and res.details == 4
    requests = [r for r, _ in parser.seen]
    assert [r.posting is not None for r in requests] == [False, True, True, True, True]
    assert [r.posting.source_id for r in requests[1:]] == ["214", "312", "313", "314"]
    assert all(r.max_postings == 1 for r in requests[1:])
    budgets = [t for _, t in parser.seen]  # one budget for all (less the real parse times)
    assert budgets == pytest.approx([30, 29.5, 29, 28.5, 28], abs=0.2)
    assert res.parse_seconds >= 2.5


async def test_a_detail_past_the_parse_time_fails_the_board(boards):
    parser = _Recording(time_out_details=True)
    try:
        res = await _fetch([bhr(boards), gh(boards, "fine")], parser=parser, parse_timeout=7)
    finally:
        await parser.aclose()
    assert [r.state for r in res] == ["Failing", "OK"]
    assert res[0].message == "parsing took longer than 7 s"


async def test_a_posted_list_answers_with_its_request(boards):
    parser = _Recording()
    boards.set_fault("hitachi", scale=41)
    try:
        (res,) = await _fetch([wd(boards)], parser=parser, max_detail_requests=0)
    finally:
        await parser.aclose()
    assert res.pages == 3 and len(res.postings) == 41
    pages = [r.request for r, _ in parser.seen]
    assert [(p.method, dict(p.json_body or {}), p.carry) for p in pages if p] == [
        ("POST", {"appliedFacets": {}, "limit": 20, "offset": 0, "searchText": ""}, None),
        ("POST", {"appliedFacets": {}, "limit": 20, "offset": 20, "searchText": ""},
         {"total": 41}),
        ("POST", {"appliedFacets": {}, "limit": 20, "offset": 40, "searchText": ""},
         {"total": 41}),
    ]


# ----------------------------------------------------------------------------- bamboohr


async def test_bamboohr_end_to_end(boards):
    (res,) = await _fetch([bhr(boards)])
    assert res.state == "OK" and res.message == "4 postings, details: 4 read"
    assert (res.pages, res.details) == (1, 4)
    assert boards.detail_requests["collectivemeasures"] == 4
    by_id = {p.source_id: p for p in res.postings}
    first = by_id["214"]
    fixtures = boards.fixtures
    listed = bamboohr.parse((fixtures / "bamboohr_list_collectivemeasures.json").read_bytes(),
                            res.board, res.board.url or "").postings[0]
    assert first == bamboohr.parse_detail(
        (fixtures / "bamboohr_detail_collectivemeasures_trimmed.json").read_bytes(), listed,
        res.board)
    assert first.url == "https://collectivemeasures.bamboohr.com/careers/214"
    assert by_id["312"].department == "Performance Media"
    assert all(p.description_text.startswith("If you are interested") for p in res.postings)


async def test_an_unchanged_list_is_unchanged_and_a_failed_detail_is_fetched_again(boards):
    url = bamboohr.first_url(bhr(boards))
    (first,) = await _fetch([bhr(boards)])
    assert first.validators is not None and first.validators.digest  # one page: a digest
    (second,) = await _fetch([bhr(boards)], validators={url: first.validators})
    assert second.not_modified and second.message == "unchanged"
    assert boards.detail_requests["collectivemeasures"] == 4  # the store keeps the details

    boards.detail_requests.clear()
    boards.set_fault("collectivemeasures", detail_status=404, detail_times=4)
    (failed,) = await _fetch([bhr(boards)])  # every detail fails (404): list data only
    assert failed.state == "OK" and failed.detail_failures == 4
    assert failed.validators == Validators()  # clears the stored digest
    boards.faults.pop("collectivemeasures")
    (third,) = await _fetch([bhr(boards)], validators={url: failed.validators})
    assert not third.not_modified and third.details == 4 and third.detail_failures == 0
    assert [p.content_hash for p in third.postings] == [p.content_hash for p in first.postings]


async def test_other_board_types_read_no_details(boards):
    (res,) = await _fetch([gh(boards, "vercel")])
    assert res.message == "2 postings" and res.details == 0


@pytest.mark.skipif(not REGISTERED, reason="workday and bamboohr are not registered board "
                                           "types yet: the parse workers cannot load them")
async def test_details_are_parsed_in_the_worker_processes(boards):
    boards.set_fault("hitachi", scale=25)
    res = await fetch_boards([wd(boards), bhr(boards)],
                             FetchOptions(**FAST, parse_workers=1, max_detail_requests=5))
    assert [(r.state, len(r.postings), r.details) for r in res] == [("OK", 25, 5),
                                                                     ("OK", 4, 4)]
    assert all(p.description_html for p in res[0].postings[:5] + res[1].postings)
