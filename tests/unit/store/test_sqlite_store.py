"""SQLite-only store behaviour: one-line errors for a file that is not a database or is
read-only, upgrades from older schema versions keep the data, migrations are statement lists."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from jobscrape.httpcache import Validators
from jobscrape.store import StoreError, Target, open_store
from jobscrape.store.migrations import LATEST, MIGRATIONS
from jobscrape.store.sqlite import SqliteStore

from storekit import T0, ok, posting

NOBODY = 65534


def _create_at(path: Path, version: int) -> sqlite3.Connection:
    """A database file at schema `version`, made with the released migration statements."""
    raw = sqlite3.connect(path, isolation_level=None)
    for v, statements in MIGRATIONS:
        if v <= version:
            for stmt in statements:
                raw.execute(stmt)
    raw.execute(f"PRAGMA user_version={version}")
    return raw


def test_sqlite_paths_and_urls_open_sqlite(tmp_path):
    for target in (tmp_path / "a.db", str(tmp_path / "b.db"), f"sqlite:///{tmp_path}/c.db"):
        s = open_store(target)
        assert isinstance(s, SqliteStore) and s.migrate() == LATEST
        s.close()
    assert (tmp_path / "c.db").exists()


def test_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError) as e:
        open_store(path).migrate()
    assert str(e.value) == f"{path} is not a SQLite database"
    assert path.read_text().startswith("these are my notes")  # left alone


def _as_nobody(path: Path, w) -> None:  # in a forked child: root ignores file modes
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    try:
        s = open_store(path)
        s.migrate()
        s.apply_run("s", "r2", [ok([posting(1), posting(2)])], T0)
        w.send("no error")
    except StoreError as e:
        w.send(f"StoreError: {e}")
    except BaseException as e:
        w.send(f"{type(e).__name__}: {e}")
    os._exit(0)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can reach and write (pytest's tmp_path is root's only)."""
    d = Path(tempfile.mkdtemp(prefix="jobscrape-ro-"))
    os.chmod(d, 0o777)  # only the file will be read-only
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("already_open", [False, True])
def test_read_only_file(shared_dir, already_open):
    import multiprocessing

    d = shared_dir
    path = d / "jobs.db"
    s = open_store(path)
    s.migrate()
    s.apply_run("s", "r1", [ok([posting(1)])], T0)
    s.close()
    os.chmod(path, 0o444)
    if already_open:  # a writable -wal/-shm left beside it does not make it writable
        for extra in (d / "jobs.db-wal", d / "jobs.db-shm"):
            extra.touch()
            os.chmod(extra, 0o666)
    ctx = multiprocessing.get_context("fork")
    r, w = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_as_nobody, args=(path, w))
    child.start()
    assert r.poll(60)
    message = r.recv()
    child.join(30)
    assert message.startswith("StoreError: ") and "read-only" in message, message
    assert "\n" not in message and "Traceback" not in message
    s = open_store(path)  # root can still read it: unchanged
    assert s.board_counts("s") == {"gh": 1}
    s.close()


def test_migrations_are_lists_of_single_statements():
    for _, statements in MIGRATIONS:
        assert isinstance(statements, list) and statements
        for stmt in statements:
            assert sqlite3.complete_statement(stmt + ";") and ";" not in stmt, stmt


def test_migration_from_empty_and_idempotent(tmp_path):
    path = tmp_path / "m.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE unrelated (x)")
    raw.commit()
    raw.close()
    s = open_store(path)
    assert s.schema_version == 0
    assert s.migrate() == LATEST and s.migrate() == LATEST
    s.apply_run("s", "r1", [ok([posting(1)])], T0)
    s.close()
    s = open_store(path)
    assert s.migrate() == LATEST and s.board_counts("s") == {"gh": 1}
    s.close()


def test_upgrade_from_version_1_keeps_data(tmp_path):
    path = tmp_path / "v1.db"
    raw = _create_at(path, 1)
    raw.execute("INSERT INTO boards (source, board, board_type, state, etag, updated_at) "
                "VALUES ('s', 'gh', 'greenhouse', 'OK', '\"e1\"', 'x')")
    raw.close()
    s = open_store(path)
    assert s.schema_version == 1 and s.migrate() == LATEST == 3
    assert s.validators("s") == {"gh": Validators(etag='"e1"')}
    s.apply_run("s", "r1", [ok([posting(1)], validators=Validators(None, None, "d1", "f1"))], T0)
    assert s.validators("s")["gh"] == Validators(None, None, "d1", "f1")
    s.close()


def test_upgrade_from_version_2_keeps_postings_and_starts_the_outbox(tmp_path):
    path = tmp_path / "v2.db"
    s = open_store(path)
    s.close()
    raw = _create_at(path, 2)
    data = posting(1)
    from jobscrape.store.rows import posting_json

    raw.execute("INSERT INTO postings (source, id, board, board_type, title, content_hash, data, "
                "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ("s", data.id, "gh", "greenhouse", data.title, data.content_hash,
                 posting_json(data), T0.isoformat(), T0.isoformat()))
    raw.close()
    s = open_store(path)
    assert s.schema_version == 2 and s.migrate() == LATEST
    assert s.open_postings("s") == [data]
    d = s.apply_run("s", "r2", [ok([posting(1), posting(2)])], T0 + timedelta(hours=1),
                    targets=[Target("hook", backfill=True)])
    assert d.counts == (1, 0, 0) and d.queued == {"hook": 2}  # 1 backfilled, 2 created
    assert [c.posting.source_id for c in s.pending("s", "hook", T0 + timedelta(hours=1))] == \
        ["1", "2"]
    s.close()


def test_times_are_stored_in_utc(tmp_path):
    from datetime import timezone

    s = open_store(tmp_path / "tz.db")
    s.migrate()
    berlin = T0.astimezone(timezone(timedelta(hours=1)))
    s.apply_run("s", "r1", [ok([posting(1)])], berlin, targets=[Target("a")])
    assert s.runs("s")[0].finished_at == T0
    assert len(s.pending("s", "a", T0)) == 1  # compared as the same instant
    assert s.pending("s", "a", T0 - timedelta(microseconds=1)) == []
    s.close()
