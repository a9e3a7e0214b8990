"""SQS events as handlers get them: shape, attributes, bodies, Powertools (§4.1, §10.14)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsModel

import esmsim

from .sqs_support import Event, all_bodies, bodies, records

ATTRIBUTES: dict[str, dict[str, Any]] = {
    "text": {"DataType": "String", "StringValue": "hello"},
    "count": {"DataType": "Number", "StringValue": "42"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
    "tagged": {"DataType": "String.custom", "StringValue": "x y"},
}


def _one_event(queue_kwargs: dict[str, Any], **send: Any) -> tuple[Event, dict[str, Any], Any]:
    """Send one message through a mapping: (handler's event, send response, (arn, region, t0))."""
    seen: list[Event] = []
    with esmsim.Simulation(seed=61) as sim:
        name = "jobs.fifo" if queue_kwargs.get("FifoQueue") else "jobs"
        q = sim.sqs_queue(name, **queue_kwargs)
        sim.function("f", lambda event, context: seen.append(json.loads(json.dumps(event))))
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        response = q.send_message(**send)
        sim.run_until_idle_sync(max_seconds=60)
        return seen[0], response, (q.arn, sim.region, sim.clock.start)


def test_standard_event_validates_with_powertools_sqs_model() -> None:
    """A standard-queue event parses with Powertools' SqsModel and has every §4.1 field."""
    event, sent, (arn, region, start) = _one_event({}, MessageBody="plain body")
    parsed = SqsModel.model_validate(event)
    assert len(parsed.Records) == 1
    (record,) = event["Records"]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["messageId"] == sent["MessageId"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == region
    assert record["messageAttributes"] == {}
    attrs = record["attributes"]
    assert set(attrs) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert attrs["ApproximateReceiveCount"] == "1"
    assert attrs["SentTimestamp"] == str(int(start * 1000))
    assert attrs["ApproximateFirstReceiveTimestamp"] == str(int(start * 1000))


def test_message_attributes_reach_the_handler_in_lambda_lower_camel_form() -> None:
    """Message attributes arrive lowerCamel, binaries base64, both list keys present (§4.1)."""
    event, sent, _ = _one_event({}, MessageBody="with attributes", MessageAttributes=ATTRIBUTES)
    SqsModel.model_validate(event)
    (record,) = event["Records"]
    assert record["messageAttributes"] == {
        "text": {
            "stringValue": "hello",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "count": {
            "stringValue": "42",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Number",
        },
        "blob": {
            "binaryValue": base64.b64encode(b"\x00\x01\xfe\xff").decode("ascii"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
        "tagged": {
            "stringValue": "x y",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String.custom",
        },
    }
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]


def test_fifo_event_carries_the_fifo_attributes() -> None:
    """FIFO records add SequenceNumber, MessageGroupId and MessageDeduplicationId (§4.1)."""
    event, sent, _ = _one_event(
        {"FifoQueue": True},
        MessageBody="ordered",
        MessageGroupId="group-7",
        MessageDeduplicationId="dedup-1",
    )
    parsed = SqsModel.model_validate(event)
    assert parsed.Records[0].attributes.MessageGroupId == "group-7"
    attrs = event["Records"][0]["attributes"]
    assert attrs["MessageGroupId"] == "group-7"
    assert attrs["MessageDeduplicationId"] == "dedup-1"
    assert attrs["SequenceNumber"] == sent["SequenceNumber"]
    assert attrs["SequenceNumber"].isdigit()


BODIES = {
    "unicode": "héllo wörld ✓ 😀 日本語",
    "json with odd spacing": '{ "a" :1 ,"b":[ 1,2 ] , "c" : "\\u00e9" }',
    "whitespace": "  \t leading and trailing \r\nsecond line\n  ",
    "xml": "<a x='1'>&amp;</a>",
    "one space": " ",
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_body_and_md5_reach_the_handler_unchanged(body: str) -> None:
    """The body is never rewritten and md5OfBody is SQS's MD5 of the sent bytes (§10.14)."""
    event, sent, _ = _one_event({}, MessageBody=body)
    (record,) = event["Records"]
    assert record["body"] == body
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["md5OfBody"] == hashlib.md5(body.encode("utf-8")).hexdigest()
    assert SqsModel.model_validate(event).Records[0].body == body


def test_a_handler_mutating_its_event_does_not_change_the_retry() -> None:
    """Each invocation gets a fresh event: a retry sees the original body (§10.14)."""
    with esmsim.Simulation(seed=62) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=10)

        def handler(event: Event, context: Any) -> None:
            record = event["Records"][0]
            if record["attributes"]["ApproximateReceiveCount"] == "1":
                record["body"] = "tampered"
                record["attributes"]["ApproximateReceiveCount"] = "99"
                raise ValueError("fail after mutating")

        fn = sim.function("f", handler, Timeout=5)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        q.send_message(MessageBody="original")
        sim.run_until_idle_sync(max_seconds=60)

        first, second = fn.invocations
        assert bodies(first) == ["original"]  # the log shows the event as sent
        assert bodies(second) == ["original"]
        assert records(second)[0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_handler_can_parse_its_event_with_powertools() -> None:
    """A handler using Powertools ``parse(event, model=SqsModel)`` runs without errors (§4.1)."""
    with esmsim.Simulation(seed=63) as sim:
        q = sim.sqs_queue("jobs")
        seen: list[str] = []

        def handler(event: Event, context: Any) -> None:
            seen.extend(str(record.body) for record in parse(event=event, model=SqsModel).Records)

        fn = sim.function("f", handler, Timeout=5)
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=10)
        for i in range(12):
            q.send_message(MessageBody=f"m{i}", MessageAttributes=ATTRIBUTES)
        sim.run_until_idle_sync(max_seconds=60)

        assert all(inv.error is None for inv in fn.invocations)
        assert sorted(seen) == sorted(f"m{i}" for i in range(12))


def test_powertools_batch_processor_partial_response_drives_the_mapping() -> None:
    """``BatchProcessor`` + ``process_partial_response``: only failed records retry (§2.6)."""
    with esmsim.Simulation(seed=64) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=10)
        processor = BatchProcessor(event_type=EventType.SQS)
        done: list[int] = []

        def record_handler(record: Any) -> None:
            n = json.loads(record.body)["n"]
            if n % 3 == 0 and record.attributes.approximate_receive_count == "1":
                raise ValueError(f"record {n} fails once")
            done.append(n)

        def handler(event: Event, context: Any) -> Any:
            return process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=10,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig={"MaximumConcurrency": 2},
        )
        for n in range(1, 10):
            q.send_message(MessageBody=json.dumps({"n": n}))
        sim.run_until_idle_sync(max_seconds=120)

        first, second = fn.invocations
        assert len(first.response["batchItemFailures"]) == 3
        assert sorted(json.loads(b)["n"] for b in all_bodies([second])) == [3, 6, 9]
        assert sorted(done) == list(range(1, 10))
        assert m.ledger["delivered"] == 9 and q.messages() == []
        assert m.metrics["Errors"] == 0
