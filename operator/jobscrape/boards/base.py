"""The contract between board adapters and the fetcher: bytes in, postings and paging out.

Every adapter module provides `first_url(board)` and `parse(body, board, url)` (Adapter): the
fetcher GETs the first URL, then each Page's `next_url`. Two optional extensions, each a pair of
module-level functions; an adapter without them is read exactly as before:

- requests other than a plain GET (RequestAdapter): `first_request(board) -> Request` and
  `parse_response(body, board, request) -> Page`, whose Page names the next request in
  `next_request` (a POST of a JSON body, say, with the adapter's own notes in `carry`);
- a detail request per posting (DetailAdapter): `detail_url(posting, board) -> str | None` and
  `parse_detail(body, posting, board) -> Posting`, the posting completed from its detail.

Adapters stay pure: they build requests and read bodies, the fetcher does the I/O. The helpers
at the end (first_request, parse_page, detail_url, parse_detail, has_details) call an adapter
through whichever of these it provides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

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
class Request:
    """One HTTP request an adapter asks for: a GET of `url`, or a POST of `json_body` (sent as
    JSON) to it. `carry` is the adapter's own note for reading the answer (e.g. a total only
    the first page tells); it is never sent. Everything in it must pickle."""

    url: str
    method: Literal["GET", "POST"] = "GET"
    json_body: Mapping[str, Any] | None = None
    carry: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One parsed response: its postings, the next URL to fetch when the board pages (or the
    next request, when it is not a plain GET: `next_request` wins over `next_url`), and the
    items that could not be read and were left out (`skipped`; the first few reasons, each
    naming its item, in `skip_reasons`)."""

    postings: list[Posting]
    next_url: str | None = None
    skipped: int = 0
    skip_reasons: tuple[str, ...] = ()
    next_request: Request | None = None

    def following(self) -> Request | None:
        """The request for the next page, or None on the last page."""
        if self.next_request is not None:
            return self.next_request
        return Request(self.next_url) if self.next_url else None


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


class RequestAdapter(Adapter, Protocol):
    """An adapter whose pages are not (all) plain GETs of a URL."""

    def first_request(self, board: BoardRef) -> Request:
        """The request for the first page; ValueError when the board cannot be addressed."""
        ...

    def parse_response(self, body: bytes, board: BoardRef, request: Request) -> Page:
        """Parse the answer to `request`, as Adapter.parse does; the Page's `next_request`
        is the next page's."""
        ...


class DetailAdapter(Adapter, Protocol):
    """An adapter whose list leaves out fields that one request per posting gives."""

    def detail_url(self, posting: Posting, board: BoardRef) -> str | None:
        """The URL (GET) of the posting's detail, or None when it has none."""
        ...

    def parse_detail(self, body: bytes, posting: Posting, board: BoardRef) -> Posting:
        """The posting completed from its detail's body: same id, the detail's fields where
        it has them, the list's elsewhere. ParseError when the body is not a detail."""
        ...


def parser_version(adapter: Adapter) -> int:
    """The adapter's PARSER_VERSION (1 unless it sets one). An adapter raises it whenever it
    reads an unchanged board differently (a field added or read better), so that the store
    rewrites what it holds without reporting every posting as updated."""
    return int(getattr(adapter, "PARSER_VERSION", 1))


def first_request(adapter: Adapter, board: BoardRef) -> Request:
    """The board's first request: the adapter's own, else a GET of its first URL."""
    hook = getattr(adapter, "first_request", None)
    return hook(board) if hook is not None else Request(adapter.first_url(board))


def parse_page(adapter: Adapter, body: bytes, board: BoardRef, request: Request) -> Page:
    """The adapter's reading of the answer to `request` (parse_response, else parse)."""
    hook = getattr(adapter, "parse_response", None)
    if hook is not None:
        page: Page = hook(body, board, request)
        return page
    return adapter.parse(body, board, request.url)


def has_details(adapter: Adapter) -> bool:
    """Whether the adapter reads a detail per posting."""
    return callable(getattr(adapter, "detail_url", None)) and callable(
        getattr(adapter, "parse_detail", None))


def detail_url(adapter: Adapter, posting: Posting, board: BoardRef) -> str | None:
    """The posting's detail URL, or None (no detail, or an adapter without details)."""
    hook = getattr(adapter, "detail_url", None)
    return hook(posting, board) if hook is not None else None


def parse_detail(adapter: Adapter, body: bytes, posting: Posting, board: BoardRef) -> Posting:
    """The posting completed from its detail (the adapter's parse_detail)."""
    hook = getattr(adapter, "parse_detail", None)
    if hook is None:
        raise ParseError(f"{board.type}: this board type reads no details")
    completed: Posting = hook(body, posting, board)
    return completed
