"""The fetcher's bounds without a network: bodies inflated a bounded piece at a time, the
content codings it takes, and the clock that does not count waiting."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import pytest

from jobscrape.runner.fetch import _PIECE, _Clock, _decoder, _Failed, _Identity, _Inflater, _within


def _inflate(decoder: _Identity | _Inflater, data: bytes, chunk: int = 4096) -> list[bytes]:
    pieces = []
    for i in range(0, len(data), chunk):
        pieces.extend(decoder.feed(data[i:i + chunk]))
    pieces.extend(decoder.flush())
    return pieces


def test_a_bomb_comes_out_a_bounded_piece_at_a_time() -> None:
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)  # 64 MiB in 64 KB
    pieces = _inflate(_Inflater(gzip=True), bomb, chunk=len(bomb))  # all of it at once
    assert max(map(len, pieces)) <= _PIECE and sum(map(len, pieces)) == 64 * 1024 * 1024


@pytest.mark.parametrize(("coding", "data"), [
    ("gzip", gzip.compress(b"hello ") + gzip.compress(b"world")),  # two members
    ("x-gzip", gzip.compress(b"hello world")),
    ("deflate", zlib.compress(b"hello world")),
    ("deflate", (lambda c: c.compress(b"hello world") + c.flush())(
        zlib.compressobj(wbits=-zlib.MAX_WBITS))),  # raw deflate, as some servers send it
    ("GZip, identity", gzip.compress(b"hello world")),
    (None, b"hello world"),
    ("identity", b"hello world"),
])
def test_content_codings(coding: str | None, data: bytes) -> None:
    for chunk in (1, 7, len(data)):
        assert b"".join(_inflate(_decoder(coding), data, chunk)) == b"hello world"


def test_bytes_after_the_last_gzip_member_are_ignored() -> None:
    data = gzip.compress(b"hello") + b"\x00\x00junk"
    assert b"".join(_inflate(_decoder("gzip"), data)) == b"hello"


def test_a_corrupt_body_raises() -> None:
    with pytest.raises(zlib.error):
        _inflate(_decoder("gzip"), b"\x1f\x8b\x08\x00garbage-garbage")


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, gzip", "compress"])
def test_codings_not_asked_for_are_refused(coding: str) -> None:
    with pytest.raises(_Failed, match="unsupported Content-Encoding"):
        _decoder(coding)


def test_the_clock_does_not_count_waiting() -> None:
    clock = _Clock()
    with clock.waiting():
        time.sleep(0.2)
        with clock.waiting():  # nested: still one wait
            time.sleep(0.1)
    time.sleep(0.1)
    assert 0.09 <= clock.spent() < 0.25


async def test_within_cancels_once_the_budget_is_spent_and_not_while_waiting() -> None:
    clock = _Clock()

    async def waits_then_works() -> str:
        with clock.waiting():
            await asyncio.sleep(0.5)  # longer than the budget, but not counted
        await asyncio.sleep(0.1)
        return "done"

    assert await _within(clock, 0.3, waits_then_works()) == "done"
    with pytest.raises(TimeoutError):
        await _within(_Clock(), 0.1, asyncio.sleep(5))
