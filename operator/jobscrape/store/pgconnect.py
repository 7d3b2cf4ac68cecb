"""Connecting to PostgreSQL for the store: timeouts and TCP keepalives on every connection,
and one-line errors that never show the DSN or the password."""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict

from jobscrape.store.base import StoreError

# libpq parameters we set unless the DSN sets them itself
CONNECT_DEFAULTS = {
    "connect_timeout": "10",  # seconds, per host tried
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "application_name": "jobscrape",
}
#: attempts at a connection that timed out (a refusal or an error of the server is final)
CONNECT_ATTEMPTS = 3
CONNECT_PAUSE = 1.0  # seconds between two attempts
STATEMENT_TIMEOUT = "60s"  # unless the DSN's `options` set statement_timeout
#: a run's transaction stays open while its boards are fetched (each is written as it comes)
#: and waits, idle, for a slow one: a server-wide idle_in_transaction_session_timeout must not
#: end it (unless the DSN's `options` set one); a dead run's session still ends by keepalives
IDLE_IN_TRANSACTION_TIMEOUT = "0"
#: the server's side of TCP keepalives for this session: a run whose pod or node died holds
#: its advisory lock until the server notices the connection is dead, which with the server's
#: defaults (the OS's: two hours) blocks the source's next runs; with these, within 25 s
SERVER_KEEPALIVES = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5",
                     "tcp_keepalives_count": "3"}

# errors about the server or our rights, not about our SQL: shown as a StoreError
USAGE_ERRORS: tuple[type[psycopg.Error], ...] = (
    psycopg.OperationalError, errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)


@dataclass(frozen=True)
class Dsn:
    """A PostgreSQL DSN (URI or key=value), its parameters, and what must never be shown."""

    raw: str
    params: dict[str, str] = field(repr=False)

    def __repr__(self) -> str:
        return f"Dsn({self.where})"

    @classmethod
    def parse(cls, raw: str) -> Dsn:
        """The DSN's parameters; StoreError (without the DSN) when it does not parse."""
        try:
            params = {k: str(v) for k, v in conninfo_to_dict(raw).items()}
        except psycopg.Error:
            raise StoreError("the PostgreSQL DSN is not valid (not shown: it may hold a "
                             "password); check its syntax") from None
        return cls(raw, params)

    @property
    def where(self) -> str:
        """host:port (or socket dir:port), for messages."""
        host = self.params.get("host") or self.params.get("hostaddr") or "localhost"
        return f"{host}:{self.params.get('port') or '5432'}"

    def scrub(self, text: str) -> str:
        """The text with the DSN, the password (plain and URL-quoted) and $PGPASSWORD
        replaced by '***'."""
        secrets = [self.raw, self.params.get("password", ""), os.environ.get("PGPASSWORD", "")]
        secrets += [quote(s, safe="") for s in secrets[1:]]
        for s in sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True):
            text = text.replace(s, "***")
        return text


def connect(dsn: Dsn) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection with connect timeout, keepalives, statement timeout and UTC
    times; a connection attempt that times out is made CONNECT_ATTEMPTS times in all;
    StoreError("cannot connect to PostgreSQL at host:port: reason") when it fails."""
    extra = {k: v for k, v in CONNECT_DEFAULTS.items() if k not in dsn.params}
    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        try:
            conn = psycopg.connect(dsn.raw, autocommit=True, **extra)
            break
        except psycopg.Error as e:
            why = reason(e, dsn)
            if attempt == CONNECT_ATTEMPTS or "timeout expired" not in why:
                raise StoreError(f"cannot connect to PostgreSQL at {dsn.where}: {why}"
                                 ) from None
            time.sleep(CONNECT_PAUSE)  # no answer in time: the network, not the server
    try:
        conn.execute("SELECT set_config('TimeZone', 'UTC', false)")
        for name, value in SERVER_KEEPALIVES.items():
            if name not in dsn.params.get("options", ""):
                conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        if "statement_timeout" not in dsn.params.get("options", ""):
            conn.execute("SELECT set_config('statement_timeout', %s, false)",
                         (STATEMENT_TIMEOUT,))
        if "idle_in_transaction_session_timeout" not in dsn.params.get("options", ""):
            conn.execute("SELECT set_config('idle_in_transaction_session_timeout', %s, false)",
                         (IDLE_IN_TRANSACTION_TIMEOUT,))
    except psycopg.Error as e:
        conn.close()
        raise StoreError(f"cannot set up the PostgreSQL session at {dsn.where}: "
                         f"{reason(e, dsn)}") from None
    return conn


def reason(e: BaseException, dsn: Dsn) -> str:
    """The gist of a psycopg error on one line, secrets removed: libpq's 'connection to server
    at "h", port p failed:' prefixes and severity labels dropped."""
    diag = getattr(e, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    lines = [ln.strip() for ln in dsn.scrub(primary or str(e)).splitlines() if ln.strip()]
    if not lines:
        return type(e).__name__
    failing = [ln for ln in lines if "failed: " in ln]
    line = failing[-1] if failing else lines[0]
    line = line.rsplit("failed: ", 1)[-1] if failing else line
    line = re.sub(r"^(FATAL|ERROR|PANIC):\s+", "", line)
    return " ".join(line.split())[:300] or type(e).__name__


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a name."""
    digest = hashlib.blake2b(f"jobscrape:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
