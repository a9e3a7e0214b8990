"""SQS poller batching: BatchSize, windows, receives of 10, delays (§2.1, §2.8, §10.9)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import esmsim

from .sqs_support import (
    Event,
    all_bodies,
    bodies,
    max_overlap,
    message_ids,
    receive_counts,
    records,
    send_many,
)


def test_batch_size_20_window_1s_30_messages_max_concurrency_2_gives_2_invocations() -> None:
    """30 preloaded, BatchSize 20, window 1 s, MaximumConcurrency 2: 2 invocations (§2.1)."""
    with esmsim.Simulation(seed=31) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=60)
        fn = sim.function("f", lambda event, context: None, Timeout=10)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=20,
            MaximumBatchingWindowInSeconds=1,
            ScalingConfig={"MaximumConcurrency": 2},
        )
        sent = send_many(q, 30)
        sim.run_until_idle_sync(max_seconds=120)

        invocations = fn.invocations
        assert len(invocations) == 2
        assert sorted(len(records(inv)) for inv in invocations) == [10, 20]
        assert sorted(all_bodies(invocations)) == sorted(sent)
        # The full batch goes at once; the short one waits out its window.
        full = next(inv for inv in invocations if len(records(inv)) == 20)
        short = next(inv for inv in invocations if len(records(inv)) == 10)
        assert full.started_at == pytest.approx(sim.clock.start, abs=0.01)
        assert short.started_at == pytest.approx(sim.clock.start + 1, abs=0.01)
        assert m.metrics["InvokedEventCount"] == 30
        assert m.metrics["DeletedEventCount"] == 30


def test_without_a_window_one_receive_of_at_most_10_makes_a_batch() -> None:
    """Window 0: Lambda invokes as soon as a receive returns, so batches hold at most 10 (§2.1)."""
    with esmsim.Simulation(seed=32) as sim:
        q = sim.sqs_queue("jobs")
        fn = sim.function("f", lambda event, context: None, Timeout=10)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=10)
        send_many(q, 25)
        sim.run_until_idle_sync(max_seconds=60)

        sizes = sorted(len(records(inv)) for inv in fn.invocations)
        assert sum(sizes) == 25
        assert max(sizes) <= 10


def test_batch_size_1_invokes_one_message_at_a_time() -> None:
    """BatchSize 1: every invocation carries exactly one message (§1)."""
    with esmsim.Simulation(seed=33) as sim:
        q = sim.sqs_queue("jobs")
        fn = sim.function("f", lambda event, context: None, Timeout=10)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=1)
        send_many(q, 7)
        sim.run_until_idle_sync(max_seconds=60)

        assert [len(records(inv)) for inv in fn.invocations] == [1] * 7


def test_batching_window_collects_messages_that_arrive_during_it() -> None:
    """Messages sent during the window join the batch; it fires when the window ends (§10.9)."""
    with esmsim.Simulation(seed=34) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=60)
        fn = sim.function("f", lambda event, context: None, Timeout=10)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=100,
            MaximumBatchingWindowInSeconds=5,
            ScalingConfig={"MaximumConcurrency": 2},
        )
        sim.run_sync(1)
        start = sim.now
        q.send_message(MessageBody="a")
        sim.run_sync(2)
        q.send_message(MessageBody="b")
        sim.run_sync(2)
        q.send_message(MessageBody="c")
        sim.run_until_idle_sync(max_seconds=60)

        (inv,) = fn.invocations
        assert sorted(bodies(inv)) == ["a", "b", "c"]
        assert inv.started_at == pytest.approx(start + 5, abs=0.01)


def test_batching_window_ends_early_when_batch_size_is_reached() -> None:
    """A batch fires as soon as it holds BatchSize messages, before the window ends (§2.1)."""
    with esmsim.Simulation(seed=35) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=60)
        fn = sim.function("f", lambda event, context: None, Timeout=10)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=15,
            MaximumBatchingWindowInSeconds=30,
            ScalingConfig={"MaximumConcurrency": 2},
        )
        send_many(q, 15)
        sim.run_until_idle_sync(max_seconds=120)

        (inv,) = fn.invocations
        assert len(records(inv)) == 15
        assert inv.started_at == pytest.approx(sim.clock.start, abs=0.01)


def test_batch_is_capped_at_6_mb_of_payload() -> None:
    """A batch stops at the 6 MB invoke payload, so it can hold fewer than BatchSize (§2.1)."""
    with esmsim.Simulation(seed=36) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=60)
        fn = sim.function("f", lambda event, context: None, Timeout=10)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=100,
            MaximumBatchingWindowInSeconds=1,
            ScalingConfig={"MaximumConcurrency": 2},
        )
        big = "x" * 500_000
        for _ in range(20):
            q.send_message(MessageBody=big)
        sim.run_until_idle_sync(max_seconds=120)

        for inv in fn.invocations:
            payload = sum(len(r["body"]) for r in records(inv))
            assert payload <= 6 * 1024 * 1024
        # Twelve 500 kB bodies fit; the rest of what was received waits for the next batch
        # without being received again.
        assert [len(records(inv)) for inv in fn.invocations] == [12, 8]
        assert all(receive_counts(inv) == [1] * len(records(inv)) for inv in fn.invocations)
        assert m.ledger["delivered"] == 20


def test_queue_delay_seconds_hold_messages_back_from_the_poller() -> None:
    """Queue DelaySeconds: the poller cannot see a message until its delay ends (§2.8)."""
    with esmsim.Simulation(seed=37) as sim:
        q = sim.sqs_queue("jobs", DelaySeconds=12)
        fn = sim.function("f", lambda event, context: None, Timeout=10)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        start = sim.now
        q.send_message(MessageBody="delayed")
        sim.run_sync(11)
        assert fn.invocations == []
        sim.run_until_idle_sync(max_seconds=60)

        (inv,) = fn.invocations
        assert inv.started_at == pytest.approx(start + 12, abs=0.05)


def test_per_message_delay_seconds_are_respected_by_the_poller() -> None:
    """A per-message DelaySeconds overrides the queue's; each is seen when it ends (§2.8)."""
    with esmsim.Simulation(seed=38) as sim:
        q = sim.sqs_queue("jobs", DelaySeconds=5)
        fn = sim.function("f", lambda event, context: None, Timeout=10)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        start = sim.now
        q.send_message(MessageBody="queue default")
        q.send_message(MessageBody="none", DelaySeconds=0)
        q.send_message(MessageBody="long", DelaySeconds=30)
        sim.run_until_idle_sync(max_seconds=120)

        started = {bodies(inv)[0]: inv.started_at - start for inv in fn.invocations}
        assert started == pytest.approx({"none": 0.0, "queue default": 5.0, "long": 30.0}, abs=0.05)


