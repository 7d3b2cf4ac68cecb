"""--runner-env: plain NAME=VALUE pairs for every runner pod; the operator's own names refused."""

from __future__ import annotations

import pytest

from jobscrape.controller.main import parse_runner_env


def test_pairs_are_kept_in_order_and_values_may_hold_equals():
    assert parse_runner_env(["A=1", "PUBSUB_EMULATOR_HOST=h:1", "Q=a=b"]) == (
        ("A", "1"), ("PUBSUB_EMULATOR_HOST", "h:1"), ("Q", "a=b"))


@pytest.mark.parametrize(("item", "message"), [
    ("NOVALUE", "give NAME=VALUE"), ("1BAD=x", "give NAME=VALUE"),
    ("JOBSCRAPE_POSTGRES_DSN=postgresql://x", "set by the operator itself"),
])
def test_bad_items_are_refused_by_name(item, message):
    with pytest.raises(SystemExit, match=message) as e:
        parse_runner_env([item])
    assert "postgresql://x" not in str(e.value)
