"""Store benchmark (prints figures; not a test).

Times `apply_run` on PostgreSQL and on SQLite in the same run: a first run of N new postings
(default 10,000) with one notification target, so the change log and the outbox are written
too, then a second, unchanged run of the same postings. PostgreSQL is a throwaway local server
started here (durable settings: fsync and synchronous_commit on); SQLite is a file in a temp
dir (WAL, synchronous=NORMAL, as the store opens it). Each figure is the median of --repeat
fresh stores.

    .venv/bin/python bench/store_bench.py
    .venv/bin/python bench/store_bench.py -n 50000 --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jobscrape.postings import (
    EmploymentType,
    Posting,
    Remote,
    Salary,
    SalaryPeriod,
    posting_id,
    with_hash,
)
from jobscrape.store import BoardOutcome, Target, open_store
from jobscrape_dev.pgserver import PgServer

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
TEXT = ("We are looking for an engineer to build and run the systems behind our product. "
        "You will work with a small team, own services end to end and help us grow. ") * 8


def postings(n: int) -> list[Posting]:
    """N postings of one board, each with a ~1.3 kB description (HTML and text)."""
    return [with_hash(Posting(
        id=posting_id("greenhouse", "bench", str(i)), board="bench", board_type="greenhouse",
        source_id=str(i), title=f"Software Engineer {i}", url=f"https://jobs.example/{i}",
        company="Example", department=f"Team {i % 40}", locations=("Berlin", "Remote"),
        remote=Remote.TRUE, employment_type=EmploymentType.FULL_TIME,
        salary=Salary(70000 + i, 90000 + i, "EUR", SalaryPeriod.YEAR), posted_at=T0,
        description_html=f"<p>{TEXT}</p>", description_text=TEXT)) for i in range(n)]


def outcome(items: list[Posting]) -> BoardOutcome:
    return BoardOutcome(board="bench", board_type="greenhouse", complete=True,
                        not_modified=False, postings=items, state="OK", http_status=200)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure(target: Callable[[], str], items: list[Posting], repeat: int
            ) -> tuple[float, float]:
    """Median seconds of (first run, unchanged second run), each on a fresh store."""
    first, second = [], []
    targets = [Target("hook")]
    for _ in range(repeat):
        store = open_store(target())
        store.migrate()
        first.append(timed(lambda s=store: s.apply_run(
            "bench/src", "r1", [outcome(items)], T0, targets=targets)))
        second.append(timed(lambda s=store: s.apply_run(
            "bench/src", "r2", [outcome(items)], T0 + timedelta(hours=6), targets=targets)))
        counts = store.board_counts("bench/src")
        queued = store.notify_stats("bench/src")["hook"].pending
        store.close()
        assert counts == {"bench": len(items)} and queued == len(items), (counts, queued)
    return statistics.median(first), statistics.median(second)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000, help="postings per run (default 10000)")
    ap.add_argument("--repeat", type=int, default=3, help="fresh stores per backend")
    args = ap.parse_args()
    items = postings(args.n)
    with tempfile.TemporaryDirectory(prefix="jobscrape-bench-") as tmp, \
            PgServer(durable=True) as pg:
        sqlite_first, sqlite_second = measure(
            lambda: str(Path(tmp) / f"{uuid.uuid4().hex}.db"), items, args.repeat)
        pg_first, pg_second = measure(
            lambda: pg.create_database("b_" + uuid.uuid4().hex[:12]), items, args.repeat)
    print(f"store benchmark: {args.n} postings, one target (outbox written), "
          f"median of {args.repeat}")
    print(f"{'':28}{'SQLite':>10}{'PostgreSQL':>12}{'PG/SQLite':>11}")
    for label, s, p in (("first run (all created)", sqlite_first, pg_first),
                        ("second run (unchanged)", sqlite_second, pg_second)):
        print(f"{label:28}{s:>9.2f}s{p:>11.2f}s{p / s:>10.2f}x")
    print(f"{'first run, postings/s':28}{args.n / sqlite_first:>10.0f}"
          f"{args.n / pg_first:>12.0f}")


if __name__ == "__main__":
    main()