def test_long_polling_wakes_for_a_message_sent_while_idle() -> None:
    """An idle mapping invokes as soon as a message is sent, without a polling delay (§10.10)."""
    with esmsim.Simulation(seed=39) as sim:
        q = sim.sqs_queue("jobs")
        fn = sim.function("f", lambda event, context: None, Timeout=10)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        sim.run_sync(137.25)
        sent_at = sim.now
        q.send_message(MessageBody="wake up")
        sim.run_until_idle_sync(max_seconds=60)

        (inv,) = fn.invocations
        assert inv.started_at == pytest.approx(sent_at, abs=0.01)


def test_window_longer_than_visibility_timeout_never_duplicates_a_message_in_a_batch() -> None:
    """A message that reappears while its batch is still gathering is in that batch once (§2.8)."""
    with esmsim.Simulation(seed=40) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=5)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(1)

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=50,
            MaximumBatchingWindowInSeconds=12,
            ScalingConfig={"MaximumConcurrency": 2},
        )
        q.send_message(MessageBody="early")
        sim.run_until_idle_sync(max_seconds=120)

        for inv in fn.invocations:
            assert len(message_ids(inv)) == len(set(message_ids(inv)))
        assert m.ledger["delivered"] == 1
        assert m.metrics["DeletedEventCount"] == 1
        assert max_overlap(fn.invocations) <= 2
        assert q.messages() == []
