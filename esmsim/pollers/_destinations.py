"""OnFailure destination records for stream mappings (spec §2.7, §10.3, §10.4).

SQS and SNS receive metadata only; S3 also receives the invocation event as a
JSON string in ``payload``, under the key
``aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>``.
Delivery failures (a FIFO destination, a deleted one, SNS's size limit) are
reported back so the poller counts them as AWS does: the records are dropped,
``DestinationDeliveryFailures`` and ``DroppedEventCount`` grow, and the shard
still moves on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .._core import format_iso_ms, format_iso_s

__all__ = ("FailedBatch", "deliver", "failure_record", "s3_key")

_SNS_LIMIT = 256 * 1024


@dataclass(frozen=True, slots=True)
class FailedBatch:
    """What a destination record says about the discarded records."""

    condition: str  # "RetryAttemptsExhausted" | "RecordAgeExceeded"
    kind: str  # "kinesis" | "dynamodb"
    shard_id: str
    stream_arn: str
    first_sequence_number: str
    last_sequence_number: str
    first_arrival_ms: int
    last_arrival_ms: int
    batch_size: int
    request_id: str
    function_arn: str
    invoke_count: int
    function_error: str | None
    invoked: bool


def failure_record(batch: FailedBatch, now_ms: int) -> dict[str, Any]:
    """The JSON document AWS writes for a discarded batch."""
    fmt = format_iso_ms if batch.kind == "kinesis" else format_iso_s
    record: dict[str, Any] = {
        "requestContext": {
            "requestId": batch.request_id,
            "functionArn": batch.function_arn,
            "condition": batch.condition,
            "approximateInvokeCount": batch.invoke_count,
        }
    }
    if batch.condition != "RecordAgeExceeded":
        # §10.3: age discards carry no responseContext key at all.
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": batch.function_error,
        }
    record["version"] = "1.0"
    record["timestamp"] = format_iso_ms(now_ms)
    info_key = "KinesisBatchInfo" if batch.kind == "kinesis" else "DDBStreamBatchInfo"
    record[info_key] = {
        "shardId": batch.shard_id,
        "startSequenceNumber": batch.first_sequence_number,
        "endSequenceNumber": batch.last_sequence_number,
        "approximateArrivalOfFirstRecord": fmt(batch.first_arrival_ms),
        "approximateArrivalOfLastRecord": fmt(batch.last_arrival_ms),
        "batchSize": batch.batch_size,
        "streamArn": batch.stream_arn,
    }
    return record


def s3_key(mapping_uuid: str, shard_id: str, now_ms: int, unique: str) -> str:
    """``aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>``."""
    dt = datetime.fromtimestamp(now_ms // 1000, tz=UTC)
    return f"aws/lambda/{mapping_uuid}/{shard_id}/{dt:%Y/%m/%d}/{dt:%Y-%m-%dT%H.%M.%S}-{unique}"


def deliver(
    destination: Any,
    record: dict[str, Any],
    *,
    payload: dict[str, Any] | None,
    mapping_uuid: str,
    shard_id: str,
    now_ms: int,
    unique: str,
) -> str | None:
    """Send ``record`` to ``destination``; None on success, else why it failed."""
    if destination is None or getattr(destination, "deleted", False):
        return "destination does not exist"
    if getattr(destination, "fifo", False):
        return "FIFO destinations are not supported for OnFailure"
    kind = type(destination).__name__
    try:
        if kind == "S3Bucket":
            body = dict(record)
            body["payload"] = json.dumps(payload, separators=(",", ":"))
            destination.put_object(
                Key=s3_key(mapping_uuid, shard_id, now_ms, unique),
                Body=json.dumps(body, separators=(",", ":")).encode(),
            )
        elif kind == "SnsTopic":
            text = json.dumps(record, separators=(",", ":"))
            if len(text.encode()) > _SNS_LIMIT:
                return "record exceeds SNS's 256 KB message limit"
            destination.publish(Message=text)
        else:
            destination.send_message(MessageBody=json.dumps(record, separators=(",", ":")))
    except Exception as exc:  # a destination refusing the message is a delivery failure
        return f"{type(exc).__name__}: {exc}"
    return None
