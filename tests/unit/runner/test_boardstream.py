"""BoardStream: boards done in any order come out in the run's order, each one's postings are
dropped once taken, and a stream closed early aborts."""

from __future__ import annotations

import threading

import pytest

from jobscrape.boards.base import BoardRef
from jobscrape.runner.boardstream import BoardStream, StreamAborted
from jobscrape.runner.fetch import BoardFetch


def _boards(n: int) -> list[BoardRef]:
    return [BoardRef(name=f"b{i}", type="greenhouse", token=f"b{i}") for i in range(n)]


def _fetch(board: BoardRef, postings: int) -> BoardFetch:
    return BoardFetch(board=board, ok=True, postings=[object()] * postings,  # type: ignore[list-item]
                      not_modified=False, http_status=200, state="OK", message="")


def test_boards_come_out_in_order_and_drop_their_postings():
    boards = _boards(3)
    stream = BoardStream(boards, lambda f: (f.board.name, len(f.postings)))
    fetches = [_fetch(b, i + 1) for i, b in enumerate(boards)]
    for i in (2, 0, 1):  # done out of order
        stream.put(fetches[i])
    stream.close()
    assert list(stream.outcomes()) == [("b0", 1), ("b1", 2), ("b2", 3)]
    assert [f.postings for f in fetches] == [[], [], []]
    assert stream.delivered == {"b0": 1, "b1": 2, "b2": 3}


def test_a_board_waits_for_the_ones_before_it():
    boards = _boards(2)
    stream = BoardStream(boards, lambda f: f.board.name)
    stream.put(_fetch(boards[1], 1))
    taken: list[str] = []
    reader = threading.Thread(target=lambda: taken.extend(stream.outcomes()))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive() and taken == []  # b1 is done, b0 is not: nothing yet
    stream.put(_fetch(boards[0], 1))
    stream.close()
    reader.join(5)
    assert taken == ["b0", "b1"]


def test_closing_before_every_board_came_aborts_after_the_ones_passed_on():
    boards = _boards(3)
    stream = BoardStream(boards, lambda f: f.board.name)
    stream.put(_fetch(boards[0], 1))
    stream.put(_fetch(boards[2], 1))  # b1 never comes
    stream.close()
    out = stream.outcomes()
    assert next(out) == "b0"
    with pytest.raises(StreamAborted):
        next(out)


def test_a_board_listed_twice_comes_out_twice():
    [board] = _boards(1)
    stream = BoardStream([board, board], lambda f: len(f.postings))
    stream.put(_fetch(board, 1))
    stream.put(_fetch(board, 2))
    stream.close()
    assert list(stream.outcomes()) == [1, 2]
