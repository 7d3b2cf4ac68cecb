"""kopf's per-object memories are never kept (and the private kopf names that relies on)."""

from __future__ import annotations

import inspect

import kopf
from kopf._core.reactor.inventory import ResourceMemories, ResourceMemory

from jobscrape.controller.kopfmemory import EventOnlyMemories


def _body(uid: str) -> dict[str, object]:
    return {"metadata": {"uid": uid, "name": uid, "namespace": "ns"}}


async def test_kopf_keeps_a_memory_per_object_unless_told_not_to() -> None:
    kept = ResourceMemories()  # kopf's own: one memory per object, for as long as it exists
    first = await kept.recall(_body("a"))
    assert await kept.recall(_body("a")) is first
    assert list(kept.iter_all_memories()) == [first]

    ours = EventOnlyMemories()
    one = await ours.recall(_body("a"), noticed_by_listing=True)
    assert isinstance(one, ResourceMemory) and one.noticed_by_listing
    assert await ours.recall(_body("a")) is not one  # a fresh memory per event
    assert list(ours.iter_all_memories()) == []  # nothing kept
    await ours.forget(_body("a"))  # a DELETED event: nothing to forget, no error


def test_kopf_run_takes_the_memories() -> None:
    assert "memories" in inspect.signature(kopf.run).parameters
    assert inspect.iscoroutinefunction(ResourceMemories.recall)
    assert {"memobase", "noticed_by_listing", "ephemeral"} <= set(
        inspect.signature(ResourceMemories.recall).parameters)


def test_every_handler_of_the_operator_is_an_event_handler() -> None:
    # what makes dropping the memories safe: no handler kind that keeps per-object state
    from jobscrape.controller import operator  # noqa: F401  (registers the handlers)

    registry = kopf.get_default_registry()
    assert not list(registry._changing.get_all_handlers())  # no create/update/resume handlers
    assert not list(registry._spawning.get_all_handlers())  # no daemons or timers
    assert not list(registry._indexing.get_all_handlers())  # no indexes
    assert not list(registry._webhooks.get_all_handlers())  # no admission webhooks
    # the Jobs of sharded runs (JobSources and owned kinds have the operator's own watches)
    assert len(list(registry._watching.get_all_handlers())) == 1
