"""Every board type through `jobscrape scrape --board TYPE:TOKEN=URL` against the local board
server: the command prints exactly the postings its adapter reads from the type's capture
(Workday and BambooHR with their details fetched), and a Workday outage page fails that board
alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jobscrape.boards import BOARD_TYPES
from jobscrape_dev.boardserver import ENTRIES, BoardServer

from boardkit import EXPECTED

JOBSCRAPE = str(Path(sys.executable).parent / "jobscrape")

def _scrape(tmp_path: Path, *boards: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JOBSCRAPE, "scrape", "--no-progress", "--allow-private-networks", "--format", "jsonl",
         "--store", str(tmp_path / "jobs.db"), *[a for b in boards for a in ("--board", b)]],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_the_table_covers_every_type() -> None:
    assert set(ENTRIES) == set(EXPECTED) == set(BOARD_TYPES)


@pytest.mark.parametrize("kind", BOARD_TYPES)
def test_scrape_prints_the_captures_postings(kind: str, boards: BoardServer,
                                             tmp_path: Path) -> None:
    token, path = ENTRIES[kind]
    out = _scrape(tmp_path, f"{kind}:{token}={boards.url}{path}")
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(rows) == EXPECTED[kind], out.stderr[-2000:]
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["board_type"] == kind and r["title"] for r in rows)
    assert "0a1b2c3d" not in out.stdout  # comeet's careers token is a key, never shown
    assert all(r["url"] is None or r["url"].startswith(("http://", "https://")) for r in rows)
    if kind in ("workday", "bamboohr"):  # details fetched: descriptions and dates are there
        assert sum(1 for r in rows if r["description_text"]) == len(rows)
        assert boards.detail_requests["acme"] == len(rows)


def test_a_workday_outage_page_fails_only_that_board(boards: BoardServer,
                                                     tmp_path: Path) -> None:
    boards.set_fault("down", outage=True)
    out = _scrape(tmp_path, f"workday:down.wd1/External={boards.url}/wday/cxs/down/External/jobs",
                  f"workday:acme.wd5/External={boards.url}/wday/cxs/acme/External/jobs")
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(rows) == 20 and {r["id"].split(":")[1] for r in rows} == {"acme.wd5/External"}
    assert "the tenant answered an HTML page instead of JSON" in out.stderr
