"""Stream failure handling: retries, bisect, age, retention, throttles, timeouts (§2.4, §10)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import esmsim

from .streams_support import (
    T0,
    batch_info,
    delivery_counts,
    failure_records,
    key_for_shard,
    put_items,
    seqs,
    simple_table,
    sizes,
)


def _always_fails(event: dict[str, Any], context: Any) -> None:
    raise ValueError("boom")


def _fails_on(poison: set[str]) -> Any:
    def handler(event: dict[str, Any], context: Any) -> None:
        if any(r["kinesis"]["partitionKey"] in poison for r in event["Records"]):
            raise ValueError("poison record in batch")

    return handler


@pytest.mark.parametrize("retries", [0, 1, 3])
def test_maximum_retry_attempts_n_gives_n_plus_one_invocations(retries: int) -> None:
    """MaximumRetryAttempts = N means N+1 invocations of a failing batch (§10.1)."""
    with esmsim.Simulation(seed=11) as sim:
        stream = sim.kinesis_stream("s")
        q = sim.sqs_queue("dest")
        fn = sim.function("f", _always_fails)
        for i in range(3):
            stream.put_record(Data=str(i), PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=retries,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_until_idle_sync(max_seconds=3600)
        assert sizes(fn) == [3] * (retries + 1)
        (record,) = failure_records(q)
        assert record["requestContext"]["approximateInvokeCount"] == retries + 1
        assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert record["responseContext"]["functionError"] == "Unhandled"
        assert m.metrics["Errors"] == retries + 1
        assert m.ledger["discarded"] == 3


def test_retries_back_off_between_attempts() -> None:
    """Failed batches are retried after a backoff of 1 s, doubling up to 60 s [choice]."""
    with esmsim.Simulation(seed=12) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _always_fails, duration=0)
        stream.put_record(Data="x", PartitionKey="k")
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=8,
        )
        sim.run_until_idle_sync(max_seconds=3600)
        starts = [round(inv.started_at - T0, 6) for inv in fn.invocations]
        assert starts == [0, 1, 3, 7, 15, 31, 63, 123, 183]


def test_timeout_counts_as_function_error() -> None:
    """A timeout is a function error: retried, counted in Errors, discarded as Unhandled (§2.4)."""
    with esmsim.Simulation(seed=13) as sim:
        stream = sim.kinesis_stream("s")
        q = sim.sqs_queue("dest")

        async def slow(event: dict[str, Any], context: Any) -> None:
            await asyncio.sleep(10)

        fn = sim.function("f", slow, Timeout=2)
        stream.put_record(Data="x", PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=1,
            BisectBatchOnFunctionError=True,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_until_idle_sync(max_seconds=3600)
        assert [inv.error for inv in fn.invocations] == ["Timeout", "Timeout"]
        assert all(inv.ended_at - inv.started_at == pytest.approx(2) for inv in fn.invocations)
        assert m.metrics["Errors"] == 2
        (record,) = failure_records(q)
        assert record["responseContext"]["functionError"] == "Unhandled"
        assert record["requestContext"]["approximateInvokeCount"] == 2
        assert record["requestContext"]["requestId"] == fn.invocations[-1].request_id


def test_bisect_sequence_of_batch_sizes() -> None:
    """Bisect: 8 fails, halves 4 ok / 4 fails, 2 fails, 1 ok, poison 1 x (N+1), 2 ok (§10.5)."""
    with esmsim.Simulation(seed=14) as sim:
        stream = sim.kinesis_stream("s")
        q = sim.sqs_queue("dest")
        fn = sim.function("f", _fails_on({"poison"}))
        keys = [f"k{i}" for i in range(8)]
        keys[5] = "poison"
        all_seqs = [stream.put_record(Data=k, PartitionKey=k)["SequenceNumber"] for k in keys]
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=8,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=2,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_until_idle_sync(max_seconds=3600)
        assert [seqs(inv) for inv in fn.invocations] == [
            all_seqs,
            all_seqs[0:4],
            all_seqs[4:8],
            all_seqs[4:6],
            all_seqs[4:5],
            all_seqs[5:6],
            all_seqs[5:6],
            all_seqs[5:6],
            all_seqs[6:8],
        ]
        (record,) = failure_records(q)
        info = batch_info(record)
        assert info["batchSize"] == 1
        assert info["startSequenceNumber"] == info["endSequenceNumber"] == all_seqs[5]
        assert record["requestContext"]["approximateInvokeCount"] == 3
        counts = delivery_counts(fn)
        assert m.ledger["delivered"] == 7
        assert m.ledger["discarded"] == 1
        assert counts[all_seqs[5]] == 6


def test_poison_record_blocks_only_its_shard_until_retention() -> None:
    """With -1/-1 a poison record blocks its shard until retention trims it; others flow (§2.2)."""
    with esmsim.Simulation(seed=15) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        fn = sim.function("f", _fails_on({"poison"}))
        blocked_key = key_for_shard(stream, "shardId-000000000000")
        free_key = key_for_shard(stream, "shardId-000000000001")
        # The poison record must land on shard 0 as well.
        poison = stream.put_record(
            Data="p",
            PartitionKey="poison",
            ExplicitHashKey="0",
        )
        assert poison["ShardId"] == "shardId-000000000000"
        stream.put_record(Data="b0", PartitionKey=blocked_key)  # same batch as the poison
        for i in range(3):
            stream.put_record(Data=f"f{i}", PartitionKey=free_key)
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        sim.run_sync(3600)
        late = stream.put_record(Data="late", PartitionKey=blocked_key)  # queued behind it
        more_free = stream.put_record(Data="f3", PartitionKey=free_key)
        sim.run_sync(60)

        def ok_shards() -> list[str | None]:
            return [inv.shard_id for inv in fn.invocations if inv.error is None]

        assert ok_shards() == ["shardId-000000000001", "shardId-000000000001"]
        assert m.ledger["delivered"] == 4
        assert m.ledger["pending"] == 3

        sim.run_sync(25 * 3600)
        assert m.ledger["pending"] == 0
        assert m.ledger["expired"] == 2  # the poison and the record in its batch
        assert m.ledger["delivered"] == 5
        assert m.metrics["DroppedEventCount"] == 0
        last_ok = [inv for inv in fn.invocations if inv.error is None][-1]
        assert seqs(last_ok) == [late["SequenceNumber"]]
        assert last_ok.started_at > T0 + 24 * 3600
        # Every failing invocation before the trim was on the blocked shard only.
        failing = [inv for inv in fn.invocations if inv.error is not None]
        assert {inv.shard_id for inv in failing} == {"shardId-000000000000"}
        assert len(failing) > 1000
        assert more_free["ShardId"] == "shardId-000000000001"


def test_record_age_exceeded_discards_before_invoking() -> None:
    """Records older than MaximumRecordAgeInSeconds are discarded; fresh ones still run (§10.3)."""
    with esmsim.Simulation(seed=16) as sim:
        stream = sim.kinesis_stream("s")
        q = sim.sqs_queue("dest")
        fn = sim.function("f", lambda event, context: None)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRecordAgeInSeconds=60,
            Enabled=False,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        old = [
            stream.put_record(Data=f"o{i}", PartitionKey="k")["SequenceNumber"] for i in range(3)
        ]
        sim.run_sync(100)
        fresh = [
            stream.put_record(Data=f"n{i}", PartitionKey="k")["SequenceNumber"] for i in range(2)
        ]
        m.update(Enabled=True)
        sim.run_until_idle_sync(max_seconds=600)
        assert [seqs(inv) for inv in fn.invocations] == [fresh]
        (record,) = failure_records(q)
        assert "responseContext" not in record
        context = record["requestContext"]
        assert context["condition"] == "RecordAgeExceeded"
        assert context["approximateInvokeCount"] == 1
        assert context["functionArn"] == fn.arn
        assert context["requestId"] not in {inv.request_id for inv in fn.invocations}
        info = batch_info(record)
        assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (old[0], old[2])
        assert info["batchSize"] == 3
        assert m.ledger["discarded"] == 3
        assert m.ledger["delivered"] == 2


def test_record_age_exceeded_while_retrying() -> None:
    """A failing batch that outlives MaximumRecordAgeInSeconds is discarded for age (§2.4)."""
    with esmsim.Simulation(seed=17) as sim:
        stream = sim.kinesis_stream("s")
        q = sim.sqs_queue("dest")
        fn = sim.function("f", _always_fails)
        stream.put_record(Data="x", PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRecordAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_until_idle_sync(max_seconds=3600)
        (record,) = failure_records(q)
        assert record["requestContext"]["condition"] == "RecordAgeExceeded"
        assert "responseContext" not in record
        assert record["requestContext"]["approximateInvokeCount"] == len(fn.invocations)
        assert record["requestContext"]["requestId"] == fn.invocations[-1].request_id
        assert all(inv.started_at - T0 <= 60 for inv in fn.invocations)
        assert m.ledger["discarded"] == 1


def test_throttles_retry_until_max_age_and_never_count() -> None:
    """Throttles retry until records exceed their max age; not retries, not Errors (§10.12)."""
    with esmsim.Simulation(seed=18) as sim:
        stream = sim.kinesis_stream("s")
        q = sim.sqs_queue("dest")
        fn = sim.function("f", lambda event, context: None, ReservedConcurrentExecutions=0)
        stream.put_record(Data="x", PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=0,
            MaximumRecordAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_until_idle_sync(max_seconds=3600)
        assert fn.invocations == []
        metrics = m.metrics
        assert metrics["Throttles"] > 1
        assert metrics["Errors"] == 0
        assert metrics["Invocations"] == 0
        assert metrics["InvokedEventCount"] == 0
        assert fn.metrics["Throttles"] == metrics["Throttles"]
        (record,) = failure_records(q)
        assert record["requestContext"]["condition"] == "RecordAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 1
        assert "responseContext" not in record
        assert m.ledger["discarded"] == 1


def test_throttled_batch_runs_once_concurrency_returns() -> None:
    """A throttled batch is retried and delivered once the function can run again (§3.1)."""
    with esmsim.Simulation(seed=19) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", lambda event, context: None, ReservedConcurrentExecutions=0)
        stream.put_record(Data="x", PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=0,
        )
        sim.run_sync(300)
        assert fn.invocations == []
        fn.put_function_concurrency(ReservedConcurrentExecutions=1)
        sim.run_until_idle_sync(max_seconds=600)
        assert sizes(fn) == [1]
        assert m.ledger["delivered"] == 1
        assert m.metrics["Errors"] == 0


def test_deleted_table_stream_is_drained_then_expires() -> None:
    """A deleted table's stream stays readable 24 h: drained, or expired in the ledger (§2.3)."""
    with esmsim.Simulation(seed=20) as sim:
        table = simple_table(sim, "blocked")
        healthy = simple_table(sim, "healthy")

        def handler(event: dict[str, Any], context: Any) -> None:
            if any(r["dynamodb"]["Keys"]["pk"]["S"] == "poison" for r in event["Records"]):
                raise ValueError("poison")

        sim.function("f", handler)
        blocked = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=table.stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=2,
        )
        drained = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=healthy.stream_arn, StartingPosition="TRIM_HORIZON"
        )
        put_items(table, ["poison"] + [f"a{i}" for i in range(5)])
        put_items(healthy, [f"h{i}" for i in range(4)])
        sim.run_sync(10)
        put_items(table, [f"b{i}" for i in range(7)])  # written while the shard is blocked
        table.delete()
        healthy.delete()
        sim.run_sync(30 * 3600)
        assert blocked.ledger == {
            "delivered": 0,
            "filtered": 0,
            "discarded": 0,
            "dead_lettered": 0,
            "expired": 13,
            "pending": 0,
        }
        assert drained.ledger["delivered"] == 4
        assert drained.ledger["pending"] == 0
        assert sim.run_until_idle_sync(max_seconds=60) == 0


def test_deleted_function_is_retried_until_records_expire() -> None:
    """Invokes of a deleted function fail before it runs: retried until max age (§2.4, §5)."""
    with esmsim.Simulation(seed=26) as sim:
        stream = sim.kinesis_stream("s")
        q = sim.sqs_queue("dest")
        fn = sim.function("f", lambda event, context: None)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="LATEST",
            MaximumRetryAttempts=0,
            MaximumRecordAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_sync(1)
        fn.delete()
        stream.put_record(Data="x", PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=3600)
        assert fn.invocations == []
        metrics = m.metrics
        assert metrics["FailedInvokeEventCount"] > 1  # retried: MaximumRetryAttempts not used
        assert metrics["Errors"] == 0
        assert m.configuration()["LastProcessingResult"].startswith("PROBLEM")
        (record,) = failure_records(q)
        assert record["requestContext"]["condition"] == "RecordAgeExceeded"
        assert m.ledger["discarded"] == 1
