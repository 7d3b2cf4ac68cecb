"""A board's pickled postings spill to a temporary file beyond what it keeps in memory."""

from __future__ import annotations

import pickle
import tempfile

from jobscrape.postings import Posting, posting_id, with_hash
from jobscrape.runner.spill import PostingBatches


def _batch(first: int, n: int) -> bytes:
    return pickle.dumps([with_hash(Posting(id=posting_id("lever", "acme", str(i)), board="b",
                                           board_type="lever", source_id=str(i),
                                           title=f"Engineer {i}", description_text="x" * 500))
                         for i in range(first, first + n)])


def test_beyond_the_memory_limit_batches_go_to_a_file_and_come_back_in_order() -> None:
    batches = [_batch(i * 10, 10) for i in range(6)]
    kept = PostingBatches(in_memory=len(batches[0]) + len(batches[1]))
    kept.extend(batches[:3])
    kept.extend(batches[3:])
    assert kept.spilled_bytes == sum(map(len, batches[2:]))  # all after the first two
    assert [p.source_id for p in kept.postings()] == [str(i) for i in range(60)]
    assert kept.spilled_bytes == 0 and kept.postings() == []  # let go once read


def test_without_a_writable_temporary_directory_everything_stays_in_memory(monkeypatch) -> None:
    def refused(**_: object) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    kept = PostingBatches(in_memory=1)
    kept.extend([_batch(0, 3), _batch(3, 3)])
    assert kept.spilled_bytes == 0
    assert [p.source_id for p in kept.postings()] == ["0", "1", "2", "3", "4", "5"]


def test_clear_drops_the_file() -> None:
    kept = PostingBatches(in_memory=0)
    kept.extend([_batch(0, 2)])
    assert kept.spilled_bytes > 0
    kept.clear()
    assert kept.spilled_bytes == 0 and kept.postings() == []
