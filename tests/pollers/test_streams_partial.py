"""Partial batch responses on streams: checkpoint at the lowest failure (§2.6, §10.2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamModel,
    KinesisDataStreamModel,
)

import esmsim

from .streams_support import (
    ISO_MS,
    ISO_S,
    RBIF,
    batch_info,
    delivery_counts,
    failure_records,
    put_items,
    seq,
    seqs,
    simple_table,
    sizes,
)


def _fail_ids(failing: set[str]) -> Any:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        ids = [seq(r) for r in event["Records"] if seq(r) in failing]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}

    return handler


def _check_recorded_example(
    sim: esmsim.Simulation, fn: Any, m: Any, q: Any, six: list[str], arrival: Any
) -> None:
    """The §10.2 recorded example: exact deliveries and the one failure record."""
    sim.run_until_idle_sync(max_seconds=3600)
    model = KinesisDataStreamModel if arrival is ISO_MS else DynamoDBStreamModel
    for inv in fn.invocations:
        model.model_validate(inv.event)
    counts = delivery_counts(fn)
    assert [counts[s] for s in six] == [1, 1, 1, 1, 1, 5]
    records = failure_records(q)
    assert len(records) == 1
    (record,) = records
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 4
    assert record["responseContext"]["functionError"] is None
    info = batch_info(record)
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == six[5]
    assert arrival.match(info["approximateArrivalOfFirstRecord"])
    assert arrival.match(info["approximateArrivalOfLastRecord"])
    assert m.ledger == {
        "delivered": 5,
        "filtered": 0,
        "discarded": 1,
        "dead_lettered": 0,
        "expired": 0,
        "pending": 0,
    }


def test_partial_response_recorded_example_kinesis() -> None:
    """BatchSize 3, retries 3, sixth record always fails: 1-5 once, sixth 5 times (§10.2)."""
    with esmsim.Simulation(seed=1) as sim:
        stream = sim.kinesis_stream("s", ShardCount=1)
        q = sim.sqs_queue("dest")
        failing: set[str] = set()
        fn = sim.function("f", _fail_ids(failing))
        six = [
            stream.put_record(Data=f"r{i}", PartitionKey="k")["SequenceNumber"] for i in range(6)
        ]
        failing.add(six[5])
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=3,
            MaximumRetryAttempts=3,
            FunctionResponseTypes=RBIF,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        _check_recorded_example(sim, fn, m, q, six, ISO_MS)
        assert sizes(fn) == [3, 3, 1, 1, 1, 1]


def test_partial_response_recorded_example_dynamodb() -> None:
    """The §10.2 example on DynamoDB Streams, arrival times in whole seconds (§10.4)."""
    with esmsim.Simulation(seed=2) as sim:
        table = simple_table(sim)
        q = sim.sqs_queue("dest")
        failing: set[str] = set()
        fn = sim.function("f", _fail_ids(failing))
        put_items(table, [f"item{i}" for i in range(6)])
        six = [seq(r) for r in table.stream_records()]
        failing.add(six[5])
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=table.stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=3,
            MaximumRetryAttempts=3,
            FunctionResponseTypes=RBIF,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        _check_recorded_example(sim, fn, m, q, six, ISO_S)
        assert batch_info(failure_records(q)[0])["streamArn"] == table.stream_arn


def test_partial_response_retries_from_lowest_failure() -> None:
    """The retry starts at the lowest failed sequence number, later successes included (§2.6)."""
    with esmsim.Simulation(seed=3) as sim:
        stream = sim.kinesis_stream("s")
        seen: dict[str, int] = {}
        all_seqs: list[str] = []

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            # Record 2 (0-based) fails on its first delivery, record 4 on its first two.
            fails = []
            for r in event["Records"]:
                s = seq(r)
                seen[s] = seen.get(s, 0) + 1
                if (s == all_seqs[2] and seen[s] == 1) or (s == all_seqs[4] and seen[s] <= 2):
                    fails.append({"itemIdentifier": s})
            return {"batchItemFailures": fails}

        fn = sim.function("f", handler)
        all_seqs.extend(
            stream.put_record(Data=str(i), PartitionKey="k")["SequenceNumber"] for i in range(6)
        )
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=6,
            FunctionResponseTypes=RBIF,
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert [seqs(inv) for inv in fn.invocations] == [all_seqs, all_seqs[2:], all_seqs[4:]]


def test_partial_response_is_a_successful_invocation() -> None:
    """A partial response is no Errors datapoint; all its events count as failed (§10.13)."""
    with esmsim.Simulation(seed=4) as sim:
        stream = sim.kinesis_stream("s")
        failing: set[str] = set()
        fn = sim.function("f", _fail_ids(failing))
        six = [stream.put_record(Data=str(i), PartitionKey="k")["SequenceNumber"] for i in range(4)]
        failing.add(six[3])
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=4,
            MaximumRetryAttempts=0,
            FunctionResponseTypes=RBIF,
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert sizes(fn) == [4, 1]
        assert all(inv.error is None for inv in fn.invocations)
        metrics = m.metrics
        assert metrics["Errors"] == 0
        assert metrics["Invocations"] == 2
        assert metrics["FailedInvokeEventCount"] == 5  # every event of both invokes
        assert metrics["DroppedEventCount"] == 1
        assert m.ledger["delivered"] == 3
        assert m.ledger["discarded"] == 1


def test_batch_item_failures_ignored_without_rbif() -> None:
    """Without ReportBatchItemFailures a batchItemFailures response is ignored (§2.6)."""
    with esmsim.Simulation(seed=5) as sim:
        stream = sim.kinesis_stream("s")

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            return {"batchItemFailures": [{"itemIdentifier": seq(event["Records"][0])}]}

        fn = sim.function("f", handler)
        for i in range(3):
            stream.put_record(Data=str(i), PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert sizes(fn) == [3]
        assert m.ledger["delivered"] == 3
        assert m.metrics["FailedInvokeEventCount"] == 0


def test_first_record_failure_is_a_failed_attempt() -> None:
    """A partial response whose lowest failure is the batch's first record is a failed attempt."""
    with esmsim.Simulation(seed=6) as sim:
        stream = sim.kinesis_stream("s")
        q = sim.sqs_queue("dest")
        failing: set[str] = set()
        fn = sim.function("f", _fail_ids(failing))
        three = [
            stream.put_record(Data=str(i), PartitionKey="k")["SequenceNumber"] for i in range(3)
        ]
        failing.add(three[0])
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=1,
            FunctionResponseTypes=RBIF,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert sizes(fn) == [3, 3]
        (record,) = failure_records(q)
        assert record["requestContext"]["approximateInvokeCount"] == 2
        assert record["responseContext"]["functionError"] is None
        info = batch_info(record)
        assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (three[0], three[2])
        assert info["batchSize"] == 3
        assert m.ledger["discarded"] == 3


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemId": "1"}]},
        {"batchItemFailures": [{"itemIdentifier": "12345"}]},
    ],
    ids=["empty-id", "null-id", "bad-key", "unknown-id"],
)
def test_malformed_partial_response_is_a_complete_failure(response: dict[str, Any]) -> None:
    """Empty, null, misnamed or unknown item ids fail the whole batch, with no error (§2.6)."""
    with esmsim.Simulation(seed=7) as sim:
        stream = sim.kinesis_stream("s")
        q = sim.sqs_queue("dest")
        fn = sim.function("f", lambda event, context: response)
        for i in range(2):
            stream.put_record(Data=str(i), PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=1,
            BisectBatchOnFunctionError=True,  # not a function error: no bisect
            FunctionResponseTypes=RBIF,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert sizes(fn) == [2, 2]
        (record,) = failure_records(q)
        assert record["responseContext"]["functionError"] is None
        assert batch_info(record)["batchSize"] == 2
        assert m.metrics["Errors"] == 0


@pytest.mark.parametrize(
    "response",
    [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}, {"statusCode": 200}],
    ids=["null", "empty-object", "empty-list", "null-list", "no-key"],
)
def test_empty_partial_responses_are_complete_success(response: Any) -> None:
    """null, {}, [] and null lists, and objects without the key all mean success (§2.6)."""
    with esmsim.Simulation(seed=8) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", lambda event, context: response)
        for i in range(3):
            stream.put_record(Data=str(i), PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            FunctionResponseTypes=RBIF,
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert sizes(fn) == [3]
        assert m.ledger["delivered"] == 3


def test_partial_response_inside_a_bisected_half() -> None:
    """A partial response in a bisected half checkpoints within the half (§2.6 bisect + RBIF)."""
    with esmsim.Simulation(seed=9) as sim:
        stream = sim.kinesis_stream("s")
        all_seqs = [
            stream.put_record(Data=str(i), PartitionKey="k")["SequenceNumber"] for i in range(4)
        ]
        calls: list[int] = []

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            calls.append(len(event["Records"]))
            if len(calls) == 1:
                raise RuntimeError("whole batch fails once")
            ids = [seq(r) for r in event["Records"]]
            if all_seqs[1] in ids and len(calls) == 2:
                return {"batchItemFailures": [{"itemIdentifier": all_seqs[1]}]}
            return {"batchItemFailures": []}

        fn = sim.function("f", handler)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BisectBatchOnFunctionError=True,
            FunctionResponseTypes=RBIF,
        )
        sim.run_until_idle_sync(max_seconds=600)
        assert [seqs(inv) for inv in fn.invocations] == [
            all_seqs,
            all_seqs[:2],
            all_seqs[1:2],
            all_seqs[2:],
        ]
        assert m.ledger["delivered"] == 4


