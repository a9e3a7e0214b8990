"""Stream mapping metrics: IteratorAge and the event counts (§5)."""

from __future__ import annotations

from typing import Any

import esmsim

from .streams_support import RBIF, seq


def test_iterator_age_is_the_last_record_age_when_sent() -> None:
    """IteratorAge is the age in ms of a batch's last record when it is sent; Max keeps the peak."""
    with esmsim.Simulation(seed=91) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", lambda event, context: None, duration=2)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            Enabled=False,
        )
        stream.put_record(Data="0", PartitionKey="k")
        sim.run_sync(5)
        stream.put_record(Data="1", PartitionKey="k")
        sim.run_sync(5)
        m.update(Enabled=True)
        sim.run_sync(10)  # sent at 10 s: the last record is 5 s old
        assert len(fn.invocations) == 1
        assert (m.metrics["IteratorAge"], m.metrics["IteratorAgeMax"]) == (5000, 5000)
        sim.run_sync(0.3)  # now 20.3 s; the shard's poll ticks fall on whole seconds
        stream.put_record(Data="2", PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=60)
        assert (m.metrics["IteratorAge"], m.metrics["IteratorAgeMax"]) == (700, 5000)


def test_event_counts_follow_aws_definitions() -> None:
    """Polled once; invoked again on each retry; failed = events of partial responses (§5)."""
    with esmsim.Simulation(seed=92) as sim:
        stream = sim.kinesis_stream("s")
        put = [stream.put_record(Data=str(i), PartitionKey="k")["SequenceNumber"] for i in range(4)]
        calls: list[int] = []

        def handler(event: dict[str, Any], context: Any) -> Any:
            calls.append(len(event["Records"]))
            if len(calls) == 1:
                raise ValueError("first call fails")
            ids = [seq(r) for r in event["Records"]]
            if put[3] in ids:
                return {"batchItemFailures": [{"itemIdentifier": put[3]}]}
            return None

        sim.function("f", handler)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=1,
            FunctionResponseTypes=RBIF,
        )
        sim.run_until_idle_sync(max_seconds=600)
        # Calls: [0-3] error, [0-3] partial at 3, [3] partial, [3] partial -> discarded.
        assert calls == [4, 4, 1, 1]
        metrics = m.metrics
        assert metrics["PolledEventCount"] == 4
        assert metrics["InvokedEventCount"] == 10
        assert metrics["Invocations"] == 4
        assert metrics["Errors"] == 1
        assert metrics["FailedInvokeEventCount"] == 6
        assert metrics["DroppedEventCount"] == 1
        assert metrics["OnFailureDestinationDeliveredEventCount"] == 0
        assert metrics["Throttles"] == 0
        assert m.ledger["delivered"] == 3
        assert m.ledger["discarded"] == 1


def test_no_metrics_while_disabled() -> None:
    """A disabled mapping polls nothing and emits no event counts (§1)."""
    with esmsim.Simulation(seed=93) as sim:
        stream = sim.kinesis_stream("s")
        sim.function("f", lambda event, context: None)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            Enabled=False,
        )
        for i in range(5):
            stream.put_record(Data=str(i), PartitionKey="k")
        sim.run_sync(600)
        metrics = m.metrics
        assert metrics["PolledEventCount"] == 0
        assert metrics["InvokedEventCount"] == 0
        assert metrics["IteratorAge"] == 0


def test_ledger_accounts_every_record_once() -> None:
    """delivered + discarded + expired covers every record the mapping read (§10.7)."""
    with esmsim.Simulation(seed=94) as sim:
        stream = sim.kinesis_stream("s", ShardCount=3)

        def handler(event: dict[str, Any], context: Any) -> None:
            if any(r["kinesis"]["partitionKey"].endswith("7") for r in event["Records"]):
                raise ValueError("bad key")

        sim.function("f", handler)
        for i in range(100):
            stream.put_record(Data=str(i), PartitionKey=f"key{i}")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=7,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=1,
        )
        sim.run_until_idle_sync(max_seconds=3600)
        ledger = m.ledger
        assert ledger["pending"] == 0
        assert ledger["discarded"] == 10
        assert ledger["delivered"] == 90
        assert m.metrics["DroppedEventCount"] == 10
