"""Amazon SNS topics (AWS::SNS::Topic), as OnFailure destinations.

A topic here has no subscribers to deliver to: it keeps every notification it
published, shaped as an SQS subscriber (raw message delivery off) would get
it, so tests and reports can read what a mapping sent. ``publish`` follows
boto3: ``Message``, ``Subject``, ``MessageAttributes``, ``MessageStructure``,
and for FIFO topics ``MessageGroupId`` / ``MessageDeduplicationId``.

The envelope's ``Signature``, ``SigningCertURL`` and ``UnsubscribeURL`` are
plausible seeded values (a base64 blob the size of an RSA-2048 signature, the
regional certificate URL, an unsubscribe URL for one imaginary SQS
subscription); nothing verifies them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._arns import sns_topic_arn
from .._core import format_iso_ms
from ._base import Resource
from ._errors import InvalidParameterException, NotFoundException

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("MAX_MESSAGE_BYTES", "TOPIC_PROPERTIES", "SnsTopic")

MAX_MESSAGE_BYTES = 262_144
"""SNS's message size limit, 256 KiB: message plus message attributes."""

TOPIC_PROPERTIES = (
    "ArchivePolicy",
    "ContentBasedDeduplication",
    "DataProtectionPolicy",
    "DeliveryStatusLogging",
    "DisplayName",
    "FifoThroughputScope",
    "FifoTopic",
    "KmsMasterKeyId",
    "SignatureVersion",
    "Subscription",
    "Tags",
    "TopicName",
    "TracingConfig",
)
"""Every property of AWS::SNS::Topic in the CloudFormation template reference."""

_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,256}")
_DATA_TYPE = re.compile(r"(String|String\.Array|Number|Binary)(\..+)?", re.DOTALL)
_ID_CHARS = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
_DEDUP_WINDOW_MS = 300_000


