"""Versioned schema migrations of the PostgreSQL store, recorded in `jobscrape_schema`.
Each version is a list of statements run in order in one transaction. Append new steps; never
edit a released one. `jobscrape_postings` is the public read interface (see the README)."""

from __future__ import annotations

SCHEMA_TABLE = """CREATE TABLE IF NOT EXISTS jobscrape_schema (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""

_KINDS = "CHECK (kind IN ('created', 'updated', 'removed'))"

MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, [
        """CREATE TABLE postings (
            source       text NOT NULL,
            id           text NOT NULL,
            board        text NOT NULL,
            board_type   text NOT NULL,
            title        text NOT NULL,
            content_hash text NOT NULL,
            data         jsonb NOT NULL,        -- the posting (Posting.to_dict)
            first_seen   timestamptz NOT NULL,
            last_seen    timestamptz NOT NULL,
            updated_at   timestamptz,
            closed_at    timestamptz,           -- when it vanished from a fully fetched board
            PRIMARY KEY (source, id)
        )""",
        "CREATE INDEX postings_by_board ON postings (source, board)",
        "CREATE INDEX postings_by_first_seen ON postings (source, first_seen DESC)",
        """CREATE TABLE boards (
            source        text NOT NULL,
            board         text NOT NULL,
            board_type    text NOT NULL,
            state         text NOT NULL,
            http_status   integer,
            message       text NOT NULL DEFAULT '',
            etag          text,
            last_modified text,
            body_digest   text,
            filters_fp    text,
            last_success  timestamptz,
            updated_at    timestamptz NOT NULL,
            PRIMARY KEY (source, board)
        )""",
        """CREATE TABLE runs (
            source      text NOT NULL,
            run_id      text NOT NULL,
            finished_at timestamptz NOT NULL,
            created     integer NOT NULL,
            updated     integer NOT NULL,
            removed     integer NOT NULL,
            PRIMARY KEY (source, run_id)
        )""",
        "CREATE INDEX runs_by_time ON runs (source, finished_at DESC)",
        """CREATE TABLE run_boards (
            source      text NOT NULL,
            run_id      text NOT NULL,
            board       text NOT NULL,
            state       text NOT NULL,
            http_status integer,
            message     text NOT NULL DEFAULT '',
            postings    integer NOT NULL,
            PRIMARY KEY (source, run_id, board),
            FOREIGN KEY (source, run_id) REFERENCES runs (source, run_id) ON DELETE CASCADE
        )""",
        f"""CREATE TABLE changes (
            seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source       text NOT NULL,
            run_id       text NOT NULL,
            kind         text NOT NULL {_KINDS},
            board        text NOT NULL,
            posting_id   text NOT NULL,
            content_hash text NOT NULL,
            at           timestamptz NOT NULL
        )""",
        "CREATE INDEX changes_by_run ON changes (source, run_id)",
        """CREATE TABLE notify_targets (
            source        text NOT NULL,
            target        text NOT NULL,
            added_at      timestamptz NOT NULL,
            delivered     bigint NOT NULL DEFAULT 0,
            last_error    text NOT NULL DEFAULT '',
            last_delivery timestamptz,
            PRIMARY KEY (source, target)
        )""",
        f"""CREATE TABLE outbox (
            seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source          text NOT NULL,
            target          text NOT NULL,
            run_id          text NOT NULL,
            kind            text NOT NULL {_KINDS},
            board           text NOT NULL,
            posting_id      text NOT NULL,
            content_hash    text NOT NULL,
            idempotency_key text NOT NULL,
            data            jsonb NOT NULL,     -- the posting at the change
            created_at      timestamptz NOT NULL,
            attempts        integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL,
            state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
            last_error      text NOT NULL DEFAULT '',
            FOREIGN KEY (source, target) REFERENCES notify_targets (source, target)
                ON DELETE CASCADE
        )""",
        "CREATE INDEX outbox_due ON outbox (source, target, state, next_attempt_at, seq)",
        "CREATE UNIQUE INDEX outbox_key ON outbox (source, target, idempotency_key)",
        """CREATE VIEW jobscrape_postings AS SELECT
            p.source,
            p.id,
            p.board,
            p.board_type,
            p.title,
            p.data ->> 'company' AS company,
            p.data ->> 'department' AS department,
            ARRAY(SELECT jsonb_array_elements_text(p.data -> 'locations')) AS locations,
            p.data ->> 'remote' AS remote,
            p.data ->> 'employment_type' AS employment_type,
            (p.data -> 'salary' ->> 'min')::double precision AS salary_min,
            (p.data -> 'salary' ->> 'max')::double precision AS salary_max,
            p.data -> 'salary' ->> 'currency' AS salary_currency,
            p.data -> 'salary' ->> 'period' AS salary_period,
            p.data ->> 'url' AS url,
            p.data ->> 'apply_url' AS apply_url,
            (p.data ->> 'posted_at')::timestamptz AS posted_at,
            p.first_seen,
            p.last_seen,
            p.closed_at,
            CASE WHEN p.closed_at IS NULL THEN 'open' ELSE 'removed' END AS state,
            p.data ->> 'description_text' AS description_text
        FROM postings p""",
    ]),
    (2, [  # sharded runs: each shard's summary, until the run is whole
        """CREATE TABLE run_shards (
            source      text NOT NULL,
            run_key     text NOT NULL,          -- the run's Job name
            shard       integer NOT NULL,
            shards      integer NOT NULL,
            summary     jsonb NOT NULL,
            recorded_at timestamptz NOT NULL,
            PRIMARY KEY (source, run_key, shard)
        )""",
    ]),
]

LATEST = MIGRATIONS[-1][0]

VIEW_COLUMNS = ("source", "id", "board", "board_type", "title", "company", "department",
                "locations", "remote", "employment_type", "salary_min", "salary_max",
                "salary_currency", "salary_period", "url", "apply_url", "posted_at",
                "first_seen", "last_seen", "closed_at", "state", "description_text")
