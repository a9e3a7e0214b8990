"""SQS standard queues: one AWS rule per test (spec: shared/spec/aws-esm-semantics.md)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest

import esmsim
from esmsim.sources._errors import (
    BatchEntryIdsNotDistinct,
    InvalidAttributeValue,
    InvalidMessageContents,
    InvalidParameterValue,
    MessageNotInflight,
    MissingParameter,
    PurgeQueueInProgress,
    QueueDoesNotExist,
    ReceiptHandleIsInvalid,
    TooManyEntriesInBatchRequest,
)
from esmsim.sources._sqs_md5 import md5_of_body, md5_of_message_attributes
from esmsim.sources.sqs import ReceivedMessage, SqsQueue, sender_id_for


@pytest.fixture
def sim() -> Iterator[esmsim.Simulation]:
    with esmsim.Simulation(seed=1) as simulation:
        yield simulation


def _one(queue: SqsQueue, **kwargs: object) -> dict[str, object]:
    response = queue.receive_message(
        AttributeNames=["All"], MessageAttributeNames=["All"], **kwargs
    )
    messages = response["Messages"]
    assert len(messages) == 1
    message: dict[str, object] = messages[0]
    return message


# -- visibility ---------------------------------------------------------------------------
def test_visibility_timeout_hides_message_then_it_returns_with_receive_count_2(
    sim: esmsim.Simulation,
) -> None:
    """§2.8: a received message is hidden for the visibility timeout, then visible again."""
    queue = sim.sqs_queue("orders", VisibilityTimeout=30)
    sent = queue.send_message(MessageBody="order-1")
    first = _one(queue)
    sim.run_sync(29.9)
    assert queue.receive_message() == {}
    sim.run_sync(0.1)
    second = _one(queue)
    assert second["MessageId"] == first["MessageId"] == sent["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert isinstance(second["Attributes"], dict)
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert (
        second["Attributes"]["ApproximateFirstReceiveTimestamp"]
        == first["Attributes"]["ApproximateFirstReceiveTimestamp"]  # type: ignore[index]
    )


def test_change_message_visibility_moves_the_reappearance_time(sim: esmsim.Simulation) -> None:
    """§7: ChangeMessageVisibility resets the in-flight timer from now; 0 makes it visible."""
    queue = sim.sqs_queue("q", VisibilityTimeout=30)
    queue.send_message(MessageBody="x")
    handle = _one(queue)["ReceiptHandle"]
    queue.change_message_visibility(ReceiptHandle=handle, VisibilityTimeout=100)
    sim.run_sync(99)
    assert queue.receive_message() == {}
    assert queue.next_visible_at() == pytest.approx(sim.now + 1)
    queue.change_message_visibility(ReceiptHandle=handle, VisibilityTimeout=0)
    assert _one(queue)["Attributes"]["ApproximateReceiveCount"] == "2"  # type: ignore[index]


def test_change_message_visibility_needs_a_message_in_flight(sim: esmsim.Simulation) -> None:
    """§7: only an in-flight message's visibility can change; 12 h from its receive at most."""
    queue = sim.sqs_queue("q", VisibilityTimeout=10)
    queue.send_message(MessageBody="x")
    handle = _one(queue)["ReceiptHandle"]
    sim.run_sync(5)
    with pytest.raises(InvalidParameterValue, match="beyond the limit"):
        queue.change_message_visibility(ReceiptHandle=handle, VisibilityTimeout=43_200)
    sim.run_sync(5)
    with pytest.raises(MessageNotInflight):
        queue.change_message_visibility(ReceiptHandle=handle, VisibilityTimeout=5)


