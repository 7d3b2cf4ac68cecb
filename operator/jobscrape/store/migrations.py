"""Versioned schema migrations of the SQLite store; PRAGMA user_version records the version.
Each version is a list of statements, run in order in one transaction. Append new steps; never
edit a released one."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, [
        """CREATE TABLE postings (
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
        )""",
        "CREATE INDEX postings_by_board ON postings (source, board, closed_at)",
        """CREATE TABLE boards (
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
        )""",
        """CREATE TABLE runs (
            source      TEXT NOT NULL,
            run_id      TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            created     INTEGER NOT NULL,
            updated     INTEGER NOT NULL,
            removed     INTEGER NOT NULL,
            PRIMARY KEY (source, run_id)
        )""",
        """CREATE TABLE run_boards (
            source      TEXT NOT NULL,
            run_id      TEXT NOT NULL,
            board       TEXT NOT NULL,
            state       TEXT NOT NULL,
            http_status INTEGER,
            message     TEXT NOT NULL DEFAULT '',
            postings    INTEGER NOT NULL,
            PRIMARY KEY (source, run_id, board),
            FOREIGN KEY (source, run_id) REFERENCES runs (source, run_id) ON DELETE CASCADE
        )""",
    ]),
    (2, [
        "ALTER TABLE boards ADD COLUMN body_digest TEXT",
        "ALTER TABLE boards ADD COLUMN filters_fp TEXT",
    ]),
    (3, [  # the change log and the notification outbox
        """CREATE TABLE changes (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            source       TEXT NOT NULL,
            run_id       TEXT NOT NULL,
            kind         TEXT NOT NULL CHECK (kind IN ('created', 'updated', 'removed')),
            board        TEXT NOT NULL,
            posting_id   TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            at           TEXT NOT NULL
        )""",
        "CREATE INDEX changes_by_run ON changes (source, run_id)",
        """CREATE TABLE notify_targets (
            source        TEXT NOT NULL,
            target        TEXT NOT NULL,
            added_at      TEXT NOT NULL,
            delivered     INTEGER NOT NULL DEFAULT 0,
            last_error    TEXT NOT NULL DEFAULT '',
            last_delivery TEXT,
            PRIMARY KEY (source, target)
        )""",
        """CREATE TABLE outbox (
            seq             INTEGER PRIMARY KEY AUTOINCREMENT,
            source          TEXT NOT NULL,
            target          TEXT NOT NULL,
            run_id          TEXT NOT NULL,
            kind            TEXT NOT NULL CHECK (kind IN ('created', 'updated', 'removed')),
            board           TEXT NOT NULL,
            posting_id      TEXT NOT NULL,
            content_hash    TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            data            TEXT NOT NULL,   -- the posting as JSON (Posting.to_dict)
            created_at      TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
            last_error      TEXT NOT NULL DEFAULT '',
            FOREIGN KEY (source, target) REFERENCES notify_targets (source, target)
                ON DELETE CASCADE
        )""",
        "CREATE INDEX outbox_due ON outbox (source, target, state, next_attempt_at)",
        "CREATE UNIQUE INDEX outbox_key ON outbox (source, target, idempotency_key)",
        "CREATE INDEX postings_by_first_seen ON postings (source, first_seen)",
    ]),
]

LATEST = MIGRATIONS[-1][0]
