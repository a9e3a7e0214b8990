"""OnFailure destinations of stream mappings: SQS, SNS, S3 and delivery failures (§2.7)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import esmsim

from .streams_support import UUID, failure_records, put_items, seqs, simple_table, sizes


def _always_fails(event: dict[str, Any], context: Any) -> None:
    raise ValueError("boom")


def _discard_two_kinesis_records(sim: esmsim.Simulation, destination_arn: str) -> tuple[Any, ...]:
    """Two records put at 0.123 s and 0.456 s, read at the 1 s tick, failed with no retry."""
    stream = sim.kinesis_stream("s")
    fn = sim.function("f", _always_fails, duration=0.25)
    m = sim.event_source_mapping(
        FunctionName="f",
        EventSourceArn=stream.arn,
        StartingPosition="LATEST",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": destination_arn}},
    )
    sim.run_sync(0.123)
    first = stream.put_record(Data=b"\x00one", PartitionKey="k")
    sim.run_sync(0.333)
    last = stream.put_record(Data=b"two", PartitionKey="k")
    sim.run_until_idle_sync(max_seconds=600)
    assert sizes(fn) == [2]
    return stream, fn, m, first, last


def _expected_kinesis_record(stream: Any, fn: Any, first: Any, last: Any) -> dict[str, Any]:
    return {
        "requestContext": {
            "requestId": fn.invocations[-1].request_id,
            "functionArn": fn.arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 1,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": "2026-01-01T00:00:01.250Z",
        "KinesisBatchInfo": {
            "shardId": "shardId-000000000000",
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": "2026-01-01T00:00:00.123Z",
            "approximateArrivalOfLastRecord": "2026-01-01T00:00:00.456Z",
            "batchSize": 2,
            "streamArn": stream.arn,
        },
    }


def test_sqs_destination_gets_the_exact_failure_record() -> None:
    """An SQS destination receives the §2.7 record, every field, metadata only (§2.7, §10.4)."""
    with esmsim.Simulation(seed=21) as sim:
        q = sim.sqs_queue("dest")
        stream, fn, m, first, last = _discard_two_kinesis_records(sim, q.arn)
        assert failure_records(q) == [_expected_kinesis_record(stream, fn, first, last)]
        assert m.metrics["OnFailureDestinationDeliveredEventCount"] == 2
        assert m.metrics["DroppedEventCount"] == 0


def test_sns_destination_message_holds_the_record() -> None:
    """An SNS destination publishes the record as the notification's Message (§2.7)."""
    with esmsim.Simulation(seed=21) as sim:
        topic = sim.sns_topic("t")
        stream, fn, m, first, last = _discard_two_kinesis_records(sim, topic.arn)
        (note,) = topic.messages()
        assert note["Type"] == "Notification"
        assert note["TopicArn"] == topic.arn
        assert json.loads(note["Message"]) == _expected_kinesis_record(stream, fn, first, last)
        assert m.metrics["OnFailureDestinationDeliveredEventCount"] == 2


def test_s3_destination_key_and_payload() -> None:
    """S3 gets the record plus the invocation event as a JSON string, under AWS's key (§2.7)."""
    with esmsim.Simulation(seed=21) as sim:
        bucket = sim.s3_bucket("failures")
        stream, fn, m, first, last = _discard_two_kinesis_records(sim, bucket.arn)
        ((key, body),) = bucket.objects().items()
        pattern = (
            rf"aws/lambda/{m.uuid}/shardId-000000000000/2026/01/01/"
            r"2026-01-01T00\.00\.01-(.+)"
        )
        match = re.fullmatch(pattern, key)
        assert match is not None, key
        assert UUID.match(match.group(1))
        document = json.loads(body)
        payload = document.pop("payload")
        assert isinstance(payload, str)
        assert json.loads(payload) == fn.invocations[-1].event
        assert document == _expected_kinesis_record(stream, fn, first, last)


