"""One SQS message as the queue stores it, and the shapes it is handed out in.

``StoredMessage`` is compact (``__slots__``, no per-message dicts unless the
sender gave message attributes) because a queue may hold a million of them.
``ReceivedMessage`` is what the SQS poller gets from ``queue.receive()``;
``boto3_message`` renders the ``Message`` shape of boto3's ReceiveMessage.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ._sqs_md5 import md5_of_message_attributes

__all__ = (
    "DELAYED",
    "GONE",
    "INFLIGHT",
    "SYSTEM_ATTRIBUTE_NAMES",
    "VISIBLE",
    "ReceivedMessage",
    "StoredMessage",
    "boto3_message",
    "copy_message_attributes",
    "received_messages",
    "select_message_attributes",
    "system_attributes",
)

# Message states. A message is in exactly one; GONE covers deleted, expired,
# purged and moved to a dead-letter queue.
VISIBLE = 0
DELAYED = 1
INFLIGHT = 2
GONE = 3

SYSTEM_ATTRIBUTE_NAMES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "DeadLetterQueueSourceArn",
    "AWSTraceHeader",
)
"""Every message system attribute name a receive can ask for (besides ``All``)."""


class StoredMessage:
    """A message not yet deleted (or, with ``state == GONE``, a stale reference to one).

    ``seq`` is the queue's own send order (ids, handles and ordering use it);
    ``sent_ms`` is the retention clock (``SentTimestamp``) and ``arrived_ms``
    the time it entered this queue (they differ only after a move to a
    standard dead-letter queue, which keeps the original enqueue time).
    """

    __slots__ = (
        "arrived_ms",
        "body",
        "dedup_id",
        "dlq_source_arn",
        "first_receive_ms",
        "group_id",
        "md5_of_body",
        "md5_of_message_attributes",
        "message_attributes",
        "message_id",
        "receipt_handle",
        "receive_count",
        "received_at",
        "sender_id",
        "sent_ms",
        "seq",
        "sequence_number",
        "size",
        "state",
        "trace_header",
        "visible_at",
    )

    def __init__(
        self,
        *,
        message_id: str,
        body: str,
        md5_of_body: str,
        message_attributes: dict[str, dict[str, Any]] | None,
        md5_of_message_attributes: str | None,
        size: int,
        sent_ms: int,
        sender_id: str,
        group_id: str | None = None,
        dedup_id: str | None = None,
        trace_header: str | None = None,
    ) -> None:
        self.seq = 0
        self.message_id = message_id
        self.body = body
        self.md5_of_body = md5_of_body
        self.message_attributes = message_attributes
        self.md5_of_message_attributes = md5_of_message_attributes
        self.size = size
        self.sent_ms = sent_ms
        self.arrived_ms = sent_ms
        self.sender_id = sender_id
        self.group_id = group_id
        self.dedup_id = dedup_id
        self.sequence_number: str | None = None
        self.dlq_source_arn: str | None = None
        self.trace_header = trace_header
        self.state = VISIBLE
        self.visible_at = 0.0
        self.receive_count = 0
        self.first_receive_ms: int | None = None
        self.receipt_handle: str | None = None
        self.received_at = 0.0

    def __repr__(self) -> str:
        return f"<StoredMessage {self.message_id} seq={self.seq} state={self.state}>"


def system_attributes(msg: StoredMessage) -> dict[str, str]:
    """Every system attribute of ``msg``, as strings (what Lambda puts in ``attributes``)."""
    attrs = {
        "ApproximateReceiveCount": str(msg.receive_count),
        "SentTimestamp": str(msg.sent_ms),
        "SenderId": msg.sender_id,
    }
    if msg.first_receive_ms is not None:
        attrs["ApproximateFirstReceiveTimestamp"] = str(msg.first_receive_ms)
    if msg.sequence_number is not None:
        attrs["SequenceNumber"] = msg.sequence_number
    if msg.group_id is not None:
        attrs["MessageGroupId"] = msg.group_id
    if msg.dedup_id is not None:
        attrs["MessageDeduplicationId"] = msg.dedup_id
    if msg.dlq_source_arn is not None:
        attrs["DeadLetterQueueSourceArn"] = msg.dlq_source_arn
    if msg.trace_header is not None:
        attrs["AWSTraceHeader"] = msg.trace_header
    return attrs


_COUNT_TEXT = tuple(str(count) for count in range(100))


def received_messages(messages: list[StoredMessage]) -> list[ReceivedMessage]:
    """``ReceivedMessage`` snapshots of the messages one receive just delivered.

    The poller's hot path. ``system_attributes`` for each, but the messages
    of one receive mostly share their ``SentTimestamp`` (sent in one burst)
    and always their ``ApproximateFirstReceiveTimestamp`` when first
    received, so each distinct value is turned into text once, and a message
    with no optional attribute gets its dict in one go.
    """
    out: list[ReceivedMessage] = []
    sent_ms = first_ms = -1
    sent_text = first_text = ""
    for msg in messages:
        if msg.sent_ms != sent_ms:
            sent_ms = msg.sent_ms
            sent_text = str(sent_ms)
        if msg.first_receive_ms != first_ms and msg.first_receive_ms is not None:
            first_ms = msg.first_receive_ms
            first_text = str(first_ms)
        count = msg.receive_count
        if (
            msg.sequence_number is None
            and msg.group_id is None
            and msg.dedup_id is None
            and msg.dlq_source_arn is None
            and msg.trace_header is None
            and msg.first_receive_ms is not None
        ):
            attributes = {
                "ApproximateReceiveCount": _COUNT_TEXT[count] if count < 100 else str(count),
                "SentTimestamp": sent_text,
                "SenderId": msg.sender_id,
                "ApproximateFirstReceiveTimestamp": first_text,
            }
        else:
            attributes = system_attributes(msg)
        out.append(ReceivedMessage(msg, attributes))
    return out


def copy_message_attributes(msg: StoredMessage) -> dict[str, dict[str, Any]]:
    """A fresh copy of the message attributes in boto3 shape (``{}`` when none)."""
    if not msg.message_attributes:
        return {}
    return {name: dict(value) for name, value in msg.message_attributes.items()}


def select_message_attributes(
    msg: StoredMessage, names: Collection[str] | None
) -> dict[str, dict[str, Any]]:
    """The message attributes a ReceiveMessage ``MessageAttributeNames`` asks for.

    ``All`` or ``.*`` selects every one; ``prefix.*`` every name starting with
    ``prefix.``; anything else is an exact name.
    """
    if not names or not msg.message_attributes:
        return {}
    if "All" in names or ".*" in names:
        return copy_message_attributes(msg)
    prefixes = tuple(n[:-1] for n in names if n.endswith(".*"))
    return {
        name: dict(value)
        for name, value in msg.message_attributes.items()
        if name in names or (prefixes and name.startswith(prefixes))
    }


def boto3_message(
    msg: StoredMessage,
    attribute_names: Collection[str] | None,
    message_attribute_names: Collection[str] | None,
) -> dict[str, Any]:
    """``msg`` in the ``Message`` shape of boto3's ReceiveMessage response.

    ``Attributes`` holds the system attributes asked for (``All`` for every
    one) and is left out when empty, as are ``MessageAttributes`` and their
    MD5, which SQS computes over the attributes it returns.
    """
    out: dict[str, Any] = {"MessageId": msg.message_id}
    if msg.receipt_handle is not None:
        out["ReceiptHandle"] = msg.receipt_handle
    out["MD5OfBody"] = msg.md5_of_body
    out["Body"] = msg.body
    if attribute_names:
        attrs = system_attributes(msg)
        if "All" not in attribute_names:
            attrs = {k: v for k, v in attrs.items() if k in attribute_names}
        if attrs:
            out["Attributes"] = attrs
    selected = select_message_attributes(msg, message_attribute_names)
    if selected:
        out["MD5OfMessageAttributes"] = (
            msg.md5_of_message_attributes
            if len(selected) == len(msg.message_attributes or ())
            else md5_of_message_attributes(selected)
        )
        out["MessageAttributes"] = selected
    return out


class ReceivedMessage:
    """A message as one receive handed it out: what the SQS poller builds events from.

    ``attributes`` holds every system attribute (Lambda passes them all);
    ``message_attributes`` is boto3-shaped (``BinaryValue`` is bytes);
    ``size`` counts body plus message attribute bytes; ``sent_at`` is the
    ``SentTimestamp`` in epoch seconds.
    """

    __slots__ = (
        "attributes",
        "body",
        "group_id",
        "md5_of_body",
        "md5_of_message_attributes",
        "message_attributes",
        "message_id",
        "receipt_handle",
        "sent_at",
        "size",
    )

    def __init__(self, msg: StoredMessage, attributes: dict[str, str] | None = None) -> None:
        # The poller's hot path: one of these per message per receive.
        # ``attributes``: ``system_attributes(msg)``, when the caller made it.
        handle = msg.receipt_handle
        assert handle is not None
        self.message_id = msg.message_id
        self.receipt_handle: str = handle
        self.body = msg.body
        self.md5_of_body = msg.md5_of_body
        self.md5_of_message_attributes = msg.md5_of_message_attributes
        self.attributes = system_attributes(msg) if attributes is None else attributes
        given = msg.message_attributes
        self.message_attributes = (
            {name: dict(value) for name, value in given.items()} if given else {}
        )
        self.size = msg.size
        self.group_id = msg.group_id
        self.sent_at = msg.sent_ms / 1000

    def __repr__(self) -> str:
        return (
            f"<ReceivedMessage {self.message_id} "
            f"receive={self.attributes['ApproximateReceiveCount']}>"
        )
