"""The parse workers: the same postings as parsing in-process, a hard time limit (the worker is
killed and replaced), a memory limit, a dead worker failing one page; threads where asked."""

from __future__ import annotations

import asyncio
import html
import json
import os
import signal
from pathlib import Path

import pytest

from jobscrape.boards import BOARD_TYPES, get_adapter
from jobscrape.boards.base import BoardRef, ParseError
from jobscrape.boards.normalise import DEFAULT_LIMITS, DescriptionLimits
from jobscrape.runner.parsepool import (
    Body,
    ParseFailed,
    ParseRequest,
    ParseTimeout,
    ProcessParser,
    ThreadParser,
    TooManyPostings,
    available_cpus,
    unpickle_postings,
)

from boardkit import board_of, payload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "boards"
OFF = DescriptionLimits(max_chars=10**9, max_depth=10**9)  # the pre-check turned off


def _board(kind: str) -> BoardRef:
    return board_of(kind)


def _request(kind: str, limits: DescriptionLimits = DEFAULT_LIMITS,
             max_postings: int = 50_000) -> ParseRequest:
    board = _board(kind)
    return ParseRequest(board, get_adapter(kind).first_url(board), max_postings, limits)


def _deep(depth: int) -> bytes:
    content = html.escape("<div>" * depth + "deep" + "</div>" * depth)
    return json.dumps({"jobs": [{"id": 1, "title": "t", "content": content}]}).encode()


async def test_workers_give_the_postings_an_in_process_parse_gives() -> None:
    parser = ProcessParser(2)
    try:
        for kind in BOARD_TYPES:
            body = payload(kind)
            parsed, seconds = await parser.parse(_request(kind), Body(body), 10)
            page = get_adapter(kind).parse(body, _board(kind), _request(kind).url)
            postings = unpickle_postings(parsed.batches)
            assert postings == page.postings and parsed.count == len(postings) > 0, kind
            assert [p.content_hash for p in postings] == [p.content_hash for p in page.postings]
            assert parsed.next_url == page.next_url and 0 <= seconds < 10
        assert parser.started <= 2  # workers are reused
    finally:
        await parser.aclose()


async def test_a_parse_past_its_limit_is_killed_and_its_worker_replaced() -> None:
    parser = ProcessParser(1)
    try:
        with pytest.raises(ParseTimeout):
            await parser.parse(_request("greenhouse", OFF), Body(_deep(100_000)), 1)
        body = payload("greenhouse")
        parsed, _ = await parser.parse(_request("greenhouse"), Body(body), 10)
        assert parsed.count == 2 and parser.started == 2
    finally:
        await parser.aclose()


async def test_other_pages_are_parsed_while_one_runs_away() -> None:
    parser = ProcessParser(2)
    body = payload("greenhouse")
    try:
        runaway = asyncio.ensure_future(
            parser.parse(_request("greenhouse", OFF), Body(_deep(100_000)), 3))
        await asyncio.sleep(0.2)
        for _ in range(5):
            parsed, _ = await parser.parse(_request("greenhouse"), Body(body), 10)
            assert parsed.count == 2
        with pytest.raises(ParseTimeout):
            await runaway
    finally:
        await parser.aclose()


async def test_a_page_needing_too_much_memory_fails_and_the_worker_is_replaced() -> None:
    parser = ProcessParser(1, memory_limit=160 * 1024 * 1024)
    try:
        many = b'{"jobs": [' + b"{}," * 3_000_000 + b"{}]}"  # 9 MB: 3 million dicts
        with pytest.raises(ParseFailed, match="more than 160 MiB of memory"):
            await parser.parse(_request("greenhouse"), Body(many), 30)
        body = payload("greenhouse")
        parsed, _ = await parser.parse(_request("greenhouse"), Body(body), 10)
        assert parsed.count == 2 and parser.started == 2
    finally:
        await parser.aclose()


async def test_a_dead_worker_fails_its_page_only() -> None:
    parser = ProcessParser(1)
    body = payload("greenhouse")
    try:
        await parser.parse(_request("greenhouse"), Body(body), 10)
        (worker,) = parser._idle
        task = asyncio.ensure_future(
            parser.parse(_request("greenhouse", OFF), Body(_deep(100_000)), 30))
        await asyncio.sleep(0.5)
        os.kill(worker.process.pid, signal.SIGKILL)
        with pytest.raises(ParseFailed, match=r"the parser process died \(signal 9\)"):
            await task
        parsed, _ = await parser.parse(_request("greenhouse"), Body(body), 10)
        assert parsed.count == 2
    finally:
        await parser.aclose()


async def test_parse_errors_and_the_postings_cap_come_back_as_such() -> None:
    parser = ProcessParser(1)
    try:
        with pytest.raises(ParseError, match="greenhouse: body is not valid JSON"):
            await parser.parse(_request("greenhouse"), Body(b"<html>"), 10)
        body = payload("greenhouse")
        with pytest.raises(TooManyPostings) as caught:
            await parser.parse(_request("greenhouse", max_postings=1), Body(body), 10)
        assert caught.value.count == 2
        assert parser.started == 1  # neither costs the worker
    finally:
        await parser.aclose()


async def test_threads_parse_where_asked_and_keep_the_time_limit() -> None:
    parser = ThreadParser(get_adapter)
    try:
        body = payload("lever")
        parsed, _ = await parser.parse(_request("lever"), Body(body), 10)
        assert parsed.count == 2
        with pytest.raises(ParseTimeout):
            await parser.parse(_request("greenhouse", OFF), Body(_deep(30_000)), 0.2)
        assert parser.overrun.is_set()
    finally:
        await parser.aclose()


def test_available_cpus() -> None:
    assert 1 <= available_cpus() <= (os.cpu_count() or 1)
