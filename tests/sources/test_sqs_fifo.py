"""SQS FIFO queues: one AWS rule per test (spec: shared/spec/aws-esm-semantics.md §2.8)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest

import esmsim
from esmsim.sources._errors import InvalidParameterValue, MissingParameter
from esmsim.sources.sqs import SqsQueue


@pytest.fixture
def sim() -> Iterator[esmsim.Simulation]:
    with esmsim.Simulation(seed=2) as simulation:
        yield simulation


def _fifo(sim: esmsim.Simulation, name: str = "orders.fifo", **props: object) -> SqsQueue:
    return sim.sqs_queue(name, FifoQueue=True, ContentBasedDeduplication=True, **props)


def _bodies(queue: SqsQueue, n: int = 10) -> list[str]:
    return [m.body for m in queue.receive(n)]


def test_fifo_keeps_send_order_within_a_group(sim: esmsim.Simulation) -> None:
    """§2.8: messages of one group are received in the order they were sent."""
    queue = _fifo(sim)
    for i in range(5):
        queue.send_message(MessageBody=f"m{i}", MessageGroupId="g")
    assert _bodies(queue) == ["m0", "m1", "m2", "m3", "m4"]


def test_fifo_group_is_blocked_while_a_message_is_in_flight_other_groups_flow(
    sim: esmsim.Simulation,
) -> None:
    """§2.8: no further message of a group is returned while one of it is in flight."""
    queue = _fifo(sim, VisibilityTimeout=30)
    queue.send_message(MessageBody="a1", MessageGroupId="a")
    queue.send_message(MessageBody="a2", MessageGroupId="a")
    assert _bodies(queue, 1) == ["a1"]
    queue.send_message(MessageBody="b1", MessageGroupId="b")
    assert _bodies(queue) == ["b1"]  # a2 waits behind the in-flight a1
    assert queue.approximate_number_of_messages_visible() == 1  # a2: visible, yet
    assert not queue.has_receivable_messages()  # not receivable while a1 is in flight
    assert queue.metrics["ApproximateNumberOfGroupsWithInflightMessages"] == 2
    (a1,) = [m for m in queue.messages() if m["Body"] == "a1"]
    queue.delete_message(ReceiptHandle=a1["ReceiptHandle"])
    assert _bodies(queue) == ["a2"]


def test_fifo_failed_message_comes_back_before_the_rest_of_its_group(
    sim: esmsim.Simulation,
) -> None:
    """§2.8: after the visibility timeout the failed message is retried first, order kept."""
    queue = _fifo(sim, VisibilityTimeout=10)
    for i in range(3):
        queue.send_message(MessageBody=f"m{i}", MessageGroupId="g")
    batch = queue.receive(10)
    queue.delete_message(ReceiptHandle=batch[0].receipt_handle)  # m0 done, m1 and m2 failed
    assert queue.receive(10) == []
    assert queue.next_visible_at() == pytest.approx(sim.now + 10)
    sim.run_sync(10)
    retried = queue.receive(10)
    assert [m.body for m in retried] == ["m1", "m2"]
    assert [m.attributes["ApproximateReceiveCount"] for m in retried] == ["2", "2"]


def test_fifo_receive_takes_as_many_messages_of_one_group_as_it_can(
    sim: esmsim.Simulation,
) -> None:
    """§2.8 (SQS ReceiveMessage): the oldest group first, all its messages, then the next group."""
    queue = _fifo(sim)
    for body, group in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b"), ("c1", "c")]:
        queue.send_message(MessageBody=body, MessageGroupId=group)
    assert _bodies(queue, 3) == ["a1", "a2", "b1"]
    assert _bodies(queue) == ["c1"]  # b is locked: b1 is in flight


def test_fifo_deduplication_window_is_five_minutes(sim: esmsim.Simulation) -> None:
    """§2.8: a duplicate id within 5 minutes is accepted but dropped; after, it is new."""
    queue = sim.sqs_queue("q.fifo", FifoQueue=True)
    first = queue.send_message(MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d")
    sim.run_sync(299.999)
    again = queue.send_message(MessageBody="y", MessageGroupId="g", MessageDeduplicationId="d")
    assert again["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]
    assert again["MD5OfMessageBody"] == hashlib.md5(b"y").hexdigest()
    assert [m["Body"] for m in queue.messages()] == ["x"]
    sim.run_sync(0.001)
    later = queue.send_message(MessageBody="z", MessageGroupId="g", MessageDeduplicationId="d")
    assert later["MessageId"] != first["MessageId"]
    assert [m["Body"] for m in queue.messages()] == ["x", "z"]
    assert queue.metrics["NumberOfDeduplicatedSentMessages"] == 1


def test_content_based_deduplication_uses_the_sha256_of_the_body(sim: esmsim.Simulation) -> None:
    """§2.8: with ContentBasedDeduplication the dedup id is the body's SHA-256."""
    queue = _fifo(sim)
    queue.send_message(MessageBody="same", MessageGroupId="g1")
    queue.send_message(MessageBody="same", MessageGroupId="g2")  # same body, other group: dropped
    (message,) = queue.receive(10)
    assert message.attributes["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()
    assert message.attributes["MessageGroupId"] == "g1"


def test_fifo_send_without_a_deduplication_id_is_refused(sim: esmsim.Simulation) -> None:
    """§2.8 (SQS SendMessage): FIFO needs MessageDeduplicationId or content-based dedup."""
    queue = sim.sqs_queue("q.fifo", FifoQueue=True)
    with pytest.raises(InvalidParameterValue, match="ContentBasedDeduplication"):
        queue.send_message(MessageBody="x", MessageGroupId="g")


def test_fifo_send_without_a_message_group_is_refused(sim: esmsim.Simulation) -> None:
    """§2.8: the producer sets MessageGroupId on every FIFO message."""
    with pytest.raises(MissingParameter, match="MessageGroupId"):
        _fifo(sim).send_message(MessageBody="x")


def test_fifo_per_message_delay_is_refused(sim: esmsim.Simulation) -> None:
    """§2.8: FIFO queues take DelaySeconds only at the queue level."""
    with pytest.raises(InvalidParameterValue, match=r"DelaySeconds.*not valid for this queue type"):
        _fifo(sim).send_message(MessageBody="x", MessageGroupId="g", DelaySeconds=5)


def test_fifo_queue_level_delay_applies(sim: esmsim.Simulation) -> None:
    """§2.8: a FIFO delay queue delays every message by the queue's DelaySeconds."""
    queue = _fifo(sim, DelaySeconds=10)
    queue.send_message(MessageBody="x", MessageGroupId="g")
    assert queue.receive(1) == []
    sim.run_sync(10)
    assert _bodies(queue) == ["x"]


def test_fifo_names_end_in_fifo_and_only_fifo_names_do(sim: esmsim.Simulation) -> None:
    """§2.8 / api.md: FIFO queue names end in .fifo; standard ones cannot."""
    with pytest.raises(InvalidParameterValue, match=r"\.fifo"):
        sim.sqs_queue("orders", FifoQueue=True)
    with pytest.raises(InvalidParameterValue, match="FifoQueue"):
        sim.sqs_queue("orders.fifo")
    assert sim.sqs_queue("orders.fifo", FifoQueue="true").fifo


def test_fifo_sequence_numbers_are_20_digits_and_strictly_increasing(
    sim: esmsim.Simulation,
) -> None:
    """§4.1: FIFO SequenceNumber is a numeric string, growing with every message."""
    queue = _fifo(sim)
    numbers = [
        queue.send_message(MessageBody=str(i), MessageGroupId=str(i % 3))["SequenceNumber"]
        for i in range(20)
    ]
    assert all(len(n) == 20 and n.isdigit() for n in numbers)
    assert [int(n) for n in numbers] == sorted({int(n) for n in numbers})


def test_fifo_dead_letter_queue_restarts_the_enqueue_time(sim: esmsim.Simulation) -> None:
    """§2.8: a FIFO DLQ resets the enqueue timestamp; group and dedup id are kept."""
    dlq = sim.sqs_queue("dlq.fifo", FifoQueue=True, MessageRetentionPeriod=60)
    queue = _fifo(
        sim,
        VisibilityTimeout=100,
        RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1},
    )
    sent = queue.send_message(MessageBody="x", MessageGroupId="g")
    queue.send_message(MessageBody="next", MessageGroupId="g")
    assert _bodies(queue, 1) == ["x"]
    sim.run_sync(100)
    assert _bodies(queue) == ["next"]  # x moved on this receive, the group flows on
    (moved,) = dlq.messages()
    assert moved["MessageId"] == sent["MessageId"]
    assert moved["Attributes"]["SentTimestamp"] == str(int(sim.now * 1000))
    assert moved["Attributes"]["MessageGroupId"] == "g"
    assert moved["Attributes"]["SequenceNumber"] != sent["SequenceNumber"]
    sim.run_sync(59)
    assert len(dlq.messages()) == 1  # 159 s after the send, 59 s after the move
    sim.run_sync(1)
    assert dlq.messages() == []


