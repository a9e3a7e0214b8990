"""SQS mappings: validation, enable/disable, update, delete, metrics (§1, §5)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import esmsim

from .sqs_support import Event, all_bodies, max_overlap, records, send_many


def test_visibility_timeout_below_function_timeout_is_rejected() -> None:
    """The queue's VT must be at least the function timeout, with AWS's message (§1)."""
    with esmsim.Simulation(seed=41) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=30)
        sim.function("f", lambda event, context: None, Timeout=60)
        with pytest.raises(esmsim.InvalidParameterValueException) as caught:
            sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        assert (
            "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds"
            in str(caught.value)
        )
        assert sim.event_source_mappings()["EventSourceMappings"] == []


def test_batch_size_over_10_without_a_window_is_rejected() -> None:
    """BatchSize > 10 needs a batching window of at least 1 s (§1)."""
    with esmsim.Simulation(seed=42) as sim:
        q = sim.sqs_queue("jobs")
        sim.function("f", lambda event, context: None)
        with pytest.raises(esmsim.InvalidParameterValueException) as caught:
            sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=11)
        assert (
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
            "greater than 10" in str(caught.value)
        )
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=q.arn, BatchSize=11, MaximumBatchingWindowInSeconds=1
        )
        assert m.configuration()["BatchSize"] == 11


def test_fifo_batch_size_over_10_is_rejected() -> None:
    """A FIFO queue allows BatchSize 10 at most (§1, §2.8)."""
    with esmsim.Simulation(seed=43) as sim:
        q = sim.sqs_queue("jobs.fifo", FifoQueue=True)
        sim.function("f", lambda event, context: None)
        with pytest.raises(esmsim.InvalidParameterValueException) as caught:
            sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=11)
        assert "batchSize" in str(caught.value) and "10" in str(caught.value)


def test_fifo_batching_window_is_rejected() -> None:
    """A FIFO queue does not support MaximumBatchingWindowInSeconds (§1, §8.17)."""
    with esmsim.Simulation(seed=44) as sim:
        q = sim.sqs_queue("jobs.fifo", FifoQueue=True)
        sim.function("f", lambda event, context: None)
        with pytest.raises(esmsim.InvalidParameterValueException) as caught:
            sim.event_source_mapping(
                FunctionName="f", EventSourceArn=q.arn, MaximumBatchingWindowInSeconds=1
            )
        assert "Batching window is not supported for FIFO queues" in str(caught.value)


def test_duplicate_mapping_is_a_resource_conflict() -> None:
    """A second mapping of the same queue and function is refused, with AWS's message (§1)."""
    with esmsim.Simulation(seed=45) as sim:
        q = sim.sqs_queue("jobs")
        sim.function("f", lambda event, context: None)
        first = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        with pytest.raises(esmsim.ResourceConflictException) as caught:
            sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=5)
        assert str(caught.value) == (
            f'An event source mapping with SQS arn (" {q.arn} ") and function (" f ") already '
            "exists. Please update or delete the existing mapping with UUID "
            f"{first.uuid}"
        )


def test_missing_queue_is_rejected_with_the_sqs_error() -> None:
    """A queue ARN with no queue behind it fails with Lambda's NonExistentQueue text (§1)."""
    with esmsim.Simulation(seed=46) as sim:
        sim.function("f", lambda event, context: None)
        missing = f"arn:aws:sqs:{sim.region}:{sim.account_id}:no-such-queue"
        with pytest.raises(esmsim.InvalidParameterValueException) as caught:
            sim.event_source_mapping(FunctionName="f", EventSourceArn=missing)
        text = str(caught.value)
        assert "AWS.SimpleQueueService.NonExistentQueue" in text
        assert "The specified queue does not exist" in text


