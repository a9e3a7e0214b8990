"""SQS poller scaling: 5, +300 per minute, 1,250, and what bounds it (§3.2, §10.11)."""

from __future__ import annotations

import asyncio
from typing import Any

import esmsim
from esmsim.handlers import account_concurrency

from .sqs_support import Event, bodies, max_overlap, receive_counts, running_at, send_many


def test_concurrency_starts_at_5_adds_300_per_minute_and_caps_at_1250() -> None:
    """A large backlog and a slow handler: 5 at start, +300/min, at most 1,250 (§3.2, §10.11)."""
    with esmsim.Simulation(seed=21) as sim:
        account_concurrency(sim).limit = 3000  # above the mapping's ceiling
        q = sim.sqs_queue("jobs", VisibilityTimeout=900)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(600)  # every invocation outlasts the observation

        fn = sim.function("f", handler, Timeout=900)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=1)
        send_many(q, 2000)

        curve: dict[float, float] = {}
        elapsed = 0.0
        for mark in (0.5, 60.5, 120.5, 180.5, 240.5, 250.5, 290.5):
            sim.run_sync(mark - elapsed)
            elapsed = mark
            curve[mark] = fn.metrics["ConcurrentExecutions"]
        assert curve == {
            0.5: 5,
            60.5: 305,
            120.5: 605,
            180.5: 905,
            240.5: 1205,
            250.5: 1250,
            290.5: 1250,
        }
        assert len(q.messages()) == 2000  # the backlog never ran out
        assert fn.metrics["Throttles"] == 0


def test_maximum_concurrency_caps_the_mapping() -> None:
    """ScalingConfig.MaximumConcurrency bounds concurrent invocations of the mapping (§1, §3.2)."""
    with esmsim.Simulation(seed=22) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=120)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(10)

        fn = sim.function("f", handler, Timeout=20)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=1,
            ScalingConfig={"MaximumConcurrency": 12},
        )
        send_many(q, 300)
        sim.run_until_idle_sync(max_seconds=900)

        assert max_overlap(fn.invocations) == 12
        assert m.ledger["delivered"] == 300
        assert m.metrics["Throttles"] == 0


def test_maximum_concurrency_of_2_runs_two_pollers_from_the_start() -> None:
    """MaximumConcurrency below 5 is the starting concurrency as well as the cap (§3.2)."""
    with esmsim.Simulation(seed=23) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=120)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(10)

        fn = sim.function("f", handler, Timeout=20)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=1,
            ScalingConfig={"MaximumConcurrency": 2},
        )
        send_many(q, 10)
        sim.run_until_idle_sync(max_seconds=900)

        assert running_at(fn.invocations, sim.clock.start + 0.5) == 2
        assert max_overlap(fn.invocations) == 2
        assert len(fn.invocations) == 10


def test_account_concurrency_limit_bounds_the_mapping_with_throttles() -> None:
    """The account limit bounds concurrency; the excess is throttled, not Errors (§10.12)."""
    with esmsim.Simulation(seed=24) as sim:
        account_concurrency(sim).limit = 20
        q = sim.sqs_queue("jobs", VisibilityTimeout=120)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(5)

        fn = sim.function("f", handler, Timeout=10)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=1)
        send_many(q, 200)
        sim.run_until_idle_sync(max_seconds=3600)

        assert max_overlap(fn.invocations) == 20
        assert m.metrics["Throttles"] > 0
        assert m.metrics["Errors"] == 0
        assert m.ledger["delivered"] == 200


def test_reserved_concurrency_throttles_are_retried_then_released_after_the_vt() -> None:
    """Reserved concurrency 1: throttles are retried with backoff and counted as Throttles, not
    Errors; a batch still throttled near the end of its VT is let go and received again (§2.8,
    §10.12)."""
    with esmsim.Simulation(seed=25) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=40)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(20)

        fn = sim.function("f", handler, Timeout=30, ReservedConcurrentExecutions=1, duration=0)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=1)
        send_many(q, 4)
        sim.run_until_idle_sync(max_seconds=3600)

        invocations = fn.invocations
        assert max_overlap(invocations) == 1
        assert all(inv.error is None for inv in invocations)
        # One message at a time gets the single slot; the others, throttled, are let go
        # and come back after each visibility timeout: receive counts grow without errors.
        assert sorted(receive_counts(inv)[0] for inv in invocations) == [1, 2, 3, 4]
        assert sorted(b for inv in invocations for b in bodies(inv)) == ["m0", "m1", "m2", "m3"]
        metrics = m.metrics
        assert metrics["Throttles"] > 0
        assert fn.metrics["Throttles"] == metrics["Throttles"]
        assert metrics["Errors"] == 0
        assert metrics["Invocations"] == 4
        assert metrics["DeletedEventCount"] == 4
        assert m.ledger["delivered"] == 4 and q.messages() == []


def _concurrency_under_failures(rbif: bool) -> int:
    with esmsim.Simulation(seed=26) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=600)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(2)
            raise ValueError("every batch fails")

        fn = sim.function("f", handler, Timeout=10)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=1,
            FunctionResponseTypes=["ReportBatchItemFailures"] if rbif else [],
        )
        send_many(q, 1200)
        sim.run_sync(30)
        return running_at(fn.invocations, sim.clock.start + 25.5)


def test_function_errors_back_off_concurrency_unless_report_batch_item_failures() -> None:
    """Failed invocations shrink the mapping's concurrency, but not with RBIF on (§2.6, §2.8)."""
    without_rbif = _concurrency_under_failures(rbif=False)
    with_rbif = _concurrency_under_failures(rbif=True)
    # With RBIF nothing holds the scale-up back: 5 + 5 per second.
    assert with_rbif == 130
    # Without it every failed batch removes a poller: the mapping stays near its floor.
    assert 5 <= without_rbif <= 20


def test_concurrency_returns_to_5_when_the_queue_drains() -> None:
    """Once the backlog is gone the mapping scales back to 5 concurrent batches (§3.2)."""
    with esmsim.Simulation(seed=27) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=120)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(5)

        fn = sim.function("f", handler, Timeout=20)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=1)
        send_many(q, 150)
        sim.run_until_idle_sync(max_seconds=900)
        assert max_overlap(fn.invocations) > 5

        burst_start = sim.now
        before = len(fn.invocations)
        send_many(q, 50, prefix="late")
        sim.run_until_idle_sync(max_seconds=900)
        assert running_at(fn.invocations[before:], burst_start + 0.5) == 5
