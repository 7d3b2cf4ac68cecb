"""A work queue of JobSources to reconcile, as controller-runtime has: keys, not events.

Watch handlers only add a source's (namespace, name) and return, so kopf's per-object workers
end at once and hold no body while a reconcile waits. A key is queued at most once however
often it is added; `workers` tasks take keys one by one, never the same key twice at a time;
a key added while it is being processed is processed again afterwards (so no change is lost).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger("jobscrape.operator")


class WorkQueue:
    """Deduplicating keys with a fixed number of workers calling `process(key)`."""

    def __init__(self, process: Callable[[Hashable], Awaitable[None]], workers: int = 32
                 ) -> None:
        self.process = process
        self.workers = workers
        self._queue: asyncio.Queue[Hashable] = asyncio.Queue()
        self._dirty: set[Hashable] = set()
        self._busy: set[Hashable] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        """Keys waiting (not counting those being processed)."""
        return len(self._dirty)

    def add(self, key: Hashable) -> None:
        """Ask for `key` to be processed (once, however often asked before it starts)."""
        if key in self._dirty:
            return
        self._dirty.add(key)
        self._idle.clear()
        if key not in self._busy:
            self._queue.put_nowait(key)

    def start(self) -> None:
        """Start the workers (inside the running event loop)."""
        self._tasks = [asyncio.create_task(self._work(), name=f"reconcile worker {i}")
                       for i in range(self.workers)]

    async def stop(self) -> None:
        """Cancel the workers."""
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def join(self) -> None:
        """Wait until nothing is queued or being processed."""
        await self._idle.wait()

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            self._dirty.discard(key)
            self._busy.add(key)
            try:
                await self.process(key)
            except Exception:  # process() handles its errors; this is a bug, not a stop
                log.exception("reconcile worker: unexpected error for %s", key)
            finally:
                self._busy.discard(key)
                if key in self._dirty:  # added again while processed: go again
                    self._queue.put_nowait(key)
                elif not self._dirty and not self._busy:
                    self._idle.set()