def test_fifo_many_groups_drain_without_scanning_the_queue(sim: esmsim.Simulation) -> None:
    """§3.2: receives stay cheap with thousands of groups and a deep backlog."""
    queue = _fifo(sim)
    for start in range(0, 20_000, 10):
        queue.send_message_batch(
            Entries=[
                {"Id": str(i), "MessageBody": f"m{i}", "MessageGroupId": f"g{i % 2000}"}
                for i in range(start, start + 10)
            ]
        )
    began = time.perf_counter()
    seen: dict[str, list[int]] = {}
    while batch := queue.receive(10):
        for message in batch:
            assert message.group_id is not None
            seen.setdefault(message.group_id, []).append(int(message.body[1:]))
            queue.delete_message(ReceiptHandle=message.receipt_handle)
    assert sum(len(v) for v in seen.values()) == 20_000
    assert all(v == sorted(v) for v in seen.values())
    assert time.perf_counter() - began < 10


def test_deduplication_scope_message_group_keeps_ids_per_group(sim: esmsim.Simulation) -> None:
    """§2.8 (high-throughput FIFO): DeduplicationScope messageGroup scopes ids to a group."""
    queue = sim.sqs_queue("q.fifo", FifoQueue=True, DeduplicationScope="messageGroup")
    for group in ("a", "b", "a"):
        queue.send_message(MessageBody=group, MessageGroupId=group, MessageDeduplicationId="same")
    assert [m["Body"] for m in queue.messages()] == ["a", "b"]


def test_deleting_the_in_flight_message_wakes_a_waiting_poller(sim: esmsim.Simulation) -> None:
    """docs/internals.md: a delete that unlocks a FIFO group fires queue.signal."""
    queue = _fifo(sim)
    queue.send_message(MessageBody="a1", MessageGroupId="a")
    queue.send_message(MessageBody="a2", MessageGroupId="a")
    (first,) = queue.receive(1)
    woke_at: list[float] = []

    async def poller() -> None:
        await queue.signal.wait()
        woke_at.append(sim.now)

    async def scenario() -> None:
        sim.start_soon(poller)
        await sim.clock.sleep(3)
        queue.delete_message(ReceiptHandle=first.receipt_handle)
        await sim.clock.sleep(0)

    sim.call_sync(scenario)
    sim.run_until_idle_sync()
    assert woke_at == [pytest.approx(sim.clock.start + 3)]
    assert _bodies(queue) == ["a2"]
