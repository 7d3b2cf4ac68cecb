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
    """One parsed response: its postings, the next URL to fetch when the board pages, and the
    items that could not be read and were left out (`skipped`; the first few reasons, each
    naming its item, in `skip_reasons`)."""

    postings: list[Posting]
    next_url: str | None = None
    skipped: int = 0
    skip_reasons: tuple[str, ...] = ()


class Adapter(Protocol):
    """What every module under jobscrape.boards provides (as module-level functions)."""

    def first_url(self, board: BoardRef) -> str:
        """The URL of the first (or only) page of the board."""
        ...

    def parse(self, body: bytes, board: BoardRef, url: str) -> Page:
        """Parse one response body fetched from `url`; raise ParseError on a malformed body
        (a body none of whose items can be read included); unreadable items among readable
        ones are skipped and counted in the Page."""
        ...
