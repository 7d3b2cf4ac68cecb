"""Politeness: at most N requests per second to any one host."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class HostRateLimiter:
    """Spaces requests to the same host at least 1/rate seconds apart (other hosts are not
    held up). `clock` and `sleep` are injectable for tests."""

    def __init__(self, rate_per_second: float,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if rate_per_second <= 0:
            raise ValueError("requests per second per host must be > 0")
        self.interval = 1.0 / rate_per_second
        self._clock, self._sleep = clock, sleep
        self._next: dict[str, float] = {}

    async def acquire(self, host: str) -> float:
        """Wait for this host's next slot; return how long it waited."""
        now = self._clock()
        slot = max(now, self._next.get(host, now))
        self._next[host] = slot + self.interval  # reserve before sleeping: fair ordering
        wait = slot - now
        if wait > 0:
            await self._sleep(wait)
        return wait
