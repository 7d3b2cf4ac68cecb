"""build_posting takes Posting's fields as keywords, with Posting's defaults, and passes them
on by position: a keyword left out gives what Posting's own default gave."""

from __future__ import annotations

import dataclasses
import inspect

from jobscrape.boards import normalise as n
from jobscrape.boards.base import BoardRef
from jobscrape.postings import Posting, Remote, Salary, sanitised, with_hash

SET_BY_BUILD_POSTING = {"id", "board", "board_type", "source_id", "title", "content_hash"}


def test_the_keywords_are_postings_fields_with_their_defaults() -> None:
    keywords = {name: p.default for name, p in inspect.signature(n.build_posting).parameters
                .items() if p.kind is p.KEYWORD_ONLY}
    fields = {f.name: f.default for f in dataclasses.fields(Posting)
              if f.name not in SET_BY_BUILD_POSTING}
    assert list(keywords) == list(fields)  # in Posting's order: passed on by position
    assert keywords == fields


def test_each_keyword_lands_in_its_field() -> None:
    board = BoardRef(name="b", type="lever", token="acme")
    values = dict(url="https://x.test/u", apply_url="https://x.test/a", company="C",
                  department="D", locations=("L1", "L2"), remote=Remote.TRUE,
                  employment_type=n.employment_type("contract"),
                  salary=Salary(min=1.0, max=2.0, currency="USD"),
                  posted_at=n.parse_datetime("2024-01-02"),
                  updated_at=n.parse_datetime("2024-02-03"), description_html="<p>h</p>",
                  description_text="t")
    p = n.build_posting(board, "lever", "7", "T", **values)
    assert {k: getattr(p, k) for k in values} == values
    want = with_hash(sanitised(Posting(id="lever:acme:7", board="b", board_type="lever",
                                       source_id="7", title="T", **values)))
    assert p == want
    assert p.content_hash == want.content_hash
