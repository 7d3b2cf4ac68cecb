"""Expected failures of the CLI and the pipeline end in one line naming the cause, with a
documented exit code (2: bad input, 3: store unusable), never a traceback or a hang; a board
that cannot even build its URL fails alone."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobscrape.boards.base import BoardRef
from jobscrape.runner.fetch import FetchOptions
from jobscrape.runner.pipeline import run_once
from jobscrape.store import open_store

JOBSCRAPE = str(Path(sys.executable).parent / "jobscrape")


def _scrape(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([JOBSCRAPE, "scrape", "--no-progress", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def _one_line(out: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in out.stderr, out.stderr
    return out.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_bad_concurrency_is_refused_not_hung(tmp_path, value):
    out = _scrape("--board", "greenhouse:x=http://127.0.0.1:9/x", "--concurrency", value,
                  cwd=tmp_path)
    assert out.returncode == 2
    assert "argument --concurrency" in _one_line(out)


@pytest.mark.parametrize(("board", "message"), [
    ("personio:bad token", "token for personio boards must be a DNS label"),
    ("greenhouse:x=http://user:secret@127.0.0.1:9/x", "must be an absolute http(s) URL"),
    ("nosuch:x", "unknown type 'nosuch'"),
])
def test_bad_board_options_name_the_option(tmp_path, board, message):
    out = _scrape("--board", board, cwd=tmp_path)
    line = _one_line(out)
    assert out.returncode == 2 and line.startswith("jobscrape scrape: --board ")
    assert message in line and "secret" not in line


def test_unusable_store_is_refused_before_any_fetch(tmp_path, boards):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 64)
    out = _scrape("--board", f"greenhouse:vercel={boards.url}/v1/boards/vercel/jobs",
                  "--allow-private-networks", "--store", str(junk), cwd=tmp_path)
    assert out.returncode == 3
    assert "is not a SQLite database" in _one_line(out)
    assert sum(boards.requests.values()) == 0  # nothing was fetched
    assert junk.read_bytes() == b"this is not a database" * 64  # nor written


def test_store_locked_by_another_run(tmp_path, boards):
    store = open_store(tmp_path / "jobscrape.db")
    store.migrate()
    with store.lock("local"):
        out = _scrape("--board", f"greenhouse:vercel={boards.url}/v1/boards/vercel/jobs",
                      "--allow-private-networks", cwd=tmp_path)
    store.close()
    assert out.returncode == 3
    assert "another run holds the lock" in _one_line(out)
    assert sum(boards.requests.values()) == 0


async def test_a_board_whose_url_cannot_be_built_fails_alone(tmp_path, boards):
    store = open_store(tmp_path / "s.db")
    store.migrate()
    ok = BoardRef(name="gh", type="greenhouse", token="vercel",
                  url=f"{boards.url}/v1/boards/vercel/jobs")
    first = BoardRef(name="p", type="greenhouse", token="vercel",
                     url=f"{boards.url}/v1/boards/vercel/jobs")
    opts = FetchOptions(allow_private_networks=True)
    await run_once("s", [ok, first], store, opts)  # the store now knows board "p"
    bad = BoardRef(name="p", type="personio", token="not a dns label")
    out = await run_once("s", [ok, bad], store, opts, clock=lambda: datetime.now(UTC))
    states = {b.name: (b.state, b.message) for b in out.summary.boards}
    assert states["gh"][0] == "OK"
    assert states["p"][0] == "Failing" and "not a dns label" in states["p"][1].lower()
    store.close()