def test_disabled_mapping_pauses_and_reenabling_resumes() -> None:
    """Enabled=False stops polling (no metrics); Enabled=True picks up where it stopped (§1)."""
    with esmsim.Simulation(seed=47) as sim:
        q = sim.sqs_queue("jobs")
        fn = sim.function("f", lambda event, context: None, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        q.send_message(MessageBody="before")
        sim.run_until_idle_sync(max_seconds=60)
        assert m.state == "Enabled" and len(fn.invocations) == 1

        config = m.update(Enabled=False)
        assert config["State"] == "Disabling"
        sim.run_sync(1)
        assert m.state == "Disabled"
        polled = m.metrics["PolledEventCount"]
        q.send_message(MessageBody="while disabled")
        sim.run_sync(300)
        assert len(fn.invocations) == 1
        assert m.metrics["PolledEventCount"] == polled
        assert [msg["Body"] for msg in q.messages()] == ["while disabled"]

        assert m.update(Enabled=True)["State"] == "Enabling"
        sim.run_until_idle_sync(max_seconds=60)
        assert m.state == "Enabled"
        assert all_bodies(fn.invocations) == ["before", "while disabled"]
        assert q.messages() == []


def test_mapping_created_disabled_does_not_poll_until_enabled() -> None:
    """A mapping created with Enabled=False is Disabled and reads nothing (§1)."""
    with esmsim.Simulation(seed=48) as sim:
        q = sim.sqs_queue("jobs")
        fn = sim.function("f", lambda event, context: None, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, Enabled=False)
        q.send_message(MessageBody="waiting")
        sim.run_sync(60)
        assert m.state == "Disabled" and fn.invocations == []
        m.update(Enabled=True)
        sim.run_until_idle_sync(max_seconds=60)
        assert all_bodies(fn.invocations) == ["waiting"]


def test_update_batch_size_applies_to_the_next_batch() -> None:
    """UpdateEventSourceMapping changes BatchSize for later batches (§1)."""
    with esmsim.Simulation(seed=49) as sim:
        q = sim.sqs_queue("jobs")
        fn = sim.function("f", lambda event, context: None, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn, BatchSize=2)
        send_many(q, 4)
        sim.run_until_idle_sync(max_seconds=60)
        assert [len(records(inv)) for inv in fn.invocations] == [2, 2]

        config = m.update(BatchSize=5)
        assert config["BatchSize"] == 5
        assert config["State"] == "Updating"
        sim.run_sync(1)
        assert m.state == "Enabled"
        send_many(q, 5, prefix="n")
        sim.run_until_idle_sync(max_seconds=60)
        assert [len(records(inv)) for inv in fn.invocations[2:]] == [5]


def test_update_maximum_concurrency_lowers_the_cap() -> None:
    """Lowering ScalingConfig.MaximumConcurrency caps the mapping from then on (§1)."""
    with esmsim.Simulation(seed=50) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=120)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(10)

        fn = sim.function("f", handler, Timeout=20)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=1,
            ScalingConfig={"MaximumConcurrency": 20},
        )
        send_many(q, 400)
        sim.run_sync(30)
        assert max_overlap(fn.invocations) == 20
        config = m.update(ScalingConfig={"MaximumConcurrency": 3})
        assert config["ScalingConfig"] == {"MaximumConcurrency": 3}
        sim.run_sync(15)  # batches already running finish
        later = len(fn.invocations)
        sim.run_until_idle_sync(max_seconds=3600)
        assert max_overlap(fn.invocations[later:]) == 3
        assert m.ledger["delivered"] == 400


def test_update_function_name_repoints_the_mapping() -> None:
    """FunctionName is updatable: later batches go to the new function (§1)."""
    with esmsim.Simulation(seed=51) as sim:
        q = sim.sqs_queue("jobs")
        old = sim.function("old", lambda event, context: None, Timeout=5)
        new = sim.function("new", lambda event, context: None, Timeout=5)
        m = sim.event_source_mapping(FunctionName="old", EventSourceArn=q.arn)
        q.send_message(MessageBody="one")
        sim.run_until_idle_sync(max_seconds=60)
        config = m.update(FunctionName="new")
        assert config["FunctionArn"] == new.arn
        q.send_message(MessageBody="two")
        sim.run_until_idle_sync(max_seconds=60)
        assert all_bodies(old.invocations) == ["one"]
        assert all_bodies(new.invocations) == ["two"]


