from __future__ import annotations

import pytest

from jobscrape.boards import ATS_TYPES, BOARD_TYPES, get_adapter
from jobscrape.boards.base import BoardRef


def test_board_types_in_spec_order() -> None:
    assert BOARD_TYPES == (
        "greenhouse", "lever", "ashby", "workable", "smartrecruiters", "recruitee", "personio",
        "jsonld", "feed", "workday", "bamboohr", "teamtailor", "breezy", "rippling", "gem",
        "pinpoint", "comeet", "arbeitnow", "themuse", "hackernews",
    )
    assert BOARD_TYPES[:7] + BOARD_TYPES[9:] == ATS_TYPES


@pytest.mark.parametrize("kind", BOARD_TYPES)
def test_every_type_has_an_adapter_module(kind: str) -> None:
    adapter = get_adapter(kind)
    assert adapter.__name__ == f"jobscrape.boards.{kind}"  # type: ignore[attr-defined]
    token = {"workday": "acme.wd5/External", "comeet": "F6.003:0a1b2c3d"}.get(kind, "acme")
    board = BoardRef(name="b", type=kind, token=token, url="https://boards.test/x")
    assert adapter.first_url(board).startswith("https://boards.test/x")


@pytest.mark.parametrize("kind", ["taleo", "base", "normalise", "microdata", "", "Greenhouse"])
def test_unknown_type_is_named(kind: str) -> None:
    with pytest.raises(ValueError, match=f"unknown board type {kind!r}"):
        get_adapter(kind)
