"""Board adapters, one module per board type: bytes in, normalised postings out, no I/O.

Each module provides `first_url(board) -> str` and `parse(body, board, url) -> Page`
(see jobscrape.boards.base.Adapter).
"""

from __future__ import annotations

from importlib import import_module
from typing import cast

from jobscrape.boards.base import Adapter, BoardRef, Page, ParseError

BOARD_TYPES: tuple[str, ...] = (
    "greenhouse", "lever", "ashby", "workable", "smartrecruiters", "recruitee", "personio",
    "jsonld", "feed",
)
#: The applicant-tracking systems, addressed by token (jsonld and feed need a URL instead).
ATS_TYPES: tuple[str, ...] = tuple(t for t in BOARD_TYPES if t not in ("jsonld", "feed"))


def get_adapter(type: str) -> Adapter:
    """The adapter module of a board type; ValueError naming the type when it is unknown."""
    if type not in BOARD_TYPES:
        raise ValueError(
            f"unknown board type {type!r}; expected one of: {', '.join(BOARD_TYPES)}"
        )
    return cast(Adapter, import_module(f"jobscrape.boards.{type}"))


__all__ = ["ATS_TYPES", "BOARD_TYPES", "Adapter", "BoardRef", "Page", "ParseError", "get_adapter"]
