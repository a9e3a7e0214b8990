"""Fixtures for the handler tests: a running simulation and a one-call invoke helper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

import esmsim
from esmsim.handlers import Function, Invocation

Invoke = Callable[..., Awaitable[Invocation]]


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[esmsim.Simulation]:
    """A virtual-time simulation with seed 7, closed after the test."""
    async with esmsim.Simulation(seed=7) as simulation:
        yield simulation


@pytest_asyncio.fixture
async def invoke(sim: esmsim.Simulation) -> Invoke:
    """``await invoke(fn, build_event)``: one invocation inside the simulation."""

    async def _invoke(fn: Function, build: Callable[[], Any], **kwargs: Any) -> Invocation:
        return await sim.call(lambda: fn.invoke(build, **kwargs))

    return _invoke
