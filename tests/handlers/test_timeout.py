"""Timeout: running past the function's Timeout ends the invocation there, as a function error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import esmsim

from .conftest import Invoke
from .events import kinesis_event


@pytest.mark.asyncio
async def test_async_handler_past_timeout_is_cancelled_at_timeout(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """An async handler still awaiting at ``Timeout`` is cancelled; it lasted exactly Timeout."""
    finished: list[bool] = []

    async def handler(event: Any, context: Any) -> None:
        await asyncio.sleep(60)
        finished.append(True)

    fn = sim.function("fn", handler, Timeout=3)
    inv = await invoke(fn, lambda: kinesis_event(2))
    assert (inv.status, inv.error, inv.error_type) == ("timeout", "Timeout", "Task timed out")
    assert inv.duration == 3.0
    assert inv.ended_at - inv.started_at == pytest.approx(3.0)
    assert inv.response is None
    assert finished == []
    assert inv.error_message is not None
    assert inv.error_message.endswith(f"{inv.request_id} Task timed out after 3.00 seconds")


@pytest.mark.asyncio
async def test_plain_handler_with_modelled_duration_past_timeout_times_out(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A plain handler whose modelled duration exceeds ``Timeout`` times out at exactly Timeout."""
    fn = sim.function("fn", lambda event, context: {"ok": True}, Timeout=3, duration=5)
    inv = await invoke(fn, lambda: kinesis_event(2))
    assert (inv.status, inv.error, inv.duration, inv.response) == ("timeout", "Timeout", 3.0, None)
    assert fn.metrics["Errors"] == 1


@pytest.mark.asyncio
async def test_awaited_time_plus_modelled_duration_past_timeout_times_out(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Awaited time and the modelled duration add up: 2 s + 1.5 s runs past a 3 s Timeout."""

    async def handler(event: Any, context: Any) -> None:
        await asyncio.sleep(2)

    fn = sim.function("fn", handler, Timeout=3, duration=1.5)
    inv = await invoke(fn, lambda: kinesis_event(1))
    assert (inv.status, inv.duration) == ("timeout", 3.0)


@pytest.mark.asyncio
async def test_duration_equal_to_timeout_is_a_timeout(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Reaching ``Timeout`` exactly already counts as timed out."""
    fn = sim.function("fn", lambda event, context: None, Timeout=1, duration=1)
    assert (await invoke(fn, lambda: kinesis_event(1))).status == "timeout"


@pytest.mark.asyncio
async def test_remaining_time_counts_down_in_simulated_time(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """``get_remaining_time_in_millis`` reads the simulated clock against start + Timeout."""

    async def handler(event: Any, context: Any) -> list[int]:
        before = context.get_remaining_time_in_millis()
        await asyncio.sleep(1.25)
        return [before, context.get_remaining_time_in_millis()]

    fn = sim.function("fn", handler, Timeout=5)
    assert (await invoke(fn, lambda: kinesis_event(1))).response == [5000, 3750]


@pytest.mark.asyncio
async def test_plain_handler_sees_its_full_time_budget(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Simulated time stands still inside a plain handler: it always has the whole Timeout left."""
    fn = sim.function(
        "fn", lambda event, context: context.get_remaining_time_in_millis(), Timeout=30
    )
    assert (await invoke(fn, lambda: kinesis_event(1))).response == 30000
