"""AWS::SQS::Queue properties: parsing, defaults and validation.

Every CloudFormation property of the resource type is accepted (encryption
and tags are stored and reported, not simulated further); anything else is
an error naming the property, so a typo in a config never passes silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import InvalidAttributeName, InvalidAttributeValue, InvalidParameterValue
from ._sqs_validate import parse_bool, parse_int

__all__ = ("QUEUE_PROPERTIES", "QueueConfig", "RedrivePolicy", "parse_queue_properties")

QUEUE_PROPERTIES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "QueueName",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "Tags",
    "VisibilityTimeout",
)
"""Every property of AWS::SQS::Queue in the CloudFormation template reference."""

_FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
_STANDARD_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")


@dataclass(frozen=True, slots=True)
class RedrivePolicy:
    """A queue's ``RedrivePolicy``: where messages go after ``max_receive_count`` receives."""

    dead_letter_target_arn: str
    max_receive_count: int

    def to_json(self) -> str:
        """The policy as SQS's GetQueueAttributes prints it."""
        return json.dumps(
            {
                "deadLetterTargetArn": self.dead_letter_target_arn,
                "maxReceiveCount": self.max_receive_count,
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """The settled attributes of a queue (defaults filled in)."""

    fifo: bool = False
    visibility_timeout: int = 30
    message_retention_period: int = 345_600
    delay_seconds: int = 0
    maximum_message_size: int = 1_048_576
    receive_message_wait_time_seconds: int = 0
    content_based_deduplication: bool = False
    deduplication_scope: str = "queue"
    fifo_throughput_limit: str = "perQueue"
    redrive_policy: RedrivePolicy | None = None
    redrive_allow_policy: dict[str, Any] | None = None
    kms_master_key_id: str | None = None
    kms_data_key_reuse_period_seconds: int = 300
    sqs_managed_sse_enabled: bool = True
    tags: dict[str, str] = field(default_factory=dict)


def check_queue_name(name: Any, fifo: bool) -> str:
    """A queue name SQS accepts, FIFO names ending in ``.fifo`` and only those."""
    if not isinstance(name, str):
        raise InvalidParameterValue(f"Queue name must be a string, got {type(name).__name__}.")
    if fifo and not _FIFO_NAME.fullmatch(name):
        raise InvalidParameterValue(
            f"Invalid queue name {name!r}: the name of a FIFO queue can only include alphanumeric "
            "characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in "
            "length."
        )
    if not fifo:
        if name.endswith(".fifo"):
            raise InvalidParameterValue(
                f"Invalid queue name {name!r}: a name ending in .fifo is for FIFO queues; set "
                "FifoQueue: true (or choose a name without the .fifo suffix)."
            )
        if not _STANDARD_NAME.fullmatch(name):
            raise InvalidParameterValue(
                f"Invalid queue name {name!r}: can only include alphanumeric characters, hyphens, "
                "or underscores. 1 to 80 in length."
            )
    return name


def parse_queue_properties(name: str, props: Mapping[str, Any]) -> QueueConfig:
    """Validate CloudFormation-spelled properties; raise on the first problem."""
    unknown = [key for key in props if key not in QUEUE_PROPERTIES]
    if unknown:
        raise InvalidAttributeName(
            f"Unknown Attribute {unknown[0]}: AWS::SQS::Queue has no property {unknown[0]!r} "
            f"(valid: {', '.join(QUEUE_PROPERTIES)})."
        )
    err = InvalidAttributeValue
    fifo = parse_bool(props.get("FifoQueue", False), "FifoQueue", err)
    queue_name = props.get("QueueName")
    if queue_name is not None and queue_name != name:
        raise err(
            f"Invalid value for the parameter QueueName. Reason: {queue_name!r} differs from the "
            f"queue's name {name!r}."
        )
    check_queue_name(name, fifo)
    if not fifo:
        present = [key for key in _FIFO_ONLY if key in props]
        if present:
            raise InvalidAttributeName(
                f"Unknown Attribute {present[0]}: it applies to FIFO queues only (FifoQueue: true)."
            )
    kwargs: dict[str, Any] = {"fifo": fifo}
    ranges = (
        ("VisibilityTimeout", "visibility_timeout", 0, 43_200),
        ("MessageRetentionPeriod", "message_retention_period", 60, 1_209_600),
        ("DelaySeconds", "delay_seconds", 0, 900),
        ("ReceiveMessageWaitTimeSeconds", "receive_message_wait_time_seconds", 0, 20),
        ("KmsDataKeyReusePeriodSeconds", "kms_data_key_reuse_period_seconds", 60, 86_400),
    )
    for prop, attr, low, high in ranges:
        if props.get(prop) is not None:
            kwargs[attr] = parse_int(props[prop], prop, low, high, "seconds", err)
    if props.get("MaximumMessageSize") is not None:
        kwargs["maximum_message_size"] = parse_int(
            props["MaximumMessageSize"], "MaximumMessageSize", 1_024, 1_048_576, "bytes", err
        )
    if props.get("ContentBasedDeduplication") is not None:
        kwargs["content_based_deduplication"] = parse_bool(
            props["ContentBasedDeduplication"], "ContentBasedDeduplication", err
        )
    kwargs.update(
        _choice(props, "DeduplicationScope", "deduplication_scope", ("messageGroup", "queue"))
    )
    kwargs.update(
        _choice(
            props, "FifoThroughputLimit", "fifo_throughput_limit", ("perQueue", "perMessageGroupId")
        )
    )
    if props.get("RedrivePolicy") is not None:
        kwargs["redrive_policy"] = parse_redrive_policy(props["RedrivePolicy"])
    if props.get("RedriveAllowPolicy") is not None:
        kwargs["redrive_allow_policy"] = _parse_allow_policy(props["RedriveAllowPolicy"])
    kms = props.get("KmsMasterKeyId")
    if kms is not None:
        if not isinstance(kms, str) or not kms:
            raise err(
                "Invalid value for the parameter KmsMasterKeyId. Reason: must be a key id, ARN or "
                "alias."
            )
        kwargs["kms_master_key_id"] = kms
    sse = props.get("SqsManagedSseEnabled")
    if sse is not None:
        kwargs["sqs_managed_sse_enabled"] = parse_bool(sse, "SqsManagedSseEnabled", err)
        if kwargs["sqs_managed_sse_enabled"] and kms is not None:
            raise err(
                "Invalid value for the parameter SqsManagedSseEnabled. Reason: SSE-SQS and "
                "SSE-KMS (KmsMasterKeyId) cannot both be enabled."
            )
    elif kms is not None:
        kwargs["sqs_managed_sse_enabled"] = False
    if props.get("Tags") is not None:
        kwargs["tags"] = _parse_tags(props["Tags"])
    return QueueConfig(**kwargs)


def _choice(
    props: Mapping[str, Any], prop: str, attr: str, allowed: tuple[str, ...]
) -> dict[str, Any]:
    value = props.get(prop)
    if value is None:
        return {}
    if value not in allowed:
        raise InvalidAttributeValue(
            f"Invalid value for the parameter {prop}. Reason: must be one of {', '.join(allowed)}; "
            f"got {value!r}."
        )
    return {attr: value}


def parse_redrive_policy(value: Any) -> RedrivePolicy:
    """``RedrivePolicy`` as a dict or JSON text: ``deadLetterTargetArn`` + ``maxReceiveCount``."""
    policy = _json_object(value, "RedrivePolicy")
    unknown = [k for k in policy if k not in ("deadLetterTargetArn", "maxReceiveCount")]
    if unknown:
        raise _bad_redrive(
            value, f"Unknown key {unknown[0]!r}; expected deadLetterTargetArn and maxReceiveCount."
        )
    arn = policy.get("deadLetterTargetArn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise _bad_redrive(value, "deadLetterTargetArn must be the ARN of an SQS queue.")
    raw = policy.get("maxReceiveCount")
    count: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        count = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        count = int(raw)
    if count is None or not 1 <= count <= 1_000:
        raise _bad_redrive(
            value,
            f"Invalid value for maxReceiveCount: {raw!r}, valid values are from 1 to 1000 both "
            "inclusive.",
        )
    return RedrivePolicy(arn, count)


def _bad_redrive(value: Any, reason: str) -> InvalidAttributeValue:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return InvalidAttributeValue(
        f"Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}"
    )


def _parse_allow_policy(value: Any) -> dict[str, Any]:
    policy = _json_object(value, "RedriveAllowPolicy")
    permission = policy.get("redrivePermission")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise InvalidAttributeValue(
            "Invalid value for the parameter RedriveAllowPolicy. Reason: redrivePermission must be "
            f"allowAll, denyAll or byQueue; got {permission!r}."
        )
    sources = policy.get("sourceQueueArns", [])
    if permission == "byQueue" and (not isinstance(sources, list) or not 1 <= len(sources) <= 10):
        raise InvalidAttributeValue(
            "Invalid value for the parameter RedriveAllowPolicy. Reason: byQueue needs 1 to 10 "
            "sourceQueueArns."
        )
    return {"redrivePermission": permission, "sourceQueueArns": list(sources)}


def _json_object(value: Any, prop: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidAttributeValue(
                f"Invalid value for the parameter {prop}. Reason: not valid JSON ({exc.msg})."
            ) from None
    if not isinstance(value, Mapping):
        raise InvalidAttributeValue(
            f"Invalid value for the parameter {prop}. Reason: must be a JSON object."
        )
    return dict(value)


def _parse_tags(value: Any) -> dict[str, str]:
    """Tags as CloudFormation's ``[{Key, Value}]`` list or SQS's ``{key: value}`` map."""
    pairs: list[tuple[Any, Any]]
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(t, Mapping) and "Key" in t for t in value):
        pairs = [(t["Key"], t.get("Value", "")) for t in value]
    else:
        raise InvalidAttributeValue(
            "Invalid value for the parameter Tags. Reason: expected a list of {Key, Value} "
            "or a map."
        )
    if len(pairs) > 50:
        raise InvalidAttributeValue(
            "Invalid value for the parameter Tags. Reason: at most 50 tags."
        )
    return {str(k): str(v) for k, v in pairs}