def test_deleted_mapping_stops_polling() -> None:
    """DeleteEventSourceMapping: nothing more is read; messages stay in the queue (§1)."""
    with esmsim.Simulation(seed=52) as sim:
        q = sim.sqs_queue("jobs")
        fn = sim.function("f", lambda event, context: None, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        q.send_message(MessageBody="handled")
        sim.run_until_idle_sync(max_seconds=60)
        config = m.delete()
        assert config["UUID"] == m.uuid and config["State"] == "Deleting"
        assert sim.event_source_mappings()["EventSourceMappings"] == []
        q.send_message(MessageBody="left alone")
        sim.run_sync(300)
        assert all_bodies(fn.invocations) == ["handled"]
        assert [msg["Body"] for msg in q.messages()] == ["left alone"]
        # The same pair can be mapped again once the old mapping is gone.
        sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        sim.run_until_idle_sync(max_seconds=60)
        assert all_bodies(fn.invocations) == ["handled", "left alone"]


def test_configuration_has_the_sqs_shape() -> None:
    """configuration() is the EventSourceMappingConfiguration AWS returns for SQS (§1)."""
    with esmsim.Simulation(seed=53) as sim:
        q = sim.sqs_queue("jobs")
        fn = sim.function("f", lambda event, context: None)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig={"MaximumConcurrency": 7},
        )
        config = m.configuration()
        assert config["BatchSize"] == 10
        assert config["MaximumBatchingWindowInSeconds"] == 0
        assert config["EventSourceArn"] == q.arn
        assert config["FunctionArn"] == fn.arn
        assert config["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert config["ScalingConfig"] == {"MaximumConcurrency": 7}
        assert config["StateTransitionReason"] == "USER_INITIATED"
        for stream_only in ("StartingPosition", "ParallelizationFactor", "DestinationConfig"):
            assert stream_only not in config


def test_mapping_metrics_count_polls_invokes_failures_and_deletes() -> None:
    """PolledEventCount, InvokedEventCount, FailedInvokeEventCount, DeletedEventCount,
    Invocations and Errors add up as AWS defines them (§5)."""
    with esmsim.Simulation(seed=54) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=10)

        def handler(event: Event, context: Any) -> Any:
            recs = event["Records"]
            if any(r["body"] == "crash" for r in recs):
                if recs[0]["attributes"]["ApproximateReceiveCount"] == "1":
                    raise RuntimeError("crash on first receive")
                return None
            return {
                "batchItemFailures": [
                    {"itemIdentifier": r["messageId"]}
                    for r in recs
                    if r["body"] == "flaky" and r["attributes"]["ApproximateReceiveCount"] == "1"
                ]
            }

        fn = sim.function("f", handler, Timeout=5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=2,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig={"MaximumConcurrency": 2},
        )
        q.send_message(MessageBody="crash")
        q.send_message(MessageBody="ok1")
        q.send_message(MessageBody="flaky")
        q.send_message(MessageBody="ok2")
        sim.run_until_idle_sync(max_seconds=300)

        metrics = m.metrics
        # [crash, ok1] fails, [flaky, ok2] partially fails; then [crash, ok1] and [flaky].
        assert len(fn.invocations) == 4
        assert metrics["PolledEventCount"] == 7
        assert metrics["InvokedEventCount"] == 7
        assert metrics["Invocations"] == 4
        assert metrics["Errors"] == 1
        assert metrics["FailedInvokeEventCount"] == 2
        assert metrics["DeletedEventCount"] == 4
        assert metrics["Throttles"] == 0
        assert metrics["FilteredOutEventCount"] == 0
        assert fn.metrics["Invocations"] == 4 and fn.metrics["Errors"] == 1


def test_deleted_function_fails_invokes_without_running_anything() -> None:
    """A mapping outlives its function: invokes fail (FailedInvokeEventCount), none deleted (§5)."""
    with esmsim.Simulation(seed=55) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=30)
        fn = sim.function("f", lambda event, context: None, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        fn.delete()
        q.send_message(MessageBody="nobody home")
        sim.run_sync(100)

        assert fn.invocations == []
        metrics = m.metrics
        assert metrics["FailedInvokeEventCount"] == 4  # received at 0, 30, 60 and 90
        assert metrics["Invocations"] == 0 and metrics["Errors"] == 0
        assert metrics["DeletedEventCount"] == 0
        (msg,) = q.messages()
        assert msg["Attributes"]["ApproximateReceiveCount"] == "4"


def test_deleted_queue_leaves_the_mapping_idle() -> None:
    """A mapping outlives its queue: polling finds nothing and the simulation carries on (§1)."""
    with esmsim.Simulation(seed=56) as sim:
        q = sim.sqs_queue("jobs")
        fn = sim.function("f", lambda event, context: None, Timeout=5)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        q.send_message(MessageBody="first")
        sim.run_until_idle_sync(max_seconds=60)
        q.delete()
        sim.run_sync(120)
        assert sim.run_until_idle_sync(max_seconds=60) == 0
        assert all_bodies(fn.invocations) == ["first"]
        assert m.state == "Enabled"


def test_deleting_a_mapping_lets_the_running_invocation_finish() -> None:
    """A mapping deleted mid-invocation lets the handler finish and settles its batch (§1)."""
    with esmsim.Simulation(seed=57) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=60)

        async def handler(event: Event, context: Any) -> None:
            await asyncio.sleep(10)

        fn = sim.function("f", handler, Timeout=30)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=q.arn)
        q.send_message(MessageBody="in flight")
        sim.run_sync(5)
        m.delete()
        q.send_message(MessageBody="after delete")
        sim.run_sync(100)

        (inv,) = fn.invocations
        assert inv.status == "success"
        assert inv.ended_at - inv.started_at == pytest.approx(10, abs=0.1)
        assert [msg["Body"] for msg in q.messages()] == ["after delete"]
        assert m.metrics["DeletedEventCount"] == 1


def test_disabling_a_mapping_mid_window_invokes_nothing() -> None:
    """Disabled while a batching window is open: the gathered messages are not invoked (§1)."""
    with esmsim.Simulation(seed=58) as sim:
        q = sim.sqs_queue("jobs", VisibilityTimeout=60)
        fn = sim.function("f", lambda event, context: None, Timeout=5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=50,
            MaximumBatchingWindowInSeconds=20,
        )
        q.send_message(MessageBody="gathered")
        sim.run_sync(5)
        m.update(Enabled=False)
        sim.run_sync(120)
        assert fn.invocations == []
        (msg,) = q.messages()
        assert msg["Body"] == "gathered"

        m.update(Enabled=True)
        sim.run_until_idle_sync(max_seconds=120)
        assert all_bodies(fn.invocations) == ["gathered"]
