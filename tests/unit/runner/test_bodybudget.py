"""The run-wide budget of body bytes: readers wait for room, and never deadlock."""

from __future__ import annotations

import asyncio

from jobscrape.runner.bodybudget import BodyBudget


async def test_within_the_limit_nobody_waits_and_releasing_gives_bytes_back() -> None:
    budget = BodyBudget(100)
    a, b = budget.hold(), budget.hold()
    await a.grow(60)
    await b.grow(40)
    assert (budget.used, budget.peak) == (100, 100)
    a.release()
    a.release()  # idempotent
    assert budget.used == 40 and not budget.fits(61) and budget.fits(60)


async def test_a_reader_over_the_limit_waits_until_another_body_is_parsed() -> None:
    budget = BodyBudget(100)
    parsed, reading = budget.hold(), budget.hold()
    await parsed.grow(90)
    task = asyncio.create_task(reading.grow(20))  # holds nothing yet: waits
    await asyncio.sleep(0.01)
    assert not task.done() and budget.used == 90
    parsed.release()
    await asyncio.wait_for(task, 1)
    assert budget.used == budget.peak - 70 == 20


async def test_holders_that_all_wait_do_not_deadlock_one_goes_over() -> None:
    # two bodies of 60 bytes read in chunks of 20 under a limit of 70: once both hold some
    # and wait, one goes ahead (the budget is overshot, by less than one body), then the other
    budget = BodyBudget(70)
    done: list[str] = []

    async def read(name: str) -> None:
        hold = budget.hold()
        for _ in range(3):
            await hold.grow(20)
            await asyncio.sleep(0)
        done.append(name)
        await asyncio.sleep(0.01)  # parsed a little later
        hold.release()

    await asyncio.wait_for(asyncio.gather(read("a"), read("b")), 2)
    assert sorted(done) == ["a", "b"] and budget.used == 0
    assert 70 < budget.peak < 70 + 60


async def test_a_cancelled_waiter_leaves_no_trace() -> None:
    budget = BodyBudget(10)
    first, second = budget.hold(), budget.hold()
    await first.grow(10)
    task = asyncio.create_task(second.grow(5))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    first.release()
    assert budget.used == 0 and budget.fits(10)
    await asyncio.wait_for(second.grow(10), 1)  # and the budget still works


async def test_without_a_limit_nothing_waits() -> None:
    budget = BodyBudget(None)
    hold = budget.hold()
    await asyncio.wait_for(hold.grow(10**12), 1)
    assert budget.peak == 10**12
