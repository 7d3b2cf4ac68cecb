"""Boards handed from the fetch (the event loop) to the store (a thread) as each is done, in
the run's board order: the store writes one board while others are still fetched, and a
board's postings are dropped once it has taken them, so a run never holds all its postings.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

from jobscrape.boards.base import BoardRef
from jobscrape.runner.fetch import BoardFetch

T = TypeVar("T")


class StreamAborted(Exception):
    """The fetch ended before every board was done: whatever takes the stream gives up."""


_END = object()
_ABORT = object()


class BoardStream(Generic[T]):
    """Fetched boards in, `outcome(fetch)` of each out, in the order of `boards`.

    `put` and `close` are called by the fetching side, `outcomes` is iterated by the writing
    side (another thread): it waits for each next board, and ends after the last one, or
    raises StreamAborted when the stream is closed before every board came.
    """

    def __init__(self, boards: Sequence[BoardRef], outcome: Callable[[BoardFetch], T]) -> None:
        self._index: dict[int, list[int]] = {}  # a board listed twice is done twice
        for i, b in enumerate(boards):
            self._index.setdefault(id(b), []).append(i)
        self._count = len(boards)
        self._outcome = outcome
        self._waiting: dict[int, BoardFetch] = {}
        self._next = 0
        self._ready: queue.SimpleQueue[object] = queue.SimpleQueue()
        #: postings each board delivered, counted before they are dropped (by board name)
        self.delivered: dict[str, int] = {}

    def put(self, fetch: BoardFetch) -> None:
        """One board is done (in any order): it is passed on once every board before it is."""
        self._waiting[self._index[id(fetch.board)].pop(0)] = fetch
        while self._next in self._waiting:
            self._ready.put(self._waiting.pop(self._next))
            self._next += 1

    def close(self) -> None:
        """No more boards will come: the stream ends, or aborts if some never came."""
        self._ready.put(_END if self._next == self._count else _ABORT)

    def outcomes(self) -> Iterator[T]:
        """Each board's outcome, in order, as it becomes ready; the board's fetch keeps no
        postings afterwards (their count stays in `delivered`)."""
        while True:
            item = self._ready.get()
            if item is _END:
                return
            if item is _ABORT:
                raise StreamAborted("the fetch ended before every board was done")
            assert isinstance(item, BoardFetch)
            self.delivered[item.board.name] = len(item.postings)
            out = self._outcome(item)
            item.postings = []
            yield out
