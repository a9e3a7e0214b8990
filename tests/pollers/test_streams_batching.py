"""Stream polling cadence and batching: BatchSize, window, 6 MB, one shard (§2.1, §10.9-10)."""

from __future__ import annotations

from typing import Any

import pytest

import esmsim

from .streams_support import T0, keys_for_shard, put_items, simple_table, sizes


def _ok(event: dict[str, Any], context: Any) -> None:
    return None


def _starts(fn: Any) -> list[float]:
    return [round(inv.started_at - T0, 6) for inv in fn.invocations]


def test_kinesis_idle_shard_is_polled_once_per_second() -> None:
    """An idle Kinesis shard is polled once per second: a put at 10.3 s is read at 11 s (§10.10)."""
    with esmsim.Simulation(seed=31) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok)
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        sim.run_sync(10.3)
        stream.put_record(Data="a", PartitionKey="k")
        sim.run_sync(0.2)
        stream.put_record(Data="b", PartitionKey="k")
        sim.run_sync(5)
        assert _starts(fn) == [11.0]
        assert sizes(fn) == [2]


def test_poll_schedule_starts_when_the_mapping_is_enabled() -> None:
    """Each shard's 1 s poll schedule starts when the mapping becomes Enabled (§10.10)."""
    with esmsim.Simulation(seed=32) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok)
        sim.run_sync(0.4)
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        sim.run_sync(9.9)  # now 10.3
        stream.put_record(Data="a", PartitionKey="k")
        sim.run_sync(5)
        assert _starts(fn) == [10.4]


def test_dynamodb_idle_shard_is_polled_four_times_per_second() -> None:
    """An idle DynamoDB stream shard is polled every 250 ms: a write at 10.3 s is read at 10.5 s."""
    with esmsim.Simulation(seed=33) as sim:
        table = simple_table(sim)
        fn = sim.function("f", _ok)
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=table.stream_arn, StartingPosition="LATEST"
        )
        sim.run_sync(10.3)
        put_items(table, ["a"])
        sim.run_sync(5)
        assert _starts(fn) == [10.5]


def test_poller_reads_again_at_once_while_records_remain() -> None:
    """While records remain, batches follow each other without waiting for a poll tick (§10.10)."""
    with esmsim.Simulation(seed=34) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok, duration=0.3)
        for i in range(5):
            stream.put_record(Data=str(i), PartitionKey="k")
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=1,
        )
        sim.run_until_idle_sync(max_seconds=60)
        assert _starts(fn) == pytest.approx([0.0, 0.3, 0.6, 0.9, 1.2])


def test_batch_size_is_respected() -> None:
    """No batch holds more than BatchSize records; the rest follow in order (§1, §2.1)."""
    with esmsim.Simulation(seed=35) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok)
        put = [stream.put_record(Data=str(i), PartitionKey="k") for i in range(25)]
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=10,
        )
        sim.run_until_idle_sync(max_seconds=60)
        assert sizes(fn) == [10, 10, 5]
        delivered = [
            r["kinesis"]["sequenceNumber"] for i in fn.invocations for r in i.event["Records"]
        ]
        assert delivered == [p["SequenceNumber"] for p in put]


def test_batching_window_gathers_records_until_it_ends() -> None:
    """Records arriving over time are batched until the batching window ends (§10.9)."""
    with esmsim.Simulation(seed=36) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok, duration=0.5)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="LATEST",
            MaximumBatchingWindowInSeconds=5,
        )
        for at in (0.5, 2.0, 2.0, 2.0):  # puts at 0.5, 2.5, 4.5, 6.5 s
            sim.run_sync(at)
            stream.put_record(Data="x", PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=60)
        # First record read at 1 s: window until 6 s. The next window starts when that
        # invocation ends (6.5 s); the 6.5 s record is read at 7 s and waits until 11.5 s.
        assert _starts(fn) == [6.0, 11.5]
        assert sizes(fn) == [3, 1]


def test_batching_window_ends_early_when_batch_is_full() -> None:
    """A full BatchSize is invoked at once, without waiting for the window (§2.1)."""
    with esmsim.Simulation(seed=37) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="LATEST",
            BatchSize=3,
            MaximumBatchingWindowInSeconds=60,
        )
        sim.run_sync(0.5)
        for i in range(4):
            stream.put_record(Data=str(i), PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=600)
        assert sizes(fn) == [3, 1]
        assert _starts(fn)[0] == 1.0
        assert _starts(fn)[1] == pytest.approx(61.01)


def test_each_batch_holds_records_of_one_shard() -> None:
    """A stream batch holds records of one shard only; shards are batched apart (§2.1)."""
    with esmsim.Simulation(seed=38) as sim:
        stream = sim.kinesis_stream("s", ShardCount=4)
        fn = sim.function("f", _ok)
        shard_of: dict[str, str] = {}
        for i in range(60):
            put = stream.put_record(Data=str(i), PartitionKey=f"key-{i}")
            shard_of[put["SequenceNumber"]] = put["ShardId"]
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        sim.run_until_idle_sync(max_seconds=60)
        assert len(fn.invocations) == 4
        for inv in fn.invocations:
            records = inv.event["Records"]
            shards = {shard_of[r["kinesis"]["sequenceNumber"]] for r in records}
            assert len(shards) == 1
            assert {r["eventID"].split(":")[0] for r in records} == shards
        assert sum(sizes(fn)) == 60


def test_payload_limit_splits_large_batches() -> None:
    """A batch stops before 6 MB of payload even below BatchSize (§2.1)."""
    with esmsim.Simulation(seed=39) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok)
        blob = bytes(1_000_000)  # ~1.33 MB once base64-encoded: four fit in 6 MB, five do not
        for _ in range(10):
            stream.put_record(Data=blob, PartitionKey="k")
            sim.run_sync(1)  # the shard takes 1 MiB/s of writes
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert sizes(fn) == [4, 4, 2]
        assert m.ledger["delivered"] == 10


def test_never_an_empty_batch() -> None:
    """No handler is ever invoked with an empty Records list (§10.7), even when idle for long."""
    with esmsim.Simulation(seed=40) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        table = simple_table(sim)
        fn = sim.function("f", _ok)
        sim.function("g", _ok)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="LATEST",
            MaximumBatchingWindowInSeconds=2,
        )
        sim.event_source_mapping(
            FunctionName="g", EventSourceArn=table.stream_arn, StartingPosition="LATEST"
        )
        sim.run_sync(3600)
        assert fn.invocations == []
        key = keys_for_shard(stream, "shardId-000000000001", 1)[0]
        stream.put_record(Data="x", PartitionKey=key)
        sim.run_sync(60)
        assert sizes(fn) == [1]


def test_five_mappings_share_a_shards_five_reads_per_second() -> None:
    """Five mappings on one shard each poll once a second within its 5 reads/s (§2.2, §7)."""
    with esmsim.Simulation(seed=41) as sim:
        stream = sim.kinesis_stream("s")
        functions = [sim.function(f"f{i}", _ok) for i in range(5)]
        for fn in functions:
            sim.event_source_mapping(
                FunctionName=fn.name, EventSourceArn=stream.arn, StartingPosition="LATEST"
            )
        sim.run_sync(0.5)
        for _ in range(20):
            stream.put_record(Data="x", PartitionKey="k")
            sim.run_sync(1)
        for fn in functions:
            assert _starts(fn) == [float(t) for t in range(1, 21)]
