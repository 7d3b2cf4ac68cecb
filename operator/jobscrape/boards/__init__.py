"""Board adapters, one module per board type: bytes in, normalised postings out, no I/O.

Each module provides `first_url(board) -> str` and `parse(body, board, url) -> Page`
(see jobscrape.boards.base.Adapter). The board types are the API's
(jobscrape.api.vocabulary.BOARD_TYPES): a test checks that each has its module here.
"""

from __future__ import annotations

from importlib import import_module
from typing import cast

from jobscrape.api.vocabulary import ATS_TYPES, BOARD_TYPES
from jobscrape.boards.base import Adapter, BoardRef, Page, ParseError


def get_adapter(type: str) -> Adapter:
    """The adapter module of a board type; ValueError naming the type when it is unknown."""
    if type not in BOARD_TYPES:
        raise ValueError(
            f"unknown board type {type!r}; expected one of: {', '.join(BOARD_TYPES)}"
        )
    return cast(Adapter, import_module(f"jobscrape.boards.{type}"))


__all__ = ["ATS_TYPES", "BOARD_TYPES", "Adapter", "BoardRef", "Page", "ParseError", "get_adapter"]