# -- dead-letter queues -------------------------------------------------------------------
def test_redrive_moves_message_after_exactly_max_receive_count_receives(
    sim: esmsim.Simulation,
) -> None:
    """§2.8, §10.6: the receive that would exceed maxReceiveCount moves the message to the DLQ."""
    dlq = sim.sqs_queue("orders-dlq")
    queue = sim.sqs_queue(
        "orders",
        VisibilityTimeout=10,
        RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3},
    )
    attrs = {"kind": {"DataType": "String", "StringValue": "order"}}
    sent = queue.send_message(MessageBody="poison", MessageAttributes=attrs)
    for attempt in (1, 2, 3):
        message = _one(queue)
        assert message["Attributes"]["ApproximateReceiveCount"] == str(attempt)  # type: ignore[index]
        sim.run_sync(10)
    assert queue.receive_message() == {}
    assert queue.messages() == []
    (moved,) = dlq.messages()
    assert moved["MessageId"] == sent["MessageId"]
    assert moved["Body"] == "poison"
    assert moved["MessageAttributes"] == attrs
    assert moved["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == queue.arn
    assert queue.metrics["NumberOfMessagesMovedToDLQ"] == 1
    assert dlq.metrics["NumberOfMessagesSent"] == 0  # a move is not a send (AWS)


def test_standard_dlq_keeps_the_original_sent_timestamp_for_retention(
    sim: esmsim.Simulation,
) -> None:
    """§2.8, §10.6: a standard DLQ keeps the enqueue time, so its retention clock runs on."""
    dlq = sim.sqs_queue("dlq", MessageRetentionPeriod=120)
    queue = sim.sqs_queue(
        "q",
        VisibilityTimeout=50,
        RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1},
    )
    queue.send_message(MessageBody="x")
    sent_ms = _one(queue)["Attributes"]["SentTimestamp"]  # type: ignore[index]
    sim.run_sync(50)
    assert queue.receive_message() == {}  # moved now, at t=50
    (moved,) = dlq.messages()
    assert moved["Attributes"]["SentTimestamp"] == sent_ms
    sim.run_sync(60)
    assert dlq.metrics["ApproximateAgeOfOldestMessage"] == 60  # counted from the move (§5)
    sim.run_sync(10)  # t=120: 120 s after the original send
    assert dlq.messages() == []
    assert dlq.metrics["NumberOfMessagesExpired"] == 1


def test_redrive_policy_needs_an_existing_dead_letter_queue_of_the_same_type(
    sim: esmsim.Simulation,
) -> None:
    """§2.8: the DLQ must exist and match the source's type (FIFO to FIFO)."""
    missing = "arn:aws:sqs:us-east-1:123456789012:nowhere"
    with pytest.raises(InvalidAttributeValue, match="does not exist"):
        sim.sqs_queue("a", RedrivePolicy={"deadLetterTargetArn": missing, "maxReceiveCount": 5})
    fifo_dlq = sim.sqs_queue("dlq.fifo", FifoQueue=True)
    with pytest.raises(InvalidAttributeValue, match="same type"):
        sim.sqs_queue(
            "b", RedrivePolicy=f'{{"deadLetterTargetArn": "{fifo_dlq.arn}", "maxReceiveCount": 5}}'
        )


# -- delays and retention -----------------------------------------------------------------
def test_queue_delay_seconds_hide_new_messages(sim: esmsim.Simulation) -> None:
    """§2.8: a delay queue keeps each new message invisible for DelaySeconds."""
    queue = sim.sqs_queue("delayed", DelaySeconds=60)
    queue.send_message(MessageBody="x")
    assert queue.metrics["ApproximateNumberOfMessagesDelayed"] == 1
    assert queue.next_visible_at() == pytest.approx(sim.now + 60)
    sim.run_sync(59)
    assert queue.receive_message() == {}
    sim.run_sync(1)
    assert queue.receive_message()["Messages"][0]["Body"] == "x"


def test_per_message_delay_seconds_override_the_queue_delay(sim: esmsim.Simulation) -> None:
    """§2.8: DelaySeconds on a message (standard queues) replaces the queue's delay."""
    queue = sim.sqs_queue("delayed", DelaySeconds=60)
    queue.send_message(MessageBody="now", DelaySeconds=0)
    queue.send_message(MessageBody="later", DelaySeconds=5)
    assert [m["Body"] for m in queue.receive_message(MaxNumberOfMessages=10)["Messages"]] == ["now"]
    sim.run_sync(5)
    assert [m["Body"] for m in queue.receive_message(MaxNumberOfMessages=10)["Messages"]] == [
        "later"
    ]


