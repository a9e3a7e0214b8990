"""SQS poller on FIFO queues: group order, blocking, concurrency, FIFO DLQs (spec §2.6, §2.8)."""

from __future__ import annotations

import asyncio
import json
from itertools import pairwise
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import (
    SqsFifoPartialProcessor,
    process_partial_response,
)

import esmsim

from .sqs_support import (
    Event,
    all_bodies,
    bodies,
    max_overlap,
    receive_counts,
    records,
)


def _fifo(sim: esmsim.Simulation, name: str = "jobs.fifo", **props: Any) -> Any:
    return sim.sqs_queue(name, FifoQueue=True, ContentBasedDeduplication=True, **props)


def test_fifo_partial_responses_end_with_one_message_in_the_fifo_dlq() -> None:
    """Partial responses over two invocations leave only the poison message in the DLQ (§2.6)."""
    with esmsim.Simulation(seed=11) as sim:
        dlq = _fifo(sim, "jobs-dlq.fifo")
        q = _fifo(
            sim,
            VisibilityTimeout=10,
            RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 2},
        )

        def handler(event: Event, context: Any) -> Any:
            # Stop at the first failure; report it and everything after it (§2.6 FIFO note).
            recs = event["Records"]
            for index, record in enumerate(recs):
                if record["body"] == "poison":
                    return {
                        "batchItemFailures": [
                            {"itemIdentifier": r["messageId"]} for r in recs[index:]
                        ]
                    }
            return {"batchItemFailures": []}

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        q.send_message(MessageBody="first", MessageGroupId="g")
        poison = q.send_message(MessageBody="poison", MessageGroupId="g")
        sim.run_sync(1)
        # The group is blocked by the failed message: "last" waits behind it.
        q.send_message(MessageBody="last", MessageGroupId="g")
        sim.run_until_idle_sync(max_seconds=300)

        assert [bodies(inv) for inv in fn.invocations] == [
            ["first", "poison"],
            ["poison", "last"],
            ["last"],
        ]
        assert [receive_counts(inv) for inv in fn.invocations] == [[1, 1], [2, 1], [2]]
        (dead,) = dlq.messages()
        assert dead["MessageId"] == poison["MessageId"]
        assert dead["Body"] == "poison"
        assert dead["Attributes"]["MessageGroupId"] == "g"
        assert q.messages() == []
        ledger = m.ledger
        assert (ledger["delivered"], ledger["dead_lettered"], ledger["pending"]) == (2, 1, 0)
        assert m.metrics["FailedInvokeEventCount"] == 4


def test_fifo_single_group_is_processed_strictly_serially_in_order() -> None:
    """One message group: never two invocations at once, and send order kept (§2.8)."""
    with esmsim.Simulation(seed=12) as sim:
        q = _fifo(sim, VisibilityTimeout=60)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(2)

        fn = sim.function("f", handler, Timeout=10)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=3)
        sent = [f"m{i:02d}" for i in range(25)]
        for body in sent:
            q.send_message(MessageBody=body, MessageGroupId="only")
        sim.run_until_idle_sync(max_seconds=600)

        invocations = fn.invocations
        assert all_bodies(invocations) == sent
        assert max_overlap(invocations) == 1
        for earlier, later in pairwise(invocations):
            assert later.started_at >= earlier.ended_at


def test_fifo_failing_group_is_blocked_while_other_groups_flow() -> None:
    """A failing group waits on its failed message; other groups keep flowing (§2.8)."""
    with esmsim.Simulation(seed=13) as sim:
        q = _fifo(sim, VisibilityTimeout=30, MessageRetentionPeriod=3600)

        def handler(event: Event, context: Any) -> None:
            if any(r["body"] == "a0" for r in event["Records"]):
                raise ValueError("group a is stuck")

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=1)
        for i in range(5):
            q.send_message(MessageBody=f"a{i}", MessageGroupId="a")
            q.send_message(MessageBody=f"b{i}", MessageGroupId="b")
        sim.run_sync(200)

        delivered = all_bodies(fn.invocations)
        assert [b for b in delivered if b.startswith("b")] == [f"b{i}" for i in range(5)]
        # Group a never gets past a0: a0 is retried after every visibility timeout.
        assert {b for b in delivered if b.startswith("a")} == {"a0"}
        a0_counts = [receive_counts(inv)[0] for inv in fn.invocations if bodies(inv) == ["a0"]]
        assert a0_counts == list(range(1, len(a0_counts) + 1))
        assert len(a0_counts) == 7  # received at 0, 30, ..., 180
        assert sorted(msg["Body"] for msg in q.messages()) == [f"a{i}" for i in range(5)]
        assert m.ledger["delivered"] == 5


