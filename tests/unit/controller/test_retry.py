"""Backoff of failed reconciles."""

from __future__ import annotations

from jobscrape.controller.retry import Backoff


def test_backoff_grows_per_key_caps_and_resets():
    b = Backoff(base=1.0, factor=2.0, cap=5.0)
    assert [b.failed("a") for _ in range(4)] == [1.0, 2.0, 4.0, 5.0]
    assert b.failed("b") == 1.0 and b.pending == 2 and b.failures("a") == 4
    b.succeeded("a")
    assert b.failed("a") == 1.0 and b.failures("a") == 1
    b.succeeded("zzz")  # unknown keys are fine
    assert b.pending == 2