def test_dynamodb_destination_record_has_whole_second_arrivals() -> None:
    """A DynamoDB failure record has DDBStreamBatchInfo, whole seconds, the stream ARN (§10.4)."""
    with esmsim.Simulation(seed=22) as sim:
        table = simple_table(sim)
        q = sim.sqs_queue("dest")
        fn = sim.function("f", _always_fails, duration=0.25)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=table.stream_arn,
            StartingPosition="LATEST",
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_sync(1.123)
        put_items(table, ["a", "b"])
        records = table.stream_records()
        sim.run_until_idle_sync(max_seconds=600)
        assert [seqs(inv) for inv in fn.invocations] == [
            [r["dynamodb"]["SequenceNumber"] for r in records]
        ]
        (record,) = failure_records(q)
        shard_id = record["DDBStreamBatchInfo"].pop("shardId")
        assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard_id)
        assert record == {
            "requestContext": {
                "requestId": fn.invocations[-1].request_id,
                "functionArn": fn.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 1,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": "2026-01-01T00:00:01.500Z",
            "DDBStreamBatchInfo": {
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": "2026-01-01T00:00:01Z",
                "approximateArrivalOfLastRecord": "2026-01-01T00:00:01Z",
                "batchSize": 2,
                "streamArn": table.stream_arn,
            },
        }
        assert m.metrics["OnFailureDestinationDeliveredEventCount"] == 2


@pytest.mark.parametrize("kind", ["fifo-queue", "fifo-topic", "deleted-queue"])
def test_failed_destination_delivery_drops_and_moves_on(kind: str) -> None:
    """FIFO or deleted destinations fail delivery: counted, dropped, shard moves on (§2.4, §5)."""
    with esmsim.Simulation(seed=23) as sim:
        stream = sim.kinesis_stream("s")
        destination: Any
        if kind == "fifo-queue":
            destination = sim.sqs_queue("d.fifo", FifoQueue=True)
        elif kind == "fifo-topic":
            destination = sim.sns_topic("t.fifo", FifoTopic=True)
        else:
            destination = sim.sqs_queue("gone")

        def handler(event: dict[str, Any], context: Any) -> None:
            if any(r["kinesis"]["partitionKey"] == "bad" for r in event["Records"]):
                raise ValueError("bad record")

        fn = sim.function("f", handler)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="LATEST",
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": destination.arn}},
        )
        if kind == "deleted-queue":
            destination.delete()
        sim.run_sync(1)
        stream.put_record(Data="1", PartitionKey="bad")
        stream.put_record(Data="2", PartitionKey="bad")
        sim.run_sync(5)
        good = stream.put_record(Data="3", PartitionKey="good")
        sim.run_until_idle_sync(max_seconds=600)
        assert seqs(fn.invocations[-1]) == [good["SequenceNumber"]]
        metrics = m.metrics
        assert metrics["DestinationDeliveryFailures"] == 1
        assert metrics["DroppedEventCount"] == 2
        assert metrics["OnFailureDestinationDeliveredEventCount"] == 0
        assert m.ledger["discarded"] == 2
        assert m.ledger["delivered"] == 1
        if kind != "deleted-queue":
            assert destination.messages() == []


def test_no_destination_counts_dropped_events() -> None:
    """Without a destination discarded records count in DroppedEventCount (§5)."""
    with esmsim.Simulation(seed=24) as sim:
        stream = sim.kinesis_stream("s")
        sim.function("f", _always_fails)
        for i in range(3):
            stream.put_record(Data=str(i), PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=0,
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert m.metrics["DroppedEventCount"] == 3
        assert m.metrics["OnFailureDestinationDeliveredEventCount"] == 0
        assert m.metrics["DestinationDeliveryFailures"] == 0
        assert m.ledger["discarded"] == 3


def test_s3_destination_for_an_age_discard_has_no_response_context() -> None:
    """An S3 RecordAgeExceeded object has no responseContext and carries the payload (§10.3)."""
    with esmsim.Simulation(seed=25) as sim:
        stream = sim.kinesis_stream("s")
        bucket = sim.s3_bucket("failures")
        fn = sim.function("f", lambda event, context: None)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            Enabled=False,
            MaximumRecordAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": bucket.arn}},
        )
        put = stream.put_record(Data="old", PartitionKey="k")
        sim.run_sync(120)
        m.update(Enabled=True)
        sim.run_until_idle_sync(max_seconds=600)
        assert fn.invocations == []
        (body,) = bucket.objects().values()
        document = json.loads(body)
        assert "responseContext" not in document
        assert document["requestContext"]["condition"] == "RecordAgeExceeded"
        event = json.loads(document["payload"])
        assert [r["kinesis"]["sequenceNumber"] for r in event["Records"]] == [put["SequenceNumber"]]
        assert event["Records"][0]["kinesis"]["data"] == "b2xk"
