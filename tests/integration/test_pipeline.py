"""One run end to end without a cluster: fetch from the board server, filter, store, diff."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobscrape.boards.base import BoardRef
from jobscrape.runner.fetch import FetchOptions
from jobscrape.runner.pipeline import run_once
from jobscrape.runner.report import result_of
from jobscrape.store import open_store
from jobscrape_dev.boardserver import DEFAULT_FIXTURES, BoardServer

OPTS = FetchOptions(allow_private_networks=True, retries=1, backoff_base=0.01,
                    requests_per_second_per_host=1000)


def _gh(server, token):
    return BoardRef(name=token, type="greenhouse", token=token,
                    url=f"{server.url}/v1/boards/{token}/jobs")


async def test_failing_board_is_partial_and_keeps_its_postings(boards, tmp_path):
    store = open_store(tmp_path / "s.db")
    store.migrate()
    refs = [_gh(boards, "a"), _gh(boards, "b")]
    first = await run_once("ns/src", refs, store, OPTS)
    assert result_of(first.summary.boards) == "Succeeded" and first.diff.counts == (4, 0, 0)
    boards.set_fault("b", status=500)
    second = await run_once("ns/src", refs, store, OPTS)
    assert result_of(second.summary.boards) == "PartiallyFailed"
    assert second.diff.counts == (0, 0, 0)  # b's postings are not reported removed
    assert store.board_counts("ns/src") == {"a": 2, "b": 2}
    assert {b.name: b.postings for b in second.summary.boards} == {"a": 2, "b": 2}


async def test_diffs_across_runs(tmp_path):
    fixtures = tmp_path / "fixtures"
    shutil.copytree(DEFAULT_FIXTURES, fixtures)
    gh = fixtures / "greenhouse_jobs_content.json"
    store = open_store(tmp_path / "s.db")
    store.migrate()
    with BoardServer(fixtures=fixtures) as server:
        refs = [_gh(server, "vercel")]
        assert (await run_once("s", refs, store, OPTS)).diff.counts == (2, 0, 0)
        assert (await run_once("s", refs, store, OPTS)).diff.counts == (0, 0, 0)
        doc = json.loads(gh.read_text())  # a variant of the copy, not of the fixture
        doc["jobs"][0]["title"] = "Account Executive, Majors (EMEA)"
        gh.write_text(json.dumps(doc))
        server._cache.clear()
        changed = await run_once("s", refs, store, OPTS)
        assert changed.diff.counts == (0, 1, 0)
        [updated] = changed.diff.updated
        assert {p.id: p.title for p in store.open_postings("s")}[updated] == (
            "Account Executive, Majors (EMEA)")
        del doc["jobs"][1]
        gh.write_text(json.dumps(doc))
        server._cache.clear()
        gone = await run_once("s", refs, store, OPTS)
        assert gone.diff.counts == (0, 0, 1)
        assert (await run_once("s", refs, store, OPTS)).diff.counts == (0, 0, 0)


def _stored_as(db: Path, recipe: str) -> None:
    """Make every stored posting differ from what the parser reads now, as if it had been
    stored under `recipe` (filters fingerprint / parser version) by other code."""
    import sqlite3

    with sqlite3.connect(db) as c:
        c.execute("UPDATE postings SET content_hash = 'stored-by-other-code'")
        c.execute("UPDATE boards SET filters_fp = ?", (recipe,))


def _rewritten(db: Path) -> bool:
    import sqlite3

    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*) FROM postings WHERE content_hash = "
                         "'stored-by-other-code'").fetchone() == (0,)


async def test_a_new_parser_version_rereads_the_board_without_reporting_updates(
        boards, tmp_path, monkeypatch):
    from jobscrape.boards import greenhouse
    from jobscrape.runner.pipeline import filters_fingerprint

    db, refs, version = tmp_path / "s.db", [_gh(boards, "vercel")], greenhouse.PARSER_VERSION
    store = open_store(db)
    store.migrate()
    assert (await run_once("s", refs, store, OPTS)).diff.counts == (2, 0, 0)
    # other filters, same parser: the board is read anew, and what differs is an update
    _stored_as(db, f"other-filters/{version}")
    assert (await run_once("s", refs, store, OPTS)).diff.counts == (0, 2, 0)
    # an older parser (and one from before versions were kept): read anew, stored quietly
    for older in (f"{filters_fingerprint(None)}/{version - 1}", filters_fingerprint(None)):
        _stored_as(db, older)
        upgraded = await run_once("s", refs, store, OPTS)
        assert upgraded.diff.counts == (0, 0, 0) and upgraded.summary.boards[0].state == "OK"
        assert _rewritten(db)
    # a newer version, with a real change in the same run: the removal is still reported
    monkeypatch.setattr(greenhouse, "PARSER_VERSION", version + 1)
    monkeypatch.setitem(boards.edits, "vercel", lambda doc: doc["jobs"].pop())
    assert (await run_once("s", refs, store, OPTS)).diff.counts == (0, 0, 1)


async def test_filters_apply_before_storing(boards, tmp_path):
    from jobscrape.api.spec import Filters

    store = open_store(tmp_path / "s.db")
    store.migrate()
    out = await run_once("s", [_gh(boards, "vercel")], store, OPTS,
                         filters=Filters.model_validate({"titles": {"include": ["Majors"]}}))
    assert [p.title for p in store.open_postings("s")] == ["Account Executive, Majors"]
    assert out.summary.fetched == 2 and out.diff.counts == (1, 0, 0)


def _scrape(*args, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "jobscrape"
    return subprocess.run([str(exe), "scrape", "--allow-private-networks", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_scrape_cli_table_and_json(boards, tmp_path):
    url = f"{boards.url}/v1/boards/vercel/jobs"
    table = _scrape("--board", f"greenhouse:vercel={url}", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "2 postings (2 new)" in table.stdout and "Account Executive, Majors" in table.stdout
    assert (tmp_path / "jobscrape.db").exists()
    again = _scrape("--board", f"greenhouse:vercel={url}", "--format", "json", cwd=tmp_path)
    rows = json.loads(again.stdout)
    assert isinstance(rows, list) and len(rows) == 2
    assert {r["new"] for r in rows} == {False}  # the second run knows them
    assert rows[0]["id"].startswith("greenhouse:vercel:")


def test_scrape_cli_rejects_bad_board_option(tmp_path):
    bad = _scrape("--board", "monster:x", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown type 'monster'" in bad.stderr


async def test_unchanged_board_is_not_parsed_again_unless_filters_change(boards, tmp_path):
    from jobscrape.api.spec import Filters

    store = open_store(tmp_path / "s.db")
    store.migrate()
    refs = [_gh(boards, "vercel")]
    first = await run_once("s", refs, store, OPTS)
    assert not first.fetches[0].not_modified and first.diff.counts == (2, 0, 0)
    second = await run_once("s", refs, store, OPTS)
    assert second.fetches[0].not_modified and second.fetches[0].message == "unchanged"
    assert second.diff.counts == (0, 0, 0) and store.board_counts("s") == {"vercel": 2}
    narrower = Filters.model_validate({"titles": {"include": ["Majors"]}})
    third = await run_once("s", refs, store, OPTS, filters=narrower)
    assert not third.fetches[0].not_modified  # new filters: fetched, parsed, filtered anew
    assert third.diff.counts == (0, 0, 1) and store.board_counts("s") == {"vercel": 1}
    fourth = await run_once("s", refs, store, OPTS, filters=narrower)
    assert fourth.fetches[0].not_modified and store.board_counts("s") == {"vercel": 1}


async def test_unchanged_boards_count_as_fetched(boards, tmp_path):
    store = open_store(tmp_path / "s.db")
    store.migrate()
    refs = [_gh(boards, "a"), _gh(boards, "b")]
    first = await run_once("s", refs, store, OPTS)
    assert first.summary.fetched == 4
    second = await run_once("s", refs, store, OPTS)
    assert [f.message for f in second.fetches] == ["unchanged", "unchanged"]
    assert [f.http_status for f in second.fetches] == [200, 200]
    assert second.summary.fetched == sum(store.board_counts("s").values()) == 4
    assert second.diff.counts == (0, 0, 0)
    assert first.summary.not_modified == second.summary.not_modified == 0


async def test_boards_answering_304_count_as_not_modified(boards, tmp_path):
    store = open_store(tmp_path / "s.db")
    store.migrate()
    boards.set_fault("tagged", etag=True)
    refs = [_gh(boards, "tagged"), _gh(boards, "plain"), _gh(boards, "unknown")]
    first = await run_once("s", refs, store, OPTS)
    assert first.summary.fetched == 4
    second = await run_once("s", refs, store, OPTS)
    tagged, plain, unknown = second.fetches
    assert tagged.http_status == 304 and tagged.not_modified
    assert plain.http_status == 200 and plain.message == "unchanged"
    assert unknown.state == "NotFound"
    assert store.board_counts("s") == {"tagged": 2, "plain": 2}
    assert second.summary.fetched == 2  # plain only: the 304 board transferred nothing
    assert first.summary.not_modified == 0 and second.summary.not_modified == 2
    assert [b.state for b in second.summary.boards] == ["OK", "OK", "NotFound"]


async def test_a_lock_lost_after_the_commit_still_reports_the_runs_changes(boards):
    # the run's changes are committed: losing the lock's session afterwards (the server
    # dropped it) must neither fail the run nor make a rerun report nothing
    import psycopg

    from jobscrape.store.postgres import PostgresStore
    from jobscrape_dev.pgserver import PgServer

    class DroppedAfterCommit(PostgresStore):
        def apply_run(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            diff = super().apply_run(*args, **kwargs)
            with psycopg.connect(dsn, autocommit=True) as c:
                dropped = c.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = "
                    "'advisory' AND granted AND pid <> pg_backend_pid()").fetchall()
            assert dropped == [(True,)]
            return diff

    with PgServer() as pg:
        dsn = pg.create_database()
        store = DroppedAfterCommit(dsn)
        store.migrate()
        out = await run_once("s", [_gh(boards, "vercel")], store, OPTS)
        assert out.diff.counts == (2, 0, 0)
        assert (out.summary.created, out.summary.boards[0].postings) == (2, 2)
        store.close()


class _TimedStore:
    """A store whose apply_run notes when it takes each board's outcome."""

    def __init__(self, store):
        self._store, self.taken = store, {}

    def __getattr__(self, name):
        return getattr(self._store, name)

    def apply_run(self, source, run_id, outcomes, now, targets=None):
        def timed():
            for o in outcomes:
                self.taken[o.board] = time.monotonic()
                yield o
        return self._store.apply_run(source, run_id, timed(), now, targets=targets)