class SnsTopic(Resource):
    """An SNS topic. Create it with ``sim.sns_topic(name, **CloudFormation properties)``.

    ``FifoTopic: true`` makes a FIFO topic, whose name must end in ``.fifo``
    (``.fifo`` tells a mapping it cannot deliver there: Lambda's OnFailure
    destinations must be standard topics).
    """

    resource_type = "AWS::SNS::Topic"

    def __init__(self, sim: Simulation, name: str, **properties: Any) -> None:
        unknown = [key for key in properties if key not in TOPIC_PROPERTIES]
        if unknown:
            raise InvalidParameterException(
                f"Invalid parameter: AWS::SNS::Topic has no property {unknown[0]!r} "
                f"(valid: {', '.join(TOPIC_PROPERTIES)})."
            )
        fifo = _bool(properties.get("FifoTopic", False), "FifoTopic")
        topic_name = properties.get("TopicName")
        if topic_name is not None and topic_name != name:
            raise InvalidParameterException(
                f"Invalid parameter: TopicName {topic_name!r} differs from the topic's name "
                f"{name!r}."
            )
        _check_name(name, fifo)
        super().__init__(sim, name, sns_topic_arn(sim.region, sim.account_id, name))
        self.fifo = fifo
        self.properties: dict[str, Any] = dict(properties)
        self.content_based_deduplication = _bool(
            properties.get("ContentBasedDeduplication", False), "ContentBasedDeduplication"
        )
        if self.content_based_deduplication and not fifo:
            raise InvalidParameterException(
                "Invalid parameter: ContentBasedDeduplication applies to FIFO topics only."
            )
        self.display_name = str(properties.get("DisplayName", ""))
        self._ids = sim.seeds.ids("sns", name)
        self._signatures = sim.seeds.ids("sns-signature", name)
        self._sequence = 10_000_000_000_000_000_000 + sim.seeds.rng("sns-sequence", name).randrange(
            10**18
        )
        region = sim.region
        cert = hashlib.sha256(f"esmsim-sns-cert:{region}".encode()).hexdigest()[:32]
        subscription = sim.seeds.ids("sns-subscription", name).uuid4()
        self._signing_cert_url = (
            f"https://sns.{region}.amazonaws.com/SimpleNotificationService-{cert}.pem"
        )
        self._unsubscribe_url = (
            f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
            f"{self.arn}:{subscription}"
        )
        self._notifications: list[dict[str, Any]] = []
        self._dedup: dict[str, tuple[int, str, str]] = {}
        self._dedup_expiry: deque[tuple[int, str]] = deque()
        sim.register(self)

    def publish(
        self,
        Message: str | None = None,
        Subject: str | None = None,
        MessageAttributes: Mapping[str, Mapping[str, Any]] | None = None,
        MessageStructure: str | None = None,
        MessageGroupId: str | None = None,
        MessageDeduplicationId: str | None = None,
        TopicArn: str | None = None,
    ) -> dict[str, str]:
        """Publish: returns ``{"MessageId"}`` (plus ``SequenceNumber`` on a FIFO topic).

        Raises ``InvalidParameterException`` for an empty message, a message
        over 256 KiB (message plus attributes), a bad subject or attribute.
        """
        if self.deleted:
            raise NotFoundException("Topic does not exist")
        if TopicArn is not None and TopicArn != self.arn:
            raise NotFoundException(f"Topic does not exist: {TopicArn} is not {self.arn}")
        message = _message_text(Message, MessageStructure)
        attributes, attributes_size = _attributes(MessageAttributes)
        size = len(message.encode("utf-8")) + attributes_size
        if size > MAX_MESSAGE_BYTES:
            raise InvalidParameterException(
                f"Invalid parameter: Message too long: {size:,} bytes, the limit is "
                f"{MAX_MESSAGE_BYTES:,} bytes (256 KiB, message plus message attributes)."
            )
        if Subject is not None:
            _check_subject(Subject)
        clock = self.clock
        now_ms = clock.now_ms()
        sequence: str | None = None
        if self.fifo:
            dedup = self._fifo_dedup_id(message, MessageGroupId, MessageDeduplicationId)
            self._expire_dedup(now_ms)
            hit = self._dedup.get(dedup)
            if hit is not None:
                return {"MessageId": hit[1], "SequenceNumber": hit[2]}
            self._sequence += 1
            sequence = str(self._sequence)
        elif MessageGroupId is not None or MessageDeduplicationId is not None:
            raise InvalidParameterException(
                "Invalid parameter: MessageGroupId and MessageDeduplicationId apply to FIFO topics "
                "only."
            )
        message_id = self._ids.uuid4()
        notification: dict[str, Any] = {"Type": "Notification", "MessageId": message_id}
        if sequence is not None:
            notification["SequenceNumber"] = sequence
        notification["TopicArn"] = self.arn
        if Subject is not None:
            notification["Subject"] = Subject
        notification["Message"] = message
        notification["Timestamp"] = format_iso_ms(now_ms)
        notification["SignatureVersion"] = str(self.properties.get("SignatureVersion", "1"))
        notification["Signature"] = self._signatures.token(256)
        notification["SigningCertURL"] = self._signing_cert_url
        notification["UnsubscribeURL"] = self._unsubscribe_url
        if attributes:
            notification["MessageAttributes"] = attributes
        self._notifications.append(notification)
        if sequence is not None:
            self._dedup[dedup] = (now_ms + _DEDUP_WINDOW_MS, message_id, sequence)
            self._dedup_expiry.append((now_ms + _DEDUP_WINDOW_MS, dedup))
            return {"MessageId": message_id, "SequenceNumber": sequence}
        return {"MessageId": message_id}

    def _fifo_dedup_id(self, message: str, group: Any, dedup: Any) -> str:
        if group is None:
            raise InvalidParameterException(
                "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
            )
        for field, value in (("MessageGroupId", group), ("MessageDeduplicationId", dedup)):
            if value is not None and (not isinstance(value, str) or not _ID_CHARS.fullmatch(value)):
                raise InvalidParameterException(
                    f"Invalid parameter: {field} can only include alphanumeric and punctuation "
                    f"characters, 1 to 128 in length; got {value!r}."
                )
        if dedup is not None:
            return str(dedup)
        if self.content_based_deduplication:
            return hashlib.sha256(message.encode("utf-8")).hexdigest()
        raise InvalidParameterException(
            "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly"
        )

    def _expire_dedup(self, now_ms: int) -> None:
        while self._dedup_expiry and self._dedup_expiry[0][0] <= now_ms:
            expires, key = self._dedup_expiry.popleft()
            hit = self._dedup.get(key)
            if hit is not None and hit[0] == expires:
                del self._dedup[key]

    def messages(self) -> list[dict[str, Any]]:
        """Every notification published, in order, as an SQS subscriber sees it (copies)."""
        return [_copy(n) for n in self._notifications]

    @property
    def metrics(self) -> dict[str, int]:
        """``NumberOfMessagesPublished`` so far."""
        return {"NumberOfMessagesPublished": len(self._notifications)}


