"""The plugin's fixtures, marker and helpers, used in-process (the plugin is installed)."""

from __future__ import annotations

import json
import zlib
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
    SqsModel,
)

import esmsim
from esmsim.pytest_plugin import derive_seed
from esmsim.testing import (
    EsmsimWarning,
    assert_delivered_once,
    assert_in_order,
    capture_logs,
    dead_letters,
    dynamodb_item,
    failure_records,
    timeline,
)

T0 = 1_767_225_600.0


def keys_of(record: dict[str, Any]) -> set[str]:
    return set(record) | {f"{k}.{kk}" for k, v in record.items() if isinstance(v, dict) for kk in v}


class TestEventFactories:
    def test_sqs_events_validate_with_powertools(self, sqs_event: Any) -> None:
        """Bodies, message attributes and FIFO records parse with SqsModel."""
        event = sqs_event("body1", {"a": 1}, message_attributes={"kind": "order", "n": 3})
        model = SqsModel.model_validate(event)
        assert [r.body for r in model.Records] == ["body1", '{"a": 1}']
        assert model.Records[0].messageAttributes["n"].dataType == "Number"
        fifo = SqsModel.model_validate(sqs_event("x", fifo=True, group_id="g"))
        assert fifo.Records[0].attributes.MessageGroupId == "g"
        assert fifo.Records[0].eventSourceARN.endswith(":my-queue.fifo")

    def test_kinesis_events_validate_with_powertools(self, kinesis_event: Any) -> None:
        """Payloads come back as given; sequence numbers grow from call to call."""
        first = kinesis_event(b"data", {"json": 1}, partition_key="user-1")
        second = kinesis_event("text", partition_key=["user-2"])
        model = KinesisDataStreamModel.model_validate(first)
        assert [r.kinesis.data for r in model.Records] == [b"data", b'{"json": 1}']
        sequence = [
            int(r["kinesis"]["sequenceNumber"]) for r in first["Records"] + second["Records"]
        ]
        assert sequence == sorted(set(sequence))

    def test_dynamodb_events_validate_with_powertools(self, dynamodb_event: Any) -> None:
        """Plain values become DynamoDB JSON; a TTL deletion carries the service identity."""
        event = dynamodb_event(
            new_image={"pk": "a", "n": 1.5, "tags": {"x", "y"}}, old_image={"pk": "a", "n": 1}
        )
        model = DynamoDBStreamModel.model_validate(event)
        record = model.Records[0]
        assert record.eventName == "MODIFY"
        assert record.dynamodb.Keys == {"pk": "a"}
        assert event["Records"][0]["dynamodb"]["NewImage"]["n"] == {"N": "1.5"}
        ttl = DynamoDBStreamModel.model_validate(
            dynamodb_event(old_image={"pk": "b"}, ttl_delete=True)
        ).Records[0]
        assert ttl.eventName == "REMOVE"
        assert ttl.userIdentity is not None
        assert ttl.userIdentity.principalId == "dynamodb.amazonaws.com"

    def test_events_have_the_pollers_shape(
        self, esm_sim: esmsim.Simulation, sqs_event: Any, kinesis_event: Any
    ) -> None:
        """A factory record has exactly the keys of a record a poller sent."""
        queue = esm_sim.sqs_queue("my-queue")
        stream = esm_sim.kinesis_stream("my-stream")
        fn = esm_sim.function("fn", lambda event, context: None)
        esm_sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn)
        esm_sim.event_source_mapping(
            FunctionName="fn", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        queue.send_message(MessageBody="x")
        stream.put_record(Data=b"x", PartitionKey="k")
        esm_sim.run_until_idle_sync()
        sent = {inv.source: inv.event["Records"][0] for inv in fn.invocations}
        assert keys_of(sent["sqs"]) == keys_of(sqs_event("x")["Records"][0])
        assert (
            sent["sqs"]["attributes"]["SenderId"]
            == sqs_event("y")["Records"][0]["attributes"]["SenderId"]
        )
        assert keys_of(sent["kinesis"]) == keys_of(kinesis_event(b"x")["Records"][0])

    def test_powertools_batch_processor_reports_the_failed_record(
        self, sqs_event: Any, lambda_context: Any
    ) -> None:
        processor = BatchProcessor(event_type=EventType.SQS)

        def record_handler(record: Any) -> None:
            if record.body == "bad":
                raise ValueError("bad")

        event = sqs_event("ok", "bad")
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=lambda_context
        )
        bad = event["Records"][1]["messageId"]
        assert response == {"batchItemFailures": [{"itemIdentifier": bad}]}

    def test_dynamodb_item_converts_plain_values(self) -> None:
        assert dynamodb_item({"s": "x", "n": 1.50, "b": b"\x01", "l": [True, None]}) == {
            "s": {"S": "x"},
            "n": {"N": "1.5"},
            "b": {"B": b"\x01"},
            "l": {"L": [{"BOOL": True}, {"NULL": True}]},
        }


