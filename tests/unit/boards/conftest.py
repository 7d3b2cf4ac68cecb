"""Helpers for the board adapter tests: the captured payloads under tests/fixtures/boards."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    """Read a captured payload as the fetcher would hand it over."""
    return lambda name: (FIXTURES / name).read_bytes()


@pytest.fixture
def fixture_json() -> Callable[[str], Any]:
    """A fresh decoded copy of a JSON payload, to build variants from."""
    return lambda name: json.loads((FIXTURES / name).read_bytes())