def test_retention_expiry_without_dlq_is_silent_and_counted(sim: esmsim.Simulation) -> None:
    """§2.8: messages older than MessageRetentionPeriod vanish, in flight or not."""
    queue = sim.sqs_queue("q", MessageRetentionPeriod=60, VisibilityTimeout=600)
    queue.send_message(MessageBody="received")
    _one(queue)
    queue.send_message(MessageBody="waiting")
    sim.run_sync(59.999)
    assert queue.message_count() == 2
    sim.run_sync(0.001)
    assert queue.messages() == []
    assert queue.receive_message() == {}
    metrics = queue.metrics
    assert metrics["NumberOfMessagesExpired"] == 2
    assert metrics["NumberOfMessagesDeleted"] == 0


# -- receipt handles ----------------------------------------------------------------------
def test_only_the_latest_receipt_handle_deletes_the_message(sim: esmsim.Simulation) -> None:
    """§2.8 (SQS DeleteMessage): an older handle succeeds but deletes nothing."""
    queue = sim.sqs_queue("q", VisibilityTimeout=5)
    queue.send_message(MessageBody="x")
    old = _one(queue)["ReceiptHandle"]
    sim.run_sync(5)
    new = _one(queue)["ReceiptHandle"]
    assert queue.delete_message(ReceiptHandle=old) == {}
    assert queue.message_count() == 1
    queue.delete_message(ReceiptHandle=new)
    assert queue.is_empty()
    queue.delete_message(ReceiptHandle=new)  # already deleted: still fine
    assert queue.metrics["NumberOfMessagesDeleted"] == 1


def test_a_receipt_handle_the_queue_never_issued_is_invalid(sim: esmsim.Simulation) -> None:
    """§4.1: receipt handles are opaque tokens of one queue; others are rejected."""
    queue = sim.sqs_queue("q")
    other = sim.sqs_queue("other")
    other.send_message(MessageBody="x")
    foreign = _one(other)["ReceiptHandle"]
    for handle in ("not-a-handle", foreign):
        with pytest.raises(ReceiptHandleIsInvalid, match="not a valid receipt handle"):
            queue.delete_message(ReceiptHandle=handle)


# -- shapes -------------------------------------------------------------------------------
def test_receive_message_has_boto3_shape_and_no_messages_key_when_empty(
    sim: esmsim.Simulation,
) -> None:
    """§4.1: ReceiveMessage's Message shape; Attributes only when asked for, as boto3 returns."""
    queue = sim.sqs_queue("q")
    assert queue.receive_message(WaitTimeSeconds=20) == {}  # no simulated wait outside a run
    queue.send_message(MessageBody="hello")
    (plain,) = queue.receive_message(VisibilityTimeout=0)["Messages"]
    assert set(plain) == {"MessageId", "ReceiptHandle", "MD5OfBody", "Body"}
    message = queue.receive_message(AttributeNames=["SentTimestamp", "SenderId"])["Messages"][0]
    assert message["Attributes"] == {
        "SentTimestamp": str(int(sim.now * 1000)),
        "SenderId": sender_id_for(sim.account_id),
    }
    assert message["ReceiptHandle"].startswith("AQEB")
    assert message["MD5OfBody"] == hashlib.md5(b"hello").hexdigest()


def test_messages_lists_every_undeleted_message_in_send_order(sim: esmsim.Simulation) -> None:
    """api.md Inspecting: messages() shows visible, in-flight and delayed messages, untouched."""
    queue = sim.sqs_queue("q")
    queue.send_message(MessageBody="first")
    queue.send_message(
        MessageBody="second",
        DelaySeconds=30,
        MessageAttributes={"n": {"DataType": "Number", "StringValue": "7"}},
    )
    received = _one(queue)
    listed = queue.messages()
    assert [m["Body"] for m in listed] == ["first", "second"]
    first, second = listed
    assert first["ReceiptHandle"] == received["ReceiptHandle"]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert "ApproximateFirstReceiveTimestamp" in first["Attributes"]
    assert "ReceiptHandle" not in second
    assert second["Attributes"]["ApproximateReceiveCount"] == "0"
    assert set(second["Attributes"]) == {"ApproximateReceiveCount", "SentTimestamp", "SenderId"}
    assert second["MessageAttributes"] == {"n": {"DataType": "Number", "StringValue": "7"}}
    assert second["MD5OfBody"] == md5_of_body("second")
    assert queue.messages() == listed  # reading changes nothing


