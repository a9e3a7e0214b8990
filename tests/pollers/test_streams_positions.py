"""Starting positions: LATEST, TRIM_HORIZON, AT_TIMESTAMP (§1, §10.8)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import esmsim

from .streams_support import T0, put_items, seqs, simple_table


def _ok(event: dict[str, Any], context: Any) -> None:
    return None


def _delivered(fn: Any) -> list[str]:
    return [s for inv in fn.invocations for s in seqs(inv)]


def test_latest_skips_records_put_before_the_mapping_is_enabled() -> None:
    """LATEST is the shard's tip when the mapping becomes Enabled, at the first run (§10.8)."""
    with esmsim.Simulation(seed=41) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        fn = sim.function("f", _ok)
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        for i in range(4):
            stream.put_record(Data=str(i), PartitionKey=f"k{i}")  # before the first run
        sim.run_sync(5)
        assert fn.invocations == []
        after = stream.put_record(Data="new", PartitionKey="k0")
        sim.run_until_idle_sync(max_seconds=60)
        assert _delivered(fn) == [after["SequenceNumber"]]
        assert m.ledger["delivered"] == 1
        assert m.metrics["PolledEventCount"] == 1


def test_latest_on_a_mapping_enabled_later() -> None:
    """A mapping created disabled takes LATEST when it is first enabled (§10.8)."""
    with esmsim.Simulation(seed=42) as sim:
        table = simple_table(sim)
        fn = sim.function("f", _ok)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=table.stream_arn,
            StartingPosition="LATEST",
            Enabled=False,
        )
        put_items(table, ["a", "b"])
        sim.run_sync(30)
        put_items(table, ["c"])
        m.update(Enabled=True)
        sim.run_sync(10)
        put_items(table, ["d"])
        sim.run_until_idle_sync(max_seconds=60)
        keys = [
            r["dynamodb"]["Keys"]["pk"]["S"] for inv in fn.invocations for r in inv.event["Records"]
        ]
        assert keys == ["d"]


@pytest.mark.parametrize("kind", ["kinesis", "dynamodb"])
def test_trim_horizon_starts_at_the_oldest_retained_record(kind: str) -> None:
    """TRIM_HORIZON delivers every retained record, oldest first (§1)."""
    with esmsim.Simulation(seed=43) as sim:
        fn = sim.function("f", _ok)
        arn: str
        if kind == "kinesis":
            stream = sim.kinesis_stream("s")
            expected = [
                stream.put_record(Data=str(i), PartitionKey="k")["SequenceNumber"] for i in range(5)
            ]
            arn = stream.arn
        else:
            table = simple_table(sim)
            put_items(table, [f"i{n}" for n in range(5)])
            expected = [r["dynamodb"]["SequenceNumber"] for r in table.stream_records()]
            arn = table.stream_arn
        sim.run_sync(3600)
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=arn, StartingPosition="TRIM_HORIZON"
        )
        sim.run_until_idle_sync(max_seconds=60)
        assert _delivered(fn) == expected


@pytest.mark.parametrize("as_datetime", [False, True])
def test_at_timestamp_starts_at_the_first_record_at_or_after_it(as_datetime: bool) -> None:
    """AT_TIMESTAMP (Kinesis) starts at the first record that arrived at or after it (§1)."""
    with esmsim.Simulation(seed=44) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok)
        put = []
        for _ in range(3):
            put.append(stream.put_record(Data="x", PartitionKey="k")["SequenceNumber"])
            sim.run_sync(10)
        timestamp: Any = T0 + 10
        if as_datetime:
            timestamp = datetime.fromtimestamp(T0 + 10, tz=UTC)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="AT_TIMESTAMP",
            StartingPositionTimestamp=timestamp,
        )
        sim.run_until_idle_sync(max_seconds=60)
        assert _delivered(fn) == put[1:]
        assert m.configuration()["StartingPosition"] == "AT_TIMESTAMP"
        assert m.configuration()["StartingPositionTimestamp"] == datetime.fromtimestamp(
            T0 + 10, tz=UTC
        )


def test_at_timestamp_is_rejected_for_dynamodb() -> None:
    """DynamoDB streams support only TRIM_HORIZON and LATEST, with AWS's message (§2.3)."""
    with esmsim.Simulation(seed=45) as sim:
        table = simple_table(sim)
        sim.function("f", _ok)
        with pytest.raises(esmsim.InvalidParameterValueException) as info:
            sim.event_source_mapping(
                FunctionName="f",
                EventSourceArn=table.stream_arn,
                StartingPosition="AT_TIMESTAMP",
                StartingPositionTimestamp=T0,
            )
        assert f"Unsupported starting position for arn type: {table.stream_arn}" in str(info.value)
