"""Property tests: whatever bytes a board serves, a parser returns a Page or raises ParseError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobscrape.boards import BOARD_TYPES, get_adapter
from jobscrape.boards.base import BoardRef, Page, ParseError

from boardkit import FIXTURE_FILES, FUZZ, board_of

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "boards"
JSON_TYPES = ("greenhouse", "lever", "ashby", "workable", "smartrecruiters", "recruitee")
SETTINGS = FUZZ


def _board(kind: str) -> BoardRef:
    return board_of(kind, name="fuzz")


def _parse_or_parse_error(kind: str, body: bytes) -> None:
    adapter = get_adapter(kind)
    board = _board(kind)
    try:
        page = adapter.parse(body, board, adapter.first_url(board))
    except ParseError:
        return
    assert isinstance(page, Page)
    for posting in page.postings:
        assert posting.content_hash
        assert posting.title == posting.title.strip()
        assert posting.posted_at is None or posting.posted_at.tzinfo is not None


def _keys(doc: Any, into: set[str]) -> set[str]:
    if isinstance(doc, dict):
        into.update(doc)
        for value in doc.values():
            _keys(value, into)
    elif isinstance(doc, list):
        for value in doc:
            _keys(value, into)
    return into


VOCABULARY = sorted(
    _keys(json.loads((FIXTURES / FIXTURE_FILES[k]).read_bytes()), set()) for k in JSON_TYPES
)
KEYS = st.sampled_from(sorted(set().union(*VOCABULARY))) | st.text(max_size=4)
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats() | st.text(max_size=12)
    | st.sampled_from(["Remote", "hybrid", "1 YEAR", "2026-09-18 12:55:59 UTC", "USD", "<p>x"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)
ITEMS = st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=12), max_size=3)
CONTAINER = {
    "greenhouse": "jobs", "ashby": "jobs", "workable": "jobs", "smartrecruiters": "content",
    "recruitee": "offers",
}


@pytest.mark.parametrize("kind", BOARD_TYPES)
@given(body=st.binary(max_size=2048))
@SETTINGS
def test_arbitrary_bytes(kind: str, body: bytes) -> None:
    _parse_or_parse_error(kind, body)


@pytest.mark.parametrize("kind", JSON_TYPES)
@given(items=ITEMS, extra=st.dictionaries(KEYS, JSON_VALUES, max_size=4))
@SETTINGS
def test_json_of_the_right_shape_with_wrong_values(
    kind: str, items: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    doc: Any = items if kind == "lever" else {**extra, CONTAINER[kind]: items}
    _parse_or_parse_error(kind, json.dumps(doc).encode())


@pytest.mark.parametrize("kind", BOARD_TYPES)
@given(data=st.data())
@SETTINGS
def test_damaged_fixture(kind: str, data: st.DataObject) -> None:
    body = (FIXTURES / FIXTURE_FILES[kind]).read_bytes()
    start = data.draw(st.integers(0, len(body)))
    end = data.draw(st.integers(start, min(len(body), start + 64)))
    patch = data.draw(st.binary(max_size=16) | st.sampled_from([b'"', b"<", b"]]>", b"&#0;"]))
    _parse_or_parse_error(kind, body[:start] + patch + body[end:])


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _paths(value, (*prefix, i))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    container = doc
    for step in [head, *rest][:-1]:
        container = container[step]
    container[path[-1]] = value
    return doc


# Per JSON board type: where the postings are, and the keys a posting cannot do without.
REQUIRED = {
    "greenhouse": ("jobs", "id", "title"),
    "lever": (None, "id", "text"),
    "ashby": ("jobs", "id", "title"),
    "workable": ("jobs", "shortcode", "title"),
    "smartrecruiters": ("content", "id", "name"),
    "recruitee": ("offers", "id", "title"),
}


def _is_required(kind: str, path: tuple[Any, ...]) -> bool:
    """Whether replacing the value at path may legitimately make the body unreadable."""
    container, id_key, title_key = REQUIRED[kind]
    rest = path if container is None else path[1:]
    if container is not None and path[0] != container:
        return False  # another top-level field: must be tolerated
    return len(rest) <= 1 or rest[1] in (id_key, title_key)


@pytest.mark.parametrize("kind", JSON_TYPES)
@given(data=st.data())
@SETTINGS
def test_fixture_with_fields_of_the_wrong_type(kind: str, data: st.DataObject) -> None:
    """Odd values in optional fields never cost the board: every posting is still read."""
    doc = json.loads((FIXTURES / FIXTURE_FILES[kind]).read_bytes())
    optional = [p for p in _paths(doc) if p and not _is_required(kind, p)]
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(optional))
        try:
            doc = _replace(doc, path, data.draw(JSON_VALUES))
        except (KeyError, IndexError, TypeError):  # an earlier replacement removed the path
            continue
    adapter = get_adapter(kind)
    board = _board(kind)
    page = adapter.parse(json.dumps(doc).encode(), board, adapter.first_url(board))
    if kind == "ashby":  # a job whose isListed became false is skipped
        assert len(page.postings) <= 2
    else:
        assert len(page.postings) == 2
