"""SQS poller: what each kind of function result does to a batch (§2.6, §2.8, §10.6)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import esmsim

from .sqs_support import Event, message_ids, receive_counts, records


def test_failed_message_is_received_again_after_the_visibility_timeout() -> None:
    """A function error deletes nothing; after the VT it returns: same id, count 2 (§2.8)."""
    with esmsim.Simulation(seed=1) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=20)

        def handler(event: Event, context: Any) -> None:
            if event["Records"][0]["attributes"]["ApproximateReceiveCount"] == "1":
                raise ValueError("first attempt fails")

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        q.send_message(MessageBody="payload")
        sim.run_until_idle_sync(max_seconds=300)

        first, second = fn.invocations
        assert first.error == "Unhandled" and second.error is None
        assert receive_counts(first) == [1] and receive_counts(second) == [2]
        assert message_ids(first) == message_ids(second)
        assert records(first)[0]["receiptHandle"] != records(second)[0]["receiptHandle"]
        # Received at first.started_at, hidden for exactly the visibility timeout.
        assert second.started_at == pytest.approx(first.started_at + 20, abs=0.05)
        assert q.messages() == []
        assert m.metrics["Errors"] == 1 and m.metrics["DeletedEventCount"] == 1


def test_message_moves_to_the_dlq_after_exactly_max_receive_count_receives() -> None:
    """maxReceiveCount 3: three invocations, then the DLQ keeps its MessageId and body (§10.6)."""
    with esmsim.Simulation(seed=2) as sim:
        dlq = sim.sqs_queue("jobs-dlq")
        q = sim.sqs_queue(
            "jobs",
            VisibilityTimeout=10,
            RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3},
        )

        def handler(event: Event, context: Any) -> None:
            raise RuntimeError("always fails")

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        sent = q.send_message(MessageBody='{"order": 42, "note": "  keep  me "}')
        sim.run_until_idle_sync(max_seconds=600)

        assert [receive_counts(inv) for inv in fn.invocations] == [[1], [2], [3]]
        (dead,) = dlq.messages()
        assert dead["MessageId"] == sent["MessageId"]
        assert dead["Body"] == '{"order": 42, "note": "  keep  me "}'
        assert dead["MD5OfBody"] == sent["MD5OfMessageBody"]
        assert dead["Attributes"]["ApproximateReceiveCount"] == "3"
        # A standard DLQ keeps the original enqueue time (§10.6).
        assert dead["Attributes"]["SentTimestamp"] == str(int(fn.invocations[0].started_at * 1000))
        assert q.messages() == []
        assert m.ledger["dead_lettered"] == 1 and m.ledger["pending"] == 0
        assert m.metrics["DeletedEventCount"] == 0


SUCCESS_RESPONSES: dict[str, Any] = {
    "empty object": {},
    "null": None,
    "null list": {"batchItemFailures": None},
    "empty list": {"batchItemFailures": []},
    "no batchItemFailures key": {"statusCode": 200},
}


@pytest.mark.parametrize("response", SUCCESS_RESPONSES.values(), ids=SUCCESS_RESPONSES.keys())
def test_empty_partial_response_is_complete_success(response: Any) -> None:
    """With RBIF, ``{}``/null/an empty or null list is complete success: all deleted (§2.6)."""
    with esmsim.Simulation(seed=3) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=10)
        fn = sim.function("f", lambda event, context: response, Timeout=5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        for i in range(3):
            q.send_message(MessageBody=f"m{i}")
        sim.run_until_idle_sync(max_seconds=120)

        assert len(fn.invocations) == 1
        assert q.messages() == []
        metrics = m.metrics
        assert metrics["DeletedEventCount"] == 3
        assert metrics["FailedInvokeEventCount"] == 0
        assert metrics["Errors"] == 0
        assert m.ledger["delivered"] == 3


def _malformed(kind: str, ids: list[str]) -> Any:
    if kind == "empty id":
        return {"batchItemFailures": [{"itemIdentifier": ""}]}
    if kind == "null id":
        return {"batchItemFailures": [{"itemIdentifier": None}]}
    if kind == "wrong key":
        return {"batchItemFailures": [{"itemId": ids[0]}]}
    if kind == "unknown id":
        return {"batchItemFailures": [{"itemIdentifier": "00000000-0000-4000-8000-000000000000"}]}
    assert kind == "non-JSON"
    return b"this is not JSON {"


@pytest.mark.parametrize("kind", ["empty id", "null id", "wrong key", "unknown id", "non-JSON"])
def test_malformed_partial_response_is_complete_failure(kind: str) -> None:
    """Each malformed §2.6 row fails the whole batch: nothing deleted, all return after the VT."""
    with esmsim.Simulation(seed=4) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=10)

        def handler(event: Event, context: Any) -> Any:
            recs = event["Records"]
            if recs[0]["attributes"]["ApproximateReceiveCount"] == "1":
                return _malformed(kind, [r["messageId"] for r in recs])
            return None

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        for i in range(3):
            q.send_message(MessageBody=f"m{i}")
        sim.run_sync(5)
        assert len(fn.invocations) == 1
        assert len(q.messages()) == 3
        assert m.metrics["DeletedEventCount"] == 0

        sim.run_until_idle_sync(max_seconds=120)
        first, second = fn.invocations
        assert sorted(message_ids(second)) == sorted(message_ids(first))
        assert receive_counts(second) == [2, 2, 2]
        assert m.metrics["DeletedEventCount"] == 3
        # The function returned normally: not a function error (§10.13).
        assert m.metrics["Errors"] == 0 and first.error is None


def test_partial_response_keeps_only_the_listed_messages() -> None:
    """Valid ids: only listed messages stay and return after the VT; the rest go (§2.6)."""
    with esmsim.Simulation(seed=5) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=10)

        def handler(event: Event, context: Any) -> Any:
            failed = [
                {"itemIdentifier": r["messageId"]}
                for r in event["Records"]
                if r["body"] in ("m1", "m3") and r["attributes"]["ApproximateReceiveCount"] == "1"
            ]
            return {"batchItemFailures": failed}

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        for i in range(5):
            q.send_message(MessageBody=f"m{i}")
        sim.run_sync(5)
        assert sorted(msg["Body"] for msg in q.messages()) == ["m1", "m3"]

        sim.run_until_idle_sync(max_seconds=120)
        first, second = fn.invocations
        assert len(records(first)) == 5
        assert sorted(r["body"] for r in records(second)) == ["m1", "m3"]
        assert receive_counts(second) == [2, 2]
        metrics = m.metrics
        assert metrics["DeletedEventCount"] == 5
        # Every event of an invoke that returned a non-empty batchItemFailures (§5).
        assert metrics["FailedInvokeEventCount"] == 5
        assert metrics["Errors"] == 0
        assert m.ledger["delivered"] == 5


def test_batch_item_failures_are_ignored_without_report_batch_item_failures() -> None:
    """Without RBIF a ``batchItemFailures`` response is ignored: the whole batch is deleted (§1)."""
    with esmsim.Simulation(seed=6) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=10)

        def handler(event: Event, context: Any) -> Any:
            return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        for i in range(3):
            q.send_message(MessageBody=f"m{i}")
        sim.run_until_idle_sync(max_seconds=120)

        assert len(fn.invocations) == 1
        assert q.messages() == []
        assert m.metrics["DeletedEventCount"] == 3
        assert m.metrics["FailedInvokeEventCount"] == 0


def test_function_timeout_is_a_complete_failure() -> None:
    """A timeout is a function error: nothing deleted, the batch returns after the VT (§2.6)."""
    with esmsim.Simulation(seed=7) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=10)

        async def handler(event: Event, context: Any) -> None:
            if event["Records"][0]["attributes"]["ApproximateReceiveCount"] == "1":
                await asyncio.sleep(60)

        fn = sim.function("f", handler, Timeout=3)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        q.send_message(MessageBody="slow")
        sim.run_until_idle_sync(max_seconds=120)

        first, second = fn.invocations
        assert first.error == "Timeout"
        assert first.ended_at - first.started_at == pytest.approx(3)
        assert receive_counts(second) == [2]
        assert m.metrics["Errors"] == 1
        assert m.metrics["DeletedEventCount"] == 1


def test_retention_expiry_without_dlq_removes_the_message() -> None:
    """Past MessageRetentionPeriod a message vanishes (no DLQ), counted expired (§2.8)."""
    with esmsim.Simulation(seed=8) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=25, MessageRetentionPeriod=60)

        def handler(event: Event, context: Any) -> None:
            raise ValueError("never succeeds")

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        q.send_message(MessageBody="doomed")
        sim.run_sync(60)
        assert q.messages() == []
        sim.run_until_idle_sync(max_seconds=600)

        # Received at 0, 25 and 50; gone at 60, before a fourth receive at 75.
        assert [receive_counts(inv) for inv in fn.invocations] == [[1], [2], [3]]
        ledger = m.ledger
        assert ledger["expired"] == 1
        assert ledger["pending"] == 0 and ledger["delivered"] == 0 and ledger["dead_lettered"] == 0
        assert q.metrics["NumberOfMessagesExpired"] == 1


def test_message_expiring_in_flight_is_not_counted_delivered() -> None:
    """A message expiring while its batch runs counts once, as expired, not delivered (§5)."""
    with esmsim.Simulation(seed=9) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=120, MessageRetentionPeriod=60)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(90)

        sim.function("f", handler, Timeout=100)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        q.send_message(MessageBody="outlives nothing")
        sim.run_until_idle_sync(max_seconds=600)

        ledger = m.ledger
        assert ledger["expired"] == 1
        assert ledger["delivered"] == 0
        assert m.metrics["DeletedEventCount"] == 0
