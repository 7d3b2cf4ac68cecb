"""A local board server for fetch and pipeline tests (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobscrape_dev.boardserver import BoardServer


@pytest.fixture
def boards() -> Iterator[BoardServer]:
    with BoardServer() as server:
        yield server
