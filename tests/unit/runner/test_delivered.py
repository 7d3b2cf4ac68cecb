"""How a run counts fetched and not-modified postings, without a network."""

from __future__ import annotations

from jobscrape.boards.base import BoardRef
from jobscrape.runner.fetch import BoardFetch
from jobscrape.runner.pipeline import delivered


def _f(name: str, *, postings: int = 0, not_modified: bool = False, status: int | None = 200,
       ok: bool = True) -> BoardFetch:
    return BoardFetch(board=BoardRef(name=name, type="greenhouse", token=name), ok=ok,
                      postings=[object()] * postings,  # only counted
                      not_modified=not_modified, http_status=status,
                      state="OK" if ok else "Failing", message="")


def test_parsed_unchanged_304_and_failed_boards():
    fetches = [_f("parsed", postings=3), _f("same", not_modified=True),
               _f("n304", not_modified=True, status=304), _f("down", ok=False, status=500)]
    stored = {"parsed": 2, "same": 5, "n304": 7, "down": 11}
    assert delivered(fetches, stored) == (3 + 5, 7)


def test_boards_without_stored_postings_count_zero():
    fetches = [_f("same", not_modified=True), _f("n304", not_modified=True, status=304)]
    assert delivered(fetches, {}) == (0, 0)
    assert delivered([], {"x": 1}) == (0, 0)
