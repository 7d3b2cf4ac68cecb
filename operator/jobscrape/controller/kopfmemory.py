"""kopf's per-object memories, never kept.

kopf remembers every object it has seen (a `ResourceMemory`: memo, error throttler, indexing
and daemon state, about 0.8 KB each) until the object is deleted: five objects per JobSource,
20 MiB at 5,000 sources. This operator's kopf handlers are all event handlers that only update
its own cache (controller/cache.py) and queue the source: no daemons, timers, indexes, or
create/update/resume handlers that would need that state. So each event gets a fresh memory,
dropped after the event; kopf's throttling of a handler that keeps failing then starts afresh
with each event (the handlers do not fail: they only record and queue).

`ResourceMemories` is a private kopf name: pinned by tests/unit/controller/test_kopfmemory.py.
"""

from __future__ import annotations

from typing import Any

from kopf._core.reactor.inventory import ResourceMemories, ResourceMemory


class EventOnlyMemories(ResourceMemories):
    """Memories that kopf asks for and never gets to keep."""

    async def recall(self, raw_body: Any, *, memobase: Any = None,
                     noticed_by_listing: bool = False, ephemeral: bool = False
                     ) -> ResourceMemory:
        """A fresh memory for this event, not remembered."""
        return await super().recall(raw_body, memobase=memobase,
                                    noticed_by_listing=noticed_by_listing, ephemeral=True)
