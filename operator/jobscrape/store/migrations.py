"""Versioned schema migrations of the SQLite store; PRAGMA user_version records the version.
Append new steps; never edit a released one."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str]] = [
    (1, """
        CREATE TABLE postings (
            source       TEXT NOT NULL,
            id           TEXT NOT NULL,
            board        TEXT NOT NULL,
            board_type   TEXT NOT NULL,
            title        TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            data         TEXT NOT NULL,   -- the posting as JSON (Posting.to_dict)
            first_seen   TEXT NOT NULL,
            last_seen    TEXT NOT NULL,
            updated_at   TEXT,
            closed_at    TEXT,            -- set when it vanished from a fully fetched board
            PRIMARY KEY (source, id)
        );
        CREATE INDEX postings_by_board ON postings (source, board, closed_at);
        CREATE TABLE boards (
            source        TEXT NOT NULL,
            board         TEXT NOT NULL,
            board_type    TEXT NOT NULL,
            state         TEXT NOT NULL,
            http_status   INTEGER,
            message       TEXT NOT NULL DEFAULT '',
            etag          TEXT,
            last_modified TEXT,
            last_success  TEXT,
            updated_at    TEXT NOT NULL,
            PRIMARY KEY (source, board)
        );
        CREATE TABLE runs (
            source      TEXT NOT NULL,
            run_id      TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            created     INTEGER NOT NULL,
            updated     INTEGER NOT NULL,
            removed     INTEGER NOT NULL,
            PRIMARY KEY (source, run_id)
        );
        CREATE TABLE run_boards (
            source      TEXT NOT NULL,
            run_id      TEXT NOT NULL,
            board       TEXT NOT NULL,
            state       TEXT NOT NULL,
            http_status INTEGER,
            message     TEXT NOT NULL DEFAULT '',
            postings    INTEGER NOT NULL,
            PRIMARY KEY (source, run_id, board),
            FOREIGN KEY (source, run_id) REFERENCES runs (source, run_id) ON DELETE CASCADE
        );
    """),
    (2, """
        ALTER TABLE boards ADD COLUMN body_digest TEXT;
        ALTER TABLE boards ADD COLUMN filters_fp TEXT;
    """),
]

LATEST = MIGRATIONS[-1][0]
