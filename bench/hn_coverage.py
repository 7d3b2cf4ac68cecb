"""How much of a real "Who is hiring?" thread the hackernews board type reads.

Runs the adapter on the captured comment search of the May 2026 thread (the project's copy
under tests/fixtures/boards) and counts, over its top-level comments, how many first lines
follow the `Company | Role | ...` convention and how many yield each field; then the postings
the adapter makes of them. `--show N` prints the first N top-level comments' first lines with
what was read, to judge by eye whether the fields are right, not only present.

    .venv/bin/python bench/hn_coverage.py [--show N] [FIXTURE]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator"))

from jobscrape.boards import hackernews  # noqa: E402
from jobscrape.boards.base import BoardRef  # noqa: E402
from jobscrape.postings import Remote  # noqa: E402

FIXTURE = ROOT / "tests/fixtures/boards/hn_algolia_search_comments_story47975571_may2026.json"
URL = "https://hn.algolia.com/api/v1/search?tags=comment,story_47975571&hitsPerPage=1000"


def _pct(n: int, total: int) -> str:
    return f"{n:4d}  ({100 * n / total:5.1f}%)" if total else f"{n:4d}"


def measure(body: bytes, show: int) -> None:
    """Print the counts (and `show` samples) for one comment-search body."""
    doc: dict[str, Any] = json.loads(body)
    hits = doc["hits"]
    top = [h for h in hits if h.get("parent_id") == h.get("story_id")]
    texts = [h.get("comment_text") or "" for h in top]
    leads = [hackernews.lead(t) for t in texts]
    count: Counter[str] = Counter()
    for t, lead in zip(texts, leads, strict=True):
        count["with text"] += bool(t)
        count["convention (a '|' in the first line)"] += len(lead.fields) >= 2
        count["company"] += lead.company is not None
        count["title (a field naming a role)"] += lead.title is not None
        count["convention but no role (left out)"] += (len(lead.fields) >= 2
                                                       and lead.title is None)
        if lead.company is None or lead.title is None:
            continue
        count["company and title (a posting)"] += 1
        count["  location"] += bool(lead.locations)
        count["  remote known"] += lead.remote is not Remote.UNKNOWN
        count["    remote TRUE"] += lead.remote is Remote.TRUE
        count["    remote FALSE"] += lead.remote is Remote.FALSE
        count["  employment type"] += lead.employment_type.value != "unknown"
        count["  salary"] += lead.salary is not None
        count["    salary with currency"] += lead.salary is not None and bool(lead.salary.currency)
        count["    salary with period"] += (lead.salary is not None
                                            and lead.salary.period.value != "unknown")
        count["  url (apply_url)"] += lead.link is not None
    n = len(top)
    print(f"thread: {doc['hits'][0].get('story_title') if hits else '?'}")
    print(f"hits: {len(hits)}, top-level comments: {n} (the 100% below)")
    for key, value in count.items():
        print(f"{key:<40} {_pct(value, n)}")
    board = BoardRef(name="hn", type="hackernews", token="hn")
    page = hackernews.parse(body, board, URL)
    print(f"adapter: {len(page.postings)} postings, {page.skipped} skipped, "
          f"next page: {page.next_url}")
    for text, lead in list(zip(texts, leads, strict=True))[:show]:
        print("-" * 100)
        print(hackernews.first_line(text)[:300])
        salary = lead.salary
        pay = (f"{salary.min}..{salary.max} {salary.currency} {salary.period.value}"
               if salary else None)
        print(f"  company={lead.company!r} title={lead.title!r}\n  locations={lead.locations}"
              f" remote={lead.remote.value} type={lead.employment_type.value} salary={pay}"
              f" link={lead.link}")


def main() -> None:
    """Parse the arguments and measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("fixture", nargs="?", type=Path, default=FIXTURE)
    parser.add_argument("--show", type=int, default=0, metavar="N")
    args = parser.parse_args()
    measure(args.fixture.read_bytes(), args.show)


if __name__ == "__main__":
    main()
