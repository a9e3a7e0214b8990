"""Seeded behaviour: request ids and simulated durations repeat with the seed."""

from __future__ import annotations

import random
import statistics
from typing import Any

import pytest

import esmsim
from esmsim.handlers import handler_rng
from esmsim.handlers.duration import duration_model

from .events import sqs_event

DISTRIBUTIONS: dict[str, Any] = {
    "uniform": {"distribution": "uniform", "min": 0.1, "max": 0.3},
    "normal": {"distribution": "normal", "mean": 0.2, "stddev": 0.05},
    "lognormal": {"distribution": "lognormal", "p50": 0.1, "p99": 0.8},
    "fixed": {"distribution": "fixed", "seconds": 0.2},
}


async def run_invocations(seed: int, count: int, **properties: Any) -> list[tuple[str, float]]:
    """(request id, duration) of ``count`` invocations of one plain function."""
    async with esmsim.Simulation(seed=seed) as sim:
        fn = sim.function("fn", lambda event, context: None, Timeout=900, **properties)

        async def many() -> list[tuple[str, float]]:
            facts = []
            for _ in range(count):
                inv = await fn.invoke(lambda: sqs_event(1))
                assert inv.request_id is not None
                facts.append((inv.request_id, inv.duration))
            return facts

        return await sim.call(many)


@pytest.mark.asyncio
async def test_request_ids_repeat_with_the_seed() -> None:
    """The same seed gives the same request ids; another seed gives others (api.md determinism)."""
    first = [rid for rid, _ in await run_invocations(11, 5)]
    again = [rid for rid, _ in await run_invocations(11, 5)]
    other = [rid for rid, _ in await run_invocations(12, 5)]
    assert first == again
    assert not set(first) & set(other)


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
async def test_duration_draws_repeat_with_the_seed(name: str) -> None:
    """Durations are drawn from the function's seeded generator: same seed, same durations."""
    first = [d for _, d in await run_invocations(3, 20, duration=DISTRIBUTIONS[name])]
    again = [d for _, d in await run_invocations(3, 20, duration=DISTRIBUTIONS[name])]
    assert first == again
    assert min(first) >= 0


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_lognormal_matches_its_p50_and_p99() -> None:
    """A lognormal given p50 = 0.1 s and p99 = 0.8 s draws with those percentiles."""
    model = duration_model(DISTRIBUTIONS["lognormal"])
    rng = random.Random("esmsim-test")
    draws = [model.draw(rng) for _ in range(50_000)]
    assert quantile(draws, 0.50) == pytest.approx(0.1, rel=0.03)
    assert quantile(draws, 0.99) == pytest.approx(0.8, rel=0.08)


def test_uniform_stays_within_its_bounds_with_its_mean() -> None:
    """A uniform(0.1, 0.3) draws inside its bounds, with mean 0.2."""
    model = duration_model(DISTRIBUTIONS["uniform"])
    rng = random.Random("esmsim-test")
    draws = [model.draw(rng) for _ in range(20_000)]
    assert min(draws) >= 0.1
    assert max(draws) <= 0.3
    assert statistics.fmean(draws) == pytest.approx(0.2, rel=0.02)


def test_normal_matches_its_mean_and_stddev_and_is_clipped_at_zero() -> None:
    """A normal draws with its mean and spread; a draw below zero becomes zero."""
    rng = random.Random("esmsim-test")
    model = duration_model(DISTRIBUTIONS["normal"])
    draws = [model.draw(rng) for _ in range(20_000)]
    assert statistics.fmean(draws) == pytest.approx(0.2, rel=0.02)
    assert statistics.stdev(draws) == pytest.approx(0.05, rel=0.05)
    wide = duration_model({"distribution": "normal", "mean": 0.0, "stddev": 1.0})
    assert min(wide.draw(rng) for _ in range(1000)) == 0.0


@pytest.mark.asyncio
async def test_invocation_durations_follow_the_model() -> None:
    """Invocations of a lognormal function have the model's median (seeded, through invoke)."""
    durations = [d for _, d in await run_invocations(5, 2000, duration=DISTRIBUTIONS["lognormal"])]
    assert statistics.median(durations) == pytest.approx(0.1, rel=0.1)


@pytest.mark.parametrize(
    "setting",
    [
        -1,
        "fast",
        {"distribution": "pareto", "alpha": 1},
        {"distribution": "uniform", "min": 0.3, "max": 0.1},
        {"distribution": "lognormal", "p50": 0.5, "p99": 0.1},
        {"distribution": "normal", "mean": 0.1},
        {"distribution": "fixed", "seconds": 1, "jitter": 2},
    ],
)
def test_invalid_duration_is_rejected_naming_what_is_allowed(setting: Any) -> None:
    """A bad ``duration`` raises ``ValueError`` naming the field and the accepted forms."""
    with esmsim.Simulation() as sim, pytest.raises(ValueError, match="duration"):
        sim.function("fn", lambda event, context: None, duration=setting)


@pytest.mark.asyncio
async def test_handler_rng_is_seeded_per_function() -> None:
    """``handler_rng()`` inside a handler repeats with the seed and differs between functions."""

    async def draws(seed: int) -> list[Any]:
        async with esmsim.Simulation(seed=seed) as sim:
            one = sim.function("one", lambda event, context: handler_rng().random())
            two = sim.function("two", lambda event, context: handler_rng().random())

            async def run() -> list[Any]:
                return [(await fn.invoke(lambda: sqs_event(1))).response for fn in (one, two, one)]

            return await sim.call(run)

    first = await draws(1)
    assert first == await draws(1)
    assert len(set(first)) == 3


def test_handler_rng_outside_an_invocation_is_an_error() -> None:
    """``handler_rng()`` only exists inside a simulated invocation."""
    with pytest.raises(RuntimeError, match="inside a simulated invocation"):
        handler_rng()


@pytest.mark.asyncio
async def test_measured_duration_is_the_handlers_host_time() -> None:
    """``duration="measured"`` uses the handler's host time: small and positive, not modelled."""
    async with esmsim.Simulation() as sim:
        fn = sim.function("fn", lambda event, context: sum(range(1000)), duration="measured")
        inv = await sim.call(lambda: fn.invoke(lambda: sqs_event(1)))
    assert 0.0 < inv.duration < 1.0