class TestLambdaContext:
    def test_the_fixture_is_a_context(self, lambda_context: Any) -> None:
        """It has the Python runtime's attributes; memory is a string, as in Lambda."""
        assert lambda_context.function_name == "fn"
        assert lambda_context.invoked_function_arn == (
            "arn:aws:lambda:us-east-1:123456789012:function:fn"
        )
        assert lambda_context.memory_limit_in_mb == "128"
        assert lambda_context.log_group_name == "/aws/lambda/fn"
        assert lambda_context.log_stream_name.startswith("2026/01/01/[$LATEST]")
        assert lambda_context.get_remaining_time_in_millis() == 3000

    def test_calling_it_makes_another(self, lambda_context: Any) -> None:
        other = lambda_context(function_name="orders", timeout=30, memory=512, remaining_ms=250)
        assert other.function_name == "orders"
        assert other.memory_limit_in_mb == "512"
        assert other.get_remaining_time_in_millis() == 250
        assert other.aws_request_id != lambda_context.aws_request_id
        assert lambda_context().aws_request_id != other.aws_request_id

    @pytest.mark.esm(region="eu-west-1", account_id="111122223333")
    def test_the_marker_sets_region_and_account(self, lambda_context: Any, sqs_event: Any) -> None:
        assert lambda_context.invoked_function_arn.startswith(
            "arn:aws:lambda:eu-west-1:111122223333:"
        )
        assert sqs_event("x")["Records"][0]["awsRegion"] == "eu-west-1"


class TestSeeds:
    def test_the_seed_is_derived_from_the_test_id(
        self, request: pytest.FixtureRequest, esm_seed: int, esm_sim: esmsim.Simulation
    ) -> None:
        """CRC-32 of the node id: stable across runs, machines and PYTHONHASHSEED."""
        assert esm_seed == derive_seed(request.node.nodeid)
        assert esm_seed == zlib.crc32(request.node.nodeid.encode())
        assert esm_sim.seed == esm_seed
        assert derive_seed("tests/test_x.py::test_y") == 4194964198

    @pytest.mark.esm(seed=7, start_time="2027-03-01T12:00:00Z")
    def test_the_marker_sets_seed_and_start(self, esm_sim: esmsim.Simulation) -> None:
        assert esm_sim.seed == 7
        assert esm_sim.now == 1_803_902_400.0

    def test_factories_are_deterministic(self, esm_seed: int, sqs_event: Any) -> None:
        from esmsim.testing import EventFactory

        assert sqs_event("x") == EventFactory(esm_seed).sqs_event("x")


def report_failures(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A handler that reports every record whose body/data says "bad" as failed."""
    failures = []
    for record in event["Records"]:
        payload = record.get("body") or record.get("kinesis", {}).get("data", "")
        if payload in ("bad", "YmFk"):
            ident = record.get("messageId") or record["kinesis"]["sequenceNumber"]
            failures.append({"itemIdentifier": ident})
    return {"batchItemFailures": failures}


class TestRunningTheSimulation:
    def test_sync(self, esm_sim: esmsim.Simulation) -> None:
        queue = esm_sim.sqs_queue("q")
        fn = esm_sim.function("fn", report_failures)
        esm_sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn)
        ids = [queue.send_message(MessageBody=b)["MessageId"] for b in ("a", "b")]
        esm_sim.run_until_idle_sync()
        assert_delivered_once(fn, ids)

    @pytest.mark.asyncio
    async def test_pytest_asyncio_strict(self, esm_sim: esmsim.Simulation) -> None:
        queue = esm_sim.sqs_queue("q")
        fn = esm_sim.function("fn", report_failures)
        esm_sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn)
        queue.send_message(MessageBody="a")
        await esm_sim.run_until_idle()
        await esm_sim.run(5)
        assert len(fn.invocations) == 1

    @pytest.mark.anyio
    async def test_anyio(self, esm_sim: esmsim.Simulation) -> None:
        queue = esm_sim.sqs_queue("q")
        fn = esm_sim.function("fn", report_failures)
        esm_sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn)
        queue.send_message(MessageBody="a")
        assert await esm_sim.run_until_idle() >= 0
        assert len(fn.invocations) == 1


class TestMisconfiguration:
    def test_ignored_batch_item_failures_on_sqs_warn_with_the_cause(
        self, esm_sim: esmsim.Simulation
    ) -> None:
        queue = esm_sim.sqs_queue("q")
        fn = esm_sim.function("fn", report_failures)
        esm_sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn)
        ids = [queue.send_message(MessageBody=b)["MessageId"] for b in ("ok", "bad")]
        with pytest.warns(EsmsimWarning) as caught:
            esm_sim.run_until_idle_sync()
        [warning] = caught
        text = str(warning.message)
        assert "has no FunctionResponseTypes=['ReportBatchItemFailures']" in text
        assert "deletes the whole batch" in text
        assert warning.filename == __file__  # points at the test's run line
        with pytest.raises(AssertionError) as failed:
            assert_delivered_once(fn, ids)
        message = str(failed.value)
        assert f"0 times: {ids[1]}" in message
        assert "cause: the handler returned batchItemFailures" in message
        assert "IGNORED: the mapping lacks ReportBatchItemFailures" in message

    @pytest.mark.asyncio
    async def test_ignored_batch_item_failures_on_kinesis(self, esm_sim: esmsim.Simulation) -> None:
        stream = esm_sim.kinesis_stream("s")
        esm_sim.function("fn", report_failures)
        esm_sim.event_source_mapping(
            FunctionName="fn", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        stream.put_record(Data=b"bad", PartitionKey="k")
        with pytest.warns(EsmsimWarning, match="moves the checkpoint past the reported records"):
            await esm_sim.run_until_idle()

    def test_without_pytest_warns_the_run_raises(self, esm_sim: esmsim.Simulation) -> None:
        """The plugin's default: an error at the line that ran the simulation."""
        queue = esm_sim.sqs_queue("q")
        esm_sim.function("fn", report_failures)
        esm_sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn)
        queue.send_message(MessageBody="bad")
        with pytest.raises(EsmsimWarning, match="ReportBatchItemFailures"):
            esm_sim.run_until_idle_sync()


