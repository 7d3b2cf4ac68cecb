"""The contract between board adapters and the fetcher: bytes in, postings and paging out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from jobscrape.postings import Posting


class ParseError(ValueError):
    """The body is not what this board type serves (malformed, truncated, wrong format)."""


@dataclass(frozen=True, slots=True)
class BoardRef:
    """What a spec board says: its name, type, token and optional URL (override)."""

    name: str
    type: str
    token: str = ""
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One parsed response: its postings, and the next URL to fetch when the board pages."""

    postings: list[Posting]
    next_url: str | None = None


class Adapter(Protocol):
    """What every module under jobscrape.boards provides (as module-level functions)."""

    def first_url(self, board: BoardRef) -> str:
        """The URL of the first (or only) page of the board."""
        ...

    def parse(self, body: bytes, board: BoardRef, url: str) -> Page:
        """Parse one response body fetched from `url`; raise ParseError on a malformed body."""
        ...
