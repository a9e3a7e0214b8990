"""The events stream mappings send: Lambda's shapes, validated with Powertools (§4.2, §4.3)."""

from __future__ import annotations

import base64
import copy
from typing import Any

from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamModel,
    KinesisDataStreamModel,
)

import esmsim

from .streams_support import put_items, seq, simple_table, sizes


def test_kinesis_events_validate_and_carry_the_exact_bytes() -> None:
    """Kinesis events validate with Powertools; data is base64 of the exact bytes put (§4.2)."""
    with esmsim.Simulation(seed=81) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        calls: list[int] = []

        def handler(event: dict[str, Any], context: Any) -> None:
            calls.append(1)
            if len(calls) % 3 == 1:
                raise ValueError("retry me")

        fn = sim.function("f", handler, Role="arn:aws:iam::123456789012:role/custom")
        payloads = [bytes([i, 0, 255, 10]) + f"record {i} é".encode() for i in range(30)]
        put = {}
        for i, data in enumerate(payloads):
            r = stream.put_record(Data=data, PartitionKey=f"pk-{i % 7}")
            put[r["SequenceNumber"]] = (data, r["ShardId"], f"pk-{i % 7}")
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=4,
            BisectBatchOnFunctionError=True,
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert len(fn.invocations) > 10
        for inv in fn.invocations:
            KinesisDataStreamModel.model_validate(inv.event)
            for record in inv.event["Records"]:
                s = record["kinesis"]["sequenceNumber"]
                data, shard_id, key = put[s]
                assert base64.b64decode(record["kinesis"]["data"]) == data
                assert record["kinesis"]["partitionKey"] == key
                assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
                assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
                assert record["eventID"] == f"{shard_id}:{s}"
                assert record["invokeIdentityArn"] == fn.role
                assert fn.role == "arn:aws:iam::123456789012:role/custom"
                assert record["eventSourceARN"] == stream.arn
                assert record["eventSource"] == "aws:kinesis"
                assert record["eventName"] == "aws:kinesis:record"
                assert record["eventVersion"] == "1.0"
                assert record["awsRegion"] == "us-east-1"


def test_kinesis_arrival_timestamp_is_epoch_seconds_with_ms() -> None:
    """approximateArrivalTimestamp is epoch seconds with a millisecond fraction (§4.2)."""
    with esmsim.Simulation(seed=82, start_time=1_700_000_000.25) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", lambda event, context: None)
        sim.run_sync(0.5)
        stream.put_record(Data="x", PartitionKey="k")
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        sim.run_until_idle_sync(max_seconds=60)
        (record,) = fn.invocations[0].event["Records"]
        assert record["kinesis"]["approximateArrivalTimestamp"] == 1_700_000_000.75
        model = KinesisDataStreamModel.model_validate(fn.invocations[0].event)
        assert model.Records[0].kinesis.data == b"x"


def test_dynamodb_events_validate_and_match_the_stream() -> None:
    """DynamoDB events validate with Powertools and carry the stream's records (§4.3)."""
    with esmsim.Simulation(seed=83) as sim:
        table = simple_table(sim)
        fn = sim.function("f", lambda event, context: None)
        put_items(table, ["a", "b", "c"], colour="red")
        table.update_item(
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET colour = :c",
            ExpressionAttributeValues={":c": {"S": "blue"}},
        )
        table.delete_item(Key={"pk": {"S": "b"}})
        expected = table.stream_records()
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=table.stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=2,
        )
        sim.run_until_idle_sync(max_seconds=60)
        assert sizes(fn) == [2, 2, 1]
        got = [r for inv in fn.invocations for r in inv.event["Records"]]
        assert got == expected
        assert [r["eventName"] for r in got] == ["INSERT", "INSERT", "INSERT", "MODIFY", "REMOVE"]
        for inv in fn.invocations:
            DynamoDBStreamModel.model_validate(inv.event)
            for record in inv.event["Records"]:
                assert record["eventSourceARN"] == table.stream_arn
                assert record["eventSource"] == "aws:dynamodb"
                assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)


def test_handler_mutating_its_event_does_not_change_a_retry() -> None:
    """Each invocation gets a fresh event: a handler's mutation never reaches a retry (§10.14)."""
    with esmsim.Simulation(seed=84) as sim:
        stream = sim.kinesis_stream("s")
        table = simple_table(sim)
        received: list[dict[str, Any]] = []

        def handler(event: dict[str, Any], context: Any) -> None:
            received.append(copy.deepcopy(event))
            first = event["Records"][0]
            if "kinesis" in first:
                first["kinesis"]["data"] = "bWFuZ2xlZA=="
            else:
                first["dynamodb"]["NewImage"]["pk"]["S"] = "mangled"
            event["Records"].append({"bogus": True})
            if len(received) % 2:
                raise ValueError("retry")

        sim.function("f", handler)
        stream.put_record(Data="original", PartitionKey="k")
        put_items(table, ["item"])
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        sim.run_until_idle_sync(max_seconds=60)
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=table.stream_arn, StartingPosition="TRIM_HORIZON"
        )
        sim.run_until_idle_sync(max_seconds=60)
        assert len(received) == 4
        assert received[0] == received[1]
        assert received[2] == received[3]
        assert received[1]["Records"][0]["kinesis"]["data"] == "b3JpZ2luYWw="
        assert received[3]["Records"][0]["dynamodb"]["NewImage"]["pk"]["S"] == "item"
        assert table.stream_records()[0]["dynamodb"]["NewImage"]["pk"]["S"] == "item"


def test_sequence_numbers_are_the_item_identifiers() -> None:
    """The RBIF item identifier is kinesis.sequenceNumber / dynamodb.SequenceNumber (§2.6)."""
    with esmsim.Simulation(seed=85) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", lambda event, context: None)
        put = stream.put_record(Data="x", PartitionKey="k")
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        sim.run_until_idle_sync(max_seconds=60)
        (record,) = fn.invocations[0].event["Records"]
        assert seq(record) == put["SequenceNumber"]
        assert record["eventID"].endswith(":" + put["SequenceNumber"])