class TestHelpers:
    def test_bisect_isolates_a_poison_record(self, esm_sim: esmsim.Simulation) -> None:
        stream = esm_sim.kinesis_stream("clicks")
        failures = esm_sim.sqs_queue("failures")

        def handler(event: dict[str, Any], context: Any) -> None:
            for record in event["Records"]:
                if record["kinesis"]["data"] == "YmFk":  # b"bad"
                    raise ValueError("poison")

        fn = esm_sim.function("agg", handler)
        esm_sim.event_source_mapping(
            FunctionName="agg",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": failures.arn}},
        )
        seqs = [
            stream.put_record(Data=b"bad" if n == 2 else b"ok", PartitionKey=f"k{n % 2}")[
                "SequenceNumber"
            ]
            for n in range(4)
        ]
        esm_sim.run_until_idle_sync()
        assert_delivered_once(fn, seqs[:2] + seqs[3:])
        assert_in_order(fn)
        [record] = failure_records(failures)
        assert record["KinesisBatchInfo"]["startSequenceNumber"] == seqs[2]
        text = timeline(esm_sim)
        assert "batch bisected into 2 + 2" in text
        assert "(RetryAttemptsExhausted) -> OnFailure sqs:failures" in text
        assert "ERROR Unhandled: ValueError: poison" in text

    def test_assert_in_order_names_the_key(self, esm_sim: esmsim.Simulation) -> None:
        stream = esm_sim.kinesis_stream("s")
        fn = esm_sim.function("fn", lambda event, context: None)
        esm_sim.event_source_mapping(
            FunctionName="fn", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        for n in range(3):
            stream.put_record(Data=str(n).encode(), PartitionKey="k")
        esm_sim.run_until_idle_sync()
        assert_in_order(fn)
        with pytest.raises(AssertionError, match=r"key 'all': .* was first delivered after"):
            # A key function that ignores the source order cannot fail by itself; reverse
            # the records to show the message.
            fn.invocations[0].event["Records"].reverse()
            assert_in_order(fn, key=lambda record: "all")

    def test_dead_letters(self, esm_sim: esmsim.Simulation) -> None:
        dlq = esm_sim.sqs_queue("dlq")
        queue = esm_sim.sqs_queue(
            "q", RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1}
        )

        def fail(event: dict[str, Any], context: Any) -> None:
            raise RuntimeError("down")

        esm_sim.function("fn", fail)
        esm_sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn)
        queue.send_message(MessageBody=json.dumps({"id": 1}))
        esm_sim.run_until_idle_sync()
        assert dead_letters(dlq) == ['{"id": 1}']
        [message] = dead_letters(dlq, full=True)
        assert message["Attributes"]["DeadLetterQueueSourceArn"] == queue.arn
        assert "moved to DLQ dlq" in timeline(esm_sim)

    def test_capture_logs_passes_events_on_to_the_plugin(self, esm_sim: esmsim.Simulation) -> None:
        queue = esm_sim.sqs_queue("q")
        esm_sim.function("fn", report_failures)
        esm_sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn)
        queue.send_message(MessageBody="a")
        with capture_logs() as events:
            esm_sim.run_until_idle_sync()
        assert any(e["event"] == "invoke.complete" for e in events)
        assert "sqs:q" in timeline(esm_sim)
        assert "1 record" in timeline(esm_sim)

    def test_timeline_is_capped(self, esm_sim: esmsim.Simulation) -> None:
        queue = esm_sim.sqs_queue("q")
        esm_sim.function("fn", lambda event, context: None)
        esm_sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn, BatchSize=1)
        for n in range(30):
            queue.send_message(MessageBody=str(n))
        esm_sim.run_until_idle_sync()
        assert "lines omitted" in timeline(esm_sim, limit=10)
        assert "lines omitted" not in timeline(esm_sim, limit=None)
