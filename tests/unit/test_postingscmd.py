"""`jobscrape postings` on a real SQLite store: filters, formats, and clear errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from jobscrape import cli
from jobscrape.postings import Posting, posting_id, with_hash
from jobscrape.postingscmd import UsageError, parse_since
from jobscrape.store import BoardOutcome, open_store

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _p(i: int, board: str, title: str) -> Posting:
    return with_hash(Posting(id=posting_id("greenhouse", board, str(i)), board=board,
                             board_type="greenhouse", source_id=str(i), title=title,
                             url=f"https://example.com/{i}", company="Acme",
                             locations=("Berlin",)))


def _ok(board: str, postings: list[Posting]) -> BoardOutcome:
    return BoardOutcome(board=board, board_type="greenhouse", complete=True,
                        not_modified=False, postings=postings, state="OK", http_status=200)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "jobs.db"
    s = open_store(path)
    s.migrate()
    s.apply_run("ns/a", "r1", [_ok("gh", [_p(1, "gh", "Backend Engineer"),
                                          _p(2, "gh", "=HYPERLINK(\"x\")")]),
                               _ok("lv", [_p(3, "lv", "Data Scientist")])],
                NOW - timedelta(days=3))
    s.apply_run("ns/a", "r2", [_ok("gh", [_p(1, "gh", "Backend Engineer"),
                                          _p(2, "gh", "=HYPERLINK(\"x\")"),
                                          _p(4, "gh", "Frontend Engineer")]),
                               _ok("lv", [])], NOW - timedelta(hours=1))
    s.apply_run("ns/b", "r1", [_ok("gh", [_p(9, "gh", "Other Source Engineer")])], NOW)
    s.close()
    return path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["postings", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_filters_by_source_board_state_since_and_text(db, capsys):
    code, out, _ = _run(capsys, "--store", str(db), "--source", "ns/a", "-o", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and {r["title"] for r in rows} == {
        "Backend Engineer", "=HYPERLINK(\"x\")", "Frontend Engineer"}
    _, out, _ = _run(capsys, "--store", str(db), "--state", "removed", "-o", "jsonl")
    (removed,) = [json.loads(line) for line in out.splitlines()]
    assert (removed["title"], removed["state"], removed["board"]) == (
        "Data Scientist", "removed", "lv")
    _, out, _ = _run(capsys, "--store", str(db), "--search", "engineer", "--board", "gh",
                     "--since", "2026-11-27T10:00Z", "-o", "json")
    assert {r["title"] for r in json.loads(out)} == {"Frontend Engineer",
                                                     "Other Source Engineer"}


def test_csv_neutralises_formulas_and_table_is_literal(db, capsys):
    _, out, _ = _run(capsys, "--store", str(db), "-o", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert "'=HYPERLINK(\"x\")" in {r["title"] for r in rows}
    assert set(rows[0]) >= {"source", "first_seen", "state", "url"}
    _, out, _ = _run(capsys, "--store", str(db))
    assert "4 postings" in out and "Backend Engineer" in out


def test_clear_errors(db, tmp_path, capsys):
    code, _, err = _run(capsys, "--store", str(tmp_path / "missing.db"))
    assert code == 2 and "--store" in err and "no such file" in err
    code, _, err = _run(capsys, "--store", str(db), "--since", "yesterday")
    assert code == 2 and err.startswith("jobscrape postings: --since 'yesterday'")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    code, _, err = _run(capsys, "--store", str(junk))
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("value", "expected"), [
    ("24h", NOW - timedelta(hours=24)), ("7d", NOW - timedelta(days=7)),
    ("30m", NOW - timedelta(minutes=30)), ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
])
def test_parse_since(value, expected):
    assert parse_since(value, NOW) == expected


def test_parse_since_refuses_nonsense():
    with pytest.raises(UsageError, match="--since"):
        parse_since("7 days", NOW)


def test_json_records_carry_the_description_as_markdown(tmp_path, capsys):
    path = tmp_path / "md.db"
    s = open_store(path)
    s.migrate()
    html = ("<h3>Role</h3><ul><li>Build <b>things</b></li></ul>"
            "<p>@everyone <a href='https://x.example/apply'>apply</a></p>")
    posting = with_hash(Posting(id=posting_id("greenhouse", "gh", "1"), board="gh",
                                board_type="greenhouse", source_id="1", title="Engineer",
                                description_html=html, description_text="Role"))
    plain = _p(2, "gh", "No description")
    s.apply_run("ns/a", "r1", [_ok("gh", [posting, plain])], NOW)
    s.close()
    expected = ("**Role**\n\n- Build **things**\n\n"
                "@\u200beveryone [apply](https://x.example/apply)")
    _, out, _ = _run(capsys, "--store", str(path), "-o", "json")
    by_title = {r["title"]: r for r in json.loads(out)}
    assert by_title["Engineer"]["description_markdown"] == expected
    assert by_title["No description"]["description_markdown"] == ""
    _, out, _ = _run(capsys, "--store", str(path), "-o", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["description_markdown"] for r in rows} == {expected, ""}
    _, out, _ = _run(capsys, "--store", str(path), "-o", "csv")
    assert "description_markdown" not in out and "Build" not in out  # csv: the flat columns
    _, out, _ = _run(capsys, "--store", str(path))
    assert "Build" not in out and "2 postings" in out