def test_receive_gives_the_poller_every_system_attribute(sim: esmsim.Simulation) -> None:
    """§4.1: the poller's ReceivedMessage carries what the Lambda SQS record needs."""
    queue = sim.sqs_queue("q")
    queue.send_message(
        MessageBody="b", MessageAttributes={"a": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    )
    (message,) = queue.receive(10)
    assert isinstance(message, ReceivedMessage)
    assert set(message.attributes) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert message.message_attributes == {"a": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    assert message.md5_of_message_attributes == md5_of_message_attributes(
        message.message_attributes
    )
    assert message.size == len("b") + len("a") + len("Binary") + 2
    assert message.sent_at == pytest.approx(sim.now)
    assert message.group_id is None


# -- checksums ----------------------------------------------------------------------------
def test_md5_of_body_is_the_md5_of_the_utf8_body(sim: esmsim.Simulation) -> None:
    """§4.1, §10.14: MD5OfBody as SQS computes it (vector from a recorded AWS response)."""
    queue = sim.sqs_queue("q")
    assert queue.send_message(MessageBody="foobar2")["MD5OfMessageBody"] == (
        "cbac77acf401ef89c3297bd9fc41ec0b"
    )
    assert md5_of_body('{"n": 1}') == "96d730b7a405ed0e9cb1068b43e06fe4"


def test_md5_of_message_attributes_uses_the_sqs_binary_encoding(sim: esmsim.Simulation) -> None:
    """§4.1: MD5OfMessageAttributes per the SQS guide; AWS SDK and recorded-response vectors."""
    queue = sim.sqs_queue("q")
    two_strings = {
        "test_attribute_name_2": {"DataType": "String", "StringValue": "test_attribute_value_2"},
        "test_attribute_name_1": {"DataType": "String", "StringValue": "test_attribute_value_1"},
    }
    response = queue.send_message(MessageBody="x", MessageAttributes=two_strings)
    assert response["MD5OfMessageAttributes"] == "d53f3b558fe951154770f25cb63dbba9"
    binary = {"test_attribute_name": {"DataType": "Binary", "BinaryValue": b"test_attribute_value"}}
    assert md5_of_message_attributes(binary) == "23f6bd27ea87aab7dfeadcc9aebee495"
    recorded = {"AtTimestamp": {"DataType": "String", "StringValue": "2021-02-15T12:00:33+09:00"}}
    assert md5_of_message_attributes(recorded) == "9fd5e217089075be61cd1d67e35e5117"
    string_list = {
        "test_attribute_name": {
            "DataType": "String.Array",
            "StringListValues": ["first", "second", "third"],
        }
    }
    assert md5_of_message_attributes(string_list) == "178e85f482e9afbc3c566e75d20b0546"
    assert md5_of_message_attributes({}) is None


# -- validation ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("properties", "field", "allowed"),
    [
        ({"VisibilityTimeout": 43_201}, "VisibilityTimeout", "0 to 43,200"),
        ({"MessageRetentionPeriod": 59}, "MessageRetentionPeriod", "60 to 1,209,600"),
        ({"DelaySeconds": 901}, "DelaySeconds", "0 to 900"),
        ({"MaximumMessageSize": 1023}, "MaximumMessageSize", "1,024 to 1,048,576"),
        ({"ReceiveMessageWaitTimeSeconds": 21}, "ReceiveMessageWaitTimeSeconds", "0 to 20"),
    ],
)
def test_queue_property_errors_name_the_field_and_the_allowed_range(
    sim: esmsim.Simulation, properties: dict[str, int], field: str, allowed: str
) -> None:
    """§7: queue attributes outside SQS's ranges are refused, saying which and what is allowed."""
    with pytest.raises(InvalidAttributeValue) as info:
        sim.sqs_queue("q", **properties)
    assert field in str(info.value) and allowed in str(info.value)


def test_request_errors_name_the_parameter_and_the_allowed_range(sim: esmsim.Simulation) -> None:
    """§7: ReceiveMessage limits (1-10 messages, 0-20 s wait, 0-43,200 s visibility)."""
    queue = sim.sqs_queue("q")
    cases = [
        ({"MaxNumberOfMessages": 11}, "MaxNumberOfMessages", "between 1 and 10"),
        ({"WaitTimeSeconds": 21}, "WaitTimeSeconds", "between 0 and 20"),
        ({"VisibilityTimeout": -1}, "VisibilityTimeout", "between 0 and 43200"),
    ]
    for kwargs, field, allowed in cases:
        with pytest.raises(InvalidParameterValue) as info:
            queue.receive_message(**kwargs)  # type: ignore[arg-type]
        assert field in str(info.value) and allowed in str(info.value)
    with pytest.raises(InvalidParameterValue, match=r"DelaySeconds.*between 0 and 900"):
        queue.send_message(MessageBody="x", DelaySeconds=901)
    with pytest.raises(InvalidAttributeValue, match=r"maxReceiveCount.*1 to 1000"):
        sim.sqs_queue("r", RedrivePolicy={"deadLetterTargetArn": queue.arn, "maxReceiveCount": 0})


def test_message_over_maximum_message_size_is_refused(sim: esmsim.Simulation) -> None:
    """§7: body plus message attributes must fit MaximumMessageSize."""
    queue = sim.sqs_queue("q", MaximumMessageSize=1024)
    queue.send_message(MessageBody="x" * 1024)
    attrs = {"a": {"DataType": "String", "StringValue": "y"}}
    with pytest.raises(InvalidParameterValue, match="shorter than 1024 bytes"):
        queue.send_message(MessageBody="x" * 1020, MessageAttributes=attrs)


def test_message_body_rules(sim: esmsim.Simulation) -> None:
    """§4.1 (SQS SendMessage): a body is non-empty XML-safe Unicode text."""
    queue = sim.sqs_queue("q")
    with pytest.raises(MissingParameter, match="MessageBody"):
        queue.send_message(MessageBody="")
    with pytest.raises(InvalidMessageContents, match="#x9"):
        queue.send_message(MessageBody="bell\x07")


def test_message_attribute_rules(sim: esmsim.Simulation) -> None:
    """§7: at most 10 message attributes, valid names and types, non-empty values."""
    queue = sim.sqs_queue("q")
    too_many = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    with pytest.raises(InvalidParameterValue, match=r"\[11\] exceeds the allowed maximum \[10\]"):
        queue.send_message(MessageBody="x", MessageAttributes=too_many)
    bad = [
        {"AWS.x": {"DataType": "String", "StringValue": "v"}},
        {"a": {"DataType": "Text", "StringValue": "v"}},
        {"a": {"DataType": "String", "StringValue": ""}},
        {"a": {"DataType": "Number", "StringValue": "seven"}},
    ]
    for attributes in bad:
        with pytest.raises(InvalidParameterValue):
            queue.send_message(MessageBody="x", MessageAttributes=attributes)
    custom = {"a": {"DataType": "Number.int", "StringValue": "-1.5e3"}}
    assert "MD5OfMessageAttributes" in queue.send_message(MessageBody="x", MessageAttributes=custom)


# -- batches, purge, attributes -----------------------------------------------------------
def test_send_message_batch_reports_failed_entries_separately(sim: esmsim.Simulation) -> None:
    """§7 (SQS SendMessageBatch): up to 10 entries, distinct ids, per-entry failures."""
    queue = sim.sqs_queue("q")
    response = queue.send_message_batch(
        Entries=[
            {"Id": "ok", "MessageBody": "a"},
            {"Id": "bad", "MessageBody": ""},
            {"Id": "ok2", "MessageBody": "b", "DelaySeconds": 5},
        ]
    )
    assert [e["Id"] for e in response["Successful"]] == ["ok", "ok2"]
    assert response["Failed"] == [
        {
            "Id": "bad",
            "SenderFault": True,
            "Code": "MissingParameter",
            "Message": "The request must contain the parameter MessageBody.",
        }
    ]
    with pytest.raises(TooManyEntriesInBatchRequest):
        queue.send_message_batch(Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])
    with pytest.raises(BatchEntryIdsNotDistinct):
        queue.send_message_batch(Entries=[{"Id": "a", "MessageBody": "x"}] * 2)
    handles = [
        m["ReceiptHandle"] for m in queue.receive_message(MaxNumberOfMessages=10)["Messages"]
    ]
    deleted = queue.delete_message_batch(
        Entries=[{"Id": f"d{i}", "ReceiptHandle": h} for i, h in enumerate(handles)]
    )
    assert deleted == {"Successful": [{"Id": "d0"}], "Failed": []}


