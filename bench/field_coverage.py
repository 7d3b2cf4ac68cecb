"""Which fields each board type fills (prints a Markdown table; not a test).

One board of every type is fetched from the local board server (each type's real capture at
its real path, Workday and BambooHR with their per-posting details) through the runner's
fetcher, and for each field the share of the type's postings that carry it is printed.

    .venv/bin/python bench/field_coverage.py
"""

from __future__ import annotations

import asyncio

from jobscrape.boards import BOARD_TYPES
from jobscrape.boards.base import BoardRef
from jobscrape.postings import EmploymentType, Posting, Remote
from jobscrape.runner.fetch import FetchOptions, fetch_boards
from jobscrape_dev.boardserver import ENTRIES, BoardServer

FIELDS: dict[str, object] = {
    "url": lambda p: p.url, "apply": lambda p: p.apply_url, "company": lambda p: p.company,
    "department": lambda p: p.department, "location": lambda p: p.locations,
    "remote": lambda p: p.remote is not Remote.UNKNOWN,
    "employment": lambda p: p.employment_type is not EmploymentType.UNKNOWN,
    "salary": lambda p: p.salary, "posted": lambda p: p.posted_at,
    "description": lambda p: p.description_text,
}


def _share(postings: list[Posting], get: object) -> str:
    if not postings:
        return "-"
    n = sum(1 for p in postings if get(p))  # type: ignore[operator]
    return f"{100 * n // len(postings)}%" if n else "·"


async def _fetch(server: BoardServer) -> dict[str, list[Posting]]:
    boards = [BoardRef(name=kind, type=kind, token=ENTRIES[kind][0],
                       url=f"{server.url}{ENTRIES[kind][1]}") for kind in BOARD_TYPES]
    results = await fetch_boards(boards, FetchOptions(allow_private_networks=True,
                                                      requests_per_second_per_host=500))
    for r in results:
        if not r.ok:
            raise SystemExit(f"{r.board.type}: {r.state} {r.message}")
    return {r.board.type: r.postings for r in results}


def main() -> int:
    with BoardServer() as server:
        found = asyncio.run(_fetch(server))
    print("| type | postings | " + " | ".join(FIELDS) + " |")
    print("|---|---:|" + "---:|" * len(FIELDS))
    for kind in BOARD_TYPES:
        postings = found[kind]
        cells = [_share(postings, get) for get in FIELDS.values()]
        print(f"| {kind} | {len(postings)} | " + " | ".join(cells) + " |")
    print("\n(share of the capture's postings with the field; · none; titles and ids: all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
