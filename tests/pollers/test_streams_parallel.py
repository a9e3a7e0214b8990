"""ParallelizationFactor: concurrent batches per shard, order per key (§2.2, §3.1)."""

from __future__ import annotations

import asyncio
from typing import Any

import esmsim

from .streams_support import overlaps, put_items, simple_table


async def _slow(event: dict[str, Any], context: Any) -> None:
    await asyncio.sleep(1)


def _first_delivery_order(fn: Any, key_of: Any) -> dict[str, list[str]]:
    """Per key, its records' sequence numbers in order of first delivery."""
    seen: set[str] = set()
    order: dict[str, list[str]] = {}
    for inv in sorted(fn.invocations, key=lambda i: i.started_at):
        for r in inv.event["Records"]:
            s = (
                r["kinesis"]["sequenceNumber"]
                if "kinesis" in r
                else r["dynamodb"]["SequenceNumber"]
            )
            if s not in seen:
                seen.add(s)
                order.setdefault(key_of(r), []).append(s)
    return order


def _kinesis_key(record: dict[str, Any]) -> str:
    return str(record["kinesis"]["partitionKey"])


def test_parallelization_factor_runs_concurrent_batches_per_shard() -> None:
    """PF=4 runs up to 4 batches of one shard at once, in order per partition key (§2.2)."""
    with esmsim.Simulation(seed=71) as sim:
        stream = sim.kinesis_stream("s", ShardCount=1)
        fn = sim.function("f", _slow)
        expected: dict[str, list[str]] = {}
        for i in range(80):
            key = f"key-{i % 16}"
            put = stream.put_record(Data=str(i), PartitionKey=key)
            expected.setdefault(key, []).append(put["SequenceNumber"])
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=5,
            ParallelizationFactor=4,
        )
        sim.run_until_idle_sync(max_seconds=600)
        windows = [(inv.started_at, inv.ended_at) for inv in fn.invocations]
        assert overlaps(windows)
        for inv in fn.invocations:
            running = sum(1 for s, e in windows if s <= inv.started_at < e)
            assert running <= 4
        assert max(sum(1 for s, e in windows if s <= t < e) for t, _ in windows) == 4
        assert {inv.shard_id for inv in fn.invocations} == {"shardId-000000000000"}
        assert _first_delivery_order(fn, _kinesis_key) == expected
        assert m.ledger["delivered"] == 80


def test_parallelization_factor_one_is_sequential() -> None:
    """With PF=1 a shard has at most one batch in flight (§2.2)."""
    with esmsim.Simulation(seed=72) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        fn = sim.function("f", _slow)
        for i in range(40):
            stream.put_record(Data=str(i), PartitionKey=f"key-{i % 16}")
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=5,
        )
        sim.run_until_idle_sync(max_seconds=600)
        by_shard: dict[str, list[tuple[float, float]]] = {}
        for inv in fn.invocations:
            by_shard.setdefault(str(inv.shard_id), []).append((inv.started_at, inv.ended_at))
        assert len(by_shard) == 2
        assert not any(overlaps(w) for w in by_shard.values())
        # ...while the two shards run side by side.
        assert overlaps([w for ws in by_shard.values() for w in ws])


def test_failing_key_blocks_only_its_lane() -> None:
    """Under PF>1 a failing batch blocks its own keys' lane; other keys keep flowing [choice]."""
    with esmsim.Simulation(seed=73) as sim:
        stream = sim.kinesis_stream("s", ShardCount=1)

        def handler(event: dict[str, Any], context: Any) -> None:
            if any(r["kinesis"]["partitionKey"] == "poison" for r in event["Records"]):
                raise ValueError("poison")

        fn = sim.function("f", handler)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="LATEST",
            ParallelizationFactor=10,
            BatchSize=1,
        )
        sim.run_sync(1)
        stream.put_record(Data="p", PartitionKey="poison")
        sim.run_sync(2)
        for i in range(30):
            stream.put_record(Data=str(i), PartitionKey=f"other-{i}")
        sim.run_sync(120)
        ok = [inv for inv in fn.invocations if inv.error is None]
        failed = [inv for inv in fn.invocations if inv.error is not None]
        assert len(failed) > 3
        poison_lane_keys = {
            r["kinesis"]["partitionKey"] for inv in failed for r in inv.event["Records"]
        }
        assert poison_lane_keys == {"poison"}
        # Keys of other lanes were all delivered; keys behind the poison wait.
        assert m.ledger["delivered"] == len(ok)
        assert 0 < len(ok) < 30
        assert m.ledger["pending"] == 31 - len(ok)


def test_dynamodb_parallelization_keeps_order_per_item() -> None:
    """DynamoDB PF keeps changes to one item in order (§2.3)."""
    with esmsim.Simulation(seed=74) as sim:
        table = simple_table(sim)
        fn = sim.function("f", _slow)
        for round_ in range(4):
            put_items(table, [f"item{i}" for i in range(12)], v=str(round_))
        expected: dict[str, list[str]] = {}
        for r in table.stream_records():
            expected.setdefault(r["dynamodb"]["Keys"]["pk"]["S"], []).append(
                r["dynamodb"]["SequenceNumber"]
            )
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=table.stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=4,
            ParallelizationFactor=3,
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert overlaps([(inv.started_at, inv.ended_at) for inv in fn.invocations])
        order = _first_delivery_order(fn, lambda r: r["dynamodb"]["Keys"]["pk"]["S"])
        assert order == expected
