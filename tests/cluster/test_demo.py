"""The one-command demo works end to end and leaves nothing running."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.cluster


def test_demo_once_prints_jobsources_and_postings():
    out = subprocess.run([sys.executable, "-m", "jobscrape_dev.devcluster.demo", "--once"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    lines = out.stdout.splitlines()
    # it runs before the session's cluster takes this machine's node (tests/conftest.py)
    assert "pods run by a real node (kubelet + containerd + runc" in out.stdout
    header = next(i for i, line in enumerate(lines) if line.startswith("NAME "))
    row = lines[header + 1].split()
    # NAME, SCHEDULE (5 fields), SUSPEND, BOARDS, POSTINGS, NEW, LAST RESULT, LAST SUCCESS,
    # READY, HEALTHY, AGE (NEW is 0 when a scheduled run on a five-minute boundary already
    # followed the first one); one board of the demo does not exist, so the run is partial
    assert row[0] == "fixture-boards" and row[6:9] == ["false", "10", "17"], out.stdout[-5000:]
    assert row[10] == "PartiallyFailed" and row[12:14] == ["True", "False"]
    assert "17 postings (17 new)" in out.stdout
    assert "Account Executive, Majors" in out.stdout
    # the demo's Discord-style webhook got every posting once, as new; the second run nothing
    new = [line for line in lines if line.startswith("  New: ")]
    assert len(new) == 17 and any("Account Executive, Majors" in line for line in new)
    assert "second run: 0 new postings, 0 messages to the webhook" in out.stdout
