"""Peer parse timing, run inside bench/.venv-peer (ats-scrapers installed there, never in the
project's environment). Called by bench/scrape_bench.py; prints one JSON object.

ats-scrapers only offers fetching scrapers (`afetch()` GETs the board, then parses). What is
timed here is everything `afetch()` does after the network: `Response.json()` (decode the body
as text, `json.loads`) and the scraper's `_parse_job(item)` for every item, as `afetch()` does.

    bench/.venv-peer/bin/python bench/peer_parse.py REPS TYPE=PATH [TYPE=PATH ...]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ats_scrapers.scrapers.base import get_scraper


def _items(board_type: str, payload: Any) -> list[Any]:
    """The list `afetch()` iterates: a bare array for Lever, `jobs` for Greenhouse and Ashby."""
    return payload if board_type == "lever" else payload.get("jobs", [])


def time_parse(board_type: str, body: bytes, reps: int) -> dict[str, Any]:
    """Median and best seconds of decoding + parsing `body` `reps` times, and the job count."""
    scraper = get_scraper(board_type, "acme")
    parse_job = scraper._parse_job  # type: ignore[attr-defined]
    times, jobs = [], 0
    for _ in range(reps):
        t0 = time.perf_counter()
        payload = json.loads(body.decode("utf-8"))
        jobs = len([parse_job(item) for item in _items(board_type, payload)])
        times.append(time.perf_counter() - t0)
    return {"postings": jobs, "bytes": len(body), "median_s": statistics.median(times),
            "best_s": min(times)}


def main(argv: list[str]) -> int:
    reps = int(argv[0])
    out: dict[str, Any] = {"version": version("ats-scrapers"), "results": {}}
    for spec in argv[1:]:
        board_type, _, path = spec.partition("=")
        out["results"][board_type] = time_parse(board_type, Path(path).read_bytes(), reps)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
