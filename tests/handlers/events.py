"""Small builders of realistic Lambda events for the handler tests (spec §4).

The pollers build the real events; these only have to look like them, field for field,
so that Powertools' data classes and handlers written for Lambda accept them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
FIFO_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders.fifo"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
TABLE_STREAM_ARN = (
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/stream/2026-01-01T00:00:00.000"
)


def sqs_record(
    n: int, body: str | None = None, group: str | None = None, receive_count: int = 1
) -> dict[str, Any]:
    """An SQS record (§4.1); ``group`` makes it a FIFO record."""
    text = json.dumps({"n": n}) if body is None else body
    attributes = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": str(1767225600000 + n),
        "SenderId": "AIDAIO23YVJENQZJOL4VO",
        "ApproximateFirstReceiveTimestamp": str(1767225600000 + n + 1),
    }
    if group is not None:
        attributes |= {
            "SequenceNumber": str(18849496460467696128 + n),
            "MessageGroupId": group,
            "MessageDeduplicationId": f"dedup-{n}",
        }
    return {
        "messageId": f"059f36b4-87a3-44ab-83d2-{n:012d}",
        "receiptHandle": f"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a{n}",
        "body": text,
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN if group is None else FIFO_QUEUE_ARN,
        "awsRegion": REGION,
    }


def kinesis_sequence(n: int) -> str:
    """The n-th sequence number of a shard (56 digits, numerically increasing)."""
    return str(49590338271490256608559692538361571095921575989136588800 + n)


def kinesis_record(n: int, payload: Any = None) -> dict[str, Any]:
    """A Kinesis record (§4.2) carrying ``payload`` as JSON (default ``{"n": n}``)."""
    data = json.dumps({"n": n} if payload is None else payload).encode()
    sequence = kinesis_sequence(n)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": f"pk-{n}",
            "sequenceNumber": sequence,
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": 1767225600.0 + n / 1000,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/fn-role",
        "awsRegion": REGION,
        "eventSourceARN": STREAM_ARN,
    }


def dynamodb_record(n: int, status: str = "OK") -> dict[str, Any]:
    """A DynamoDB Streams INSERT record (§4.3)."""
    return {
        "eventID": f"{n:032x}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": 1767225600 + n,
            "Keys": {"pk": {"S": f"order-{n}"}},
            "NewImage": {"pk": {"S": f"order-{n}"}, "status": {"S": status}, "n": {"N": str(n)}},
            "SequenceNumber": str(100000000000000000000 + n),
            "SizeBytes": 40,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": TABLE_STREAM_ARN,
    }


def sqs_event(count: int = 3, **kwargs: Any) -> dict[str, Any]:
    """``{"Records": [...]}`` with ``count`` SQS records."""
    return {"Records": [sqs_record(n, **kwargs) for n in range(1, count + 1)]}


def kinesis_event(count: int = 3) -> dict[str, Any]:
    """``{"Records": [...]}`` with ``count`` Kinesis records."""
    return {"Records": [kinesis_record(n) for n in range(1, count + 1)]}


def dynamodb_event(count: int = 3) -> dict[str, Any]:
    """``{"Records": [...]}`` with ``count`` DynamoDB Streams records."""
    return {"Records": [dynamodb_record(n) for n in range(1, count + 1)]}


def item_ids(event: dict[str, Any]) -> list[str]:
    """The batch's item identifiers, as a poller lists them (§2.6)."""
    ids = []
    for record in event["Records"]:
        if record["eventSource"] == "aws:sqs":
            ids.append(record["messageId"])
        elif record["eventSource"] == "aws:kinesis":
            ids.append(record["kinesis"]["sequenceNumber"])
        else:
            ids.append(record["dynamodb"]["SequenceNumber"])
    return ids