async def test_boards_are_stored_while_later_ones_are_still_fetched(boards, tmp_path):
    store = open_store(tmp_path / "s.db")
    store.migrate()
    boards.set_fault("slow", delay=1.5)
    timed, done = _TimedStore(store), {}
    out = await run_once("s", [_gh(boards, "a"), _gh(boards, "slow")], timed, OPTS,
                         on_board_done=lambda f: done.setdefault(f.board.name,
                                                                  time.monotonic()))
    assert timed.taken["a"] < done["slow"]  # a was being written before slow was fetched
    assert out.diff.counts == (4, 0, 0) and out.summary.fetched == 4
    assert [f.postings for f in out.fetches] == [[], []]  # nothing held once stored


async def test_a_run_whose_fetch_fails_stores_nothing(boards, tmp_path):
    store = open_store(tmp_path / "s.db")
    store.migrate()
    boards.set_fault("slow", delay=1.0)

    def fail_on_slow(f):
        if f.board.name == "slow":
            raise RuntimeError("the run is stopped")

    refs = [_gh(boards, "a"), _gh(boards, "slow")]
    with pytest.raises(RuntimeError, match="the run is stopped"):
        await run_once("s", refs, store, OPTS, on_board_done=fail_on_slow)
    assert store.board_counts("s") == {} and store.runs("s") == []  # a's writes rolled back
    assert (await run_once("s", refs, store, OPTS)).diff.counts == (4, 0, 0)
