"""The aggregator, called directly and behind a simulated stream with bisect + OnFailure."""

from __future__ import annotations

import json
from typing import Any

import clickstream
import pytest

from esmsim.testing import assert_delivered_once, assert_in_order, failure_records

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, where simulated time starts


@pytest.fixture(autouse=True)
def _no_counts() -> None:
    clickstream.PAGE_VIEWS.clear()


def click(user: str, page: str, ts: float = T0) -> bytes:
    return json.dumps({"user": user, "page": page, "ts": ts}).encode()


def deploy(sim: Any) -> tuple[Any, Any, Any]:
    stream = sim.kinesis_stream("clicks", ShardCount=1)
    failures = sim.sqs_queue("clicks-failures")
    fn = sim.function("click-aggregator", clickstream.lambda_handler, Timeout=30)
    sim.event_source_mapping(
        FunctionName="click-aggregator",
        EventSourceArn=stream.arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": failures.arn}},
    )
    return stream, failures, fn


def test_a_batch_is_counted_per_page_and_minute(kinesis_event, lambda_context):
    event = kinesis_event(click("u1", "/home"), click("u2", "/home"), click("u1", "/cart", T0 + 60))

    clickstream.lambda_handler(event, lambda_context)

    assert clickstream.PAGE_VIEWS == {
        ("/home", "2026-01-01T00:00"): 2,
        ("/cart", "2026-01-01T00:01"): 1,
    }


def test_a_poison_record_fails_the_whole_batch(kinesis_event, lambda_context):
    event = kinesis_event(click("u1", "/home"), b"\x00 not json")

    with pytest.raises(clickstream.NotAClick):
        clickstream.lambda_handler(event, lambda_context)
    assert clickstream.PAGE_VIEWS == {}  # nothing written for a failed batch


def test_the_poison_record_is_isolated_and_everything_else_counted(esm_sim):
    stream, failures, fn = deploy(esm_sim)
    good = []
    for n in range(10):
        data = b"\x00 not json" if n == 6 else click(f"u{n % 3}", "/home")
        put = stream.put_record(Data=data, PartitionKey=f"u{n % 3}")
        if n == 6:
            poison = put["SequenceNumber"]
        else:
            good.append(put["SequenceNumber"])

    esm_sim.run_until_idle_sync()

    assert clickstream.PAGE_VIEWS == {("/home", "2026-01-01T00:00"): 9}
    assert_delivered_once(fn, good)
    assert_in_order(fn)  # per partition key
    [record] = failure_records(failures)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2  # 1 + 1 retry
    assert record["KinesisBatchInfo"]["batchSize"] == 1
    assert record["KinesisBatchInfo"]["startSequenceNumber"] == poison
