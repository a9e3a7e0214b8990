"""SNS topics as OnFailure destinations (spec §2.7; api.md "Inspecting")."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

import esmsim
from esmsim.sources._errors import InvalidParameterException, NotFoundException


@pytest.fixture
def sim() -> Iterator[esmsim.Simulation]:
    with esmsim.Simulation(seed=3) as simulation:
        yield simulation


def test_notification_has_the_shape_an_sqs_subscriber_sees(sim: esmsim.Simulation) -> None:
    """§2.7, api.md: messages() lists notifications as delivered to an SQS subscriber."""
    topic = sim.sns_topic("failures")
    sim.run_sync(1.5)
    response = topic.publish(Message='{"k": 1}', Subject="ESM failure")
    (note,) = topic.messages()
    assert response == {"MessageId": note["MessageId"]}
    assert note["Type"] == "Notification"
    assert note["TopicArn"] == topic.arn == "arn:aws:sns:us-east-1:123456789012:failures"
    assert note["Subject"] == "ESM failure"
    assert note["Message"] == '{"k": 1}'
    assert note["Timestamp"] == "2026-01-01T00:00:01.500Z"
    assert note["SignatureVersion"] == "1"
    assert len(base64.b64decode(note["Signature"])) == 256
    assert note["SigningCertURL"].startswith("https://sns.us-east-1.amazonaws.com/")
    assert note["UnsubscribeURL"].startswith(
        f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic.arn}:"
    )
    assert "MessageAttributes" not in note


def test_notification_without_subject_has_no_subject_key(sim: esmsim.Simulation) -> None:
    """§2.7: the SQS envelope leaves Subject out when the publisher gave none."""
    topic = sim.sns_topic("t")
    topic.publish(Message="m")
    assert "Subject" not in topic.messages()[0]


def test_message_attributes_appear_in_the_envelope_as_type_and_value(
    sim: esmsim.Simulation,
) -> None:
    """§2.7: attributes reach an SQS subscriber as {Type, Value}, binary in base64."""
    topic = sim.sns_topic("t")
    topic.publish(
        Message="m",
        MessageAttributes={
            "s": {"DataType": "String", "StringValue": "v"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        },
    )
    assert topic.messages()[0]["MessageAttributes"] == {
        "s": {"Type": "String", "Value": "v"},
        "b": {"Type": "Binary", "Value": "AP8="},
    }


def test_message_over_256_kib_is_refused_naming_the_size(sim: esmsim.Simulation) -> None:
    """§2.7: SNS messages are limited to 256 KiB (262,144 bytes)."""
    topic = sim.sns_topic("t")
    topic.publish(Message="x" * 262_144)
    with pytest.raises(
        InvalidParameterException, match=r"Message too long: 262,145 bytes.*262,144"
    ):
        topic.publish(Message="x" * 262_145)


def test_empty_message_is_refused(sim: esmsim.Simulation) -> None:
    """§2.7 (SNS Publish): a message must not be empty."""
    with pytest.raises(InvalidParameterException, match="Empty message"):
        sim.sns_topic("t").publish(Message="")


def test_message_structure_json_delivers_the_sqs_entry(sim: esmsim.Simulation) -> None:
    """§2.7 (SNS Publish): MessageStructure=json sends the 'sqs' entry, else 'default'."""
    topic = sim.sns_topic("t")
    topic.publish(Message=json.dumps({"default": "d", "sqs": "s"}), MessageStructure="json")
    topic.publish(Message=json.dumps({"default": "d"}), MessageStructure="json")
    assert [n["Message"] for n in topic.messages()] == ["s", "d"]
    with pytest.raises(InvalidParameterException, match="No default entry"):
        topic.publish(Message="{}", MessageStructure="json")


def test_fifo_topics_end_in_fifo_and_say_so(sim: esmsim.Simulation) -> None:
    """§1 (DestinationConfig): FIFO topics are named *.fifo; mappings check .fifo."""
    assert not sim.sns_topic("std").fifo
    topic = sim.sns_topic("events.fifo", FifoTopic=True, ContentBasedDeduplication=True)
    assert topic.fifo
    first = topic.publish(Message="m", MessageGroupId="g")
    assert topic.publish(Message="m", MessageGroupId="g") == first  # deduplicated
    assert "SequenceNumber" in first
    with pytest.raises(InvalidParameterException, match="MessageGroupId"):
        topic.publish(Message="n")
    with pytest.raises(InvalidParameterException, match=r"\.fifo"):
        sim.sns_topic("events", FifoTopic=True)
    with pytest.raises(InvalidParameterException, match="FifoTopic"):
        sim.sns_topic("other.fifo")


def test_deleted_topic_does_not_exist(sim: esmsim.Simulation) -> None:
    """§2.7: publishing to a deleted topic fails (a destination delivery failure)."""
    topic = sim.sns_topic("t")
    topic.delete()
    with pytest.raises(NotFoundException):
        topic.publish(Message="m")


def test_same_seed_gives_the_same_message_ids() -> None:
    """api.md: the same seed and inputs give identical ids."""

    def run(seed: int) -> list[str]:
        with esmsim.Simulation(seed=seed) as sim:
            topic = sim.sns_topic("t")
            return [topic.publish(Message=str(i))["MessageId"] for i in range(3)]

    assert run(1) == run(1) != run(2)
