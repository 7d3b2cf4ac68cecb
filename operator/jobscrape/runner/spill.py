"""A board's pickled postings, kept until the board is read whole: in memory up to a limit,
beyond it in an anonymous temporary file (the pod's /tmp), so that a board of many large
pages (refused, in the end, at its byte budget) does not hold all its postings in memory."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from jobscrape.postings import Posting

#: pickled postings a board keeps in memory before it spills to a temporary file
IN_MEMORY = 8 * 1024 * 1024


class PostingBatches:
    """Batches of pickled postings, in order: the first `in_memory` bytes in memory, the
    rest in a temporary file (when none can be made, in memory too)."""

    def __init__(self, in_memory: int | None = None) -> None:
        self._in_memory = IN_MEMORY if in_memory is None else in_memory
        self._batches: list[bytes] = []
        self._held = 0
        self._file: IO[bytes] | None = None
        self._spilled: list[int] = []  # sizes of the batches in the file, in order

    @property
    def spilled_bytes(self) -> int:
        """Bytes written to the temporary file."""
        return sum(self._spilled)

    def extend(self, batches: Iterable[bytes] | PostingBatches) -> None:
        """Keep more batches (after those already kept); another PostingBatches is drained."""
        for batch in batches.drain() if isinstance(batches, PostingBatches) else batches:
            over = self._spilled or self._held + len(batch) > self._in_memory
            if over and self._spill(batch):
                continue
            self._batches.append(batch)
            self._held += len(batch)

    def _spill(self, batch: bytes) -> bool:
        if self._file is None:
            try:
                self._file = tempfile.TemporaryFile(  # noqa: SIM115 - closed by clear()
                    prefix="jobscrape-postings-")
            except OSError:  # no writable temporary directory: memory it is
                return False
        self._file.write(batch)
        self._spilled.append(len(batch))
        return True

    def drain(self) -> Iterator[bytes]:
        """Every batch, in order, each let go once given (afterwards this holds nothing)."""
        batches, self._batches, self._held = self._batches, [], 0
        batches.reverse()
        while batches:
            yield batches.pop()
        if self._file is not None:
            self._file.seek(0)
            for size in self._spilled:
                yield self._file.read(size)
        self.clear()

    def postings(self) -> list[Posting]:
        """Every posting, in order; the batches are let go as they are read (afterwards
        this holds nothing)."""
        out: list[Posting] = []
        for batch in self.drain():
            out.extend(pickle.loads(batch))
        return out

    def clear(self) -> None:
        """Let go of every batch (and the temporary file)."""
        self._batches.clear()
        self._held = 0
        self._spilled.clear()
        if self._file is not None:
            self._file.close()
            self._file = None
