"""Bounded runs (#11 item 2): a hostile board, served by the local board server over loopback,
can exhaust neither memory, CPU nor time, nor take the healthy boards of its run down with it;
a rate-limited board says so; one bad item or byte costs that item, not the board."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from jobscrape.api.status import JobSourceStatus
from jobscrape.boards.base import BoardRef
from jobscrape.runner import report
from jobscrape.runner.fetch import FetchOptions, fetch_boards
from jobscrape.runner.pipeline import run_once
from jobscrape.store import open_store
from jobscrape_dev.boardserver import BoardServer

MiB = 1024 * 1024
FAST = dict(allow_private_networks=True, backoff_base=0.01, backoff_max=0.05,
            requests_per_second_per_host=1000, retries=1)


def gh(server: BoardServer, token: str) -> BoardRef:
    return BoardRef(name=token, type="greenhouse", token=token,
                    url=f"{server.url}/v1/boards/{token}/jobs")


def lever(server: BoardServer, token: str) -> BoardRef:
    return BoardRef(name=token, type="lever", token=token,
                    url=f"{server.url}/v0/postings/{token}")


async def _fetch(boards, **kw):
    return await fetch_boards(boards, FetchOptions(**{**FAST, **kw}))


# ----------------------------------------------------------------------------- bytes


async def test_compression_bombs_stop_at_the_cap_as_they_inflate(boards):
    boards.set_fault("gzip", bomb=2**30)  # 1 MB on the wire, 1 GiB inflated
    boards.set_fault("deflate", bomb=256 * MiB, encoding="deflate")
    boards.set_fault("raw", bomb=256 * MiB, encoding="raw-deflate")
    res = await _fetch([gh(boards, "gzip"), gh(boards, "deflate"), gh(boards, "raw"),
                        gh(boards, "fine")], max_bytes=MiB)
    assert [r.state for r in res] == ["Failing", "Failing", "Failing", "OK"]
    assert all(r.message == "body larger than 1 MiB" for r in res[:3])


async def test_compressed_bodies_are_read(boards):
    for coding in ("gzip", "deflate", "raw-deflate"):
        boards.set_fault(coding, encoding=coding)
    res = await _fetch([gh(boards, t) for t in ("gzip", "deflate", "raw-deflate")])
    assert [(r.state, len(r.postings)) for r in res] == [("OK", 2)] * 3
    assert res[0].bytes == len((Path(__file__).parents[1] / "fixtures" / "boards" /
                                "greenhouse_jobs_content.json").read_bytes())  # inflated


def test_eight_bombs_and_a_paged_board_stay_within_memory(boards, tmp_path):
    """In a fresh interpreter (its own peak RSS): eight gzip bombs at once (the rate limit
    lifted) and a board of 19.6 MB pages. Before: each bomb inflated a whole network chunk
    (64 MiB) before the cap was checked, and the paged board kept every page."""
    for i in range(8):
        boards.set_fault(f"bomb{i}", bomb=2**30)
    boards.set_fault("bigpages", scale=20_000, pad=190_000)
    script = textwrap.dedent(f"""
        import asyncio, json, resource
        from jobscrape.boards.base import BoardRef
        from jobscrape.runner.fetch import FetchOptions, fetch_boards
        if __name__ == "__main__":
            base = {boards.url!r}
            refs = [BoardRef(f"bomb{{i}}", "greenhouse", f"bomb{{i}}",
                             f"{{base}}/v1/boards/bomb{{i}}/jobs") for i in range(8)]
            refs.append(BoardRef("bigpages", "lever", "bigpages",
                                 f"{{base}}/v0/postings/bigpages"))
            res = asyncio.run(fetch_boards(refs, FetchOptions(
                allow_private_networks=True, requests_per_second_per_host=1000)))
            print(json.dumps({{"states": [r.state for r in res],
                              "messages": [r.message for r in res],
                              "pages": res[-1].pages,
                              "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
    """)
    (tmp_path / "run.py").write_text(script)
    out = subprocess.run([sys.executable, str(tmp_path / "run.py")], capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    assert got["states"] == ["Failing"] * 9
    assert got["messages"][:8] == ["body larger than 20 MiB"] * 8
    assert got["messages"][8] == "more than 64 MiB across its pages"
    assert got["pages"] == 3  # read whole; the fourth went past the budget as it came in
    # peak memory is a figure of bench/bounded_bench.py, not an assertion here


async def test_the_byte_budget_counts_every_page_of_a_board(boards):
    boards.set_fault("paged", scale=1000, pad=5000)  # 10 pages of about 1.1 MB
    res = await _fetch([lever(boards, "paged"), gh(boards, "fine")], max_board_bytes=2 * MiB)
    assert [r.state for r in res] == ["Failing", "OK"]
    assert res[0].message == "more than 2 MiB across its pages" and res[0].pages == 1
    assert boards.requests["/v0/postings/paged"] == 2  # the second page went past it


async def test_a_board_whose_postings_spill_to_disk_comes_back_whole_and_in_order(
        boards, monkeypatch):
    # 10 pages of about 1.1 MB: past 1 MiB of pickled postings the rest waits in a file
    from jobscrape.runner import spill

    monkeypatch.setattr(spill, "IN_MEMORY", MiB)
    spilled: list[int] = []
    drain = spill.PostingBatches.drain

    def watched(self):  # how much each board's batches had spilled when read back
        spilled.append(self.spilled_bytes)
        return drain(self)

    monkeypatch.setattr(spill.PostingBatches, "drain", watched)
    boards.set_fault("paged", scale=1000, pad=5000)
    res = await _fetch([lever(boards, "paged")], concurrency=1)
    assert res[0].state == "OK" and max(spilled) > 5 * MiB
    ids = [p.source_id for p in res[0].postings]
    assert len(ids) == len(set(ids)) == 1000
    unspilled = await _fetch([lever(boards, "paged")], concurrency=1, max_board_bytes=64 * MiB)
    assert ids == [p.source_id for p in unspilled[0].postings]


async def test_the_bodies_of_a_run_go_through_its_budget_and_all_come_back(boards,
                                                                         monkeypatch):
    # (the waiting itself: tests/unit/runner/test_bodybudget.py)
    from jobscrape.runner import fetch

    budgets: list[fetch.BodyBudget] = []
    made = fetch.BodyBudget

    def kept(limit):
        budgets.append(made(limit))
        return budgets[-1]

    monkeypatch.setattr(fetch, "BodyBudget", kept)
    for i in range(4):
        boards.set_fault(f"bomb{i}", bomb=2**30)
    res = await _fetch([gh(boards, f"bomb{i}") for i in range(4)] + [gh(boards, "fine")],
                       max_buffered_bytes=8 * MiB, max_bytes=4 * MiB)
    assert [r.state for r in res] == ["Failing"] * 4 + ["OK"]
    assert {r.message for r in res[:4]} == {"body larger than 4 MiB"}
    budget, = budgets
    assert budget.used == 0 and 0 < budget.peak <= 8 * MiB + 4 * MiB


async def test_a_board_over_the_postings_cap_is_incomplete_and_keeps_its_postings(
        boards, tmp_path):
    boards.set_fault("many", scale=250)
    store = open_store(tmp_path / "s.db")
    store.migrate()
    opts = FetchOptions(**FAST)
    first = await run_once("s", [lever(boards, "many")], store, opts)
    assert first.summary.boards[0].state == "OK" and first.diff.counts == (250, 0, 0)
    second = await run_once("s", [lever(boards, "many")], store,
                            FetchOptions(**FAST, max_postings=120))
    (board,) = second.summary.boards
    assert board.state == "Failing" and board.postings == 250
    assert board.message == ("more than 120 postings (at least 200): not read whole, nothing "
                             "of it changed")
    assert second.diff.counts == (0, 0, 0)  # nothing removed
    assert store.board_counts("s") == {"many": 250}


# ----------------------------------------------------------------------------- time


def test_a_nested_div_board_ends_quickly_and_keeps_its_postings(boards, tmp_path):
    """200,000 nested <div>s in one description (minutes in the sanitiser before, on the
    event loop: every board of the run waited): refused by the pre-check, kept as text."""
    boards.set_fault("deep", nested=200_000)
    exe = Path(sys.executable).parent / "jobscrape"
    out = subprocess.run(
        [str(exe), "scrape", "--allow-private-networks", "--no-progress", "--format", "json",
         "--board", f"greenhouse:deep={boards.url}/v1/boards/deep/jobs",
         "--board", f"greenhouse:fine={boards.url}/v1/boards/fine/jobs"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert sorted(r["board"] for r in rows) == ["deep", "deep", "fine", "fine"]
    (deep,) = [r for r in rows if r["board"] == "deep" and r["description_text"] == "deep"]
    assert deep["description_html"] == "<p>deep</p>"


async def test_a_parse_over_its_time_limit_fails_only_its_board(boards):
    """With the pre-check off, the sanitiser takes minutes over the nested board: its worker
    is killed at the limit and replaced; the boards around it parse all the while."""
    boards.set_fault("deep", nested=100_000)
    names = ["a", "deep", "b", "c", "d"]
    res = await _fetch([gh(boards, n) for n in names], parse_timeout=2,
                       max_description_depth=10**9, max_description_chars=10**9)
    assert [r.state for r in res] == ["OK", "Failing", "OK", "OK", "OK"]
    assert res[1].message == "parsing took longer than 2 s"
    assert max(r.duration_seconds for r in res if r.board.name != "deep") < 5


async def test_waiting_for_the_host_rate_limit_does_not_count(boards):
    """Eight boards of ten pages on one host at 20 requests/s: 4 s in all, while each board
    may fetch for 2 s. Before, each board's budget ran while it waited its turn."""
    for i in range(8):
        boards.set_fault(f"big{i}", scale=1000)
    res = await _fetch([lever(boards, f"big{i}") for i in range(8)],
                       requests_per_second_per_host=20, total_timeout=2)
    assert [r.state for r in res] == ["OK"] * 8, [r.message for r in res]
    assert all(len(r.postings) == 1000 and r.pages == 11 for r in res)
    assert max(r.duration_seconds for r in res) > 3  # it waited longer than its budget


async def test_a_slow_board_still_times_out(boards):
    boards.set_fault("slow", delay=3)
    (res,) = await _fetch([gh(boards, "slow")], total_timeout=1)
    assert res.state == "Failing" and res.message == "timed out after 1 s of fetching"


# ----------------------------------------------------------------------------- rate limits


async def test_a_long_retry_after_is_rate_limited_at_once(boards):
    boards.set_fault("busy", status=429, retry_after=3600)
    (res,) = await _fetch([gh(boards, "busy")], retries=3)
    assert res.state == "RateLimited" and res.http_status == 429 and not res.ok
    assert res.message == "rate limited by 127.0.0.1: retry after 3600 s"
    assert boards.requests["/v1/boards/busy/jobs"] == 1


async def test_a_429_past_the_retries_is_rate_limited(boards):
    boards.set_fault("again", status=429, retry_after=0)
    boards.set_fault("bare", status=429)
    res = await _fetch([gh(boards, "again"), gh(boards, "bare")], retries=2)
    assert [r.state for r in res] == ["RateLimited", "RateLimited"]
    assert res[0].message == "rate limited by 127.0.0.1: retry after 0 s (after 2 retries)"
    assert res[1].message == ("rate limited by 127.0.0.1: HTTP 429 without Retry-After "
                              "(after 2 retries)")
    assert boards.requests["/v1/boards/again/jobs"] == 3


async def test_a_retry_after_longer_than_the_board_has_left_is_not_slept(boards):
    boards.set_fault("later", status=429, retry_after=30)
    (res,) = await _fetch([gh(boards, "later")], total_timeout=5, max_retry_after=60)
    assert res.state == "RateLimited"
    assert res.message == "rate limited by 127.0.0.1: retry after 30 s"


async def test_rate_limited_reaches_the_status(boards, tmp_path):
    boards.set_fault("busy", status=429, retry_after=3600)
    store = open_store(tmp_path / "s.db")
    store.migrate()
    out = await run_once("s", [gh(boards, "busy"), gh(boards, "fine")], store,
                         FetchOptions(**FAST))
    patch = report.status_patch(JobSourceStatus(), out.summary, 1)
    busy = patch["boards"][0]
    assert busy["state"] == "RateLimited" and busy["httpStatus"] == 429
    assert busy["message"] == "rate limited by 127.0.0.1: retry after 3600 s"
    assert patch["lastRun"]["result"] == "PartiallyFailed" and patch["failingBoards"] == 1


# ----------------------------------------------------------------------------- items


async def test_one_bad_item_and_one_bad_byte_cost_only_themselves(boards, tmp_path):
    boards.set_fault("badbits", scale=5, bad_item=True, bad_byte=True)
    boards.set_fault("leverbits", scale=5, bad_item=True, bad_byte=True)
    store = open_store(tmp_path / "s.db")
    store.migrate()
    out = await run_once("s", [gh(boards, "badbits"), lever(boards, "leverbits")], store,
                         FetchOptions(**FAST))
    for fetch in out.fetches:
        assert fetch.state == "OK" and fetch.skipped == 1
        stored = store.open_postings("s", fetch.board.name)
        assert len(stored) == 4 and sum("\ufffd" in p.title for p in stored) == 1
    gh_run, lever_run = out.summary.boards
    assert gh_run.skipped == 1 and gh_run.postings == 4
    assert gh_run.message == ("4 postings, 1 unreadable item skipped (greenhouse: jobs[0]: id "
                              "is missing or not a non-empty string)")
    assert "lever: postings[0]: id is missing" in lever_run.message
    patch = report.status_patch(JobSourceStatus(), out.summary, 1)
    assert [b.get("skipped") for b in patch["boards"]] == [1, 1]
    assert report.result_of(out.summary.boards) == "Succeeded"


async def test_a_page_without_one_readable_item_still_fails(boards):
    boards.edits["nothing"] = lambda doc: [job.pop("id") for job in doc["jobs"]]
    (res,) = await _fetch([gh(boards, "nothing")])
    assert res.state == "Failing" and res.skipped == 0
    assert res.message == ("unreadable response: greenhouse: jobs[0]: id is missing or not a "
                           "non-empty string (and the 1 other items)")