def test_powertools_batch_processor_drives_partial_responses() -> None:
    """Powertools BatchProcessor + process_partial_response works with RBIF on Kinesis (§2.6)."""
    with esmsim.Simulation(seed=10) as sim:
        stream = sim.kinesis_stream("s", ShardCount=1)
        q = sim.sqs_queue("dest")
        processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
        handled: list[int] = []

        def record_handler(record: Any) -> None:
            n = record.kinesis.data_as_json()["n"]
            if n == 7:
                raise ValueError("poison")
            handled.append(n)

        def handler(event: dict[str, Any], context: Any) -> Any:
            return process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )

        fn = sim.function("f", handler)
        for n in range(8):
            stream.put_record(Data=json.dumps({"n": n}), PartitionKey="k")
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=8,
            MaximumRetryAttempts=2,
            FunctionResponseTypes=RBIF,
            DestinationConfig={"OnFailure": {"Destination": q.arn}},
        )
        sim.run_until_idle_sync(max_seconds=600)
        # 0-6 succeed once; 7 is retried alone under MaximumRetryAttempts 2.
        assert sizes(fn) == [8, 1, 1, 1]
        assert handled == [0, 1, 2, 3, 4, 5, 6]
        (record,) = failure_records(q)
        assert batch_info(record)["batchSize"] == 1
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert m.ledger["delivered"] == 7
        assert m.ledger["discarded"] == 1
