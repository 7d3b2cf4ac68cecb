"""rows.write_boards, the streaming loop both stores run inside a run's transaction: what it
calls for each board, in which order, and what it returns (no database: the writers are
recorded)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jobscrape.postings import ChangeKind
from jobscrape.store import BoardOutcome
from jobscrape.store.rows import ChangeRef, write_boards

from storekit import ok, posting


def _run(outcomes: list[BoardOutcome], *, locks: bool = True, hook: bool = True
         ) -> tuple[list[tuple[str, str]], list[ChangeRef], list[tuple[str, str, int | None, str]]]:
    calls: list[tuple[str, str]] = []

    def store_board(o: BoardOutcome) -> list[ChangeRef]:
        calls.append(("store", o.board))
        return [ChangeRef(ChangeKind.CREATED, o.board, p.id, p.content_hash) for p in o.postings]

    def board_row(o: BoardOutcome) -> None:
        calls.append(("row", o.board))

    changes, boards = write_boards(
        iter(outcomes), store_board, board_row,
        before_each=(lambda: calls.append(("locks", ""))) if locks else None,
        hook=(lambda o: calls.append(("hook", o.board))) if hook else None)
    return calls, changes, boards


def test_each_board_is_checked_stored_hooked_then_given_its_row_in_order() -> None:
    a, b = ok([posting(1, "a"), posting(2, "a")], "a"), ok([posting(3, "b")], "b")
    calls, changes, boards = _run([a, b])
    assert calls == [("locks", ""), ("store", "a"), ("hook", "a"), ("row", "a"),
                     ("locks", ""), ("store", "b"), ("hook", "b"), ("row", "b")]
    assert [c.posting_id for c in changes] == [p.id for p in (*a.postings, *b.postings)]
    assert boards == [("a", "OK", 200, ""), ("b", "OK", 200, "")]


def test_boards_that_failed_or_did_not_change_get_only_their_row() -> None:
    failed = BoardOutcome(board="f", board_type="greenhouse", complete=False,
                          not_modified=False, postings=[], state="Failing", http_status=503,
                          message="HTTP 503")
    same = replace(ok([], "s"), not_modified=True, http_status=304)
    calls, changes, boards = _run([failed, same], hook=True)
    assert calls == [("locks", ""), ("row", "f"), ("locks", ""), ("row", "s")]
    assert changes == []
    assert boards == [("f", "Failing", 503, "HTTP 503"), ("s", "OK", 304, "")]


def test_a_posting_listed_by_two_boards_is_stored_by_the_first_only() -> None:
    shared = posting(7, "a")
    calls, changes, _ = _run([ok([shared], "a"), ok([replace(shared, board="b")], "b")],
                             locks=False, hook=False)
    assert calls == [("store", "a"), ("row", "a"), ("store", "b"), ("row", "b")]
    assert [(c.board, c.posting_id) for c in changes] == [("a", shared.id)]


def test_an_error_of_a_writer_stops_the_loop_there() -> None:
    def broken(o: BoardOutcome) -> list[ChangeRef]:
        raise RuntimeError("disk full")

    rows: list[str] = []
    with pytest.raises(RuntimeError, match="disk full"):
        write_boards([ok([posting(1, "a")], "a"), ok([posting(2, "b")], "b")], broken,
                     lambda o: rows.append(o.board))
    assert rows == []  # the transaction around it rolls back; nothing after the error ran
