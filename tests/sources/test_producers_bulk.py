"""Lazy producers: the bulk path makes exactly the records the record-at-a-time path makes."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from esmsim.sources.producers import Producer

_START_MS = 1_767_225_600_000


def _columns(producer: Producer, steps: list[int]) -> list[tuple[list[int], list[str], list[str]]]:
    now = _START_MS
    out = []
    for step in steps:
        now += step
        out.append(producer.emit_columns(now))
    return out


def _pair(**spec: Any) -> tuple[Producer, Producer]:
    bulk = Producer(_START_MS, random.Random(7), **spec)
    single = Producer(_START_MS, random.Random(7), **spec)
    single._bulk = None  # force the record-at-a-time loop
    return bulk, single


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from([0.5, 1, 3, 7, 100, 333.3, 1000, 2500]),
    distribution=st.sampled_from(["uniform", "zipf", "round_robin"]),
    body=st.sampled_from([None, "constant", '{{"n": {n}, "key": "{key}"}}']),
    start=st.sampled_from([0.0, 0.25, 2.0]),
    stop=st.sampled_from([None, 3.0, 10.0]),
    steps=st.lists(st.integers(min_value=0, max_value=4000), min_size=1, max_size=12),
)
def test_bulk_generation_matches_one_record_at_a_time(
    rate: float,
    distribution: str,
    body: str | None,
    start: float,
    stop: float | None,
    steps: list[int],
) -> None:
    """A constant-rate producer's bulk path yields the same arrivals, keys and bodies."""
    bulk, single = _pair(
        rate=rate,
        keys={"count": 5, "distribution": distribution},
        body=body,
        start=start,
        stop=stop,
        size=20,
    )
    assert bulk._bulk is not None
    assert _columns(bulk, steps) == _columns(single, steps)
    assert bulk.next_arrival_ms() == single.next_arrival_ms()
    assert bulk.count == single.count


def test_producers_that_draw_per_record_take_the_record_at_a_time_path() -> None:
    """Poison shares, size ranges and Poisson arrivals draw per record, so no bulk path."""
    for spec in (
        {"rate": 10, "poison_fraction": 0.1},
        {"rate": 10, "size": {"distribution": "uniform", "min": 1, "max": 9}},
        {"rate": {"type": "poisson", "per_second": 10}},
    ):
        assert Producer(_START_MS, random.Random(1), **spec)._bulk is None
