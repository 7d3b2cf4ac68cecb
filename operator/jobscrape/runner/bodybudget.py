"""How many bytes of response bodies a run holds at once, across all its boards.

Each response may be up to `max_bytes` (20 MiB) decompressed, and a run reads `concurrency`
boards at once: eight gzip bombs would hold 160 MiB before each is refused. A run's readers
share one BodyBudget instead: a body's bytes are counted from the moment they are read until
its parser has taken them (or the body is refused or dropped), and a reader whose next chunk
would go over the limit waits until others give bytes back.

It never deadlocks: bytes are only held by readers that make progress on their own (reading
from the network, or waiting for a parse worker), except those waiting here; when every other
holder is waiting here too, the waiter that already holds bytes goes ahead. So the budget is
overshot by at most one response at a time, and a run whose every board is large still ends.
"""

from __future__ import annotations

import asyncio


class BodyBudget:
    """Bytes of bodies that a run's boards may hold at once (`limit`; None: no limit)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self.peak = 0
        self._holders = 0  # holds with bytes
        self._waiting = 0  # of those, the ones waiting in grow()
        self._sleepers: list[asyncio.Future[None]] = []

    def hold(self) -> BodyHold:
        """A new, empty hold for one response's body."""
        return BodyHold(self)

    def fits(self, n: int) -> bool:
        """Whether `n` more bytes can be held without waiting."""
        return self.limit is None or self.used + n <= self.limit or self.used == 0

    def _add(self, hold: BodyHold, n: int) -> None:
        if not hold.bytes:
            self._holders += 1
        hold.bytes += n
        self.used += n
        self.peak = max(self.peak, self.used)

    async def _grow(self, hold: BodyHold, n: int) -> None:
        holding = hold.bytes > 0
        if not self.fits(n):
            self._waiting += holding
            self._wake()  # the others look again: one holder fewer makes progress
            try:
                while not (self.fits(n) or (holding and self._holders == self._waiting)):
                    sleeper = asyncio.get_running_loop().create_future()
                    self._sleepers.append(sleeper)
                    await sleeper
            finally:
                self._waiting -= holding
        self._add(hold, n)

    def _release(self, hold: BodyHold) -> None:
        if hold.bytes:
            self.used -= hold.bytes
            self._holders -= 1
            hold.bytes = 0
            self._wake()

    def _wake(self) -> None:
        sleepers, self._sleepers = self._sleepers, []
        for sleeper in sleepers:
            if not sleeper.done():
                sleeper.set_result(None)


class BodyHold:
    """The bytes one response's body holds of its run's BodyBudget."""

    def __init__(self, budget: BodyBudget) -> None:
        self.budget = budget
        self.bytes = 0

    async def grow(self, n: int) -> None:
        """Count `n` more bytes of this body, after waiting for room if there is none."""
        await self.budget._grow(self, n)

    def release(self) -> None:
        """Give every byte back (idempotent): the body was parsed, refused or dropped."""
        self.budget._release(self)
