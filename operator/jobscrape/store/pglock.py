"""The session that holds a run's advisory lock, kept busy so that the server never takes a
live run for a dead one."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import psycopg

#: seconds between two pings of a lock's session: well under the idle time after which the
#: server starts probing a session (pgconnect.SERVER_KEEPALIVES), so a live run's session is
#: never idle long enough to be probed, and only a dead run's is dropped
PING_SECONDS = 4.0


class LockSession:
    """A connection that holds an advisory lock, pinged from a daemon thread every
    `interval` seconds (PING_SECONDS) until `close()`. `alive()` says (with a round trip)
    whether the session, and with it the lock, still exists; once lost it stays lost."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]],
                 interval: float | None = None,
                 describe: Callable[[BaseException], str] = lambda e: type(e).__name__
                 ) -> None:
        self._conn = conn
        self._describe = describe  # an error, on one line and without secrets
        self._mutex = threading.Lock()  # one statement at a time on the session
        self._lost = False
        self.lost_because = ""  # why the session was lost, once it was
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(interval or PING_SECONDS,),
                                        daemon=True, name="jobscrape-lock-ping")
        self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if not self.alive():
                return

    def alive(self) -> bool:
        """Whether the session answers a query now."""
        with self._mutex:
            if not self._lost:
                try:
                    self._conn.execute("SELECT 1")
                except psycopg.Error as e:
                    self._lost = True
                    self.lost_because = self._describe(e)
            return not self._lost

    def close(self) -> None:
        """Stop pinging and end the session (the server releases its locks)."""
        self._stop.set()
        self._thread.join(timeout=10)
        with self._mutex, contextlib.suppress(psycopg.Error):
            self._conn.close()
