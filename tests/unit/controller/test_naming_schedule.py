"""Names fit Kubernetes' limits; next run times follow the cronjob controller's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobscrape.api import schedule
from jobscrape.controller import naming


def test_cronjob_name_short_and_long():
    assert naming.cronjob_name("platform-teams") == "jobsource-platform-teams"
    long = "a" * 63
    n = naming.cronjob_name(long)
    assert len(n) <= 52 and n.startswith("jobsource-aaa")
    assert n != naming.cronjob_name("a" * 62)  # hashes keep long names apart
    assert naming.cronjob_name(long) == n  # deterministic


def test_run_now_job_name_is_stable_per_value():
    a = naming.run_now_job_name("src", "2026-11-24T10:00")
    assert a == naming.run_now_job_name("src", "2026-11-24T10:00")
    assert a != naming.run_now_job_name("src", "2026-11-24T10:01")
    assert len(naming.run_now_job_name("x" * 63, "v")) <= 63


NOW = datetime(2026, 11, 24, 10, 17, 5, tzinfo=UTC)


@pytest.mark.parametrize(("expr", "tz", "expected"), [
    ("0 */6 * * *", None, datetime(2026, 11, 24, 12, 0, tzinfo=UTC)),
    ("@hourly", None, datetime(2026, 11, 24, 11, 0, tzinfo=UTC)),
    ("@daily", None, datetime(2026, 11, 25, 0, 0, tzinfo=UTC)),
    # 12:00 in Berlin (UTC+1 in November) is 11:00 UTC
    ("0 12 * * *", "Europe/Berlin", datetime(2026, 11, 24, 11, 0, tzinfo=UTC)),
])
def test_next_run(expr, tz, expected):
    assert schedule.next_run(expr, tz, NOW) == expected


@pytest.mark.parametrize(("expr", "tz", "msg"), [
    ("0 */6 * *", None, "5 fields"),
    ("0 0 0 */6 * *", None, "5 fields"),
    ("61 * * * *", None, "invalid schedule"),
    ("0 * * * *", "Mars/Olympus", "unknown time zone"),
])
def test_next_run_errors(expr, tz, msg):
    with pytest.raises(ValueError, match=msg):
        schedule.next_run(expr, tz, NOW)


def test_interval_seconds():
    assert schedule.interval_seconds("0 */6 * * *", None, NOW) == 6 * 3600