def test_fifo_concurrency_is_at_most_the_number_of_active_groups() -> None:
    """Three busy groups and MaximumConcurrency 10: three invocations at once, never more (§2.8)."""
    with esmsim.Simulation(seed=14) as sim:
        q = _fifo(sim, VisibilityTimeout=60)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(5)

        fn = sim.function("f", handler, Timeout=10)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=1,
            ScalingConfig={"MaximumConcurrency": 10},
        )
        for i in range(20):
            for group in ("x", "y", "z"):
                q.send_message(MessageBody=f"{group}{i}", MessageGroupId=group)
        sim.run_until_idle_sync(max_seconds=900)

        invocations = fn.invocations
        assert len(invocations) == 60
        assert max_overlap(invocations) == 3
        for group in ("x", "y", "z"):
            in_group = [b for b in all_bodies(invocations) if b.startswith(group)]
            assert in_group == [f"{group}{i}" for i in range(20)]


def test_fifo_batch_may_mix_groups_but_keeps_each_group_in_order() -> None:
    """A FIFO batch can hold several groups; each group's messages stay in send order (§2.8)."""
    with esmsim.Simulation(seed=15) as sim:
        q = _fifo(sim)
        fn = sim.function("f", lambda event, context: None, Timeout=5)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=10)
        for i in range(4):
            q.send_message(MessageBody=f"p{i}", MessageGroupId="p")
            q.send_message(MessageBody=f"q{i}", MessageGroupId="q")
        sim.run_until_idle_sync(max_seconds=60)

        delivered = all_bodies(fn.invocations)
        assert sorted(delivered) == sorted(
            [f"p{i}" for i in range(4)] + [f"q{i}" for i in range(4)]
        )
        for group in ("p", "q"):
            assert [b for b in delivered if b.startswith(group)] == [
                f"{group}{i}" for i in range(4)
            ]
        for inv in fn.invocations:
            for record in records(inv):
                attrs = record["attributes"]
                assert attrs["MessageGroupId"] == record["body"][0]


def test_fifo_queue_delay_holds_messages_back() -> None:
    """A FIFO queue's DelaySeconds hides every message from the poller until it ends (§2.8)."""
    with esmsim.Simulation(seed=16) as sim:
        q = _fifo(sim, DelaySeconds=7)
        fn = sim.function("f", lambda event, context: None, Timeout=5)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        q.send_message(MessageBody="later", MessageGroupId="g")
        sim.run_until_idle_sync(max_seconds=60)

        (inv,) = fn.invocations
        assert inv.started_at == pytest.approx(sim.clock.start + 7, abs=0.05)


def test_powertools_fifo_partial_processor_drives_the_mapping() -> None:
    """``SqsFifoPartialProcessor`` stops at the first failure; the rest returns in order (§2.6)."""
    with esmsim.Simulation(seed=17) as sim:
        q = _fifo(sim, VisibilityTimeout=10)
        processed: list[str] = []

        def record_handler(record: Any) -> None:
            payload = json.loads(record.body)
            attempt = int(record.attributes.approximate_receive_count)
            if payload["n"] == 2 and attempt == 1:
                raise ValueError("n=2 fails on its first receive")
            processed.append(f"{payload['n']}")

        processor = SqsFifoPartialProcessor()

        def handler(event: Event, context: Any) -> Any:
            return process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        for n in range(5):
            q.send_message(MessageBody=json.dumps({"n": n}), MessageGroupId="g")
        sim.run_until_idle_sync(max_seconds=120)

        assert processed == ["0", "1", "2", "3", "4"]
        first, second = fn.invocations
        assert len(first.response["batchItemFailures"]) == 3  # 2 failed, 3 and 4 skipped
        assert [json.loads(b)["n"] for b in bodies(second)] == [2, 3, 4]
        assert m.ledger["delivered"] == 5 and q.messages() == []