def test_purge_removes_every_message_once_per_60_seconds(sim: esmsim.Simulation) -> None:
    """§5 (SQS PurgeQueue): every message goes; another purge within 60 s is refused."""
    queue = sim.sqs_queue("q")
    queue.send_message(MessageBody="a")
    queue.send_message(MessageBody="b", DelaySeconds=10)
    _one(queue)
    queue.purge_queue()
    assert queue.messages() == [] and queue.metrics["NumberOfMessagesPurged"] == 2
    with pytest.raises(PurgeQueueInProgress, match="every 60 seconds"):
        queue.purge_queue()
    sim.run_sync(60)
    queue.purge_queue()


def test_queue_metrics_and_attributes_count_messages_by_state(sim: esmsim.Simulation) -> None:
    """§5: visible, not visible (in flight), delayed, and the age of the oldest message."""
    queue = sim.sqs_queue("q")
    queue.send_message(MessageBody="in-flight")
    _one(queue)
    sim.run_sync(7)
    queue.send_message(MessageBody="visible")
    queue.send_message(MessageBody="delayed", DelaySeconds=100)
    metrics = queue.metrics
    assert metrics["ApproximateNumberOfMessagesVisible"] == 1
    assert metrics["ApproximateNumberOfMessagesNotVisible"] == 1
    assert metrics["ApproximateNumberOfMessagesDelayed"] == 1
    assert metrics["ApproximateAgeOfOldestMessage"] == 7
    assert metrics["NumberOfMessagesSent"] == 3
    assert queue.approximate_number_of_messages_visible() == 1
    assert queue.approximate_number_of_messages_not_visible() == 1
    assert queue.approximate_number_of_messages_delayed() == 1
    assert queue.approximate_number_of_messages_total() == queue.message_count() == 3
    attributes = queue.get_queue_attributes(AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    assert attributes["QueueArn"] == queue.arn
    assert attributes["VisibilityTimeout"] == "30"
    assert "FifoQueue" not in attributes


def test_deleted_queue_does_not_exist(sim: esmsim.Simulation) -> None:
    """§2.8: operations on a deleted queue fail with QueueDoesNotExist."""
    queue = sim.sqs_queue("q")
    queue.delete()
    assert sim.resource(queue.arn) is None
    with pytest.raises(QueueDoesNotExist):
        queue.send_message(MessageBody="x")
    assert queue.is_empty()


# -- the poller's surface -----------------------------------------------------------------
def test_signal_wakes_a_waiting_poller_when_a_message_arrives(sim: esmsim.Simulation) -> None:
    """docs/internals.md: an idle poller waits on queue.signal instead of ticking."""
    queue = sim.sqs_queue("q")
    woke_at: list[float] = []

    async def poller() -> None:
        await queue.signal.wait()
        woke_at.append(sim.now)

    async def scenario() -> None:
        sim.start_soon(poller)
        await sim.clock.sleep(12)
        queue.send_message(MessageBody="x")
        await sim.clock.sleep(0)

    sim.call_sync(scenario)
    sim.run_until_idle_sync()
    assert woke_at == [pytest.approx(sim.clock.start + 12)]


def test_receive_cost_does_not_grow_with_the_backlog(sim: esmsim.Simulation) -> None:
    """§3.2: draining a big backlog 10 at a time stays linear (no scan of the queue per receive)."""
    queue = sim.sqs_queue("big")
    for start in range(0, 40_000, 10):
        queue.send_message_batch(
            Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)]
        )
    began = time.perf_counter()
    drained = 0
    while batch := queue.receive(10):
        for message in batch:
            queue.delete_message(ReceiptHandle=message.receipt_handle)
        drained += len(batch)
    assert drained == 40_000 and queue.is_empty()
    assert time.perf_counter() - began < 10  # O(n^2) would take minutes


def test_same_seed_gives_the_same_ids_and_handles() -> None:
    """api.md: the same seed and inputs give identical message ids and receipt handles."""

    def run(seed: int) -> list[object]:
        with esmsim.Simulation(seed=seed) as sim:
            queue = sim.sqs_queue("q")
            ids = [queue.send_message(MessageBody=str(i))["MessageId"] for i in range(3)]
            handles = [m.receipt_handle for m in queue.receive(10)]
            return [*ids, *handles]

    assert run(5) == run(5)
    assert run(5) != run(6)
