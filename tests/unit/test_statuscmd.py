"""The `jobscrape status` table."""

from __future__ import annotations

from datetime import UTC, datetime

from jobscrape.statuscmd import render, status_rows

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_rows_and_render():
    items = [
        {"metadata": {"namespace": "jobs", "name": "b"}, "status": {
            "postings": 12, "nextScheduleTime": "2026-11-24T12:00:00Z",
            "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled"}],
            "lastRun": {"completionTime": "2026-11-24T06:00:00Z", "result": "PartiallyFailed",
                        "created": 2},
            "boards": [{"name": "x", "state": "OK"}, {"name": "y", "state": "NotFound"}]}},
        {"metadata": {"namespace": "jobs", "name": "a"}, "status": {
            "conditions": [{"type": "Ready", "status": "False", "reason": "InvalidSpec"}]}},
    ]
    rows = status_rows(items, NOW)
    assert rows[0] == ("jobs", "a", "InvalidSpec", "-", "-", "-", "-", "-", "-")
    assert rows[1] == ("jobs", "b", "True", "4h ago", "PartiallyFailed", "12", "2",
                       "y(NotFound)", "in 2h")
    text = render(rows)
    assert text.splitlines()[0].startswith("NAMESPACE   NAME")
    assert "y(NotFound)" in text