def _copy(notification: dict[str, Any]) -> dict[str, Any]:
    out = dict(notification)
    if "MessageAttributes" in out:
        out["MessageAttributes"] = {k: dict(v) for k, v in out["MessageAttributes"].items()}
    return out


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidParameterException(
        f"Invalid parameter: {field} must be true or false; got {value!r}."
    )


def _check_name(name: Any, fifo: bool) -> None:
    if not isinstance(name, str):
        raise InvalidParameterException("Invalid parameter: Topic Name must be a string.")
    if fifo and not _FIFO_NAME.fullmatch(name):
        raise InvalidParameterException(
            f"Invalid parameter: Topic Name {name!r}: a FIFO topic name must end in .fifo and "
            "otherwise hold 1 to 251 alphanumerics, hyphens or underscores."
        )
    if not fifo:
        if name.endswith(".fifo"):
            raise InvalidParameterException(
                f"Invalid parameter: Topic Name {name!r}: names ending in .fifo are for FIFO "
                "topics; set FifoTopic: true."
            )
        if not _NAME.fullmatch(name):
            raise InvalidParameterException(
                f"Invalid parameter: Topic Name {name!r}: 1 to 256 alphanumerics, hyphens or "
                "underscores."
            )


def _message_text(message: Any, structure: Any) -> str:
    if message is None or message == "":
        raise InvalidParameterException("Invalid parameter: Empty message")
    if not isinstance(message, str):
        raise InvalidParameterException(
            f"Invalid parameter: Message must be a string, got {type(message).__name__}."
        )
    if structure is None:
        return message
    if structure != "json":
        raise InvalidParameterException(
            f"Invalid parameter: MessageStructure must be 'json'; got {structure!r}."
        )
    try:
        parsed = json.loads(message)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("default"), str):
        raise InvalidParameterException(
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        )
    text = parsed.get("sqs", parsed["default"])
    return text if isinstance(text, str) else parsed["default"]


def _check_subject(subject: Any) -> None:
    ok = (
        isinstance(subject, str)
        and 1 <= len(subject) <= 100
        and subject.isascii()
        and subject.isprintable()
        and not subject[0].isspace()
    )
    if not ok:
        raise InvalidParameterException(
            "Invalid parameter: Subject (1 to 100 printable ASCII characters, no line breaks, "
            f"starting with a letter, number or punctuation); got {subject!r}."
        )


def _attributes(attributes: Any) -> tuple[dict[str, dict[str, str]], int]:
    """Publish's message attributes as the SQS envelope prints them: ``{Type, Value}``."""
    if not attributes:
        return {}, 0
    if not isinstance(attributes, Mapping):
        raise InvalidParameterException("Invalid parameter: MessageAttributes must be a map.")
    result: dict[str, dict[str, str]] = {}
    size = 0
    for name, value in attributes.items():
        if (
            not isinstance(name, str)
            or not _ATTRIBUTE_NAME.fullmatch(name)
            or name.lower().startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise InvalidParameterException(
                f"Invalid parameter: Message attribute name {name!r} is invalid (1 to 256 of "
                "A-Z a-z 0-9 _ - ., no AWS./Amazon. prefix, no leading, trailing or double period)."
            )
        data_type = value.get("DataType") if isinstance(value, Mapping) else None
        if not isinstance(data_type, str) or not _DATA_TYPE.fullmatch(data_type):
            raise InvalidParameterException(
                f"Invalid parameter: The message attribute '{name}' has an invalid message "
                "attribute type; use String, String.Array, Number or Binary."
            )
        assert isinstance(value, Mapping)
        if data_type.startswith("Binary"):
            blob = value.get("BinaryValue")
            if isinstance(blob, str):
                blob = blob.encode("utf-8")
            if not isinstance(blob, bytes | bytearray | memoryview) or not bytes(blob):
                raise InvalidParameterException(
                    f"Invalid parameter: The message attribute '{name}' with type 'Binary' must "
                    "contain a non-empty BinaryValue."
                )
            text = base64.b64encode(bytes(blob)).decode("ascii")
            raw_size = len(bytes(blob))
        else:
            string = value.get("StringValue")
            if not isinstance(string, str) or not string:
                raise InvalidParameterException(
                    f"Invalid parameter: The message attribute '{name}' with type '{data_type}' "
                    "must contain a non-empty StringValue."
                )
            text = string
            raw_size = len(text.encode("utf-8"))
        result[name] = {"Type": data_type, "Value": text}
        size += len(name.encode("utf-8")) + len(data_type.encode("utf-8")) + raw_size
    return result, size
