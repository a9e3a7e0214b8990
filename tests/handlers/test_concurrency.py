"""Concurrency: reserved concurrency, the account pool, and throttles."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import esmsim
from esmsim import InvalidParameterValueException
from esmsim.handlers import Function, Invocation, account_concurrency

from .events import sqs_event


async def slow(event: Any, context: Any) -> None:
    await asyncio.sleep(1)


async def invoke_together(sim: esmsim.Simulation, *functions: Function) -> list[Invocation]:
    """Start one invocation per entry at the same simulated instant and wait for all."""

    async def together() -> list[Invocation]:
        return list(await asyncio.gather(*(fn.invoke(lambda: sqs_event(1)) for fn in functions)))

    return await sim.call(together)


@pytest.mark.asyncio
async def test_invocation_beyond_reserved_concurrency_is_throttled(sim: esmsim.Simulation) -> None:
    """With ``ReservedConcurrentExecutions=1`` a second concurrent invoke is throttled (§5)."""
    fn = sim.function("fn", slow, ReservedConcurrentExecutions=1)
    first, second = await invoke_together(sim, fn, fn)
    assert (first.status, second.status) == ("success", "throttled")
    assert (second.request_id, second.duration) == (None, 0.0)
    assert fn.invocations == [first]


@pytest.mark.asyncio
async def test_throttles_count_in_throttles_not_invocations(sim: esmsim.Simulation) -> None:
    """A throttled request counts in ``Throttles`` and not in ``Invocations`` or ``Errors`` (§5)."""
    fn = sim.function("fn", slow, ReservedConcurrentExecutions=1)
    await invoke_together(sim, fn, fn, fn)
    metrics = fn.metrics
    assert (metrics["Invocations"], metrics["Throttles"], metrics["Errors"]) == (1, 2, 0)


@pytest.mark.asyncio
async def test_reserved_concurrency_zero_throttles_everything(sim: esmsim.Simulation) -> None:
    """``ReservedConcurrentExecutions=0`` throttles every invocation; the handler never runs."""
    calls: list[Any] = []
    fn = sim.function(
        "fn", lambda event, context: calls.append(event), ReservedConcurrentExecutions=0
    )
    (outcome,) = await invoke_together(sim, fn)
    assert (outcome.status, outcome.error_type, calls) == (
        "throttled",
        "TooManyRequestsException",
        [],
    )


@pytest.mark.asyncio
async def test_account_limit_throttles_unreserved_functions(sim: esmsim.Simulation) -> None:
    """Functions without a reservation share the account limit."""
    pool = account_concurrency(sim)
    pool.unreserved_minimum = 0
    pool.limit = 2
    one = sim.function("one", slow)
    two = sim.function("two", slow)
    statuses = [inv.status for inv in await invoke_together(sim, one, two, one)]
    assert statuses == ["success", "success", "throttled"]


@pytest.mark.asyncio
async def test_reserved_concurrency_is_carved_out_of_the_account_pool(
    sim: esmsim.Simulation,
) -> None:
    """A reservation is unavailable to others and still available to its function."""
    pool = account_concurrency(sim)
    pool.unreserved_minimum = 0
    pool.limit = 2
    reserved = sim.function("reserved", slow, ReservedConcurrentExecutions=1)
    shared = sim.function("shared", slow)
    statuses = [inv.status for inv in await invoke_together(sim, shared, shared, reserved)]
    assert statuses == ["success", "throttled", "success"]
    assert pool.unreserved_limit == 1


def test_reservation_must_leave_one_hundred_unreserved() -> None:
    """A reservation leaving fewer than 100 unreserved is refused with Lambda's message."""
    with esmsim.Simulation() as sim:
        sim.function("big", slow, ReservedConcurrentExecutions=900)
        with pytest.raises(
            InvalidParameterValueException, match=r"below its minimum value of \[100\]"
        ):
            sim.function("more", slow, ReservedConcurrentExecutions=1)
        assert [resource.name for resource in sim.resources()] == ["big"]


@pytest.mark.asyncio
async def test_concurrent_executions_metric_tracks_current_and_max(sim: esmsim.Simulation) -> None:
    """``ConcurrentExecutions`` is the number running now; ``ConcurrentExecutionsMax`` the peak."""
    fn = sim.function("fn", slow)
    await invoke_together(sim, fn, fn, fn)
    assert (fn.metrics["ConcurrentExecutions"], fn.metrics["ConcurrentExecutionsMax"]) == (0, 3)


@pytest.mark.asyncio
async def test_put_function_concurrency_changes_the_reservation(sim: esmsim.Simulation) -> None:
    """``put_function_concurrency`` / ``delete_function_concurrency`` change throttling."""
    fn = sim.function("fn", slow)
    assert fn.put_function_concurrency(ReservedConcurrentExecutions=0) == {
        "ReservedConcurrentExecutions": 0
    }
    assert (await invoke_together(sim, fn))[0].status == "throttled"
    fn.delete_function_concurrency()
    assert (await invoke_together(sim, fn))[0].status == "success"
