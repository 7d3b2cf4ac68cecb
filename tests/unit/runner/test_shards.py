"""Sharded runs, the pure parts: boards to shards by host, the shard from the environment,
and the shards' summaries merged into one run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobscrape.boards.base import BoardRef
from jobscrape.runner.report import BoardRun, RunSummary
from jobscrape.runner.shards import (
    assign_shards,
    board_host,
    finished_records,
    merge_records,
    missing_shard_message,
    shard_count,
    shard_of,
    summary_record,
)

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def _gh(name: str, host: str) -> BoardRef:
    return BoardRef(name=name, type="greenhouse", token=name,
                    url=f"http://{host}:8080/v1/boards/{name}/jobs")


def test_board_host_is_the_first_requests_host() -> None:
    assert board_host(BoardRef("a", "greenhouse", "acme")) == "boards-api.greenhouse.io"
    assert board_host(BoardRef("b", "lever", "acme")) == "api.lever.co"
    assert board_host(_gh("c", "127.0.0.5")) == "127.0.0.5"
    assert board_host(BoardRef("d", "personio", "not a label")) == ""  # unusable token


def test_every_host_in_one_shard_and_every_board_once() -> None:
    boards = [_gh(f"b{i}", f"10.0.0.{i % 6}") for i in range(30)]
    shards = assign_shards(boards, 3)
    assert len(shards) == 3
    assert sorted(b.name for s in shards for b in s) == sorted(b.name for b in boards)
    hosts = [{board_host(b) for b in s} for s in shards]
    for i, a in enumerate(hosts):
        for b in hosts[i + 1:]:
            assert not a & b  # no host in two shards
    assert [len(s) for s in shards] == [10, 10, 10]  # 6 hosts x 5 boards, spread evenly
    for s in shards:  # spec order kept inside a shard
        assert [boards.index(b) for b in s] == sorted(boards.index(b) for b in s)


def test_big_hosts_are_spread_first() -> None:
    sizes = {"big": 6, "mid": 4, "s1": 2, "s2": 2, "s3": 1}
    boards = [_gh(f"{h}{i}", h) for h, n in sizes.items() for i in range(n)]
    loads = sorted(len(s) for s in assign_shards(boards, 2))
    assert loads == [7, 8]  # big+s3 / mid+s1+s2 (greedy, largest first)


def test_assignment_is_deterministic_and_tolerates_more_shards_than_hosts() -> None:
    boards = [_gh(f"b{i}", f"h{i % 2}") for i in range(5)]
    assert assign_shards(boards, 4) == assign_shards(list(boards), 4)
    shards = assign_shards(boards, 4)
    assert [len(s) for s in shards] == [3, 2, 0, 0]
    assert assign_shards(boards, 1) == [boards]
    with pytest.raises(ValueError, match="at least 1"):
        assign_shards(boards, 0)


def test_shard_of_reads_the_environment() -> None:
    assert shard_of({}) is None
    assert shard_of({"JOBSCRAPE_SHARDS": "1"}) is None
    assert shard_of({"JOBSCRAPE_SHARDS": "3", "JOB_COMPLETION_INDEX": "2"}) == (2, 3)
    for env, words in [
        ({"JOBSCRAPE_SHARDS": "x"}, "JOBSCRAPE_SHARDS='x' is not a whole number"),
        ({"JOBSCRAPE_SHARDS": "99", "JOB_COMPLETION_INDEX": "0"}, "outside 1..64"),
        ({"JOBSCRAPE_SHARDS": "3"}, "JOB_COMPLETION_INDEX is not set"),
        ({"JOBSCRAPE_SHARDS": "3", "JOB_COMPLETION_INDEX": "3"}, "outside 0..2"),
        ({"JOBSCRAPE_SHARDS": "3", "JOB_COMPLETION_INDEX": "a"}, "not a whole number"),
    ]:
        with pytest.raises(ValueError, match=words):
            shard_of(env)


def _summary(boards: list[BoardRun], minutes: int, created: int) -> RunSummary:
    return RunSummary(job_name="js-1", started=T0 + timedelta(minutes=minutes),
                      finished=T0 + timedelta(minutes=minutes + 2), fetched=10 * len(boards),
                      created=created, updated=1, removed=0, boards=boards, not_modified=3)


def test_records_merge_into_one_run_in_spec_order() -> None:
    a = _summary([BoardRun("c", "lever", "OK", 5, 200, ""),
                  BoardRun("a", "greenhouse", "Failing", 2, 500, "HTTP 500", skipped=1)], 1, 4)
    b = _summary([BoardRun("b", "ashby", "Empty", 0, 200, "")], 0, 2)
    records = [summary_record(a), summary_record(b)]
    merged = merge_records(records, ["a", "b", "c"])
    assert [x.name for x in merged.boards] == ["a", "b", "c"]
    assert merged.boards[0] == BoardRun("a", "greenhouse", "Failing", 2, 500, "HTTP 500", 1)
    assert (merged.fetched, merged.created, merged.updated, merged.not_modified) == (30, 6, 2, 6)
    assert merged.started == T0 and merged.finished == T0 + timedelta(minutes=3)
    assert merged.job_name == "js-1"
    with pytest.raises(ValueError):
        merge_records([], ["a"])


def test_a_run_that_ended_with_a_shard_missing_reports_that_shards_boards_failed() -> None:
    boards = [_gh("a", "h1"), _gh("b", "h2"), _gh("c", "h1"), _gh("d", "h3")]
    plan = assign_shards(boards, 3)
    lost = next(i for i, s in enumerate(plan) if s)
    recorded = {i: summary_record(_summary([BoardRun(b.name, b.type, "OK", 3, 200, "")
                                            for b in s], i, 1))
                for i, s in enumerate(plan) if i != lost}
    now = T0 + timedelta(minutes=30)
    records = finished_records(recorded, boards, 3, "js-1", {"a": 7, "c": 2}, now)
    assert [records[i] for i in recorded] == list(recorded.values())
    merged = merge_records(records, [b.name for b in boards])
    assert [b.name for b in merged.boards] == ["a", "b", "c", "d"]
    failed = {b.name: b for b in merged.boards if b.state == "Failing"}
    assert set(failed) == {b.name for b in plan[lost]}
    for b in failed.values():
        assert b.message == missing_shard_message(lost, 3)
        assert b.postings == {"a": 7, "c": 2}.get(b.name, 0)  # the stored ones, kept
    assert merged.created == len(recorded) and merged.finished == now
    assert merged.started == min(T0 + timedelta(minutes=i) for i in recorded)
    # nothing recorded at all: every board failed, from now to now
    none = merge_records(finished_records({}, boards, 3, "js-1", {}, now), ["a"])
    assert {b.state for b in none.boards} == {"Failing"} and none.started == now


def test_shard_count_reads_the_environment() -> None:
    assert shard_count({}) is None and shard_count({"JOBSCRAPE_SHARDS": "1"}) is None
    assert shard_count({"JOBSCRAPE_SHARDS": "4"}) == 4
    with pytest.raises(ValueError, match=r"outside 1\.\.64"):
        shard_count({"JOBSCRAPE_SHARDS": "0"})
